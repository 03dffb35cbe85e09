using System.Text;
using System.Text.Json;
using RdBridge.Catalogs;
using RdBridge.IO;

namespace RdBridge.Tests.Catalogs;

/// <summary>
/// The streaming catalog reader on files written here: which lists it reads, what it tells of the file's head, and
/// the exact place and kind of every shape, syntax and size problem. Written for the mutants Stryker left alive in
/// <c>CatalogReader</c> and <c>OversizedRecord</c> (bench/mutation-survivors.md, CatalogsRead); every expected
/// position, count and id is read off the text written.
/// </summary>
public sealed class CatalogReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    private string File(string text)
    {
        var path = _dir["catalog.json"];
        System.IO.File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    private static List<string> Names(IEnumerable<JsonElement> records) =>
        records.Select(r => r.GetProperty("name").GetString()!).ToList();

    private List<string> Read(string text, bool strictList = false, IDictionary<string, string>? header = null,
        List<RefusedRecord>? refused = null) =>
        Names(CatalogReader.ReadRecords(File(text), CatalogKind.Factor, header, strictList,
            refused is null ? null : refused.Add));

    private string Error(string text, bool strictList = false) =>
        Assert.Throws<FormatException>(() => Read(text, strictList)).Message;

    [Fact]
    public void The_kind_s_list_a_python_tool_s_list_or_a_bare_list_is_read_and_the_head_s_plain_fields_are_told()
    {
        var header = new Dictionary<string, string>();
        Assert.Equal(["a", "b"], Read("""
            { "generated_at_utc": "2026-01-01T00:00:00.000000Z", "count": 2, "ok": true,
              "meta_info": { "nested": [1, {"factors": [{"name": "not this"}]}] },
              "factors": [ {"name": "a"}, {"name": "b"} ], "after": "x" }
            """, header: header));
        Assert.Equal(new Dictionary<string, string>
        {
            ["generated_at_utc"] = "2026-01-01T00:00:00.000000Z", ["count"] = "2", ["ok"] = "true", ["after"] = "x",
        }, header);
        Assert.Equal(["a"], Read("""{ "items": [ {"name": "a"} ] }"""));
        Assert.Equal(["a"], Read("""[ {"name": "a"} ]"""));
        // A feed holds every kind's list: with strictList only this kind's is read, others are skipped whole.
        Assert.Equal(["f"], Read("""{ "loops": [ {"name": "l"} ], "factors": [ {"name": "f"} ] }""", strictList: true));
        Assert.Equal(["l", "f"], Read("""{ "loops": [ {"name": "l"} ], "factors": [ {"name": "f"} ] }"""));
        Assert.Empty(Read("""{ "factors": [] }"""));
    }

    [Fact]
    public void Each_list_entry_that_is_not_a_record_is_refused_by_its_place_and_kind_and_the_records_are_read()
    {
        var refused = new List<RefusedRecord>();
        Assert.Equal(["a", "b"], Read("""
            { "factors": [ 42, {"name": "a"}, "text", [1, 2], true, null, {"name": "b"}, false ] }
            """, refused: refused));
        Assert.Equal([
                "record #1: it is a number, not a record (a JSON object)",
                "record #3: it is a text, not a record (a JSON object)",
                "record #4: it is a list, not a record (a JSON object)",
                "record #5: it is a boolean, not a record (a JSON object)",
                "record #6: it is null, not a record (a JSON object)",
                "record #8: it is a boolean, not a record (a JSON object)",
            ], refused.Select(r => r.Describe()));
        // Without anyone to tell, such entries are passed over.
        Assert.Equal(["a", "b"], Read("""{ "factors": [ 42, {"name": "a"}, {"name": "b"} ] }"""));
    }

    [Fact]
    public void A_file_of_the_wrong_shape_says_what_it_is_and_what_a_catalog_is()
    {
        const string shape = "; a catalog is {\"factors\": [{…}, …]} (or a bare list of records)";
        var path = _dir["catalog.json"];
        Assert.Equal($"{path} is valid JSON but not a catalog of the shape expected: it is a number, not a JSON " +
            "object or list" + shape, Error("42"));
        Assert.Equal($"{path} is valid JSON but not a catalog of the shape expected: 'factors' must be a list of " +
            "records, not an object" + shape, Error("""{ "factors": {"name": "a"} }"""));
        Assert.Equal($"{path} is valid JSON but not a catalog of the shape expected: it has no 'factors' list of " +
            "records (its top-level fields: 'name', 'expression')" + shape,
            Error("""{ "name": "a", "expression": "$close", "name": "again" }"""));
        Assert.Equal($"{path} is valid JSON but not a catalog of the shape expected: it has no 'factors' list of " +
            "records (its top-level fields: none)" + shape, Error("{}"));
        // At most eight top-level fields are named.
        var nine = string.Join(", ", Enumerable.Range(1, 9).Select(i => $"\"f{i}\": {i}"));
        Assert.Equal($"{path} is valid JSON but not a catalog of the shape expected: it has no 'factors' list of " +
            "records (its top-level fields: 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8')" + shape,
            Error("{ " + nine + " }"));
        // With strictList, a feed without this kind's list holds none of it: no error.
        Assert.Empty(Read("""{ "loops": [] }""", strictList: true));
        Assert.Equal($"{path} is empty or not a JSON catalog", Error(""));
        Assert.Equal($"{path} is empty or not a JSON catalog", Error("   \n"));
    }

    [Fact]
    public void A_cut_file_is_named_truncated_and_where()
    {
        var path = _dir["catalog.json"];
        const string afterComma = """{ "factors": [ {"name": "a"}, """;
        Assert.Equal($"{path} ends at byte {Encoding.UTF8.GetByteCount(afterComma)} in the middle of a value; the " +
            "file is truncated — export it again", Error(afterComma));
        const string inValue = """{ "factors": [ {"name": "a"}, {"name": "unterminated""";
        Assert.Equal($"{path} ends at byte {Encoding.UTF8.GetByteCount(inValue)} in the middle of a value; the file " +
            "is truncated — export it again", Error(inValue));
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    public void Python_s_words_for_floats_that_are_not_numbers_are_named_with_what_to_do(string word)
    {
        // What Python's json.dump writes for float("nan") or float("inf") unless told not to; 94 KB of records first,
        // so the word lies past the first read buffer.
        var sb = new StringBuilder("{ \"factors\": [\n");
        for (var i = 0; i < 2000; i++) sb.Append($"  {{\"name\": \"f{i:D4}\", \"performance_metrics\": {{}}}},\n");
        var before = sb + "  {\"name\": \"flat\", \"performance_metrics\": {\"ic\": ";
        var at = Encoding.UTF8.GetByteCount(before);
        var line = before.Count(c => c == '\n') + 1;
        Assert.Equal($"{_dir["catalog.json"]} holds {word} at byte {at} (line {line}), as Python's json writes a float "
            + "that is not a number, but JSON has no such value and no JSON reader takes it; write null where a "
            + "value is unknown (Python's json.dump(…, allow_nan=False) finds every one), then import again",
            Error(before + word + "}}\n] }\n"));
        // A guard on this test's own text (the exact byte is checked above): the case needs it past 64 KB.
        Assert.True(at > 64 * 1024, "the word lies past the first buffer");
    }

    [Fact]
    public void A_syntax_error_is_named_by_its_byte_and_line_even_far_into_a_large_file()
    {
        // 3,000 records of 60-odd bytes, one a line: the reader moves through several 64 KB buffers before the error.
        var sb = new StringBuilder("{ \"factors\": [\n");
        for (var i = 0; i < 3000; i++)
            sb.Append($"  {{\"name\": \"factor number {i:D6}\", \"expression\": \"$close\"}},\n");
        var good = sb.ToString();
        sb.Append("  {\"name\": \"broken\" \"expression\": 1}\n] }\n");
        var text = sb.ToString();
        var at = Encoding.UTF8.GetByteCount(good) + "  {\"name\": \"broken\" ".Length;
        var line = good.Count(c => c == '\n') + 1;
        var message = Error(text);
        Assert.StartsWith($"{_dir["catalog.json"]} is not valid JSON near byte {at} (line {line}): ", message);
        // A guard on this test's own text (the exact byte is checked above): the case needs it past 128 KB.
        Assert.True(at > 128 * 1024, "the error lies past the first two buffers");
    }

    [Fact]
    public void A_record_over_the_cap_is_refused_by_its_place_ids_and_field_and_the_records_around_it_are_read()
    {
        // Record 2 holds a note of 33 MB whose text has escaped quotes, braces and brackets (not structure) in it.
        var before = """{ "factors": [ {"name": "a"}, """;
        var head = """{"task_run_id": "tr9", "loop_id": 7, "name": "big", "tags": ["x"], "note": """;
        var big = "\"" + string.Concat(Enumerable.Repeat("\\\" } ] { [ ,", 3 * 1024 * 1024)) + "\"";
        var record = head + big + "}";
        var text = before + record + """, {"name": "c"} ] }""";
        var refused = new List<RefusedRecord>();
        Assert.Equal(["a", "c"], Read(text, refused: refused));
        var r = Assert.Single(refused);
        Assert.Equal(2, r.Index);
        Assert.Equal("task_run_id tr9, loop_id 7", r.Ids);
        Assert.Equal("note", r.Field);
        Assert.Equal($"record #2 (task_run_id tr9, loop_id 7), field 'note': {r.Reason}", r.Describe());
        // From the end of record 1 (its separating comma included) to the end of record 2.
        var from = Encoding.UTF8.GetByteCount("""{ "factors": [ {"name": "a"}""");
        var size = Encoding.UTF8.GetByteCount(", " + record);
        Assert.Equal($"it is {size:N0} bytes or more from byte {from:N0}, more than the " +
            $"{ReadLimits.CatalogRecord:N0} a record may take; it was not imported (the records around it were)",
            r.Reason);
        // Without anyone to tell, the read stops at that record.
        Assert.Contains($"holds a record or value of more than {ReadLimits.CatalogRecord:N0} bytes",
            Error(text));
    }

    [Fact]
    public void A_first_record_over_the_cap_takes_its_comma_and_a_cut_one_is_named_truncated()
    {
        var big = "{\"name\": \"" + new string('x', (int)ReadLimits.CatalogRecord) + "\"}";
        var refused = new List<RefusedRecord>();
        Assert.Equal(["b"], Read("{\"factors\": [" + big + " , {\"name\": \"b\"}]}", refused: refused));
        Assert.Equal(1, Assert.Single(refused).Index);
        Assert.Null(refused[0].Ids);
        Assert.Equal("name", refused[0].Field);
        // A first record that is the last too: nothing follows it but the list's end.
        refused.Clear();
        Assert.Empty(Read("{\"factors\": [" + big + "\n]}", refused: refused));
        Assert.Equal(1, Assert.Single(refused).Index);
        // Cut inside the large record.
        refused.Clear();
        var path = _dir["catalog.json"];
        var cut = Assert.Throws<FormatException>(() =>
            Read("{\"factors\": [{\"name\": \"a\"}, " + big[..^10], refused: refused)).Message;
        Assert.Equal($"{path} ends inside its record #2; the file is truncated — export it again", cut);
    }

    [Fact]
    public void A_python_word_at_the_file_s_first_byte_or_after_a_missing_comma_is_named_with_its_byte()
    {
        var path = _dir["catalog.json"];
        const string advice = ", as Python's json writes a float that is not a number, but JSON has no such value and "
            + "no JSON reader takes it; write null where a value is unknown (Python's json.dump(…, allow_nan=False) "
            + "finds every one), then import again";
        // The word is the whole file: the reader stops at byte 0, with no byte before it.
        Assert.Equal($"{path} holds NaN at byte 0 (line 1)" + advice, Error("NaN"));
        Assert.Equal($"{path} holds Infinity at byte 0 (line 1)" + advice, Error("Infinity"));
        // A value with no comma before it: the reader stops at the minus sign itself, not at the word after it.
        const string before = """{ "factors": [ {"name": "a", "ic": 1 """;
        Assert.Equal($"{path} holds -Infinity at byte {before.Length} (line 1)" + advice,
            Error(before + "-Infinity} ] }"));
    }

    [Fact]
    public void A_comment_left_open_at_the_end_is_a_syntax_error_where_it_opens_and_a_head_text_is_unescaped()
    {
        // Comments are skipped, but one never closed is no cut value: the reader names the place it opens.
        var path = _dir["catalog.json"];
        const string before = """{ "factors": [ {"name": "a"} """;
        var message = Error(before + "/* a note never closed");
        Assert.StartsWith($"{path} is not valid JSON near byte {before.Length} (line 1): ", message);

        // A head's text is its JSON value: the escape \u0031 is the digit 1.
        var header = new Dictionary<string, string>();
        Assert.Equal(["a"], Read("""{ "version": "v\u0031", "factors": [ {"name": "a"} ] }""", header: header));
        Assert.Equal("v1", header["version"]);
    }

    public void Dispose() => _dir.Dispose();
}
