using RdBridge.Pickles;
using static RdBridge.Discovery.LogValues;

namespace RdBridge.Discovery;

/// <summary>
/// Turns the pickles of one loop folder into a <see cref="DiscoveredLoop"/>: the hypothesis (its <c>action</c> in the
/// quant loop), the task list, the coder and runner results (the experiment with its workspaces), the feedback (the
/// decision) and each step's <c>time_info</c>. Each pickle must hold what its tag should; anything else is reported
/// with its path and the loop is left for the next run.
/// </summary>
public static class LoopReader
{
    /// <param name="scenarioAction">factor or model when the run's scenario decides it (fin_factor, fin_model)</param>
    /// <param name="laterLoopExists">whether the run has a later loop, so a loop without feedback did not just
    /// stop</param>
    public static LoopReading Read(LoopFolder folder, IReadOnlyList<LogFile> files, string? scenarioAction,
        bool laterLoopExists, DateTime nowUtc)
    {
        var broken = new List<UnusablePickle>();
        var beingWritten = false;
        var values = new Dictionary<string, object?>();
        var times = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        var lastStep = (string?)null;
        foreach (var file in files)
        {
            // CoSTEER's evolving logs say nothing of where the loop is; their texts are LoopTexts'.
            if (LogTree.IsEvolving(file.Tag)) continue;
            var read = LogPickle.Read(file.Path, nowUtc);
            if (read.Trouble == PickleTrouble.BeingWritten) { beingWritten = true; continue; }
            if (!read.Ok) { broken.Add(new UnusablePickle(file.Path, read.Message!)); continue; }
            var value = read.Value;
            var wrong = Check(file.Tag, value);
            if (wrong is not null)
            {
                broken.Add(new UnusablePickle(file.Path, OutOfRange(file.Tag, value)
                    ?? $"holds {Describe(value)}, not {wrong}"));
                continue;
            }
            if (file.Tag == LogTree.TimeInfo)
            {
                if (Time(Get(value, "start_time")) is { } s && Time(Get(value, "end_time")) is { } e) times.Add((s, e));
                // Step folders are listed by name, not in the order RD-Agent ran them: keep the furthest.
                if (Rank(file.Step) >= Rank(lastStep)) lastStep = file.Step;
            }
            else
            {
                values[file.Tag] = value;   // files come in time order: the last of a tag wins
            }
        }
        if (broken.Count > 0 || beingWritten) return new LoopReading(null, broken, beingWritten);
        // Logs before v0.8 have no time_info: the loop ran from its first pickle to its last (named by UTC time).
        if (times.Count == 0)
        {
            foreach (var file in files)
            {
                if (LogTree.NameTime(file.Path) is { } at) times.Add((at, at));
            }
        }

        values.TryGetValue(LogTree.Hypothesis, out var hypothesis);
        values.TryGetValue(LogTree.Tasks, out var tasks);
        values.TryGetValue(LogTree.CoderResult, out var coder);
        values.TryGetValue(LogTree.RunnerResult, out var runner);
        values.TryGetValue(LogTree.Feedback, out var feedback);

        string status;
        string? errorType = null, errorMessage = null;
        var decision = feedback is null ? null : Bool(Get(feedback, "decision"));
        if (runner is not null && feedback is not null)
        {
            status = DiscoveredLoop.Success;
        }
        else if (feedback is not null)
        {
            // RD-Agent skips a loop whose coder or runner raised (CoderError, FactorEmptyError) straight to feedback,
            // which then carries the error as its reason and the exception itself.
            status = DiscoveredLoop.Failed;
            errorType = ShortClass(Get(feedback, "exception")) ?? "skipped";
            errorMessage = Text(Get(feedback, "reason")) is { Length: > 0 } reason ? reason
                : LoopTexts.ExceptionText(Get(feedback, "exception"));
        }
        else if (laterLoopExists)
        {
            status = DiscoveredLoop.Failed;
            errorType = "no feedback";
            // Without time_info, the furthest step with a pickle (a flat log's are in time order, none of them a step).
            var lastFile = files.OrderBy(f => Rank(f.Step)).LastOrDefault();
            errorMessage = $"the log of this loop ends in step '{lastStep ?? lastFile?.Step ?? "none"}' "
                + "without feedback, and RD-Agent went on to the next loop";
        }
        else
        {
            status = DiscoveredLoop.Running;
        }

        var experiment = runner ?? (IsExperiment(coder) ? coder : null);
        // A running loop's workspaces count as soon as the coder's result names them: RD-Agent does not write them
        // again, and its running step can take hours.
        var workspaces = new List<DiscoveredWorkspace>();
        if (experiment is not null)
            AddExperiment(workspaces, experiment, runner is not null ? "running" : "coding", folder.LoopId == 0);
        else foreach (var ws in Items(coder)) AddWorkspace(workspaces, ws, DiscoveredWorkspace.Sub, "coding");

        var logged = Text(Get(hypothesis, "action"));
        var action = logged is "factor" or "model" ? logged : scenarioAction ?? ActionOf(tasks) ?? ActionOf(experiment);
        return new LoopReading(new DiscoveredLoop(
            folder.LoopId, status, action, Text(Get(hypothesis, "hypothesis")), decision,
            times.Count > 0 ? times.Min(t => t.Start) : null,
            status == DiscoveredLoop.Running ? null : times.Count > 0 ? times.Max(t => t.End) : null,
            errorType, errorMessage, workspaces)
        {
            // A loop RD-Agent skipped to feedback failed in the step before it (feedback and record come after).
            Step = StepReached(folder, files,
                before: status == DiscoveredLoop.Failed && feedback is not null ? "feedback" : null),
        }, broken, false);
    }

    /// <summary>The loop's steps in the order RD-Agent runs them (v0.3's first two, then today's).</summary>
    private static readonly string[] StepOrder =
        ["propose", "exp_gen", "direct_exp_gen", "coding", "running", "feedback", "record"];

    /// <summary>
    /// The furthest step the loop has a folder or a pickle of: a step's folder appears with its first log message
    /// (LLM traffic included), so a loop in <c>running</c> shows it before the runner's result. A flat v0.3 log has
    /// no step folders: there each tag tells its step.
    /// </summary>
    private static string? StepReached(LoopFolder folder, IReadOnlyList<LogFile> files, string? before = null)
    {
        var steps = files.Select(f => StepOrder.Contains(f.Step) ? f.Step : StepOfTag(f.Tag)).ToList();
        if (folder.Slice is null && Directory.Exists(folder.Path))
        {
            try
            {
                steps.AddRange(Directory.EnumerateDirectories(folder.Path).Select(Path.GetFileName).OfType<string>());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The folder went away or cannot be listed: the pickles already read tell the step.
            }
        }
        var limit = before is null ? StepOrder.Length : Rank(before);
        return steps.Where(s => Rank(s) >= 0 && Rank(s) < limit).OrderBy(Rank).LastOrDefault();
    }

    /// <summary>Where a step comes in <see cref="StepOrder"/>; -1 for none or a name that is no step.</summary>
    private static int Rank(string? step) => step is null ? -1 : Array.IndexOf(StepOrder, step);

    private static string? StepOfTag(string tag) => tag switch
    {
        LogTree.Hypothesis => "propose",
        LogTree.Tasks => "exp_gen",
        LogTree.CoderResult => "coding",
        LogTree.RunnerResult => "running",
        LogTree.Feedback => "feedback",
        _ => null,
    };

    /// <summary>What the tag's pickle must be; null when it is that.</summary>
    private static string? Check(string tag, object? value) => tag switch
    {
        LogTree.Hypothesis when Get(value, "hypothesis") is not string => "a Hypothesis",
        LogTree.Tasks when value is not (List<object?> or object?[]) => "a task list",
        LogTree.CoderResult when value is not (List<object?> or object?[]) && !IsExperiment(value) =>
            "the coded workspaces or experiment",
        LogTree.RunnerResult when !IsExperiment(value) => "an experiment",
        LogTree.Feedback when Get(value, "decision") is not (bool or long) => "a HypothesisFeedback",
        LogTree.TimeInfo when Time(Get(value, "start_time")) is null => "a {start_time, end_time} dict",
        _ => null,
    };

    /// <summary>
    /// A time_info whose start_time is a datetime that is no time (a timezone offset of 2^62 days, a day past the
    /// calendar's end): said as such, not as a dict that is not the dict it is.
    /// </summary>
    private static string? OutOfRange(string tag, object? value) =>
        tag == LogTree.TimeInfo && Get(value, "start_time") is PickledObject { ClassName: "datetime.datetime" }
            ? "holds a start_time datetime that is out of range: its date, or its timezone offset (at most ±14 "
              + "hours), is beyond what a time can be"
            : null;

    private static bool IsExperiment(object? value) =>
        value is PickledObject && Get(value, "experiment_workspace") is not null
        || value is PickledObject && Get(value, "sub_workspace_list") is not null;

    private static void AddExperiment(List<DiscoveredWorkspace> list, object? exp, string step, bool firstLoop)
    {
        AddWorkspace(list, Get(exp, "experiment_workspace"), DiscoveredWorkspace.Experiment, step);
        foreach (var ws in Items(Get(exp, "sub_workspace_list")))
            AddWorkspace(list, ws, DiscoveredWorkspace.Sub, "coding");
        // fin_factor's loop 0 first runs the Alpha20 baseline: an experiment of its own without sub-tasks. Later
        // loops carry it (and earlier loops' experiments) in based_experiments too, but they belong to the loop that
        // ran them.
        if (!firstLoop) return;
        foreach (var based in Items(Get(exp, "based_experiments")))
        {
            if (Items(Get(based, "sub_tasks")).Count == 0)
                AddWorkspace(list, Get(based, "experiment_workspace"), DiscoveredWorkspace.Baseline, step);
        }
    }

    private static void AddWorkspace(List<DiscoveredWorkspace> list, object? workspace, string role, string step)
    {
        if (PathText(Get(workspace, "workspace_path")) is not { Length: > 0 } path) return;
        var id = path.Replace('\\', '/').TrimEnd('/');
        id = id[(id.LastIndexOf('/') + 1)..];
        if (id.Length == 0 || list.Any(w => w.WorkspaceId == id)) return;
        list.Add(new DiscoveredWorkspace(id, path, role, step));
    }

    private static string? ActionOf(object? value)
    {
        var classes = value is PickledObject ? [ClassName(value)] : Items(value).Select(ClassName);
        foreach (var c in classes)
        {
            if (c is null) continue;
            if (c.Contains("Model", StringComparison.Ordinal)) return "model";
            if (c.Contains("Factor", StringComparison.Ordinal)) return "factor";
        }
        return null;
    }

    private static string? ShortClass(object? value) =>
        ClassName(value) is { } c ? c[(c.LastIndexOf('.') + 1)..] : null;
}
