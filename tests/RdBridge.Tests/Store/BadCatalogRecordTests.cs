using System.Text.RegularExpressions;
using RdBridge.Tests.Discovery;

namespace RdBridge.Tests.Store;

/// <summary>
/// Issue 26, class 11 (one bad record loses the good ones beside it): a catalog record with an oversized field (the
/// issue's example: a factor name of 5,000 bytes, which an index cannot hold), a record larger than the 32 MB a record
/// may take, and an entry that is not a record at all are each refused and named — file, place in the list, field,
/// limit — while every other record of the file is imported. On the store of the pass (TEST_AISTOCK_STORE: SQLite, or
/// PostgreSQL in test.sh's second pass).
/// </summary>
public class BadCatalogRecordTests
{
    [Fact]
    public void Bad_catalog_record_is_refused_alone_and_named_and_the_rest_of_the_file_is_imported()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        var catalog = Path.Combine(sample.Settings.CatalogDirectory, "factor_catalog.json");

        // Python damages the file and prints what the test expects: the ids imported and the ids refused.
        var expected = UpstreamRdAgent.RunPython(["-c", """
            import json, sys
            path = sys.argv[1]
            doc = json.load(open(path, encoding="utf-8"))
            factors = doc["factors"]
            long_name, huge = factors[1], factors[3]
            long_name["name"] = "n" * 5000                          # one oversized field (an indexed one)
            huge["description_cn"] = "描述" * (12 * 1024 * 1024)    # 72 MB of UTF-8: a record past the 32 MB limit
            factors.insert(2, 42)                                   # an entry that is not a record
            text = json.dumps(doc, ensure_ascii=False)
            open(path, "w", encoding="utf-8").write(text)
            kept = [f["factor_id"] for f in factors if isinstance(f, dict) and f not in (long_name, huge)]
            # Where the record before the oversized one ends in the file written (its ", " separator follows).
            start = len(text[:text.index(", " + json.dumps(huge, ensure_ascii=False))].encode("utf-8"))
            print(json.dumps({"kept": kept, "long": long_name["factor_id"], "huge": huge["factor_id"], "start": start}))
            """, catalog]);
        var e = System.Text.Json.JsonDocument.Parse(expected).RootElement;
        var kept = e.GetProperty("kept").EnumerateArray().Select(k => k.GetString()!).Order().ToList();
        var (longId, hugeId) = (e.GetProperty("long").GetString()!, e.GetProperty("huge").GetString()!);
        var start = e.GetProperty("start").GetInt64();
        sample.Aistock.Exec("DELETE FROM aistock_factor_catalog");

        var (ic, io, ie) = sample.Cli("import");
        Assert.True(ic == 1, $"exit {ic}\n{io}\n{ie}");
        var problems = io.Split('\n').Where(l => l.StartsWith("  ✗ ", StringComparison.Ordinal)).ToList();
        // Named: the file, the record's place (1-based, as the file lists it), its id, the field and the limit.
        Assert.Equal(3, problems.Count);
        Assert.Equal($"  ✗ factor_catalog.json: factor record #3: it is a number, not a record (a JSON object) "
            + $"[{catalog}]", problems[0]);
        Assert.Equal($"  ✗ factor_catalog.json: factor record #2 ({longId}) skipped: field 'name' is 5,000 bytes, more "
            + $"than the 1,000 an id, name or other indexed field may hold [{catalog}]", problems[1]);
        // From the end of the record before it; how far the reader went before it gave up on the record ("or more")
        // is its buffer's, not the file's.
        Assert.Matches($"^  ✗ factor_catalog\\.json: factor record #5 \\(factor_id {hugeId}\\), field "
            + $@"'description_cn': it is [0-9,]+ bytes or more from byte {start:N0}, more than the 33,554,432 a "
            + $@"record may take; it was not imported \(the records around it were\) \[{Regex.Escape(catalog)}\]$",
            problems[2]);
        Assert.DoesNotContain("nothing from this file was imported", io);

        var stored = sample.Aistock.Rows("SELECT factor_id FROM aistock_factor_catalog ORDER BY factor_id")
            .Select(r => (string)r[0]!).Order().ToList();
        Assert.Equal(kept, stored);
    }
}
