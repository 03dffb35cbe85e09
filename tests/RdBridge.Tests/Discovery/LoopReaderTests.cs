using System.Text;
using RdBridge.Discovery;
using RdBridge.Sample;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// <see cref="LoopReader"/> and <see cref="LoopTexts"/> called directly on one loop folder written here, pickle by
/// pickle (protocol 4, as CPython pickles a plain class: its module and name, NEWOBJ, BUILD with its
/// <c>__dict__</c>; an exception by REDUCE with its arguments), so a mutation run of Discovery can afford them for
/// every mutant: no CPython, no <c>discover</c>. Every expected value is one the test put in a pickle or a file name.
/// </summary>
public partial class LoopReaderTests
{
    private static readonly DateTime Now = new(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc);
    private static readonly DateTimeOffset T0 = new(2025, 7, 1, 8, 0, 0, TimeSpan.Zero);

    private const string Hyp = "rdagent.core.proposal.Hypothesis";
    private const string Feedback = "rdagent.core.proposal.HypothesisFeedback";
    private const string FactorExp = "rdagent.scenarios.qlib.experiment.factor_experiment.QlibFactorExperiment";
    private const string Workspace = "rdagent.core.experiment.FBWorkspace";
    private const string FactorTask = "rdagent.components.coder.factor_coder.factor.FactorTask";
    private const string ModelTask = "rdagent.components.coder.model_coder.model.ModelTask";

    /// <summary>A folder to put loop folders in: a test's own temporary folder, or a run folder inside it.</summary>
    internal sealed class TempDirAt(string path)
    {
        public string this[string relative] => System.IO.Path.Combine(path, relative);
    }

    internal sealed class Loop(TempDirAt dir, long id = 3)
    {
        public Loop(TempDir dir, long id = 3) : this(new TempDirAt(dir.Path), id) { }

        public string Path { get; } = dir[$"Loop_{id}"];
        public LoopFolder Folder => new(id, Path);
        public List<LogFile> Files { get; } = [];
        private int _n;

        /// <summary>Writes a pickle at <c>Loop_N/step/tag/pid/time.pkl</c>, named by a later time each call.</summary>
        public void Add(string step, string tag, byte[] pickle, int? evolvingStep = null)
        {
            var folder = evolvingStep is { } k
                ? System.IO.Path.Combine(Path, step, $"evo_loop_{k}", tag, "4242")
                : System.IO.Path.Combine(Path, step, tag, "4242");
            Directory.CreateDirectory(folder);
            var file = System.IO.Path.Combine(folder, $"{T0.AddMinutes(_n++):yyyy-MM-dd_HH-mm-ss}-000000.pkl");
            File.WriteAllBytes(file, pickle);
            File.SetLastWriteTimeUtc(file, Now.AddHours(-1));
            Files.Add(new LogFile(step, tag, file, pickle.Length, Now.AddHours(-1)) { EvolvingStep = evolvingStep });
        }

        public LoopReading Read(string? scenarioAction = null, bool laterLoopExists = false) =>
            LoopReader.Read(Folder, Files, scenarioAction, laterLoopExists, Now);
    }

    private static Action<PickleText> S(string s) => p => p.Str(s);

    private static byte[] Hypothesis(string text, string? action) => PickleText.Of(p => p.Object(Hyp,
    [
        ("hypothesis", S(text)), ("reason", S("because trends persist")), ("concise_reason", S("cr")),
        ("concise_observation", S("co")), ("concise_justification", S("cj")), ("concise_knowledge", S("ck")),
        ("action", action is null ? q => q.None() : S(action)),
    ]));

    private static Action<PickleText> Ws(string path) =>
        p => p.Object(Workspace, [("workspace_path", q => q.PosixPath(path))]);

    private static Action<PickleText> Task(string name, string formulation) => p => p.Object(FactorTask,
        [("factor_name", S(name)), ("description", S($"{name} described")), ("factor_formulation", S(formulation))]);

    private static byte[] Experiment(string? experimentPath, params string[] subPaths) => PickleText.Of(p =>
        p.Object(FactorExp,
        [
            ("experiment_workspace", experimentPath is null ? q => q.None() : Ws(experimentPath)),
            ("sub_workspace_list", q => q.List(subPaths.Select(Ws))),
            ("sub_tasks", q => q.List([Task("Mom5", "r_5"), Task("Vol20", "std_20")])),
        ]));

    private static byte[] Times(DateTimeOffset start, DateTimeOffset end) => PickleText.Of(p => p.Dict(
        [("start_time", q => q.Time(start)), ("end_time", q => q.Time(end))]));

    /// <summary><c>builtins.RuntimeError(message)</c>: the class by STACK_GLOBAL, its arguments by REDUCE.</summary>
    private static Action<PickleText> Error(string message) => p => p.Raw(
    [
        0x80, 4, 0x8c, 8, .. "builtins"u8, 0x8c, 12, .. "RuntimeError"u8, 0x93, (byte)'(',
        0x8c, (byte)Encoding.UTF8.GetByteCount(message), .. Encoding.UTF8.GetBytes(message), (byte)'t', (byte)'R',
        (byte)'.',
    ]);

    private static byte[] FeedbackOf(bool decision, string? reason = null, Action<PickleText>? exception = null) =>
        PickleText.Of(p => p.Object(Feedback,
        [
            ("decision", q => q.Bool(decision)), ("reason", reason is null ? q => q.None() : S(reason)),
            ("observations", S("obs")), ("hypothesis_evaluation", S("eval")), ("new_hypothesis", S("next")),
            ("code_change_summary", S("changed")), ("exception", exception ?? (q => q.None())),
        ]));

    [Fact]
    public void A_loop_with_a_runner_result_and_feedback_succeeded_with_its_workspaces_times_and_decision()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        loop.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("momentum persists", "factor"));
        loop.Add("direct_exp_gen", LogTree.TimeInfo, Times(T0, T0.AddMinutes(5)));
        loop.Add("coding", LogTree.CoderResult, Experiment("/ws/exp1", "/ws/sub_a", "/ws/sub_b/"));
        loop.Add("coding", LogTree.TimeInfo, Times(T0.AddMinutes(5), T0.AddMinutes(30)));
        loop.Add("running", LogTree.RunnerResult, Experiment("/ws/exp1", "/ws/sub_a", "/ws/sub_b/"));
        loop.Add("feedback", LogTree.Feedback, FeedbackOf(true, "ic improved"));
        loop.Add("feedback", LogTree.TimeInfo, Times(T0.AddMinutes(40), T0.AddMinutes(41)));

        var reading = loop.Read("model");
        Assert.True(reading.Usable);
        Assert.Empty(reading.Broken);
        var l = reading.Loop!;
        // The logged action wins over the scenario's.
        Assert.Equal((3L, "success", "factor", "momentum persists", (bool?)true, (string?)null, (string?)null),
            (l.LoopId, l.Status, l.Action, l.Hypothesis, l.Decision, l.ErrorType, l.ErrorMessage));
        Assert.Equal((T0, T0.AddMinutes(41)), (l.Started!.Value, l.Ended!.Value));
        Assert.Equal("feedback", l.Step);
        Assert.True(l.IsFinished);
        Assert.Equal(
            [("exp1", "/ws/exp1", "experiment_workspace", "running"), ("sub_a", "/ws/sub_a", "sub_workspace", "coding"),
             ("sub_b", "/ws/sub_b", "sub_workspace", "coding")],
            l.Workspaces.Select(w => (w.WorkspaceId, w.StoredPath, w.Role, w.StepName)));

        // The texts of the same pickles.
        var problems = new List<string>();
        var texts = LoopTexts.Read(loop.Files, Now, problems);
        Assert.Empty(problems);
        Assert.Equal(new LoggedHypothesis("momentum persists", "because trends persist", "cr", "co", "cj", "ck",
            "factor"), texts.Hypothesis);
        Assert.Equal(new LoggedFeedback(true, "ic improved", "obs", "eval", "next", "changed", null), texts.Feedback);
        Assert.Equal([("factor", "Mom5", "Mom5 described", "r_5", "sub_a"), ("factor", "Vol20", "Vol20 described",
                "std_20", "sub_b")],
            texts.Tasks.Select(t => (t.Kind, t.Name, t.Description, t.Formulation, t.WorkspaceId)));
        Assert.Equal(texts.Tasks[1], texts.TaskFor("sub_b", "Mom5", "factor"));
        Assert.Equal(texts.Tasks[0], texts.TaskFor("elsewhere", "Mom5", "factor"));
        Assert.Null(texts.TaskFor("sub_a", "Mom5", "model"));
        var research = texts.Research();
        Assert.Equal(("because trends persist", "cr", "co", "cj", "ck", "factor"),
            (research.HypothesisReason, research.ConciseReason, research.ConciseObservation,
             research.ConciseJustification, research.ConciseKnowledge, research.HypothesisAction));
        Assert.Equal(("obs", "eval", "ic improved", "next", "changed", (string?)null),
            (research.Observations, research.HypothesisEvaluation, research.DecisionReason, research.NewHypothesis,
             research.CodeChangeSummary, research.Exception));
    }

    [Fact]
    public void A_loop_rd_agent_skipped_to_feedback_failed_with_the_exception_in_the_step_before_feedback()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        loop.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("volume matters", null));
        loop.Add("direct_exp_gen", LogTree.Tasks, PickleText.Of(p => p.List([Task("Vol20", "std_20")])));
        loop.Add("coding", LogTree.TimeInfo, Times(T0.AddMinutes(2), T0.AddMinutes(9)));
        loop.Add("feedback", LogTree.Feedback, FeedbackOf(false, null, Error("factor value is empty")));
        loop.Add("record", LogTree.TimeInfo, Times(T0.AddMinutes(9), T0.AddMinutes(10)));

        var l = loop.Read().Loop!;
        // No logged action and no scenario's: the tasks' class tells it.
        Assert.Equal(("failed", "factor", (bool?)false, "RuntimeError", "RuntimeError: factor value is empty"),
            (l.Status, l.Action, l.Decision, l.ErrorType, l.ErrorMessage));
        Assert.Equal("coding", l.Step);
        Assert.Equal((T0.AddMinutes(2), T0.AddMinutes(10)), (l.Started!.Value, l.Ended!.Value));
        Assert.Empty(l.Workspaces);
        var texts = LoopTexts.Read(loop.Files, Now, []);
        Assert.Equal("RuntimeError: factor value is empty", texts.Feedback!.Exception);
        Assert.Equal([("Vol20", null)], texts.Tasks.Select(t => (t.Name, t.WorkspaceId)));

        // With a reason, the reason is the message; an exception that is only text is that text.
        var reasoned = new Loop(dir, 4);
        reasoned.Add("feedback", LogTree.Feedback, FeedbackOf(false, "coder failed", S("plain words")));
        var r = reasoned.Read("factor").Loop!;
        Assert.Equal(("failed", "skipped", "coder failed"), (r.Status, r.ErrorType, r.ErrorMessage));
        Assert.Equal("plain words", LoopTexts.Read(reasoned.Files, Now, []).Feedback!.Exception);
        // No time_info at all: the pickle names give the times.
        Assert.Equal((T0, T0), (r.Started!.Value, r.Ended!.Value));
    }

    [Fact]
    public void A_loop_without_feedback_is_running_unless_a_later_loop_exists_and_then_failed_in_its_last_step()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        loop.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("h", "model"));
        loop.Add("direct_exp_gen", LogTree.TimeInfo, Times(T0, T0.AddMinutes(1)));
        loop.Add("coding", LogTree.CoderResult, Experiment("/ws/exp2", "/ws/sub_c"));
        loop.Add("coding", LogTree.TimeInfo, Times(T0.AddMinutes(1), T0.AddMinutes(7)));
        Directory.CreateDirectory(Path.Combine(loop.Path, "running"));

        var running = loop.Read().Loop!;
        Assert.Equal(("running", "model", (bool?)null, (string?)null), (running.Status, running.Action,
            running.Decision, running.ErrorType));
        Assert.False(running.IsFinished);
        // A running loop has no end; its step is the furthest folder, even before that step logged a pickle.
        Assert.Equal((T0, (DateTimeOffset?)null, "running"), (running.Started!.Value, running.Ended, running.Step));
        Assert.Equal([("exp2", "experiment_workspace", "coding"), ("sub_c", "sub_workspace", "coding")],
            running.Workspaces.Select(w => (w.WorkspaceId, w.Role, w.StepName)));

        var failed = loop.Read(laterLoopExists: true).Loop!;
        Assert.Equal(("failed", "no feedback", T0.AddMinutes(7)), (failed.Status, failed.ErrorType, failed.Ended));
        Assert.Equal("the log of this loop ends in step 'coding' without feedback, and RD-Agent went on to the next "
            + "loop", failed.ErrorMessage);
    }

    [Fact]
    public void A_coder_result_that_is_a_list_of_workspaces_gives_sub_workspaces_each_named_once()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        loop.Add("coding", LogTree.CoderResult, PickleText.Of(p => p.List(
            [Ws("/ws/a"), Ws("/ws/a/"), Ws("C:\\ws\\b"), Ws("/")])));
        var l = loop.Read("factor").Loop!;
        Assert.Equal([("a", "/ws/a", "sub_workspace", "coding"), ("b", "C:\\ws\\b", "sub_workspace", "coding")],
            l.Workspaces.Select(w => (w.WorkspaceId, w.StoredPath, w.Role, w.StepName)));
        Assert.Equal("running", l.Status);
        Assert.Equal("coding", l.Step);
    }

    [Fact]
    public void Loop_zero_also_names_the_baseline_experiment_without_sub_tasks_and_later_loops_do_not()
    {
        using var dir = new TempDir();
        byte[] WithBaseline() => PickleText.Of(p => p.Object(FactorExp,
        [
            ("experiment_workspace", Ws("/ws/exp0")),
            ("sub_workspace_list", q => q.List([Ws("/ws/sub0")])),
            ("based_experiments", q => q.List(
            [
                r => r.Object(FactorExp, [("experiment_workspace", Ws("/ws/alpha20")),
                    ("sub_tasks", s => s.List([]))]),
                r => r.Object(FactorExp, [("experiment_workspace", Ws("/ws/earlier")),
                    ("sub_tasks", s => s.List([Task("X", "x")]))]),
            ])),
        ]));
        var zero = new Loop(dir, 0);
        zero.Add("running", LogTree.RunnerResult, WithBaseline());
        zero.Add("feedback", LogTree.Feedback, FeedbackOf(true));
        Assert.Equal([("exp0", "experiment_workspace", "running"), ("sub0", "sub_workspace", "coding"),
                ("alpha20", "baseline_workspace", "running")],
            zero.Read("factor").Loop!.Workspaces.Select(w => (w.WorkspaceId, w.Role, w.StepName)));
        var one = new Loop(dir, 1);
        one.Add("running", LogTree.RunnerResult, WithBaseline());
        one.Add("feedback", LogTree.Feedback, FeedbackOf(true));
        Assert.Equal(["exp0", "sub0"], one.Read("factor").Loop!.Workspaces.Select(w => w.WorkspaceId));
    }

    [Fact]
    public void A_pickle_that_holds_the_wrong_thing_for_its_tag_is_named_and_the_loop_is_not_read()
    {
        using var dir = new TempDir();
        var dict = PickleText.Of(p => p.Dict([("a", q => q.Int(1))]));
        (string Tag, string Expected)[] cases =
        [
            (LogTree.Hypothesis, "a Hypothesis"), (LogTree.Tasks, "a task list"),
            (LogTree.CoderResult, "the coded workspaces or experiment"), (LogTree.RunnerResult, "an experiment"),
            (LogTree.Feedback, "a HypothesisFeedback"), (LogTree.TimeInfo, "a {start_time, end_time} dict"),
        ];
        var n = 10;
        foreach (var (tag, expected) in cases)
        {
            var loop = new Loop(dir, n++);
            loop.Add("coding", tag, dict);
            var reading = loop.Read("factor");
            Assert.Null(reading.Loop);
            Assert.False(reading.Usable);
            var broken = Assert.Single(reading.Broken);
            Assert.Equal((loop.Files[0].Path, $"holds a dict of 1 entry, not {expected}"),
                (broken.Path, broken.Message));
        }

        // A cut pickle written an hour ago is broken; one written just now is still being written.
        var cut = new Loop(dir, 20);
        cut.Add("feedback", LogTree.Feedback, FeedbackOf(true)[..20]);
        var r = cut.Read("factor");
        Assert.Null(r.Loop);
        Assert.False(r.BeingWritten);
        Assert.StartsWith("is truncated", Assert.Single(r.Broken).Message);
        File.SetLastWriteTimeUtc(cut.Files[0].Path, Now);
        r = cut.Read("factor");
        Assert.Equal((null, true, 0), (r.Loop, r.BeingWritten, r.Broken.Count));
        Assert.False(r.Usable);
        var problems = new List<string>();
        Assert.Null(LoopTexts.Read(cut.Files, Now.AddHours(1), problems).Feedback);
        Assert.Equal([$"the log pickle '{cut.Files[0].Path}' is truncated; RD-Agent stopped while writing it "],
            problems.Select(p => p[..p.IndexOf('(')]));
    }

    [Fact]
    public void The_coder_s_last_evolving_feedback_is_each_task_s_coder_feedback_with_the_steps_counted()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        Action<PickleText> Fb(string code, bool ok) => p => p.Object("rdagent.components.coder.CoSTEER.evaluators."
            + "CoSTEERSingleFeedback", [("execution", S("ran")), ("code", S(code)), ("final_decision", q => q.Bool(ok)),
            ("return_checking", S("rc")), ("value_feedback", S("vf")), ("shape_feedback", S("sf")),
            ("final_feedback", S("ff"))]);
        byte[] Multi(params Action<PickleText>[] items) => PickleText.Of(p => p.Object(
            "rdagent.components.coder.CoSTEER.evaluators.CoSTEERMultiFeedback",
            [("feedback_list", q => q.List(items))]));
        loop.Add("coding", LogTree.EvolvingFeedback, Multi(Fb("first try", false), Fb("first try", false)), 0);
        loop.Add("coding", LogTree.EvolvingFeedback, Multi(Fb("second try", true), q => q.None()), 1);
        loop.Add("coding", LogTree.CoderResult, Experiment("/ws/e", "/ws/s1", "/ws/s2"));

        var texts = LoopTexts.Read(loop.Files, Now, []);
        Assert.Equal(2, texts.Tasks.Count);
        var coder = texts.Tasks[0].Coder!;
        Assert.Equal((2, (bool?)true, "ran", "rc", "vf", "sf", "second try", "ff"),
            (coder.EvolvingSteps, coder.FinalDecision, coder.Execution, coder.ReturnChecking, coder.ValueFeedback,
             coder.ShapeFeedback, coder.Code, coder.FinalFeedback));
        Assert.Null(texts.Tasks[1].Coder);
        // The evolving pickles say nothing of where the loop is.
        Assert.Equal("running", loop.Read("factor").Loop!.Status);
    }

    [Fact]
    public void The_texts_of_a_loop_are_found_through_the_path_map_and_a_missing_log_has_none()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir, 2);
        loop.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("from the log", "factor"));
        var map = new RdBridge.Configuration.PathMap([new("/remote/log", dir.Path)], dir.Path);
        var problems = new List<string>();
        Assert.Equal("from the log", LoopTexts.OfLoop("/remote/log", 2, map, problems)!.Hypothesis!.Text);
        Assert.Same(LoopTexts.Empty, LoopTexts.OfLoop("/remote/log", 5, map, problems));
        Assert.Same(LoopTexts.Empty, LoopTexts.OfLoop("/remote/elsewhere", 2, map, problems));
        Assert.Same(LoopTexts.Empty, LoopTexts.OfLoop(null, 2, map, problems));
        Assert.Empty(problems);
    }

    [Fact]
    public void A_model_task_is_read_with_its_architecture_hyperparameters_and_model_type()
    {
        var model = PickleText.Of(p => p.List([q => q.Object(ModelTask,
        [
            ("name", S("GRU")), ("description", S("a GRU")), ("formulation", S("h_t")), ("architecture", S("2 layers")),
            ("hyperparameters", r => r.Dict([("lr", s => s.Int(3))])),
            ("training_hyperparameters", r => r.Dict([("epochs", s => s.Int(5))])), ("model_type", S("TimeSeries")),
        ])]));
        using var dir = new TempDir();
        var loop = new Loop(dir);
        loop.Add("direct_exp_gen", LogTree.Tasks, model);
        var task = Assert.Single(LoopTexts.Read(loop.Files, Now, []).Tasks);
        Assert.Equal(("model", "GRU", "a GRU", "h_t", "2 layers", "TimeSeries"),
            (task.Kind, task.Name, task.Description, task.Formulation, task.Architecture, task.ModelType));
        Assert.Equal(("{\"lr\":3}", "{\"epochs\":5}"),
            (task.Hyperparameters!.ToJsonString(), task.TrainingHyperparameters!.ToJsonString()));
        Assert.Equal("model", loop.Read().Loop!.Action);
    }

    internal static RdBridge.Configuration.RdBridgeSettings Settings(TempDir dir) => new()
    {
        ConfigPath = "", RdAgentRoot = dir["rd"], RegistryPath = dir["rd/registry.sqlite"], LogRoot = dir["rd/log"],
        WorkspaceRoot = dir["rd/ws"], PathMap = new RdBridge.Configuration.PathMap([], dir.Path),
        BundleDirectory = dir["bundles"], CatalogDirectory = dir["catalogs"], StrategiesLibRoot = dir["lib"],
        BackupDirectory = dir["backup"], AistockRoot = dir["aistock"], AistockDatabase = dir["aistock/aistock.db"],
        AistockCatalogDirectory = dir["aistock/catalogs"], AssetCacheDirectory = dir["aistock/cache"],
    };

    internal static Dictionary<string, long> Counts(RdBridge.Runs.StageReport report) =>
        report.Counts.ToDictionary(c => c.Key.Name, c => c.Value);

    [Fact]
    public void Discover_creates_the_registry_from_a_log_and_reads_again_only_the_loops_that_changed()
    {
        using var dir = new TempDir();
        var s = Settings(dir);
        const string Run = "2025-07-01_08-00-00-000000";
        var runFolder = Path.Combine(s.LogRoot, Run);
        Directory.CreateDirectory(Path.Combine(runFolder, "scenario", "4242"));
        File.WriteAllBytes(Path.Combine(runFolder, "scenario", "4242", "2025-07-01_08-00-00-000000.pkl"),
            PickleText.Of(p => p.Object("rdagent.scenarios.qlib.experiment.factor_experiment.QlibFactorScenario", [])));
        // Loop 0 is finished, its experiment workspace on this machine; loop 1 is still coding.
        var ws = dir["rd/ws/exp0"];
        Directory.CreateDirectory(ws);
        var zero = new Loop(new TempDirAt(runFolder), 0);
        zero.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("momentum persists", null));
        zero.Add("direct_exp_gen", LogTree.TimeInfo, Times(T0, T0.AddMinutes(5)));
        zero.Add("running", LogTree.RunnerResult, Experiment(ws, "/remote/sub0"));
        zero.Add("feedback", LogTree.Feedback, FeedbackOf(true, "better"));
        zero.Add("feedback", LogTree.TimeInfo, Times(T0.AddMinutes(30), T0.AddMinutes(31)));
        var one = new Loop(new TempDirAt(runFolder), 1);
        one.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("volume matters", null));
        one.Add("direct_exp_gen", LogTree.TimeInfo, Times(T0.AddMinutes(32), T0.AddMinutes(33)));

        var report = new DiscoverStage(new RdBridge.Runs.RunContext(s)).Run();
        Assert.Empty(report.Problems);
        Assert.Equal(new Dictionary<string, long>
        {
            ["task runs"] = 1, ["loops"] = 2, ["loop folders read"] = 2, ["registry created"] = 1,
            ["task runs added"] = 1, ["loops added"] = 2, ["workspaces added"] = 2,
            ["workspaces not on this machine"] = 1,
        }, Counts(report));
        Assert.Equal([[Run, "FactorRDLoop", "running", "2025-07-01T08:00:00Z", Path.GetFullPath(runFolder)]],
            Db.Rows(s.RegistryPath, "SELECT task_run_id, scenario, status, created_at_utc, log_trace_path "
                + "FROM task_runs"));
        Assert.Equal(
            [[0L, "factor", "success", "2025-07-01T08:00:00Z", "2025-07-01T08:31:00Z", null],
             [1L, "factor", "running", "2025-07-01T08:32:00Z", null, null]],
            Db.Rows(s.RegistryPath, "SELECT loop_id, action, status, started_at_utc, ended_at_utc, error_type "
                + "FROM loops ORDER BY loop_id"));
        Assert.Equal([["exp0", 0L, "experiment_workspace", "factor", "running", "success", ws],
                ["sub0", 0L, "sub_workspace", "factor", "coding", "success", "/remote/sub0"]],
            Db.Rows(s.RegistryPath, "SELECT workspace_id, loop_id, workspace_role, experiment_type, step_name, "
                + "status, workspace_path FROM workspaces ORDER BY workspace_id"));
        Assert.Contains($"added loop {Run}/0: success, factor, 2 workspaces", report.Notes);
        Assert.Contains($"loop {Run}/0: workspace sub0 is not on this machine ('/remote/sub0' does not exist)",
            report.Notes);

        // Nothing changed: loop 0 is settled and not read again; loop 1 is still running.
        report = new DiscoverStage(new RdBridge.Runs.RunContext(s)).Run();
        Assert.Equal(new Dictionary<string, long>
        {
            ["task runs"] = 1, ["loops"] = 2, ["loops unchanged"] = 1, ["loops still running"] = 1,
        }, Counts(report));

        // A folder that holds nothing discovery reads (LLM traffic) changes loop 0's folder: still unchanged, and the
        // new folder stamp is remembered, so the next run skips the loop without listing its files.
        const string Stamp = "SELECT folder_stamp FROM rdbridge_discovery WHERE loop_id = 0";
        // The stamp as the file system gives it: the loop folder's modification time, then each step folder's by
        // name (.NET ticks, UTC).
        string FromDisk() => string.Join(";", new[]
        {
            Directory.GetLastWriteTimeUtc(zero.Path).Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }.Concat(Directory.GetDirectories(zero.Path).Order(StringComparer.Ordinal).Select(d =>
            $"{Path.GetFileName(d)}={Directory.GetLastWriteTimeUtc(d).Ticks}")));
        var stamp = Db.Rows(s.RegistryPath, Stamp)[0][0];
        Assert.Equal(FromDisk(), stamp);
        Directory.CreateDirectory(Path.Combine(zero.Path, "llm"));
        report = new DiscoverStage(new RdBridge.Runs.RunContext(s)).Run();
        Assert.Equal(new Dictionary<string, long>
        {
            ["task runs"] = 1, ["loops"] = 2, ["loops unchanged"] = 1, ["loops still running"] = 1,
        }, Counts(report));
        Assert.Equal(FromDisk(), Db.Rows(s.RegistryPath, Stamp)[0][0]);
        Assert.Contains(";llm=", (string)Db.Rows(s.RegistryPath, Stamp)[0][0]!); // the new folder is in it

        // Loop 1 gets its feedback: read again, completed, and the task run with it.
        one.Add("feedback", LogTree.Feedback, FeedbackOf(false, "no gain"));
        report = new DiscoverStage(new RdBridge.Runs.RunContext(s)).Run();
        Assert.Equal(new Dictionary<string, long>
        {
            ["task runs"] = 1, ["loops"] = 2, ["loops unchanged"] = 1, ["loop folders read"] = 1,
            ["loops updated"] = 1, ["workspaces added"] = 0, ["task runs finished"] = 1,
        }, Counts(report));
        Assert.Equal([["failed", "skipped", "no gain"]], Db.Rows(s.RegistryPath,
            "SELECT status, error_type, error_message FROM loops WHERE loop_id = 1"));
        Assert.Equal("success", (string)Db.Rows(s.RegistryPath, "SELECT status FROM task_runs")[0][0]!);
    }

    [Fact]
    public void Discover_without_a_log_folder_notes_it_and_creates_nothing()
    {
        using var dir = new TempDir();
        var s = Settings(dir);
        var report = new DiscoverStage(new RdBridge.Runs.RunContext(s)).Run();
        Assert.Equal([$"no RD-Agent log at '{s.LogRoot}' (rdagent.logRoot); the registry is used as it is"],
            report.Notes);
        Assert.Empty(report.Counts);
        Assert.False(File.Exists(s.RegistryPath));
    }
}
