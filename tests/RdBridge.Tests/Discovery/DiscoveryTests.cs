using System.Text.Json.Nodes;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// Upstream RD-Agent directories (a log and workspaces, no registry) of every log generation, taken through
/// <c>discover</c> and <c>init</c> the way a new user would; expected values come from the fixture's own manifest.
/// </summary>
public class DiscoveryTests
{
    private static List<object?[]> Rows(string db, string sql) => Db.Rows(db, sql);

    /// <summary>A loop's "added" line as the writer's manifest describes the loop: status, action and the workspaces
    /// its log names, each counted once.</summary>
    private static string Added(string taskRun, JsonObject loop)
    {
        var workspaces = UpstreamRdAgent.Ids(loop, "experiment_workspace", "sub_workspace", "baseline_workspace")
            .Distinct().Count();
        return $"  · added loop {taskRun}/{loop["loop_id"]}: {loop["status"]}, {loop["action"]}, "
            + $"{Words.N(workspaces, "workspace", "workspaces")}";
    }

    public static TheoryData<string, string> Generations => new()
    {
        { "head", "fin_factor" }, { "head", "fin_quant" }, { "v08", "fin_model" }, { "v04", "fin_quant" },
        { "v04", "fin_factor" }, { "v03", "fin_model" }, { "v03", "fin_factor" },
    };

    [Theory, MemberData(nameof(Generations))]
    public void Init_without_a_registry_creates_it_bundles_each_finished_loop_with_its_own_workspaces_and_verifies(
        string generation, string scenario)
    {
        using var rd = new UpstreamRdAgent([$"{generation}:{scenario}:4:2025-07-01_08-30-12-123456"],
            running: true, fail: true);
        Assert.False(File.Exists(rd.Registry));
        var (code, output, err) = rd.Cli("init");
        Assert.True(code == 0, output + err);
        var lines = output.Split('\n');
        Assert.Contains($"  · created the registry {rd.Registry} in the fork's schema from the log", lines);
        // Every check listed is ticked, and the summary counts exactly those.
        var ticked = lines.Count(l => l.StartsWith("  ✓ ", StringComparison.Ordinal));
        Assert.Contains($"verification passed: {ticked} of {Words.N(ticked, "check", "checks")}", lines);

        var taskRun = "2025-07-01_08-30-12-123456";
        Assert.Equal(taskRun, Rows(rd.Registry, "SELECT task_run_id FROM task_runs").Single()[0]);
        var expectedScenario = scenario switch
        {
            "fin_factor" => "FactorRDLoop", "fin_model" => "ModelRDLoop", _ => "QuantRDLoop",
        };
        Assert.Equal(expectedScenario, Rows(rd.Registry, "SELECT scenario FROM task_runs").Single()[0]);
        var s = rd.Settings;
        foreach (var loop in rd.Loops())
        {
            var id = (long)loop["loop_id"]!;
            var row = Rows(rd.Registry, "SELECT status, action, has_result FROM loops "
                + $"WHERE task_run_id = '{taskRun}' AND loop_id = {id}").Single();
            Assert.Equal((string)loop["status"]!, row[0]);
            Assert.Equal((string)loop["action"]!, row[1]);
            foreach (var role in new[] { "experiment_workspace", "sub_workspace", "baseline_workspace" })
            {
                var registered = Rows(rd.Registry, $"""
                        SELECT workspace_id FROM workspaces
                        WHERE task_run_id = '{taskRun}' AND loop_id = {id} AND workspace_role = '{role}'
                        """)
                    .Select(r => (string)r[0]!).Order().ToList();
                Assert.Equal(UpstreamRdAgent.Ids(loop, role).Order().ToList(), registered);
            }
            var bundle = Path.Combine(s.BundleDirectory, $"bundle_{taskRun}_{id}.tar.gz");
            // The loop's line names its status and action and the workspaces of its log, each counted once.
            var workspaces = UpstreamRdAgent.Ids(loop, "experiment_workspace", "sub_workspace", "baseline_workspace")
                .Distinct().Count();
            Assert.Contains(
                $"  · added loop {taskRun}/{id}: {loop["status"]}, {loop["action"]}, "
                    + $"{Words.N(workspaces, "workspace", "workspaces")}", lines);
            if ((string)loop["status"]! == "success")
            {
                Assert.Equal(1L, row[2]);
                Assert.Equal(UpstreamRdAgent.Ids(loop, "experiment_workspace", "sub_workspace").ToHashSet(),
                    BundleArchive.WorkspaceIds(bundle));
            }
            else
            {
                Assert.False(File.Exists(bundle), $"loop {id} is {loop["status"]} and must not be bundled");
            }
        }
        Assert.Contains(rd.Loops(), l => (string)l["status"]! == "running");
        Assert.Contains(rd.Loops(), l => (string)l["status"]! == "failed");

        var again = rd.Cli("init");
        Assert.Equal(0, again.Code);
        // The whole closing line.
        Assert.Contains("init run #2: nothing changed — every file, bundle and row was already up to date",
            again.Out.Split('\n'));
    }

    [Fact]
    public void Discovery_records_each_loops_hypothesis_decision_times_and_the_runs_settings()
    {
        using var rd = new UpstreamRdAgent(["head:fin_quant:3:2025-07-01_08-30-12-123456"]);
        Assert.Equal(0, rd.Cli("discover").Code);
        var taskRun = "2025-07-01_08-30-12-123456";
        foreach (var loop in rd.Loops())
        {
            var id = (long)loop["loop_id"]!;
            var row = Rows(rd.Registry, "SELECT hypothesis, decision, status FROM rdbridge_discovery "
                + $"WHERE task_run_id = '{taskRun}' AND loop_id = {id}").Single();
            Assert.Equal((string)loop["hypothesis"]!, row[0]);
            Assert.Equal((bool)loop["decision"]! ? 1L : 0L, row[1]);
            var times = Rows(rd.Registry, "SELECT started_at_utc, ended_at_utc, action FROM loops "
                + $"WHERE task_run_id = '{taskRun}' AND loop_id = {id}").Single();
            Assert.Equal(Seconds((string)loop["started"]!), times[0]);
            Assert.Equal(Seconds((string)loop["ended"]!), times[1]);
            Assert.Equal((string)loop["action"]!, times[2]);
        }
        var run = Rows(rd.Registry, "SELECT status, created_at_utc, log_trace_path, params_json FROM task_runs")
            .Single();
        Assert.Equal("success", run[0]);
        Assert.Equal("2025-07-01T08:30:12Z", run[1]);
        Assert.Equal(rd.LogFolder(taskRun), run[2]);
        var settings = JsonNode.Parse((string)run[3]!)!;
        Assert.Equal("rdagent.scenarios.qlib.experiment.quant_experiment.QlibQuantScenario", (string)settings["scen"]!);
        Assert.Equal(10, (int)settings["evolving_n"]!);
        // Workspace paths are kept as RD-Agent stored them and resolve through the pathMap.
        var path = (string)Rows(rd.Registry, "SELECT workspace_path FROM workspaces ORDER BY workspace_id LIMIT 1")
            [0][0]!;
        Assert.StartsWith(UpstreamRdAgent.StoredRoot + "/git_ignore_folder/RD-Agent_workspace/", path);
        Assert.True(Directory.Exists(rd.Settings.PathMap.Map(path).Local));
    }

    private static string Seconds(string iso) =>
        DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime
            .ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void An_unchanged_log_is_not_read_again_and_llm_traffic_alone_changes_nothing()
    {
        using var rd = new UpstreamRdAgent(["head:fin_factor:3:2025-07-01_08-30-12-123456"], noise: 6);
        Assert.Equal(0, rd.Cli("discover").Code);
        var second = rd.Cli("discover");
        Assert.Equal(0, second.Code);
        Assert.Equal("[discover] 1 task run, 3 loops, 3 loops unchanged", second.Out.Split('\n')[0]);
        Assert.DoesNotContain("loop folders read", second.Out);
        // RD-Agent keeps chatting with the LLM in a finished loop's folder: nothing discovery reads has changed.
        var log = rd.LogFolder("2025-07-01_08-30-12-123456");
        var llm = Directory.EnumerateFiles(log, "*.pkl", SearchOption.AllDirectories)
            .First(f => f.Contains("/debug_llm/", StringComparison.Ordinal));
        var extra = Path.Combine(rd.LogFolder("2025-07-01_08-30-12-123456"), "Loop_1", "feedback", "debug_llm", "999");
        Directory.CreateDirectory(extra);
        File.Copy(llm, Path.Combine(extra, "2026-01-01_00-00-00-000000.pkl"));
        var third = rd.Cli("discover");
        Assert.Equal(0, third.Code);
        Assert.Equal("[discover] 1 task run, 3 loops, 3 loops unchanged", third.Out.Split('\n')[0]);
        Assert.DoesNotContain("added", third.Out);
    }

    [Fact]
    public void Debug_llm_and_session_files_are_never_opened()
    {
        using var rd = new UpstreamRdAgent(["head:fin_factor:2:2025-07-01_08-30-12-123456"]);
        var log = rd.LogFolder("2025-07-01_08-30-12-123456");
        // Garbage where discovery must not look: it would be reported if it were read.
        string[] unread = ["/debug_llm/", "/debug_tpl/", "/token_cost/", "/__session__/"];
        foreach (var f in Directory.EnumerateFiles(log, "*", SearchOption.AllDirectories)
                     .Where(f => unread.Any(u => f.Contains(u, StringComparison.Ordinal))))
        {
            File.WriteAllBytes(f, [0xff, 0x00, 0x13]);
        }

        var (code, output, err) = rd.Cli("discover");
        Assert.True(code == 0, output + err);
        // Two loops of the log's manifest, their workspaces each counted once: the garbage was not read.
        var workspaces = rd.Loops().Sum(l => UpstreamRdAgent.Ids(l, "experiment_workspace", "sub_workspace",
            "baseline_workspace").Distinct().Count());
        Assert.Equal($"[discover] 1 task run, 2 loops, 2 loop folders read, 1 registry created, 1 task run added, "
            + $"2 loops added, {Words.N(workspaces, "workspace added", "workspaces added")}, 1 task run finished",
            output.Split('\n')[0]);
    }

    [Fact]
    public void A_running_loop_is_recorded_as_running_not_bundled_and_finished_by_the_next_sync()
    {
        using var rd = new UpstreamRdAgent(["head:fin_factor:3:2025-07-01_08-30-12-123456"], running: true);
        var taskRun = "2025-07-01_08-30-12-123456";
        Assert.Equal(0, rd.Cli("init").Code);
        var loop2 = $"SELECT status FROM loops WHERE task_run_id = '{taskRun}' AND loop_id = 2";
        Assert.Equal("running", Rows(rd.Registry, loop2)[0][0]);
        Assert.Equal("running", Rows(rd.Registry, "SELECT status FROM task_runs")[0][0]);
        var bundle = Path.Combine(rd.Settings.BundleDirectory, $"bundle_{taskRun}_2.tar.gz");
        Assert.False(File.Exists(bundle));

        // RD-Agent finishes the loop: its runner result, feedback and the steps' time_info appear in the log.
        var later = Path.Combine(rd.Root, "later", taskRun);
        foreach (var f in Directory.EnumerateFiles(later, "*.pkl", SearchOption.AllDirectories))
        {
            var target = Path.Combine(rd.LogFolder(taskRun), Path.GetRelativePath(later, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
        var (code, output, err) = rd.Cli("sync");
        Assert.True(code == 0, output + err);
        Assert.Contains($"loop {taskRun}/2: completed from the log", output);
        var done = rd.Loops().Single(l => (long)l["loop_id"]! == 2)["when_done"]!.AsObject();
        Assert.Equal("success", Rows(rd.Registry, loop2)[0][0]);
        Assert.Equal("success", Rows(rd.Registry, "SELECT status FROM task_runs")[0][0]);
        Assert.Equal(UpstreamRdAgent.Ids(done, "experiment_workspace", "sub_workspace").ToHashSet(),
            BundleArchive.WorkspaceIds(bundle));
        // Every check listed is ticked, and the summary counts exactly those.
        var lines = OutputLines.Of(output);
        var ticked = lines.Count(l => l.StartsWith("  ✓ ", StringComparison.Ordinal));
        Assert.Contains($"verification passed: {ticked} of {Words.N(ticked, "check", "checks")}", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("  ✗ ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_fork_registry_missing_loops_gets_them_under_its_own_task_run_id_and_says_which()
    {
        using var rd = new UpstreamRdAgent(["head:fin_factor:4:2025-07-01_08-30-12-123456"]);
        Assert.Equal(0, rd.Cli("discover").Code);
        // Make it the fork's: a uuid task run id, live writes lost for loops 2 and 3, no discovery memory.
        const string forkId = "3f2a9c0e8b7d4e6f9a1b2c3d4e5f6a7b";
        Db.Exec(rd.Registry, $"""
            UPDATE task_runs SET task_run_id = '{forkId}';
            UPDATE loops SET task_run_id = '{forkId}';
            UPDATE workspaces SET task_run_id = '{forkId}';
            DELETE FROM workspaces WHERE loop_id IN (2, 3);
            DELETE FROM loops WHERE loop_id IN (2, 3);
            DROP TABLE rdbridge_discovery;
            """);
        // And one loop whose registry workspace is not the one its log names.
        var loop1 = rd.Loops().Single(l => (long)l["loop_id"]! == 1);
        var logged = UpstreamRdAgent.Ids(loop1, "experiment_workspace").Single();
        const string other = "aaaabbbbccccddddeeeeffff00001111";
        Db.Exec(rd.Registry, $"UPDATE workspaces SET workspace_id = '{other}' WHERE workspace_id = '{logged}'");

        var (code, output, err) = rd.Cli("init");
        Assert.True(code == 0, output + err);
        // Each loop's whole line: the added ones as the log has them, the mismatch with both ids and the logged path
        // (the log spells it under the writer's stored root).
        var lines = OutputLines.Of(output);
        foreach (var id in new[] { 2L, 3L })
            Assert.Contains(Added(forkId, rd.Loops().Single(l => (long)l["loop_id"]! == id)), lines);
        Assert.Contains($"  · loop {forkId}/1: the registry's experiment workspace is {other}, the log names {logged} "
            + $"({UpstreamRdAgent.StoredRoot}/git_ignore_folder/RD-Agent_workspace/{logged}) — left as the registry "
            + "has it", lines);
        Assert.Equal(1L, Db.Scalar(rd.Registry, "SELECT count(*) FROM task_runs"));
        Assert.Equal(4L, Db.Scalar(rd.Registry, $"SELECT count(*) FROM loops WHERE task_run_id = '{forkId}'"));
        // Left as the registry has it.
        Assert.Equal(0L, Db.Scalar(rd.Registry, $"SELECT count(*) FROM workspaces WHERE workspace_id = '{logged}'"));
    }

    [Fact]
    public void Hostile_and_broken_pickles_are_reported_with_their_path_nothing_runs_and_other_loops_go_on()
    {
        using var rd = new UpstreamRdAgent(["head:fin_factor:6:2025-07-01_08-30-12-123456"]);
        var run = "2025-07-01_08-30-12-123456";
        var marker = rd.Dir["executed-marker"];
        var reducer = rd.Pickle(run, 1, "runner result");
        var nested = rd.Pickle(run, 2, "feedback");
        var huge = rd.Pickle(run, 3, "hypothesis generation");
        var truncated = rd.Pickle(run, 4, "feedback");
        UpstreamRdAgent.RunPython(["-c", """
            import os, pickle, sys
            class Evil:
                def __reduce__(self):
                    return (os.system, ("touch " + sys.argv[1],))
            open(sys.argv[2], "wb").write(pickle.dumps(Evil(), protocol=4))
            # 200,000 lists nested in each other.
            n = 200000
            open(sys.argv[3], "wb").write(b"\x80\x04" + b"]" * n + b"a" * (n - 1) + b".")
            # A string that claims to be 2**62 bytes long.
            open(sys.argv[4], "wb").write(b"\x80\x04\x8d" + (2**62).to_bytes(8, "little") + b"abc.")
            data = open(sys.argv[5], "rb").read()
            open(sys.argv[5], "wb").write(data[: len(data) // 2])
            """, marker, reducer, nested, huge, truncated]);
        // The truncated file is old: RD-Agent is not writing it any more.
        File.SetLastWriteTimeUtc(truncated, DateTime.UtcNow.AddHours(-2));

        var (code, output, err) = rd.Cli("discover");
        Assert.Equal(1, code);
        Assert.False(File.Exists(marker), "a reducer from the pickle was executed");
        // Each refused pickle by its loop, what is wrong with it (sizes and offsets from the bytes written) and its
        // path.
        var lines = output.Split('\n');
        const string leftOut = "the loop is left out until its log can be read";
        Assert.Contains($"  ✗ {run}/1: log pickle holds posix.system(…), not an experiment; {leftOut} [{reducer}]",
            lines);
        // The nested one, refused by the reader (issue 26) at its 1,000th APPEND: after the 2 header bytes, the
        // 200,000 EMPTY_LISTs and 999 APPENDs.
        Assert.Contains($"  ✗ {run}/2: log pickle is not a pickle RdBridge reads as data (pickle nests objects more "
            + $"than 1000 deep at byte {2 + 200_000 + 999} (or adds a container to itself that many times); the file "
            + $"is corrupt or hostile); {leftOut} [{nested}]", lines);
        // The length 2**62 ends at byte 11 (header, opcode, 8 bytes); .NET's largest array is the cap.
        Assert.Contains($"  ✗ {run}/3: log pickle is not a pickle RdBridge reads as data (pickle declares a string of "
            + $"{1L << 62} bytes at byte 11, more than the {Array.MaxLength} a pickle read here may hold; the file is "
            + $"corrupt or not a pickle); {leftOut} [{huge}]", lines);
        // Protocol 4 opens with a frame (opcode 0x95, an 8-byte length) whose body of that length starts at byte 11.
        var half = File.ReadAllBytes(truncated);
        Assert.Equal(0x95, half[2]);
        Assert.Contains($"  ✗ {run}/4: log pickle is truncated; RD-Agent stopped while writing it (pickle ends after "
            + $"{half.Length} bytes, inside an item that needs {BitConverter.ToInt64(half, 3)} more from byte 11; the "
            + "file may still be "
            + $"being written); {leftOut} [{truncated}]", lines);
        var loops = Rows(rd.Registry, "SELECT loop_id FROM loops ORDER BY loop_id").Select(r => (long)r[0]!).ToList();
        Assert.Equal([0L, 5L], loops);
        Assert.Empty(err);
    }

    [Fact]
    public void A_half_written_pickle_is_read_on_the_next_sync_not_reported()
    {
        using var rd = new UpstreamRdAgent(["head:fin_model:3:2025-07-01_08-30-12-123456"]);
        var run = "2025-07-01_08-30-12-123456";
        var feedback = rd.Pickle(run, 1, "feedback");
        var whole = File.ReadAllBytes(feedback);
        File.WriteAllBytes(feedback, whole[..(whole.Length / 3)]);
        var (code, output, err) = rd.Cli("discover");
        Assert.True(code == 0, output + err);
        // The whole line: the loop, and when it will be read.
        Assert.Contains($"  · {run}/1: RD-Agent is writing its log right now; read on the next sync",
            OutputLines.Of(output));
        Assert.DoesNotContain("truncated", output);
        Assert.Equal(0L, Db.Scalar(rd.Registry, "SELECT count(*) FROM loops WHERE loop_id = 1"));

        File.WriteAllBytes(feedback, whole);
        var next = rd.Cli("discover");
        Assert.Equal(0, next.Code);
        Assert.Contains(Added(run, rd.Loops().Single(l => (long)l["loop_id"]! == 1)), OutputLines.Of(next.Out));
        Assert.Equal("success", Rows(rd.Registry, "SELECT status FROM loops WHERE loop_id = 1")[0][0]);
    }
}
