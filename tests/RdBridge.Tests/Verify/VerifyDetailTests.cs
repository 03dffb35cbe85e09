using System.Text.Json.Nodes;
using RdBridge.Verify;

namespace RdBridge.Tests.Verify;

/// <summary>
/// What each check says when it passes, word for word, with every number counted again from the synced sample: the
/// registry's and the AIstock database's rows with <c>sqlite3</c>-level SQL, the exported catalogs as plain JSON. The
/// other checklist tests look only at passed or failed, so a check that counted wrongly, or said nothing, passed them
/// (the mutants of <c>bench/mutation.sh Verify</c> that emptied or changed a check's text all lived).
/// </summary>
public sealed class VerifyDetailTests
{
    /// <summary>Each catalog in verify's order: its list, its file and its table.</summary>
    private static readonly (string List, string File, string Table)[] Kinds =
    [
        ("factors", "factor_catalog.json", "aistock_factor_catalog"),
        ("models", "model_catalog.json", "aistock_model_catalog"),
        ("strategies", "strategy_catalog.json", "aistock_strategy_catalog"),
        ("loops", "loop_catalog.json", "aistock_loop_catalog"),
    ];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Each_check_of_a_synced_sample_says_what_it_counted(bool deep)
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        long Registry(string sql) => Db.Scalar(s.RegistryPath, sql);
        long Store(string sql) => Db.Scalar(s.AistockDatabase, sql);
        var loops = Registry("SELECT count(*) FROM loops");
        var withResults = Registry("SELECT count(*) FROM loops WHERE has_result = 1");
        var records = Kinds.ToDictionary(k => k.List, k =>
            JsonNode.Parse(File.ReadAllText(Path.Combine(s.CatalogDirectory, k.File)))![k.List]!.AsArray());
        var loopRecords = records["loops"].Where(r => (bool?)r!["has_result"] != false).ToList();
        var bundleIds = loopRecords.Select(r => (string)r!["asset_bundle_id"]!).Distinct().Count();
        var storedLoops = Store("SELECT count(*) FROM aistock_loop_catalog WHERE has_result IS NOT FALSE");
        var run = Db.Rows(s.AistockDatabase, "SELECT id, mode, status FROM rdbridge_sync_runs ORDER BY id DESC")[0];
        Assert.True(withResults > 1 && loopRecords.Count > 1, "the sample needs loops with results to count");

        var expected = new Dictionary<string, string>
        {
            ["rd.registry_loops"] = $"{loops} loops, {withResults} with results, each linked to its own workspace",
            ["rd.workspace_metadata"] = $"{withResults} workspaces complete",
            ["rd.model_meta_preprocess"] = $"{withResults} files checked",
            ["rd.factor_meta_input_schema"] = $"{withResults} files checked",
            ["rd.strategy_meta_portfolio"] = $"{withResults} files checked",
            ["rd.bundle_files"] = $"{withResults} bundles with .sha256",
            ["rd.bundle_rows"] = $"{withResults} rows, loops.asset_bundle_id set",
            ["rd.catalog_bundle_ids"] =
                $"{records.Values.Sum(r => r.Count)} records in 4 catalogs, all with asset_bundle_id",
            ["ai.catalog_files"] = $"4 catalogs in {s.AistockCatalogDirectory}, same as exported",
            ["ai.bundle_cache"] = $"{bundleIds} bundles cached" + (deep ? ", every archive re-hashed" : ""),
            ["ai.db_records"] = string.Join(", ", Kinds.Select(k =>
                $"{k.List} {Store($"SELECT count(*) FROM {k.Table}")}/{records[k.List].Count}")),
            ["ai.db_bundle_ids"] = "every row names the bundle of its own loop",
            ["ai.coverage"] = string.Join(", ", Kinds.Select(k =>
                $"{k.List} {Store($"SELECT count(asset_bundle_id) FROM {k.Table}")}/" +
                Store($"SELECT count(*) FROM {k.Table}" +
                    (k.List == "loops" ? " WHERE has_result IS NOT FALSE" : "")))),
            ["link.loop_workspace"] = $"{loopRecords.Count} loops match the registry's experiment workspace",
            ["link.loop_bundle"] = $"{loopRecords.Count} loops: catalog, registry and bundle manifest agree",
            ["link.factor_loop"] =
                $"{records["factors"].Count} records each link to a loop of the loop catalog and its bundle",
            ["link.model_loop"] =
                $"{records["models"].Count} records each link to a loop of the loop catalog and its bundle",
            ["link.strategy_loop"] =
                $"{records["strategies"].Count} records each link to a loop of the loop catalog and its bundle",
            ["link.workspace_files"] = $"{loopRecords.Count} workspaces reachable through the path map",
            ["link.bundle_extractable"] = $"{bundleIds} bundles open"
                + (deep ? " and every file matches its manifest" : " and are extracted"),
            ["fn.query_by_loop"] = $"{storedLoops} loops resolve to their strategy, factors and bundle",
            ["fn.bundle_by_id"] = $"{storedLoops} bundles available extracted under {s.AssetCacheDirectory}",
            ["fn.workspace_access"] = $"{storedLoops} workspaces hold the files their bundles list",
            ["fn.incremental_sync"] =
                $"every exported record is in the database, current; last run #{run[0]} ({run[1]}) {run[2]}",
            ["fn.no_duplicates"] = "no duplicate loops, factors, models or bundles; no orphan bundle files",
        };

        var report = new Checklist(s, deep).Run();
        Assert.Equal(expected.Keys, report.Checks.Select(c => c.Id));
        Assert.All(report.Checks, c => Assert.Equal((c.Id, true, expected[c.Id]), (c.Id, c.Passed, c.Detail)));
    }
}
