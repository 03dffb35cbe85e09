using RdBridge.Discovery;
using RdBridge.Registry;
using RdBridge.Runs;
using RdBridge.Sample;
using RdBridge.Tests.Store;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// <see cref="DiscoverStage"/> run in-process on a log written here pickle by pickle (protocol 4, as CPython pickles a
/// plain class) and on a registry the test edits with SQL, for the mutants <c>bench/mutation.sh Discovery</c> left
/// alive (issue 24): the run's scenario and settings, cancellation, what the walk of the log root left out, loops
/// being written, the batch of loops written together, and what a second discovery says of a registry that differs
/// from the log. Every expected value is one the test put in a pickle, a folder name or the registry.
/// </summary>
public class DiscoverStageMutantTests
{
    private static readonly DateTimeOffset T0 = new(2025, 7, 1, 8, 0, 0, TimeSpan.Zero);
    private const string Workspace = "rdagent.core.experiment.FBWorkspace";
    private const string FactorTask = "rdagent.components.coder.factor_coder.factor.FactorTask";
    private const string FactorExp = "rdagent.scenarios.qlib.experiment.factor_experiment.QlibFactorExperiment";

    private static Action<PickleText> S(string s) => p => p.Str(s);

    private static StageReport Discover(RdBridge.Configuration.RdBridgeSettings s) =>
        new DiscoverStage(new RunContext(s)).Run();

    /// <summary>Writes one pickle at <c>folder/tag/4242/time.pkl</c>, dated an hour ago unless told; its path.
    /// </summary>
    private static string Write(string folder, string tag, byte[] pickle, int minute = 0, DateTime? written = null)
    {
        var at = Path.Combine(folder, tag, "4242");
        Directory.CreateDirectory(at);
        var file = Path.Combine(at, $"{T0.AddMinutes(minute):yyyy-MM-dd_HH-mm-ss}-000000.pkl");
        File.WriteAllBytes(file, pickle);
        File.SetLastWriteTimeUtc(file, written ?? DateTime.UtcNow.AddHours(-1));
        return file;
    }

    private static byte[] Feedback(bool decision) => PickleText.Of(p => p.Object(
        "rdagent.core.proposal.HypothesisFeedback", [("decision", q => q.Bool(decision))]));

    private static Action<PickleText> Ws(string path) =>
        p => p.Object(Workspace, [("workspace_path", q => q.StoredPath(path))]);

    /// <summary>A finished loop: a runner result naming its experiment and sub-workspaces, then feedback.</summary>
    private static void FinishedLoop(string runFolder, long id, string experiment, params string[] subs)
    {
        var loop = Path.Combine(runFolder, $"Loop_{id}");
        Write(Path.Combine(loop, "running"), LogTree.RunnerResult, PickleText.Of(p => p.Object(FactorExp,
        [
            ("experiment_workspace", Ws(experiment)), ("sub_workspace_list", q => q.List(subs.Select(Ws))),
            ("sub_tasks", q => q.List(subs.Select<string, Action<PickleText>>(
                (_, i) => r => r.Object(FactorTask, [("factor_name", S($"F{i}"))])))),
        ])), 1);
        Write(Path.Combine(loop, "feedback"), LogTree.Feedback, Feedback(true), 2);
    }

    [Fact]
    public void The_run_s_scenario_comes_from_its_settings_or_its_scenario_class_and_only_dict_settings_are_kept()
    {
        using var dir = new TempDir();
        var s = LoopReaderTests.Settings(dir);
        string Run(int day, params (string Tag, byte[] Pickle)[] runFiles)
        {
            var run = Path.Combine(s.LogRoot, $"2025-07-0{day}_08-00-00-000000");
            foreach (var (tag, pickle) in runFiles) Write(run, tag, pickle);
            Write(Path.Combine(run, "Loop_0", "feedback"), LogTree.Feedback, Feedback(true));
            return Path.GetFileName(run);
        }
        byte[] Class(string name) => PickleText.Of(p => p.Object(name, []));
        const string ModelScen = "rdagent.scenarios.qlib.experiment.model_experiment.QlibModelScenario";
        var quant = Run(1,
            (LogTree.Scenario, Class("rdagent.scenarios.qlib.experiment.quant_experiment.QlibQuantScenario")));
        var model = Run(2, (LogTree.LoopSettings, PickleText.Of(p => p.Dict([("scen", S(ModelScen))]))));
        var custom = Run(3, (LogTree.Scenario, Class("my.pkg.CustomScenario")),
            (LogTree.LoopSettings, Class("my.pkg.LoopSettings")));
        var factor = Run(4, (LogTree.Scenario,
            Class("rdagent.scenarios.qlib.experiment.factor_experiment.QlibFactorScenario")));
        var broken = Run(5, (LogTree.Scenario, "not a pickle at all"u8.ToArray()));
        // A scenario pickle cut short and written just now: RD-Agent is writing it, which is no problem.
        var writing = Run(6);
        Write(Path.Combine(s.LogRoot, writing), LogTree.Scenario, Class("my.pkg.LateScenario")[..12],
            written: DateTime.UtcNow);

        var report = Discover(s);
        Assert.Equal("discover", report.Stage);
        Assert.Equal(
            [[quant, "QuantRDLoop", null, null], [model, "ModelRDLoop", $$"""{"scen":"{{ModelScen}}"}""", "model"],
             [custom, "CustomScenario", null, null], [factor, "FactorRDLoop", null, "factor"],
             [broken, null, null, null], [writing, null, null, null]],
            Db.Rows(s.RegistryPath, "SELECT t.task_run_id, t.scenario, t.params_json, l.action FROM task_runs t "
                + "JOIN loops l ON l.task_run_id = t.task_run_id ORDER BY t.task_run_id"));
        Assert.Contains($"added loop {quant}/0: failed, action unknown, 0 workspaces", report.Notes);
        var problem = Assert.Single(report.Problems);
        var brokenFile = Directory.GetFiles(Path.Combine(s.LogRoot, broken, LogTree.Scenario), "*.pkl",
            SearchOption.AllDirectories).Single();
        Assert.Equal(("discover", broken, brokenFile), (problem.Stage, problem.Item, problem.Path));
        Assert.StartsWith("log pickle is not a pickle RdBridge reads as data (", problem.Message);
        Assert.EndsWith("); the run's scenario is taken from its loops", problem.Message);
    }

    [Fact]
    public void A_cancelled_discovery_stops_before_a_run_folder_and_only_run_folders_are_counted_or_links_named()
    {
        using var dir = new TempDir();
        var s = LoopReaderTests.Settings(dir);
        // A run folder with its scenario and no loop yet, a folder that is no run, and a link to the run folder.
        var run = Path.Combine(s.LogRoot, "2025-07-01_08-00-00-000000");
        Write(run, LogTree.Scenario, PickleText.Of(p => p.Object("my.pkg.CustomScenario", [])));
        Directory.CreateDirectory(Path.Combine(s.LogRoot, "notes"));
        var link = Path.Combine(s.LogRoot, "latest");
        Directory.CreateSymbolicLink(link, run);

        var report = Discover(s);
        Assert.Equal(new Dictionary<string, long> { ["task runs"] = 1 }, LoopReaderTests.Counts(report));
        var problem = Assert.Single(report.Problems);
        Assert.Equal(("log", link, "not read: it is a symbolic link, which discovery never follows in a log; replace "
            + "it by the folder or file itself if it belongs to this run"), (problem.Item, problem.Path,
            problem.Message));

        var cancelled = new DiscoverStage(new RunContext(s) { Cancellation = new CancellationToken(true) });
        Assert.Equal("The operation was canceled.", Assert.Throws<OperationCanceledException>(cancelled.Run).Message);
    }

    [Fact]
    public void A_loop_being_written_is_counted_and_read_next_time_and_a_registry_is_not_touched_for_it()
    {
        using var dir = new TempDir();
        var s = LoopReaderTests.Settings(dir);
        // A registry in the fork's schema only: discovery's own table is made when it first remembers a loop.
        DiscoveredRegistry.Create(s.RegistryPath).Dispose();
        Db.Exec(s.RegistryPath, $"DROP TABLE IF EXISTS {RegistryDatabase.DiscoveryMemoryTable}");
        const string Run = "2025-07-01_08-00-00-000000";
        Write(Path.Combine(s.LogRoot, Run, "Loop_0", "feedback"), LogTree.Feedback, Feedback(true)[..10],
            written: DateTime.UtcNow);

        var report = Discover(s);
        Assert.Equal(new Dictionary<string, long>
        {
            ["task runs"] = 1, ["loops"] = 1, ["loop folders read"] = 1, ["loops being written (read next time)"] = 1,
        }, LoopReaderTests.Counts(report));
        Assert.Equal([$"{Run}/0: RD-Agent is writing its log right now; read on the next sync"], report.Notes);
        Assert.Empty(report.Problems);
        Assert.Equal([], Db.Rows(s.RegistryPath,
            $"SELECT name FROM sqlite_master WHERE name = '{RegistryDatabase.DiscoveryMemoryTable}'"));
    }

    [Fact]
    public void Each_workspace_is_registered_with_its_loop_s_outcome_success_failed_or_still_running()
    {
        using var dir = new TempDir();
        var s = LoopReaderTests.Settings(dir);
        var run = Path.Combine(s.LogRoot, "2025-07-01_08-00-00-000000");
        FinishedLoop(run, 0, "/remote/ws/ran");
        // Loop 1's coder wrote a workspace, but nothing ran: RD-Agent skipped to feedback, so the loop failed.
        Write(Path.Combine(run, "Loop_1", "coding"), LogTree.CoderResult, PickleText.Of(p => p.List(
            [Ws("/remote/ws/skipped")])));
        Write(Path.Combine(run, "Loop_1", "feedback"), LogTree.Feedback, Feedback(false), 1);
        // The last loop is coding: its coder named a workspace and there is no feedback yet.
        Write(Path.Combine(run, "Loop_2", "coding"), LogTree.CoderResult, PickleText.Of(p => p.List(
            [Ws("/remote/ws/coding")])));

        Discover(s);
        Assert.Equal([["ran", 0L, "success"], ["skipped", 1L, "failed"], ["coding", 2L, "running"]],
            Db.Rows(s.RegistryPath, "SELECT w.workspace_id, w.loop_id, w.status FROM workspaces w ORDER BY w.loop_id"));
    }

    [Fact]
    public void More_loops_than_one_batch_are_each_written_and_told_once()
    {
        using var dir = new TempDir();
        var s = LoopReaderTests.Settings(dir);
        var run = Path.Combine(s.LogRoot, "2025-07-01_08-00-00-000000");
        const int N = 33; // one more than a batch
        for (var i = 0; i < N; i++) FinishedLoop(run, i, $"/remote/ws/exp{i}");

        var report = Discover(s);
        Assert.Equal(new Dictionary<string, long>
        {
            ["task runs"] = 1, ["loops"] = N, ["loop folders read"] = N, ["registry created"] = 1,
            ["task runs added"] = 1, ["loops added"] = N, ["workspaces added"] = N,
            ["workspaces not on this machine"] = N, ["task runs finished"] = 1,
        }, LoopReaderTests.Counts(report));
        Assert.Equal(Enumerable.Range(0, N).Select(i => $"exp{i}").Order(StringComparer.Ordinal),
            Db.Rows(s.RegistryPath, "SELECT workspace_id FROM workspaces ORDER BY workspace_id")
                .Select(r => (string)r[0]!));
    }

    [Fact]
    public void Discovery_leaves_no_file_of_the_registry_open_whether_it_created_the_registry_or_found_it()
    {
        using var dir = new TempDir();
        var s = LoopReaderTests.Settings(dir);
        var run = Path.Combine(s.LogRoot, "2025-07-01_08-00-00-000000");
        FinishedLoop(run, 0, "/remote/ws/e0");

        // The first discovery creates the registry for loop 0; the second opens it and adds loop 1.
        Assert.Equal(1, LoopReaderTests.Counts(Discover(s))["loops added"]);
        Assert.Empty(SqliteStoreMutantTests.OpenFiles(s.RegistryPath));
        FinishedLoop(run, 1, "/remote/ws/e1");
        Assert.Equal(1, LoopReaderTests.Counts(Discover(s))["loops added"]);
        // Not one descriptor of this process links to the registry or its journal once the stage is done.
        Assert.Empty(SqliteStoreMutantTests.OpenFiles(s.RegistryPath));
    }

    [Fact]
    public void A_second_discovery_finds_task_runs_by_folder_or_name_and_tells_what_it_added_updated_or_left()
    {
        using var dir = new TempDir();
        var s = LoopReaderTests.Settings(dir);
        const string R = "2025-07-01_08-00-00-000000", R2 = "2025-07-02_08-00-00-000000";
        var run = Path.Combine(s.LogRoot, R);
        FinishedLoop(run, 0, "/remote/ws/e0", @"D:\ws\s0");
        FinishedLoop(run, 1, "/remote/ws/e1");
        FinishedLoop(run, 2, "/remote/ws/e2");
        Write(Path.Combine(s.LogRoot, R2, "Loop_0", "feedback"), LogTree.Feedback, Feedback(true));

        var first = Discover(s);
        var stored = (string)Db.Rows(s.RegistryPath, "SELECT workspace_path FROM workspaces WHERE workspace_id = 's0'")
            [0][0]!;
        var s0 = Assert.Single(first.Notes, n => n.StartsWith($"loop {R}/0: workspace s0 ", StringComparison.Ordinal));
        Assert.StartsWith($"loop {R}/0: workspace s0 is not on this machine ('{stored}' is a Windows path and no "
            + "pathMap entry covers it; ", s0);

        // The fork's registry names the task runs its own way: R by its folder (another task run has a folder of the
        // same name elsewhere), R2 only by its folder's name (stored under a path this machine does not have).
        // Loop 0 lost its experiment workspace, loop 1 is failed there, loop 2 still running; discovery forgot all.
        Db.Exec(s.RegistryPath, $"""
            UPDATE task_runs SET task_run_id = 'tr-1' WHERE task_run_id = '{R}';
            UPDATE loops SET task_run_id = 'tr-1' WHERE task_run_id = '{R}';
            UPDATE workspaces SET task_run_id = 'tr-1' WHERE task_run_id = '{R}';
            CREATE TEMP TABLE dup AS SELECT * FROM task_runs WHERE task_run_id = 'tr-1';
            UPDATE dup SET task_run_id = 'tr-2', log_trace_path = '/elsewhere/{R}';
            INSERT INTO task_runs SELECT * FROM dup;
            UPDATE task_runs SET task_run_id = 'tr-3', log_trace_path = '/remote/log/{R2}' WHERE task_run_id = '{R2}';
            UPDATE loops SET task_run_id = 'tr-3' WHERE task_run_id = '{R2}';
            DELETE FROM workspaces WHERE workspace_id = 'e0';
            UPDATE loops SET status = 'failed' WHERE loop_id = 1;
            UPDATE loops SET status = 'running' WHERE loop_id = 2;
            DELETE FROM {RegistryDatabase.DiscoveryMemoryTable};
            """);

        var report = Discover(s);
        Assert.Equal(new Dictionary<string, long>
        {
            ["task runs"] = 2, ["loops"] = 4, ["loop folders read"] = 4, ["loops updated"] = 1,
            ["workspaces added"] = 1, ["disagreements with the registry"] = 1,
            ["workspaces not on this machine"] = 4,
        }, LoopReaderTests.Counts(report));
        Assert.Equal(
            [
                "loop tr-1/0: 1 workspace added from the log",
                "loop tr-1/1: the registry says status 'failed', the log says 'success' — left as the registry "
                    + "has it",
                "loop tr-1/2: completed from the log (success, 0 workspaces added)",
            ],
            report.Notes.Where(n => !n.Contains(" is not on this machine (", StringComparison.Ordinal)));
        Assert.Equal([["tr-1"], ["tr-2"], ["tr-3"]],
            Db.Rows(s.RegistryPath, "SELECT task_run_id FROM task_runs ORDER BY task_run_id"));
        Assert.Equal(
            [["tr-1", 0L, "success"], ["tr-1", 1L, "failed"], ["tr-1", 2L, "success"], ["tr-3", 0L, "failed"]],
            Db.Rows(s.RegistryPath, "SELECT task_run_id, loop_id, status FROM loops ORDER BY task_run_id, loop_id"));
    }
}
