using System.Text.Json.Nodes;

namespace RdBridge.Tests.Verify;

/// <summary>
/// The failure texts of the AIstock-side checks that
/// <see cref="A_check_that_fails_names_what_is_broken_and_counts_it"/> does not reach: each way a cached bundle is bad,
/// two problems at once (how they are joined), a catalog with no loops, orphan rows. The mutants of
/// <c>bench/mutation.sh Verify</c> at 5913db9 that lived in <c>AistockChecks.cs</c> changed only these texts, or a
/// branch no test broke the sample for.
/// </summary>
public sealed partial class VerifyDetailTests
{
    [Theory]
    [InlineData("an unsafe bundle id")]
    [InlineData("a cached archive deleted, deep")]
    [InlineData("a cached sidecar of another digest")]
    [InlineData("a cached archive changed, deep")]
    [InlineData("two cached archives deleted")]
    [InlineData("no loops")]
    public void The_bundle_cache_check_names_each_bad_bundle_with_what_is_wrong_with_it(string broken)
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var bundles = ExportedLoopBundles(s);
        var deep = broken.EndsWith(", deep", StringComparison.Ordinal);
        string expected;
        switch (broken)
        {
            case "an unsafe bundle id":
                var unsafeId = bundles[0] + "/..";
                copy.EditExported(RdBridge.Catalogs.CatalogKind.Loop, r => r["asset_bundle_id"] = unsafeId);
                expected = $"1 bad: {unsafeId}: unsafe id";
                break;
            case "a cached archive deleted, deep":
                File.Delete(s.AssetCache.Archive(bundles[0]));
                expected = $"1 bad: {bundles[0]}: not copied";
                break;
            case "a cached sidecar of another digest":
                File.WriteAllText(s.AssetCache.Sidecar(bundles[0]), $"{new string('0', 64)}  {bundles[0]}.tar.gz\n");
                expected = $"1 bad: {bundles[0]}: cached copy is outdated";
                break;
            case "a cached archive changed, deep":
                File.AppendAllText(s.AssetCache.Archive(bundles[0]), "x");
                expected = $"1 bad: {bundles[0]}: cached archive does not match its .sha256";
                break;
            case "two cached archives deleted":
                File.Delete(s.AssetCache.Archive(bundles[0]));
                File.Delete(s.AssetCache.Archive(bundles[1]));
                expected = $"2 bad: {bundles[0]}: not copied; {bundles[1]}: not copied";
                break;
            case "no loops":
                EmptyExportedLoopCatalog(s);
                expected = "0 bundles cached";
                break;
            default: throw new ArgumentException($"no break written for {broken}");
        }

        var result = copy.Check("ai.bundle_cache", deep);
        Assert.Equal((false, expected), (result.Passed, result.Detail));
    }

    [Fact]
    public void A_loop_row_missing_from_the_database_is_counted_and_its_factors_models_and_strategy_named_as_orphans()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var loop = copy.FirstLoop;
        var (tr, l) = ((string)loop["task_run_id"]!, (long)loop["loop_id"]!);
        copy.Aistock($"DELETE FROM aistock_loop_catalog WHERE task_run_id = '{tr}' AND loop_id = {l}");
        var inFile = ExportedRecords(s, "loops").Count;
        var inDb = Db.Scalar(s.AistockDatabase, "SELECT count(*) FROM aistock_loop_catalog");
        var problems = new List<string> { $"loops: {Words.N(inDb, "row", "rows")} for "
            + $"{Words.N(inFile, "record", "records")}" };
        foreach (var (table, key) in new[] { ("aistock_factor_catalog", "factor_id"),
            ("aistock_model_catalog", "model_id"), ("aistock_strategy_catalog", "strategy_id") })
        {
            // The rows of the deleted loop, in key order; the check shows five.
            var orphans = Db.Rows(s.AistockDatabase, $"SELECT {key} FROM {table} "
                + $"WHERE task_run_id = '{tr}' AND loop_id = {l} ORDER BY {key} LIMIT 5");
            problems.Add($"{table}: rows whose loop is not in aistock_loop_catalog, e.g. "
                + string.Join(", ", orphans.Select(o => $"{o[0]} → loop {tr}/{l}")));
        }
        // A guard on the sample, not a result: the loop has several factors, so the examples' separator is seen.
        Assert.True(Db.Scalar(s.AistockDatabase,
            $"SELECT count(*) FROM aistock_factor_catalog WHERE task_run_id = '{tr}' AND loop_id = {l}") > 1);

        var result = copy.Check("ai.db_records");

        Assert.Equal((false, string.Join("; ", problems)), (result.Passed, result.Detail));
    }

    [Fact]
    public void A_loop_catalog_without_records_fails_the_database_records_check_whatever_the_database_holds()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        EmptyExportedLoopCatalog(s);
        var inDb = Db.Scalar(s.AistockDatabase, "SELECT count(*) FROM aistock_loop_catalog");

        var result = copy.Check("ai.db_records");

        Assert.Equal((false, $"loops: {Words.N(inDb, "row", "rows")} for 0 records"), (result.Passed, result.Detail));
    }

    [Fact]
    public void Rows_of_two_tables_naming_another_bundle_are_each_counted_by_table()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var loop = copy.FirstLoop;
        var where = $"task_run_id = '{loop["task_run_id"]}' AND loop_id = {loop["loop_id"]}";
        var other = $"bundle_{new string('0', 32)}_0";
        copy.Aistock($"UPDATE aistock_model_catalog SET asset_bundle_id = '{other}' WHERE {where}");
        copy.Aistock($"UPDATE aistock_strategy_catalog SET asset_bundle_id = '{other}' WHERE {where}");
        var models = Db.Scalar(s.AistockDatabase, $"SELECT count(*) FROM aistock_model_catalog WHERE {where}");
        var strategies = Db.Scalar(s.AistockDatabase, $"SELECT count(*) FROM aistock_strategy_catalog WHERE {where}");

        var result = copy.Check("ai.db_bundle_ids");

        Assert.Equal((false, $"aistock_model_catalog: {Words.N(models, "row", "rows")} without their loop's "
            + "asset_bundle_id; "
            + $"aistock_strategy_catalog: {Words.N(strategies, "row", "rows")} without their loop's asset_bundle_id"),
            (result.Passed, result.Detail));
    }

    /// <summary>
    /// Factors, models and strategies all carry their bundle, but with no loop in the database there is nothing
    /// covered: the check fails on the loops' count alone, not on the first kind's.
    /// </summary>
    [Fact]
    public void Coverage_fails_when_the_database_holds_no_loop_though_every_other_row_has_its_bundle()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        copy.Aistock("DELETE FROM aistock_loop_catalog");
        var expected = string.Join(", ", Kinds.Select(k =>
            $"{k.List} {Db.Scalar(s.AistockDatabase, $"SELECT count(asset_bundle_id) FROM {k.Table}")}/"
            + Db.Scalar(s.AistockDatabase, $"SELECT count(*) FROM {k.Table}"
                + (k.List == "loops" ? " WHERE has_result IS NOT FALSE" : ""))));
        // A guard on the sample, not a result: the other kinds' rows are there, each with its bundle.
        Assert.True(Db.Scalar(s.AistockDatabase, "SELECT count(asset_bundle_id) FROM aistock_factor_catalog") > 0);

        var result = copy.Check("ai.coverage");

        Assert.Equal((false, expected), (result.Passed, result.Detail));
    }

    /// <summary>The records of one exported catalog (the RD-Agent side's file, which verify reads), as JSON.</summary>
    private static JsonArray ExportedRecords(RdBridge.Configuration.RdBridgeSettings s, string list)
    {
        var file = Kinds.Single(k => k.List == list).File;
        return JsonNode.Parse(File.ReadAllText(Path.Combine(s.CatalogDirectory, file)))![list]!.AsArray();
    }

    /// <summary>The bundle ids of the exported loop catalog's loops with results, in the file's order.</summary>
    private static List<string> ExportedLoopBundles(RdBridge.Configuration.RdBridgeSettings s) =>
        ExportedRecords(s, "loops").Where(r => (bool?)r!["has_result"] != false)
            .Select(r => (string)r!["asset_bundle_id"]!).Distinct().ToList();

    /// <summary>Rewrites the exported loop catalog with its list emptied, the rest of the file as it was.</summary>
    private static void EmptyExportedLoopCatalog(RdBridge.Configuration.RdBridgeSettings s)
    {
        var path = Path.Combine(s.CatalogDirectory, "loop_catalog.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        root["loops"]!.AsArray().Clear();
        File.WriteAllText(path, root.ToJsonString());
    }
}
