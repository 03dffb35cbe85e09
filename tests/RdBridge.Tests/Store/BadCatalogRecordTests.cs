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
            json.dump(doc, open(path, "w", encoding="utf-8"), ensure_ascii=False)
            kept = [f["factor_id"] for f in factors if isinstance(f, dict) and f not in (long_name, huge)]
            print(json.dumps({"kept": kept, "long": long_name["factor_id"], "huge": huge["factor_id"]}))
            """, catalog]);
        var e = System.Text.Json.JsonDocument.Parse(expected).RootElement;
        var kept = e.GetProperty("kept").EnumerateArray().Select(k => k.GetString()!).Order().ToList();
        var (longId, hugeId) = (e.GetProperty("long").GetString()!, e.GetProperty("huge").GetString()!);
        sample.Aistock.Exec("DELETE FROM aistock_factor_catalog");

        var (ic, io, ie) = sample.Cli("import");
        Assert.True(ic == 1, $"exit {ic}\n{io}\n{ie}");
        var lines = io.Split('\n');
        // Named: the file, the record's place (1-based, as the file lists it), its id, the field and the limit.
        Assert.Contains(lines, l => l.Contains("factor_catalog.json") && l.Contains("record #2") && l.Contains(longId)
            && l.Contains("'name'") && l.Contains("5,000 bytes") && l.Contains("1,000"));
        Assert.Contains(lines, l => l.Contains("record #3") && l.Contains("not a record"));
        Assert.Contains(lines, l => l.Contains("record #5") && l.Contains(hugeId) && l.Contains("'description_cn'")
            && l.Contains("33,554,432"));
        Assert.DoesNotContain("nothing from this file was imported", io);

        var stored = sample.Aistock.Rows("SELECT factor_id FROM aistock_factor_catalog ORDER BY factor_id")
            .Select(r => (string)r[0]!).Order().ToList();
        Assert.Equal(kept, stored);
    }
}
