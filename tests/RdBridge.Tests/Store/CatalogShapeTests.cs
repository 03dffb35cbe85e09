using RdBridge.Tests.Discovery;

namespace RdBridge.Tests.Store;

/// <summary>
/// Issue 26, class 6 (a catalog of the wrong shape is named on import, never read as an empty one): a strategy catalog
/// whose list is an object (the issue's example), a file holding one record instead of a catalog, a list under a name
/// no tool writes, and records missing their id are each named with the file and what is wrong; the other catalogs
/// of the import still land.
/// </summary>
public class CatalogShapeTests
{
    [Fact]
    public void Wrong_shape_strategy_catalog_is_named_on_import_and_the_other_catalogs_land()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        var catalog = Path.Combine(sample.Settings.CatalogDirectory, "strategy_catalog.json");
        var original = File.ReadAllText(catalog);
        // The factor ids the factor catalog file holds, read with Python's json.
        var factorIds = UpstreamRdAgent.RunPython(["-c", """
            import json, sys
            print("\n".join(sorted(f["factor_id"] for f in json.load(open(sys.argv[1], encoding="utf-8"))["factors"])))
            """, Path.Combine(sample.Settings.CatalogDirectory, "factor_catalog.json")])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        Assert.NotEmpty(factorIds); // a precondition on the sample, not the check

        // Each damage, and what the problem line says is wrong, given the damaged file's top-level fields (as Python
        // lists them) and its records' count.
        (string Python, Func<List<string>, int, string[]> Named)[] shapes =
        [
            ("doc['strategies'] = {'first': doc['strategies'][0]}",
                (_, _) => [Shape("'strategies' must be a list of records, not an object")]),
            ("doc = doc['strategies'][0]", (fields, _) => [Shape(NoList(fields))]),
            ("doc['strategy_list'] = doc.pop('strategies')", (fields, _) => [Shape(NoList(fields))]),
            ("[s.pop('strategy_id') for s in doc['strategies']]", (_, records) => [.. Enumerable.Range(1, records)
                .Select(n => $"  ✗ strategy_catalog.json: strategy record #{n} (∅) skipped: record has no strategy_id "
                    + $"[{catalog}]")]),
        ];
        // The file's first eight top-level fields (a record's fields run to a dozen; eight are enough to recognise it).
        string NoList(List<string> fields) => "it has no 'strategies' list of records (its top-level fields: "
            + string.Join(", ", fields.Take(8).Select(f => $"'{f}'")) + ")";
        string Shape(string named) => $"  ✗ strategy_catalog.json: {catalog} is valid JSON but not a catalog of the "
            + $"shape expected: {named}; a catalog is {{\"strategies\": [{{…}}, …]}} (or a bare list of records); "
            + $"nothing from this file was imported; the AIstock copy from the last good import is kept [{catalog}]";
        foreach (var (python, named) in shapes)
        {
            File.WriteAllText(catalog, original);
            var shape = System.Text.Json.Nodes.JsonNode.Parse(UpstreamRdAgent.RunPython(["-c", $$"""
                import json, sys
                doc = json.load(open(sys.argv[1], encoding="utf-8"))
                {{python}}
                json.dump(doc, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False)
                lst = doc.get("strategies")
                print(json.dumps({"fields": list(doc), "records": len(lst) if isinstance(lst, list) else 0}))
                """, catalog]))!;
            var fields = shape["fields"]!.AsArray().Select(f => (string)f!).ToList();
            sample.Aistock.Exec("DELETE FROM aistock_factor_catalog");

            var (ic, io, ie) = sample.Cli("import");
            Assert.True(ic == 1, $"{python}: exit {ic}\n{io}\n{ie}");
            Assert.Equal(named(fields, (int)shape["records"]!),
                io.Split('\n').Where(l => l.StartsWith("  ✗ strategy_catalog.json: ", StringComparison.Ordinal)));
            Assert.DoesNotContain("near byte", io);
            // The factor catalog beside it still landed in full.
            Assert.Equal(factorIds, sample.Aistock.Rows("SELECT factor_id FROM aistock_factor_catalog")
                .Select(r => (string)r[0]!).Order(StringComparer.Ordinal).ToList());
        }
    }
}
