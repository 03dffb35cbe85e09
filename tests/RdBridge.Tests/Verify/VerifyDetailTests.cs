using System.Text.Json.Nodes;
using RdBridge.Verify;

namespace RdBridge.Tests.Verify;

/// <summary>
/// What each check says when it passes, word for word, with every number counted again from the synced sample: the
/// registry's and the AIstock database's rows with <c>sqlite3</c>-level SQL, the exported catalogs as plain JSON. The
/// other checklist tests look only at passed or failed, so a check that counted wrongly, or said nothing, passed them
/// (the mutants of <c>bench/mutation.sh Verify</c> that emptied or changed a check's text all lived).
/// </summary>
public sealed partial class VerifyDetailTests
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
        // A guard on the sample, not a result: the exact counts are in the expected details below.
        Assert.True(withResults > 1 && loopRecords.Count > 1, "the sample needs loops with results to count");

        var expected = new Dictionary<string, string>
        {
            ["rd.registry_loops"] =
                $"{Words.N(loops, "loop", "loops")}, {withResults} with results, each linked to its own workspace",
            ["rd.workspace_metadata"] = $"{Words.N(withResults, "workspace", "workspaces")} complete",
            ["rd.model_meta_preprocess"] = $"{Words.N(withResults, "file", "files")} checked",
            ["rd.factor_meta_input_schema"] = $"{Words.N(withResults, "file", "files")} checked",
            ["rd.strategy_meta_portfolio"] = $"{Words.N(withResults, "file", "files")} checked",
            ["rd.bundle_files"] = $"{Words.N(withResults, "bundle", "bundles")} with .sha256",
            ["rd.bundle_rows"] = $"{Words.N(withResults, "row", "rows")}, loops.asset_bundle_id set",
            ["rd.catalog_bundle_ids"] = Words.N(records.Values.Sum(r => r.Count), "record", "records")
                + " in 4 catalogs, all with asset_bundle_id",
            ["ai.catalog_files"] = $"4 catalogs in {s.AistockCatalogDirectory}, same as exported",
            ["ai.bundle_cache"] = Words.N(bundleIds, "bundle", "bundles") + " cached"
                + (deep ? ", every archive re-hashed" : ""),
            ["ai.db_records"] = string.Join(", ", Kinds.Select(k =>
                $"{k.List} {Store($"SELECT count(*) FROM {k.Table}")}/{records[k.List].Count}")),
            ["ai.db_bundle_ids"] = "every row names the bundle of its own loop",
            ["ai.coverage"] = string.Join(", ", Kinds.Select(k =>
                $"{k.List} {Store($"SELECT count(asset_bundle_id) FROM {k.Table}")}/" +
                Store($"SELECT count(*) FROM {k.Table}" +
                    (k.List == "loops" ? " WHERE has_result IS NOT FALSE" : "")))),
            ["link.loop_workspace"] = (loopRecords.Count == 1 ? "1 loop matches" : $"{loopRecords.Count} loops match")
                + " the registry's experiment workspace",
            ["link.loop_bundle"] =
                $"{Words.N(loopRecords.Count, "loop", "loops")}: catalog, registry and bundle manifest agree",
            ["link.factor_loop"] = Linked(records["factors"].Count),
            ["link.model_loop"] = Linked(records["models"].Count),
            ["link.strategy_loop"] = Linked(records["strategies"].Count),
            ["link.workspace_files"] =
                $"{Words.N(loopRecords.Count, "workspace", "workspaces")} reachable through the path map",
            ["link.bundle_extractable"] = (bundleIds == 1 ? "1 bundle opens" : $"{bundleIds} bundles open")
                + (deep ? " and every file matches its manifest" : bundleIds == 1 ? " and is extracted"
                    : " and are extracted"),
            ["fn.query_by_loop"] = (storedLoops == 1 ? "1 loop resolves" : $"{storedLoops} loops resolve")
                + " to their strategy, factors and bundle",
            ["fn.bundle_by_id"] =
                $"{Words.N(storedLoops, "bundle", "bundles")} available extracted under {s.AssetCacheDirectory}",
            ["fn.workspace_access"] = (storedLoops == 1 ? "1 workspace holds" : $"{storedLoops} workspaces hold")
                + " the files their bundles list",
            ["fn.incremental_sync"] =
                $"every exported record is in the database, current; last run #{run[0]} ({run[1]}) {run[2]}",
            ["fn.no_duplicates"] = "no duplicate loops, factors, models or bundles; no orphan bundle files",
        };

        var report = new Checklist(s, deep).Run();
        Assert.Equal(expected.Keys, report.Checks.Select(c => c.Id));
        Assert.All(report.Checks, c => Assert.Equal((c.Id, true, expected[c.Id]), (c.Id, c.Passed, c.Detail)));
    }

    /// <summary>
    /// One thing broken for the first loop of the loop catalog, and the check's whole failure text: what is wrong,
    /// named by the loop, the bundle or the file, with the counts read from the sample.
    /// </summary>
    [Theory]
    [InlineData("rd.registry_loops")]
    [InlineData("rd.workspace_metadata")]
    [InlineData("rd.model_meta_preprocess")]
    [InlineData("rd.bundle_files")]
    [InlineData("rd.bundle_rows")]
    [InlineData("ai.catalog_files")]
    [InlineData("ai.bundle_cache")]
    [InlineData("ai.db_bundle_ids")]
    [InlineData("ai.coverage")]
    [InlineData("link.workspace_files")]
    [InlineData("link.bundle_extractable")]
    [InlineData("fn.bundle_by_id")]
    [InlineData("fn.no_duplicates")]
    public void A_check_that_fails_names_what_is_broken_and_counts_it(string id)
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var loop = copy.FirstLoop;
        var (tr, l) = ((string)loop["task_run_id"]!, (long)loop["loop_id"]!);
        var bundle = (string)loop["asset_bundle_id"]!;
        var workspace = s.PathMap.Map((string?)loop["workspace_path"]).Local!;
        var where = $"task_run_id = '{tr}' AND loop_id = {l}";
        var loops = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops");
        var withResults = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1");
        string Coverage(string missingFrom) => string.Join(", ", Kinds.Select(k =>
        {
            var total = Db.Scalar(s.AistockDatabase, $"SELECT count(*) FROM {k.Table}"
                + (k.List == "loops" ? " WHERE has_result IS NOT FALSE" : ""));
            return $"{k.List} {(k.List == missingFrom ? total - 1 : total)}/{total}";
        }));
        string expected;
        switch (id)
        {
            case "rd.registry_loops":
                copy.Registry($"DELETE FROM workspaces WHERE {where}");
                expected = $"{Words.N(loops, "loop", "loops")}, {withResults} with results; 1 without a workspace "
                    + $"row: {tr}/{l}";
                break;
            case "rd.workspace_metadata":
                File.Delete(Path.Combine(workspace, "feedback.json"));
                expected = $"1 missing, e.g. {tr}/{l}: feedback.json";
                break;
            case "rd.model_meta_preprocess":
                File.WriteAllText(Path.Combine(workspace, "model_meta.json"), "{\"model_type\":\"LGBModel\"}");
                expected = $"1 failing, e.g. {tr}/{l}";
                break;
            case "rd.bundle_files":
                File.Delete(s.Bundles.Sidecar(bundle));
                expected = $"1 missing: {bundle}";
                break;
            case "rd.bundle_rows":
                copy.Registry($"UPDATE loops SET asset_bundle_id = NULL WHERE {where}");
                expected = $"1 wrong: {tr}/{l}: loops.asset_bundle_id is NULL";
                break;
            case "ai.catalog_files":
                File.Delete(Path.Combine(s.AistockCatalogDirectory, "strategy_catalog.json"));
                File.AppendAllText(Path.Combine(s.AistockCatalogDirectory, "model_catalog.json"), "\n");
                expected = "model_catalog.json differs from the RD-Agent side (run import); "
                    + "strategy_catalog.json missing";
                break;
            case "ai.bundle_cache":
                File.Delete(s.AssetCache.Archive(bundle));
                expected = $"1 bad: {bundle}: not copied";
                break;
            case "ai.db_bundle_ids":
                copy.Aistock($"UPDATE aistock_strategy_catalog SET asset_bundle_id = 'bundle_{new string('0', 32)}_0' "
                    + $"WHERE {where}");
                expected = "aistock_strategy_catalog: 1 row without their loop's asset_bundle_id";
                break;
            case "ai.coverage":
                expected = Coverage("loops");
                copy.Aistock($"UPDATE aistock_loop_catalog SET asset_bundle_id = NULL WHERE {where}");
                break;
            case "link.workspace_files":
                Directory.Move(workspace, workspace + ".moved");
                expected = $"1 unreachable: {tr}/{l}: {workspace} missing";
                break;
            case "link.bundle_extractable":
                File.Delete(s.AssetCache.ExtractedManifest(bundle));
                expected = $"1 bad: {bundle}: not extracted, or extracted from another version";
                break;
            case "fn.bundle_by_id":
                File.Delete(s.AssetCache.ExtractedManifest(bundle));
                expected = $"1 unavailable: {bundle}";
                break;
            case "fn.no_duplicates":
                var orphan = $"bundle_{new string('0', 32)}_7";
                File.Copy(s.Bundles.Archive(bundle), s.Bundles.Archive(orphan));
                expected = $"1 orphan bundle file ({orphan})";
                break;
            default: throw new ArgumentException($"no break written for {id}");
        }

        var check = Checks.All.Single(c => c.Id == id);
        var result = new Checklist(s, deep: false).Run([check]).Checks.Single();
        Assert.Equal((false, expected), (result.Passed, result.Detail));
    }
    /// <summary>The detail of a record-to-loop check that passes, for <paramref name="n"/> records.</summary>
    private static string Linked(long n) =>
        (n == 1 ? "1 record each links" : $"{n} records each link") + " to a loop of the loop catalog and its bundle";
}
