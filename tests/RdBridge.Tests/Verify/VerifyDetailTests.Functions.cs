using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Verify;

namespace RdBridge.Tests.Verify;

/// <summary>
/// The function checks (功能验证) after breaks that the synced sample's passing texts and one-break failures do not
/// reach: several loops broken at once (the examples, their separators and their limits), a bundle manifest kept in
/// only one of its three places, an empty loop table, each state the sync history can be in, and duplicates of every
/// kind. Every expected text is built from the copy's rows (SQL) and catalog files (JSON).
/// </summary>
public sealed partial class VerifyDetailTests
{
    private const string AllCurrent = "every exported record is in the database, current";

    /// <summary>The AIstock loop table's loops with results, in the order the checks walk them.</summary>
    private static List<object?[]> StoredLoops(SyncedSample copy) => Db.Rows(copy.Settings.AistockDatabase,
        "SELECT task_run_id, loop_id, strategy_id, factor_names, asset_bundle_id FROM aistock_loop_catalog "
        + "WHERE has_result IS NOT FALSE ORDER BY task_run_id, loop_id");

    private static string Key(object?[] loop) => $"{loop[0]}/{loop[1]}";

    [Fact]
    public void Query_by_loop_counts_every_missing_strategy_and_factor_of_every_loop_and_shows_four()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var loops = StoredLoops(copy);
        var strategy = (string)loops[0][2]!;
        string[] Names(object?[] loop) => JsonNode.Parse((string)loop[3]!)!.AsArray().Select(n => (string)n!).ToArray();
        // Two factor names of the first loop, which the sample's other loops name too (Alpha158's).
        var gone = Names(loops[0]).Take(2).ToList();
        copy.Aistock($"DELETE FROM aistock_strategy_catalog WHERE strategy_id = '{strategy}'");
        copy.Aistock($"DELETE FROM aistock_factor_catalog WHERE name IN ('{gone[0]}', '{gone[1]}')");
        var gaps = loops.SelectMany(l =>
            ((string?)l[2] == strategy ? new[] { $"{Key(l)}: strategy {strategy} not found" } : [])
            .Concat(Names(l).Where(gone.Contains).Select(n => $"{Key(l)}: factor {n} not found"))).ToList();
        // A guard on the sample, not a result: the exact text is asserted below.
        Assert.True(gaps.Count > 4, $"the sample needs more gaps than the check shows ({gaps.Count})");

        var result = copy.Check("fn.query_by_loop");

        Assert.Equal((false, $"{Words.N(gaps.Count, "gap", "gaps")}: {string.Join("; ", gaps.Take(4))}"),
            (result.Passed, result.Detail));
    }

    [Fact]
    public void The_loop_checks_fail_on_a_database_that_holds_no_loop()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        copy.Aistock("DELETE FROM aistock_loop_catalog");
        var none = Db.Scalar(copy.Settings.AistockDatabase, "SELECT count(*) FROM aistock_loop_catalog");

        var results = new[] { "fn.query_by_loop", "fn.bundle_by_id", "fn.workspace_access" }
            .Select(id => copy.Check(id)).Select(r => (r.Passed, r.Detail));

        Assert.Equal(
        [
            (false, (none == 1 ? "1 loop resolves" : $"{none} loops resolve") + " to their strategy, factors and "
                + "bundle"),
            (false, $"{Words.N(none, "bundle", "bundles")} available extracted under "
                + $"{copy.Settings.AssetCacheDirectory}"),
            (false, (none == 1 ? "1 workspace holds" : $"{none} workspaces hold") + " the files their bundles list"),
        ], results);
    }

    [Fact]
    public void Bundle_by_id_names_a_loop_without_a_bundle_each_bundle_not_extracted_and_an_unsafe_id()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var loops = StoredLoops(copy);
        copy.Aistock("UPDATE aistock_loop_catalog SET asset_bundle_id = NULL "
            + $"WHERE task_run_id = '{loops[0][0]}' AND loop_id = {loops[0][1]}");
        var second = (string)loops[1][4]!;
        File.Delete(copy.Settings.AssetCache.ExtractedManifest(second));
        // An id that would lead out of the cache is not looked for there.
        var unsafeId = $"../{loops[2][4]}";
        copy.Aistock($"UPDATE aistock_loop_catalog SET asset_bundle_id = '{unsafeId}' "
            + $"WHERE task_run_id = '{loops[2][0]}' AND loop_id = {loops[2][1]}");

        var result = copy.Check("fn.bundle_by_id");

        Assert.Equal((false, $"3 unavailable: (none), {second}, {unsafeId}"), (result.Passed, result.Detail));
    }

    /// <summary>
    /// The bundle's file list is read from the extracted copy, else from the cached archive, else from the archive in
    /// production_bundles: each loop keeps its list in one place only, then in none.
    /// </summary>
    [Fact]
    public void Workspace_access_reads_the_file_list_from_wherever_the_bundle_still_is()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var loops = StoredLoops(copy);
        var (second, third) = ((string)loops[1][4]!, (string)loops[2][4]!);
        // The first loop's id would lead out of the cache: no manifest is looked for.
        copy.Aistock($"UPDATE aistock_loop_catalog SET asset_bundle_id = '../{loops[0][4]}' "
            + $"WHERE task_run_id = '{loops[0][0]}' AND loop_id = {loops[0][1]}");
        // The second loop's list only extracted, the third's only in its two archives.
        File.Delete(s.AssetCache.Archive(second));
        File.Delete(s.Bundles.Archive(second));
        File.Delete(s.AssetCache.ExtractedManifest(third));
        var unsafeId = $"{Key(loops[0])}: unsafe asset_bundle_id '../{loops[0][4]}', not looked for";

        var kept = copy.Check("fn.workspace_access");
        File.Delete(s.AssetCache.ExtractedManifest(second));
        var gone = copy.Check("fn.workspace_access");

        Assert.Equal((false, $"1 gap: {unsafeId}"), (kept.Passed, kept.Detail));
        Assert.Equal((false, $"2 gaps: {unsafeId}; {Key(loops[1])}: no manifest of bundle {second}, extracted or "
            + "archived"), (gone.Passed, gone.Detail));
    }

    [Fact]
    public void Workspace_access_names_a_loop_without_a_bundle_id()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var loops = StoredLoops(copy);
        copy.Aistock("UPDATE aistock_loop_catalog SET asset_bundle_id = NULL "
            + $"WHERE task_run_id = '{loops[2][0]}' AND loop_id = {loops[2][1]}");

        var result = copy.Check("fn.workspace_access");

        Assert.Equal((false, $"1 gap: {Key(loops[2])}: the loop names no asset_bundle_id"),
            (result.Passed, result.Detail));
    }

    [Fact]
    public void Incremental_sync_names_three_outdated_records_and_the_unsynced_loops_and_skips_a_record_it_cannot_map()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        var tr = (string)copy.FirstLoop["task_run_id"]!;
        copy.Aistock("UPDATE aistock_factor_catalog SET content_hash = 'stale'");
        // A record the import refuses (a negative count): the database never had it, so it is not "outdated".
        copy.EditExported(CatalogKind.Factor, r => r["occurrences"] = -1);
        var factors = JsonNode.Parse(File.ReadAllText(Path.Combine(s.CatalogDirectory, "factor_catalog.json")))!
            ["factors"]!.AsArray().Skip(1).Select(r => $"factors {(string)r!["factor_id"]!}").ToList();
        copy.Registry("INSERT INTO loops (task_run_id, loop_id, status, has_result) "
            + $"VALUES ('{tr}', 77, 'success', 1), ('{tr}', 78, 'success', 1)");
        var run = Db.Rows(s.AistockDatabase, "SELECT id, mode, status FROM rdbridge_sync_runs ORDER BY id DESC")[0];

        var result = copy.Check("fn.incremental_sync");

        Assert.Equal((false, $"{Words.N(factors.Count, "record", "records")} missing or outdated, e.g. "
            + $"{string.Join("; ", factors.Take(3))}; "
            + $"2 registry loops with results never synced, e.g. {tr}/77; {tr}/78 (run rdbridge sync); "
            + $"last run #{run[0]} ({run[1]}) {run[2]}"), (result.Passed, result.Detail));
    }

    /// <summary>
    /// The last sync run as the check reports it: only a finished success lets it pass. A failed, interrupted or
    /// abandoned run fails it with the fix; one still running is not the last result, the newest finished run is; one
    /// running with none finished before it fails (it has shown nothing yet), unless the verify is that run's own last
    /// stage, as in the first init. Without a registry the check still judges the database.
    /// </summary>
    [Theory]
    [InlineData("failed")]
    [InlineData("interrupted")]
    [InlineData("abandoned")]
    [InlineData("running after a success")]
    [InlineData("running after an interrupted run")]
    [InlineData("running alone")]
    [InlineData("running alone, this verify its last stage")]
    [InlineData("no registry")]
    public void Incremental_sync_reports_the_last_run_as_the_sync_history_holds_it(string state)
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        object?[] Last(string where) => Db.Rows(s.AistockDatabase,
            $"SELECT id, mode, status FROM rdbridge_sync_runs {where} ORDER BY id DESC")[0];
        void Insert(string mode, string status) => copy.Aistock("INSERT INTO rdbridge_sync_runs (mode, status, "
            + $"started_at) VALUES ('{mode}', '{status}', '2026-12-07T00:00:00Z')");
        long? own = null;
        (bool, string) expected;
        switch (state)
        {
            case "failed" or "interrupted" or "abandoned":
                Insert("sync", state);
                var ended = Last("");
                expected = (false, $"{AllCurrent}; last run #{ended[0]} ({ended[1]}) {state} (run rdbridge sync)");
                break;
            case "running after a success":
                Insert("sync", "running");
                var done = Last("WHERE status = 'succeeded'");
                expected = (true, $"{AllCurrent}; last run #{done[0]} ({done[1]}) {done[2]}");
                break;
            case "running after an interrupted run":
                Insert("sync", "interrupted");
                var cut = Last("");
                Insert("sync", "running");
                expected = (false, $"{AllCurrent}; last run #{cut[0]} (sync) interrupted (run rdbridge sync)");
                break;
            case "running alone":
                copy.Aistock("DELETE FROM rdbridge_sync_runs");
                Insert("init", "running");
                var running = Last("");
                expected = (false, $"{AllCurrent}; run #{running[0]} (init) in progress and none finished yet "
                    + "(verify again when it ends)");
                break;
            case "running alone, this verify its last stage":
                copy.Aistock("DELETE FROM rdbridge_sync_runs");
                Insert("init", "running");
                own = Convert.ToInt64(Last("")[0]);
                expected = (true, $"{AllCurrent}; run #{own} (init) in progress, this verify its last stage");
                break;
            case "no registry":
                File.Delete(s.RegistryPath);
                var last = Last("");
                expected = (true, $"{AllCurrent}; last run #{last[0]} ({last[1]}) {last[2]}");
                break;
            default: throw new ArgumentException($"no state written for {state}");
        }

        var result = new Checklist(s, deep: false, own).Run([Checks.All.Single(c => c.Id == "fn.incremental_sync")])
            .Checks.Single();

        Assert.Equal(expected, (result.Passed, result.Detail));
    }

    [Fact]
    public void No_duplicates_names_every_kind_of_duplicate_and_the_orphan_bundle_files()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var s = copy.Settings;
        // The loop table's and production_bundles' keys are their tables' constraints: each is copied to a table
        // without them (the old way, so the views that read it are not rewritten) and one row added twice.
        copy.Aistock("PRAGMA legacy_alter_table = ON; "
            + "CREATE TABLE loops_copy AS SELECT * FROM aistock_loop_catalog; "
            + "INSERT INTO loops_copy SELECT * FROM aistock_loop_catalog LIMIT 1; "
            + "DROP TABLE aistock_loop_catalog; ALTER TABLE loops_copy RENAME TO aistock_loop_catalog");
        copy.Registry("PRAGMA legacy_alter_table = ON; "
            + "CREATE TABLE bundles_copy AS SELECT * FROM production_bundles; "
            + "INSERT INTO bundles_copy SELECT * FROM production_bundles LIMIT 1; "
            + "DROP TABLE production_bundles; ALTER TABLE bundles_copy RENAME TO production_bundles");
        // A factor is its name, source and definition; a model its loop's workspace: the same again under a new id.
        copy.Aistock("INSERT INTO aistock_factor_catalog (factor_id, name, source, fingerprint, payload, content_hash, "
            + "imported_at, updated_at) SELECT factor_id || '_again', name, source, fingerprint, payload, "
            + "content_hash, imported_at, updated_at FROM aistock_factor_catalog LIMIT 1");
        copy.Aistock("DROP INDEX ux_aistock_model_catalog_workspace; "
            + "INSERT INTO aistock_model_catalog (model_id, task_run_id, loop_id, workspace_id, payload, content_hash, "
            + "imported_at, updated_at) SELECT model_id || '_again', task_run_id, loop_id, workspace_id, payload, "
            + "content_hash, imported_at, updated_at FROM aistock_model_catalog LIMIT 1");
        var bundle = (string)copy.FirstLoop["asset_bundle_id"]!;
        var orphans = new[] { 8, 7 }.Select(n => $"bundle_{new string('0', 32)}_{n}").ToList();
        foreach (var orphan in orphans) File.Copy(s.Bundles.Archive(bundle), s.Bundles.Archive(orphan));

        var result = copy.Check("fn.no_duplicates");

        Assert.Equal((false, "duplicate loops; duplicate factors; duplicate models; "
            + $"a loop with two production_bundles rows; 2 orphan bundle files ({orphans[1]}, {orphans[0]})"),
            (result.Passed, result.Detail));
    }
}
