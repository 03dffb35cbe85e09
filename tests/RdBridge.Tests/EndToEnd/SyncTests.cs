namespace RdBridge.Tests.EndToEnd;

/// <summary>
/// The guide's 增量补充: new loops appear in the registry after init; sync brings them over, and only them.
/// </summary>
public class SyncTests
{
    private static void Exec(string db, string sql) => Db.Exec(db, sql);
    private static long Scalar(string db, string sql) => Db.Scalar(db, sql);

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Sync_adds_a_loop_that_finished_after_init_and_a_repeated_sync_adds_nothing(string store)
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, store: store);
        var s = sample.Settings;
        // Hold back loop 0 (which always has results), as if RD-Agent had not finished it yet.
        HeldLoop.HoldBack(s);
        var (code, output, _) = sample.Cli("init");
        Assert.True(code == 0, output);
        var loopsBefore = sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog");

        HeldLoop.Release(s, $"{DateTime.UtcNow.AddSeconds(5):yyyy-MM-ddTHH:mm:ss.fffZ}");
        (code, output, _) = sample.Cli("sync");
        Assert.True(code == 0, output);
        // Only the new loop is examined and gets a bundle; the others are untouched.
        var others = Scalar(s.RegistryPath, "SELECT count(*) FROM loops WHERE loop_id <> 0");
        var lines = OutputLines.Of(output);
        Assert.Contains($"[select] 1 loop to examine, {Words.N(others, "loop unchanged", "loops unchanged")} since "
            + "the last successful run", lines);
        // The stage's whole line: one loop, built, its registry row.
        Assert.Contains("[bundle] 1 loop, 1 built, 1 registry row written", lines);
        Assert.DoesNotContain("rebuilt", output);
        Assert.Equal(loopsBefore + 1, sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog"));
        var tr = (string)Db.Rows(s.RegistryPath, "SELECT task_run_id FROM loops WHERE loop_id = 0")[0][0]!;
        Assert.True(File.Exists(Path.Combine(s.AssetCacheDirectory, $"bundle_{tr}_0", "manifest.json")));
        // The closing line's import part ("import: a, b, …") lists exactly one loop inserted.
        var last = lines.Last(l => l.Length > 0);
        Assert.StartsWith("sync run #2: changes written — ", last);
        var import = last.Split(" — ", 2)[1].Split("; ")
            .Single(p => p.StartsWith("import: ", StringComparison.Ordinal));
        // One whole part of that list (the others count what this sample holds, and are not this test's claim).
        Assert.Contains("1 loop inserted", import["import: ".Length..].Split(", "));

        (code, output, _) = sample.Cli("sync");
        Assert.Equal(0, code);
        // The whole closing line.
        Assert.Contains("sync run #3: nothing changed — every file, bundle and row was already up to date",
            OutputLines.Of(output));
        Assert.Equal(loopsBefore + 1, sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog"));
        Assert.Equal(0, sample.Aistock.Scalar(
            "SELECT count(*) FROM (SELECT task_run_id, loop_id FROM aistock_loop_catalog GROUP BY 1, 2 " +
            "HAVING count(*) > 1) AS d"));

        (code, output, _) = sample.Cli("sync-status");
        Assert.Equal(0, code);
        // The last run: the third (init, then two syncs), a sync, succeeded and finished.
        var status = System.Text.Json.Nodes.JsonNode.Parse(output)!;
        Assert.Equal((3L, "sync", "succeeded", "finished"), ((long)status["id"]!, (string)status["mode"]!,
            (string)status["status"]!, (string)status["stage"]!));
    }
}

public class LiveRegistryTests
{
    [Fact]
    public void A_registry_where_rd_agent_never_set_has_result_is_bundled_from_the_files()
    {
        // The live RD-Agent workflow never sets has_result; backfill finds the results on disk.
        using var sample = new Sample(taskRuns: 2, loops: 3);
        var s = sample.Settings;
        var withResults = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1");
        Db.Exec(s.RegistryPath, "UPDATE loops SET has_result = 0");
        // What the backfill's line counts, read before it runs: the registry's loops, those with an experiment
        // workspace that their row does not name yet, and the workspace files and artifact rows there are.
        var loops = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops");
        var unnamed = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops l WHERE l.workspace_id IS NULL AND "
            + "EXISTS (SELECT 1 FROM workspaces w WHERE w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id "
            + "AND w.workspace_role = 'experiment_workspace')");
        var withWorkspace = Db.Scalar(s.RegistryPath, "SELECT count(DISTINCT task_run_id || '/' || loop_id) "
            + "FROM workspaces WHERE workspace_role = 'experiment_workspace'");
        const string Rows = "SELECT (SELECT count(*) FROM artifacts) + (SELECT count(*) FROM artifact_files)";
        var rowsBefore = Db.Scalar(s.RegistryPath, Rows);
        var filesBefore = WorkspaceFiles(s);
        var (code, output, _) = sample.Cli("init");
        Assert.True(code == 0, output);
        var written = WorkspaceFiles(s).Count(f => filesBefore.GetValueOrDefault(f.Key) != f.Value);
        // The backfill's whole line: every loop with results found from its files and marked.
        Assert.Contains($"[backfill] {Words.N(loops, "loop", "loops")}, "
            + $"{Words.N(unnamed, "loop given its workspace", "loops given their workspace")}, {withResults} with "
            + $"results, {Words.N(written, "file written", "files written")}, "
            + $"{Words.N(withResults, "loop marked has_result", "loops marked has_result")}, "
            + Words.N(Db.Scalar(s.RegistryPath, Rows) - rowsBefore, "artifact row written", "artifact rows written")
            + $", {loops - withWorkspace} running "
            + "or failed before their experiment", OutputLines.Of(output));
        // Loops without results are in AIstock too, without a bundle.
        Assert.Equal(withResults, sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog WHERE has_result"));
        Assert.Equal(withResults, Directory.EnumerateFiles(s.BundleDirectory, "*.tar.gz").Count());
    }

    /// <summary>Every file under the workspace root with its SHA-256, to tell which ones a run wrote.</summary>
    private static Dictionary<string, string> WorkspaceFiles(RdBridge.Configuration.RdBridgeSettings s) =>
        Directory.EnumerateFiles(s.WorkspaceRoot, "*", SearchOption.AllDirectories).ToDictionary(f => f,
            f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
}
