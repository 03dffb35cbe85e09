using RdBridge.Discovery;
using RdBridge.Sample;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// <see cref="LoopReader"/>'s choices that the whole-folder mutation run of Discovery left untested (issue 24,
/// bench/mutation-survivors.md, "LoopReader.cs: gone through"): which step a loop reached, the action when the log
/// names none, what counts as an experiment, and loops with no pickle or no time to tell. Part of
/// <see cref="LoopReaderTests"/> (its pickle writers), so the Discovery plan of bench/mutation.sh runs it. Every
/// expected value is a folder, a class or a path the test wrote.
/// </summary>
public partial class LoopReaderTests
{
    private const string ModelExp = "rdagent.scenarios.qlib.experiment.model_experiment.QlibModelExperiment";

    private static Action<PickleText> ModelTaskOf(string name) => p => p.Object(ModelTask,
        [("name", S(name)), ("description", S($"{name} described")), ("formulation", S("h_t"))]);

    [Fact]
    public void Without_a_logged_action_the_scenario_s_comes_first_then_the_tasks_classes_then_the_experiment_s()
    {
        using var dir = new TempDir();
        // Factor tasks in a run whose scenario is fin_model: the scenario's action.
        var scenario = new Loop(dir, 1);
        scenario.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("h", null));
        scenario.Add("direct_exp_gen", LogTree.Tasks, PickleText.Of(p => p.List([Task("Mom5", "r_5")])));
        Assert.Equal(("model", "factor"), (scenario.Read("model").Loop!.Action, scenario.Read().Loop!.Action));

        // Model tasks coded into an experiment of a factor class: the tasks' class.
        var tasksFirst = new Loop(dir, 2);
        tasksFirst.Add("direct_exp_gen", LogTree.Tasks, PickleText.Of(p => p.List([ModelTaskOf("GRU")])));
        tasksFirst.Add("coding", LogTree.CoderResult, Experiment("/ws/e2", "/ws/s2"));
        Assert.Equal("model", tasksFirst.Read().Loop!.Action);

        // No tasks logged: the experiment's own class.
        var experimentOnly = new Loop(dir, 3);
        experimentOnly.Add("coding", LogTree.CoderResult, Experiment("/ws/e3", "/ws/s3"));
        Assert.Equal("factor", experimentOnly.Read().Loop!.Action);

        // Items of the task list that are no object (None, a dict) tell nothing; the model task after them does.
        var mixed = new Loop(dir, 4);
        mixed.Add("direct_exp_gen", LogTree.Tasks, PickleText.Of(p => p.List(
            [q => q.None(), q => q.Dict([("name", S("x"))]), ModelTaskOf("LSTM")])));
        Assert.Equal("model", mixed.Read().Loop!.Action);

        // A task class that names neither a model nor a factor (data science's pipeline task) gives no action.
        var neither = new Loop(dir, 5);
        neither.Add("direct_exp_gen", LogTree.Tasks, PickleText.Of(p => p.List([q => q.Object(
            "rdagent.scenarios.data_science.proposal.exp_gen.proposal.PipelineTask", [("name", S("pipeline"))])])));
        Assert.Null(neither.Read().Loop!.Action);
    }

    [Fact]
    public void A_loop_s_step_is_the_furthest_step_folder_it_logged_in_from_v0_3_s_propose_to_record()
    {
        using var dir = new TempDir();
        var hypothesis = Hypothesis("h", "factor");
        var tasks = PickleText.Of(p => p.List([Task("Mom5", "r_5")]));
        string? StepOf(long id, params (string Step, string Tag, byte[] Pickle)[] pickles)
        {
            var loop = new Loop(dir, id);
            foreach (var (step, tag, pickle) in pickles) loop.Add(step, tag, pickle);
            return loop.Read().Loop!.Step;
        }

        // v0.3's first two steps.
        Assert.Equal("propose", StepOf(1, ("propose", LogTree.Hypothesis, hypothesis)));
        Assert.Equal("exp_gen",
            StepOf(2, ("propose", LogTree.Hypothesis, hypothesis), ("exp_gen", LogTree.Tasks, tasks)));
        // Today's: both pickles in direct_exp_gen, whose tags are those of propose and exp_gen.
        Assert.Equal("direct_exp_gen", StepOf(3, ("direct_exp_gen", LogTree.Hypothesis, hypothesis),
            ("direct_exp_gen", LogTree.Tasks, tasks)));
        // A finished loop whose record step logged its time.
        Assert.Equal("record", StepOf(4, ("running", LogTree.RunnerResult, Experiment("/ws/e4")),
            ("feedback", LogTree.Feedback, FeedbackOf(true)), ("record", LogTree.TimeInfo, Times(T0, T0))));
        // A pickle counts for the step folder it is in, not for the step its tag is logged in elsewhere.
        Assert.Equal("coding", StepOf(5, ("direct_exp_gen", LogTree.Hypothesis, hypothesis),
            ("coding", LogTree.RunnerResult, Experiment("/ws/e5"))));
    }

    /// <summary>A pickle of a v0.3 flat log: <c>run/segment/tag/pid/time.pkl</c>, written an hour ago.</summary>
    private static void FlatPickle(string run, string segment, string tag, int minute, byte[] pickle)
    {
        var folder = Path.Combine(run, segment, tag, "11");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, $"{T0.AddMinutes(minute):yyyy-MM-dd_HH-mm-ss}-000000.pkl");
        File.WriteAllBytes(file, pickle);
        File.SetLastWriteTimeUtc(file, Now.AddHours(-1));
    }

    [Fact]
    public void A_flat_log_s_loop_reaches_the_step_of_its_last_tag_whatever_folders_the_run_holds_beside()
    {
        using var dir = new TempDir();
        var run = dir["flat"];
        // Five loops, each one tag further than the one before: r/ holds hypotheses, d/ the rest, ef/ feedback.
        var minute = 0;
        for (var n = 0; n < 5; n++)
        {
            FlatPickle(run, "r", LogTree.Hypothesis, minute++, Hypothesis($"h{n}", null));
            if (n >= 1) FlatPickle(run, "d", LogTree.Tasks, minute++, PickleText.Of(p => p.List([Task("M", "m")])));
            if (n >= 2) FlatPickle(run, "d", LogTree.CoderResult, minute++, Experiment($"/ws/e{n}", $"/ws/s{n}"));
            if (n >= 3) FlatPickle(run, "d", LogTree.RunnerResult, minute++, Experiment($"/ws/e{n}", $"/ws/s{n}"));
            if (n >= 4) FlatPickle(run, "ef", LogTree.Feedback, minute++, FeedbackOf(true));
        }
        // A folder of the run named like a step is no step of any loop: a flat loop is its own pickles.
        Directory.CreateDirectory(Path.Combine(run, "running"));

        var loops = LogTree.Loops(run);
        var read = loops.Select(l => LoopReader.Read(l, l.Files(), "factor", l.LoopId < 4, Now).Loop!).ToList();
        Assert.Equal(
            [(0L, "failed", "propose"), (1L, "failed", "exp_gen"), (2L, "failed", "coding"), (3L, "failed", "running"),
             (4L, "success", "feedback")],
            read.Select(l => (l.LoopId, l.Status, l.Step)));
    }

    [Fact]
    public void A_loop_folder_without_pickles_has_no_times_and_no_step_and_if_followed_ended_in_none()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir, 7);
        Directory.CreateDirectory(Path.Combine(loop.Path, "debug_llm"));   // LLM traffic only: no step of a loop

        var running = loop.Read().Loop!;
        Assert.Equal(("running", (DateTimeOffset?)null, (DateTimeOffset?)null, (string?)null, (string?)null),
            (running.Status, running.Started, running.Ended, running.Step, running.Action));
        var failed = loop.Read(laterLoopExists: true).Loop!;
        Assert.Equal(("failed", "no feedback", (DateTimeOffset?)null, (DateTimeOffset?)null, (string?)null),
            (failed.Status, failed.ErrorType, failed.Started, failed.Ended, failed.Step));
        Assert.Equal("the log of this loop ends in step 'none' without feedback, and RD-Agent went on to the next "
            + "loop", failed.ErrorMessage);
        Assert.Empty(failed.Workspaces);
    }

    [Fact]
    public void A_loop_without_feedback_ends_in_the_furthest_step_that_logged_its_time_or_else_logged_a_pickle()
    {
        using var dir = new TempDir();
        string Message(Loop loop) => LoopReader.Read(loop.Folder, loop.Folder.Files(), "factor", true, Now).Loop!
            .ErrorMessage!;
        const string Went = " without feedback, and RD-Agent went on to the next loop";

        // direct_exp_gen and coding logged their times; running logged its result but not its time (it never
        // finished). Discovery lists step folders by name, so coding's time comes before direct_exp_gen's.
        var timed = new Loop(dir, 1);
        timed.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("h", "factor"));
        timed.Add("direct_exp_gen", LogTree.TimeInfo, Times(T0, T0.AddMinutes(1)));
        timed.Add("coding", LogTree.CoderResult, Experiment("/ws/e1", "/ws/s1"));
        timed.Add("coding", LogTree.TimeInfo, Times(T0.AddMinutes(1), T0.AddMinutes(2)));
        timed.Add("running", LogTree.RunnerResult, Experiment("/ws/e1", "/ws/s1"));
        Assert.Equal("the log of this loop ends in step 'coding'" + Went, Message(timed));
        Assert.Equal("the log of this loop ends in step 'coding'" + Went, timed.Read(laterLoopExists: true).Loop!
            .ErrorMessage);

        // A log from before time_info (v0.4 to v0.7): the furthest step with a pickle.
        var untimed = new Loop(dir, 2);
        untimed.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("h", "factor"));
        untimed.Add("coding", LogTree.CoderResult, Experiment("/ws/e2", "/ws/s2"));
        Assert.Equal("the log of this loop ends in step 'coding'" + Went, Message(untimed));
    }

    [Fact]
    public void An_experiment_is_an_object_naming_its_experiment_workspace_or_its_sub_workspaces_and_nothing_else()
    {
        using var dir = new TempDir();
        // The coder's experiment before the runner gave it an experiment workspace (None): its sub-workspaces.
        var coded = new Loop(dir, 1);
        coded.Add("coding", LogTree.CoderResult, Experiment(null, "/ws/s1", "/ws/s2"));
        var c = coded.Read("factor");
        Assert.Equal((true, "running"), (c.Usable, c.Loop!.Status));
        Assert.Equal([("s1", "sub_workspace", "coding"), ("s2", "sub_workspace", "coding")],
            c.Loop.Workspaces.Select(w => (w.WorkspaceId, w.Role, w.StepName)));

        // A model experiment that names only its experiment workspace (no sub_workspace_list at all).
        var model = new Loop(dir, 2);
        model.Add("running", LogTree.RunnerResult, PickleText.Of(p => p.Object(ModelExp,
            [("experiment_workspace", Ws("/ws/m2"))])));
        model.Add("feedback", LogTree.Feedback, FeedbackOf(true));
        var m = model.Read().Loop!;
        Assert.Equal(("success", "model"), (m.Status, m.Action));
        Assert.Equal([("m2", "experiment_workspace", "running")],
            m.Workspaces.Select(w => (w.WorkspaceId, w.Role, w.StepName)));

        // An object with neither (a hypothesis), or a dict naming an experiment workspace, is no experiment; the
        // dict is named in Python's words (its two keys), never by a .NET type.
        var hypothesis = new Loop(dir, 3);
        hypothesis.Add("running", LogTree.RunnerResult, Hypothesis("h", "factor"));
        var dict = new Loop(dir, 4);
        dict.Add("running", LogTree.RunnerResult, PickleText.Of(p => p.Dict(
            [("experiment_workspace", Ws("/ws/d4")), ("sub_workspace_list", q => q.List([Ws("/ws/d4s")]))])));
        foreach (var (loop, held) in new[] { (hypothesis, Hyp), (dict, "a dict of 2 entries") })
        {
            var reading = loop.Read("factor");
            Assert.Null(reading.Loop);
            var broken = Assert.Single(reading.Broken);
            Assert.Equal((loop.Files[0].Path, $"holds {held}, not an experiment"), (broken.Path, broken.Message));
        }
    }

    [Fact]
    public void The_runner_s_experiment_is_the_loop_s_even_when_the_coder_logged_another()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        loop.Add("coding", LogTree.CoderResult, Experiment("/ws/coded", "/ws/sub"));
        loop.Add("running", LogTree.RunnerResult, Experiment("/ws/ran", "/ws/sub"));
        loop.Add("feedback", LogTree.Feedback, FeedbackOf(true));
        Assert.Equal([("ran", "experiment_workspace", "running"), ("sub", "sub_workspace", "coding")],
            loop.Read("factor").Loop!.Workspaces.Select(w => (w.WorkspaceId, w.Role, w.StepName)));
    }

    [Fact]
    public void A_cut_or_half_written_evolving_pickle_does_not_hold_the_loop_back_for_it_tells_nothing_of_its_state()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir);
        loop.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("h", "factor"));
        loop.Add("coding", LogTree.EvolvingCode, Experiment(null, "/ws/s")[..20], 0);
        loop.Add("coding", LogTree.EvolvingFeedback, FeedbackOf(false)[..20], 0);
        loop.Add("coding", LogTree.CoderResult, Experiment("/ws/e", "/ws/s"));
        // Written an hour ago: truncated; the other written just now: still being written.
        File.SetLastWriteTimeUtc(loop.Files[2].Path, Now);

        var reading = loop.Read();
        Assert.Equal((true, 0, false), (reading.Usable, reading.Broken.Count, reading.BeingWritten));
        var l = reading.Loop!;
        Assert.Equal(("running", "coding", 2), (l.Status, l.Step, l.Workspaces.Count));
    }
}
