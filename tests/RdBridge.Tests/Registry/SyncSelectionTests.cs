namespace RdBridge.Tests.Registry;

/// <summary>
/// Which loops <c>sync</c> examines: those whose registry rows or workspace files differ from what the last successful
/// run recorded, or that it never recorded, whatever the loops' own times say.
/// </summary>
public class SyncSelectionTests
{
    private static string Text((int Code, string Out, string Err) r) => r.Out + r.Err;

    private const string NothingToExamine =
        "  · no loop, file or product changed since the last successful run: nothing to examine";

    [Fact]
    public void Sync_picks_up_a_loop_added_with_results_no_update_time_and_a_start_before_the_last_sync()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var db = sample.Settings.RegistryPath;
        // Loop 0 always has results; hold it back as if RD-Agent had not written its row (nor its log) yet.
        HeldLoop.HoldBack(sample.Settings);
        var init = sample.Cli("init");
        Assert.True(init.Code == 0, Text(init));
        var before = sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog");

        // As an older RD-Agent writes it (and as doctor --fix leaves old rows): no updated_at_utc, and a start time
        // long before the last sync.
        HeldLoop.Release(sample.Settings, updatedAt: "");
        Db.Exec(db, """
            UPDATE loops SET updated_at_utc = NULL, started_at_utc = '2020-01-01T00:00:00Z', ended_at_utc = NULL
            WHERE loop_id = 0;
            """);
        var sync = sample.Cli("sync");
        Assert.True(sync.Code == 0, Text(sync));
        // The one released loop is examined and bundled; the others (as many as the registry holds besides) are not.
        var others = Db.Scalar(db, "SELECT count(*) FROM loops WHERE loop_id <> 0");
        var lines = OutputLines.Of(sync.Out);
        Assert.Equal([$"[select] 1 loop to examine, {Words.N(others, "loop unchanged", "loops unchanged")} since "
            + "the last successful run",
            "[bundle] 1 loop, 1 built, 1 registry row written"], Stages(lines, "[select]", "[bundle]"));
        Assert.Equal(before + 1, sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog"));
        var tr = (string)Db.Rows(db, "SELECT task_run_id FROM loops WHERE loop_id = 0")[0][0]!;
        Assert.Equal(1, sample.Aistock.Scalar(
            $"SELECT count(*) FROM aistock_loop_catalog WHERE task_run_id = '{tr}' AND loop_id = 0"));
    }

    [Fact]
    public void A_sync_with_nothing_changed_examines_no_loop_and_runs_no_stage()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        var loops = Db.Scalar(sample.Settings.RegistryPath, "SELECT count(*) FROM loops");

        var sync = sample.Cli("sync");
        Assert.True(sync.Code == 0, Text(sync));
        var lines = OutputLines.Of(sync.Out);
        Assert.Contains($"[select] {Words.N(loops, "loop unchanged", "loops unchanged")} since the last successful "
            + "run", lines);
        Assert.Contains(NothingToExamine, lines);
        // The closing line of the second run (init was the first).
        Assert.Contains("sync run #2: nothing changed — every file, bundle and row was already up to date", lines);
        foreach (var stage in new[] { "[backfill]", "[bundle]", "[export]", "[import]", "[sync-assets]" })
            Assert.DoesNotContain(stage, sync.Out);
    }

    [Fact]
    public void A_workspace_file_rewritten_with_its_old_time_makes_sync_examine_that_loop_only()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        var s = sample.Settings;
        var (tr, path) = Db.Rows(s.RegistryPath, """
            SELECT l.task_run_id, w.workspace_path FROM loops l
            JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id
                             AND w.workspace_role = 'experiment_workspace'
            WHERE l.loop_id = 0
            """).Select(r => ((string)r[0]!, (string)r[1]!)).Single();
        var dir = s.PathMap.Map(path).Local!;
        var results = Path.Combine(dir, "qlib_res.csv");
        var time = File.GetLastWriteTimeUtc(results);
        // A new result of the same size, with the file's old time put back: only the inode and change time tell.
        var bytes = File.ReadAllBytes(results);
        var changed = bytes.Select(b => b == (byte)'1' ? (byte)'2' : b).ToArray();
        Assert.NotEqual(bytes, changed); // a premise: the results hold a '1' to change
        File.Delete(results);
        File.WriteAllBytes(results, changed);
        File.SetLastWriteTimeUtc(results, time);

        var sync = sample.Cli("sync");
        Assert.True(sync.Code == 0, Text(sync));
        var others = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops WHERE loop_id <> 0");
        var lines = OutputLines.Of(sync.Out);
        Assert.Equal([$"[select] 1 loop to examine, {Words.N(others, "loop unchanged", "loops unchanged")} since "
            + "the last successful run",
            "[bundle] 1 loop, 1 rebuilt, 1 registry row written"], Stages(lines, "[select]", "[bundle]"));
        Assert.Contains(tr, File.ReadAllText(Path.Combine(s.AistockCatalogDirectory, "loop_catalog.json")));
    }

    [Fact]
    public void A_removed_catalog_copy_on_the_aistock_side_is_brought_back_by_sync()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        var copy = Path.Combine(sample.Settings.AistockCatalogDirectory, "loop_catalog.json");
        var bytes = File.ReadAllBytes(copy);
        File.Delete(copy);

        var sync = sample.Cli("sync");
        Assert.True(sync.Code == 0, Text(sync));
        var lines = OutputLines.Of(sync.Out);
        // Whole lines of the run's output, here and below.
        Assert.Contains("  · catalogs or the asset cache changed since the last successful run: they are brought up "
            + "to date", lines);
        // Only the one removed copy is written, by the second run (init was the first).
        Assert.Contains("sync run #2: changes written — import: 1 catalog copy written", lines);
        Assert.Equal(bytes, File.ReadAllBytes(copy));
    }

    [Fact]
    public void A_failed_sync_records_nothing_so_the_next_sync_examines_the_same_loops()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var s = sample.Settings;
        Assert.Equal(0, sample.Cli("init").Code);
        const string State = "SELECT task_run_id, loop_id, fingerprint FROM rdbridge_loop_state ORDER BY 1, 2";
        var recorded = Db.Rows(s.RegistryPath, State).Select(r => string.Join("|", r)).ToList();
        Assert.Equal(Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops"), recorded.Count);

        // Loop 0's experiment workspace disappears: the run reports it and fails, and must not record the new state.
        var path = (string)Db.Rows(s.RegistryPath,
            "SELECT workspace_path FROM workspaces WHERE loop_id = 0 AND workspace_role = 'experiment_workspace'")
            [0][0]!;
        var dir = s.PathMap.Map(path).Local!;
        Directory.Move(dir, dir + ".away");
        var failed = sample.Cli("sync");
        Assert.Equal(1, failed.Code);
        Assert.Equal(recorded, Db.Rows(s.RegistryPath, State).Select(r => string.Join("|", r)).ToList());

        Directory.Move(dir + ".away", dir);
        var again = sample.Cli("sync");
        Assert.True(again.Code == 0, Text(again));
        Assert.Contains(NothingToExamine, OutputLines.Of(sample.Cli("sync").Out));
    }

    [Fact]
    public void The_recorded_state_is_a_sha256_per_loop_and_a_row_edited_by_hand_makes_sync_examine_that_loop_only()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var db = sample.Settings.RegistryPath;
        Assert.Equal(0, sample.Cli("init").Code);
        // One row per loop of the registry, each a SHA-256 written as 64 lowercase hex digits.
        var keys = Db.Rows(db, "SELECT task_run_id || '/' || loop_id FROM loops ORDER BY 1")
            .Select(r => (string)r[0]!).ToList();
        var state = Db.Rows(db, "SELECT task_run_id || '/' || loop_id, fingerprint FROM rdbridge_loop_state "
            + "WHERE pipeline = 'sync' ORDER BY 1").Select(r => ((string)r[0]!, (string)r[1]!)).ToList();
        Assert.Equal(keys, state.Select(s => s.Item1));
        Assert.All(state, s => Assert.Matches("^[0-9a-f]{64}$", s.Item2));

        // What an earlier or foreign writer may leave: not a digest. That loop is examined again, the others are not.
        Db.Exec(db, "UPDATE rdbridge_loop_state SET fingerprint = 'not a digest' WHERE loop_id = 1");
        var sync = sample.Cli("sync");
        Assert.True(sync.Code == 0, Text(sync));
        Assert.Equal([$"[select] 1 loop to examine, {Words.N(keys.Count - 1, "loop unchanged", "loops unchanged")} "
            + "since the last successful run"],
            Stages(OutputLines.Of(sync.Out), "[select]"));
        // And recorded as it is now, so the next sync has nothing to examine.
        Assert.Equal(state, Db.Rows(db, "SELECT task_run_id || '/' || loop_id, fingerprint FROM rdbridge_loop_state "
            + "WHERE pipeline = 'sync' ORDER BY 1").Select(r => ((string)r[0]!, (string)r[1]!)).ToList());
        Assert.Contains(NothingToExamine, OutputLines.Of(sample.Cli("sync").Out));
    }

    /// <summary>The output's lines of the named stages, in order: the stage's whole line, and no second one.
    /// </summary>
    private static List<string> Stages(IReadOnlyList<string> lines, params string[] stages) =>
        [.. lines.Where(l => stages.Any(s => l.StartsWith(s, StringComparison.Ordinal)))];
}
