using System.Text.Json.Nodes;
using RdBridge.Configuration;
using RdBridge.Metadata;
using RdBridge.Pickles;
using static RdBridge.Discovery.LogValues;

namespace RdBridge.Discovery;

/// <summary>
/// The loop's own <c>Hypothesis</c> as RD-Agent logged it in <c>hypothesis generation</c>: the text, its reason and
/// the concise fields, and the quant loop's <c>action</c>.
/// </summary>
public sealed record LoggedHypothesis(
    string? Text, string? Reason, string? ConciseReason, string? ConciseObservation, string? ConciseJustification,
    string? ConciseKnowledge, string? Action);

/// <summary>
/// The loop's <c>HypothesisFeedback</c>: the decision and the texts behind it, the hypothesis it suggests for the next
/// loop (<c>new_hypothesis</c>), and the exception of a loop RD-Agent skipped to feedback.
/// </summary>
public sealed record LoggedFeedback(
    bool? Decision, string? Reason, string? Observations, string? HypothesisEvaluation, string? NewHypothesis,
    string? CodeChangeSummary, string? Exception);

/// <summary>
/// One task RD-Agent proposed in <c>experiment generation</c>: a <c>FactorTask</c> (<see cref="Formulation"/> is its
/// <c>factor_formulation</c>) or a <c>ModelTask</c> (architecture, hyperparameters, RD-Agent's model type), with the
/// sub-workspace the coder wrote it in when the log names one, and CoSTEER's last feedback on its code.
/// </summary>
public sealed record LoggedTask(
    string Kind, string? Name, string? Description, string? Formulation, JsonNode? Variables, string? Architecture,
    JsonNode? Hyperparameters, JsonNode? TrainingHyperparameters, string? ModelType, string? WorkspaceId)
{
    public const string Factor = "factor";
    public const string Model = "model";

    /// <summary>The evaluator's feedback on this task in the last evolving step logged; null without one.</summary>
    public CoderFeedback? Coder { get; init; }

    /// <summary>The task under the loop catalog's <c>tasks</c> field names (a loop without results has no factor
    /// or model record to carry them).</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["kind"] = Kind, ["name"] = Name, ["description"] = Description,
            ["formulation"] = Formulation, ["variables"] = Variables?.DeepClone() };
        if (Kind == Model)
        {
            o["architecture"] = Architecture;
            o["hyperparameters"] = Hyperparameters?.DeepClone();
            o["training_hyperparameters"] = TrainingHyperparameters?.DeepClone();
            o["model_type"] = ModelType;
        }
        o["workspace_id"] = WorkspaceId;
        o["coder_feedback"] = Coder?.ToJson();
        return o;
    }
}

/// <summary>
/// Every text RD-Agent logged for one loop (its hypothesis, tasks and feedback), read from the same pickles discovery
/// reads, in every log generation. Read whole each time backfill needs it: the log is the only place these texts are.
/// </summary>
public sealed record LoopTexts(
    LoggedHypothesis? Hypothesis, LoggedFeedback? Feedback, IReadOnlyList<LoggedTask> Tasks)
{
    public static readonly LoopTexts Empty = new(null, null, []);

    /// <summary>The task the coder wrote in this workspace, else the one of this name (factor or model name).
    /// </summary>
    public LoggedTask? TaskFor(string? workspaceId, string? name, string kind) =>
        Tasks.FirstOrDefault(t => t.Kind == kind && workspaceId is not null && t.WorkspaceId == workspaceId)
        ?? Tasks.FirstOrDefault(t => t.Kind == kind && name is not null && t.Name == name);

    /// <summary>
    /// Reads the loop's pickles (the latest of each tag wins, as in discovery); one that does not read is named in
    /// <paramref name="problems"/> and its texts stay empty.
    /// </summary>
    public static LoopTexts Read(IReadOnlyList<LogFile> files, DateTime nowUtc, List<string> problems)
    {
        var latest = new Dictionary<string, object?>();
        void Take(LogFile file)
        {
            var read = LogPickle.Read(file.Path, nowUtc);
            if (read.Ok) latest[file.Tag] = read.Value;
            else problems.Add($"the log pickle '{file.Path}' {read.Message}; its texts are left out");
        }
        foreach (var file in files)
        {
            if (file.Tag != LogTree.TimeInfo && !LogTree.IsEvolving(file.Tag)) Take(file);
        }
        // CoSTEER logs every evolving step; only the last step's feedback is read (a coder may run ten steps of
        // several workspaces each). Steps are counted by their evo_loop_K folders, or by pickle in v0.3's flat logs.
        var feedbacks = files.Where(f => f.Tag == LogTree.EvolvingFeedback)
            .OrderBy(f => f.EvolvingStep ?? -1).ThenBy(f => Path.GetFileName(f.Path), StringComparer.Ordinal).ToList();
        if (feedbacks.Count > 0) Take(feedbacks[^1]);
        var steps = feedbacks.Any(f => f.EvolvingStep is null) ? feedbacks.Count
            : feedbacks.Select(f => f.EvolvingStep).Distinct().Count();
        return From(latest, steps);
    }

    /// <summary>
    /// The texts of one loop of a task run from its log, wherever the path map puts the log on this machine (any
    /// generation discovery reads); empty when the log is not here. A pickle or folder that cannot be read is named in
    /// <paramref name="problems"/>, and the next run reads it again.
    /// </summary>
    /// <param name="listings">the stage's listings of the logs, so that a task run's log is listed once, not once
    /// per loop (none: listed now)</param>
    public static LoopTexts OfLoop(string? storedTrace, long loopId, PathMap map, List<string> problems,
        LogListings? listings = null)
    {
        var trace = map.Map(storedTrace).Local;
        if (trace is null || !Directory.Exists(trace)) return Empty;
        IReadOnlyList<LogFile>? files;
        try
        {
            var loops = listings?.LoopsOf(trace) ?? LogTree.Loops(trace);
            files = loops.FirstOrDefault(l => l.LoopId == loopId)?.Files();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"the log '{trace}' cannot be listed ({e.Message}); the loop's logged texts are left out");
            return Empty;
        }
        return files is null ? Empty : Read(files, DateTime.UtcNow, problems);
    }

    /// <summary>Builds the texts from a loop's latest pickle of each tag (pickles that do not read are skipped: the
    /// caller reports them the way discovery does).</summary>
    /// <param name="evolvingSteps">how many evolving steps CoSTEER logged (the latest's feedback is
    /// <see cref="LogTree.EvolvingFeedback"/> in <paramref name="latest"/>)</param>
    public static LoopTexts From(IReadOnlyDictionary<string, object?> latest, int evolvingSteps = 0)
    {
        latest.TryGetValue(LogTree.Hypothesis, out var hypothesis);
        latest.TryGetValue(LogTree.Tasks, out var tasks);
        latest.TryGetValue(LogTree.CoderResult, out var coder);
        latest.TryGetValue(LogTree.RunnerResult, out var runner);
        latest.TryGetValue(LogTree.Feedback, out var feedback);
        latest.TryGetValue(LogTree.EvolvingFeedback, out var evolving);
        return new LoopTexts(ReadHypothesis(hypothesis), ReadFeedback(feedback),
            ReadTasks(tasks, coder, runner, evolving, evolvingSteps));
    }

    /// <summary>
    /// The loop's research texts under feedback.json's names: the hypothesis's reason and concise fields, the
    /// feedback's texts. Backfill writes them into feedback.json; export takes them from here for a loop that has no
    /// feedback.json.
    /// </summary>
    public ResearchTexts Research() => new(Hypothesis?.Reason, Hypothesis?.ConciseReason,
        Hypothesis?.ConciseObservation, Hypothesis?.ConciseJustification, Hypothesis?.ConciseKnowledge,
        Hypothesis?.Action, Feedback?.Observations, Feedback?.HypothesisEvaluation, Feedback?.Reason,
        Feedback?.NewHypothesis, Feedback?.CodeChangeSummary, Feedback?.Exception);

    private static LoggedHypothesis? ReadHypothesis(object? h) => h is not PickledObject ? null : new(
        Text(Get(h, "hypothesis")), Text(Get(h, "reason")), Text(Get(h, "concise_reason")),
        Text(Get(h, "concise_observation")), Text(Get(h, "concise_justification")),
        Text(Get(h, "concise_knowledge")), Text(Get(h, "action")));

    private static LoggedFeedback? ReadFeedback(object? f) => f is not PickledObject ? null : new(
        Bool(Get(f, "decision")), Text(Get(f, "reason")), Text(Get(f, "observations")),
        Text(Get(f, "hypothesis_evaluation")), Text(Get(f, "new_hypothesis")), Text(Get(f, "code_change_summary")),
        ExceptionText(Get(f, "exception")));

    /// <summary>
    /// The tasks with their workspaces: the runner's experiment pairs <c>sub_tasks</c> with
    /// <c>sub_workspace_list</c> by position, as does the quant coder's experiment; fin_factor/fin_model's coder logs
    /// only the workspace list, in the order of the logged tasks. A workspace's own <c>target_task</c> wins.
    /// </summary>
    private static IReadOnlyList<LoggedTask> ReadTasks(object? logged, object? coder, object? runner,
        object? evolving, int evolvingSteps)
    {
        // CoSTEERMultiFeedback.feedback_list holds one entry per task of the evolving item, in the experiment's task
        // order (None for a task the coder skipped); older logs pickled the list itself.
        var feedbacks = Get(evolving, "feedback_list") is { } list ? Items(list) : Items(evolving);
        var experiment = runner is PickledObject ? runner : coder is PickledObject ? coder : null;
        var tasks = Items(Get(experiment, "sub_tasks")) is { Count: > 0 } own ? own : Items(logged);
        var workspaces = experiment is not null ? Items(Get(experiment, "sub_workspace_list")) : Items(coder);
        var result = new List<LoggedTask>();
        for (var i = 0; i < tasks.Count; i++)
        {
            var ws = i < workspaces.Count ? workspaces[i] : null;
            var task = Get(ws, "target_task") is PickledObject target ? target : tasks[i];
            if (ReadTask(task, WorkspaceId(ws)) is not { } t) continue;
            var coded = i < feedbacks.Count ? ReadCoderFeedback(feedbacks[i], evolvingSteps) : null;
            result.Add(t with { Coder = coded });
        }
        return result;
    }

    private static LoggedTask? ReadTask(object? task, string? workspaceId)
    {
        if (task is not PickledObject) return null;
        var isFactor = Get(task, "factor_name") is string || Get(task, "factor_formulation") is string
            || (ClassName(task)?.Contains("Factor", StringComparison.Ordinal) ?? false);
        if (isFactor)
        {
            // FactorTask keeps factor_description in Task.description (a property for compatibility); logs from
            // before that change hold the attribute itself.
            return new LoggedTask(LoggedTask.Factor, Text(Get(task, "factor_name")) ?? Text(Get(task, "name")),
                Text(Get(task, "description")) ?? Text(Get(task, "factor_description")),
                Text(Get(task, "factor_formulation")), Json(Get(task, "variables")), null, null, null, null,
                workspaceId);
        }

        return new LoggedTask(LoggedTask.Model, Text(Get(task, "name")), Text(Get(task, "description")),
            Text(Get(task, "formulation")), Json(Get(task, "variables")), Text(Get(task, "architecture")),
            Json(Get(task, "hyperparameters")), Json(Get(task, "training_hyperparameters")),
            Text(Get(task, "model_type")), workspaceId);
    }

    /// <summary>One task's entry of CoSTEER's feedback, in either class generation (see <see cref="CoderFeedback"/>).
    /// </summary>
    private static CoderFeedback? ReadCoderFeedback(object? f, int steps) => f is not PickledObject ? null : new(
        steps, Bool(Get(f, "final_decision")), Text(Get(f, "execution_feedback")) ?? Text(Get(f, "execution")),
        Text(Get(f, "return_checking")), Text(Get(f, "value_feedback")), Text(Get(f, "shape_feedback")),
        Text(Get(f, "code_feedback")) ?? Text(Get(f, "code")), Text(Get(f, "final_feedback")));

    private static string? WorkspaceId(object? workspace)
    {
        if (PathText(Get(workspace, "workspace_path")) is not { Length: > 0 } path) return null;
        var id = path.Replace('\\', '/').TrimEnd('/');
        return id[(id.LastIndexOf('/') + 1)..] is { Length: > 0 } last ? last : null;
    }

    /// <summary>An exception RD-Agent kept in the feedback: its class and its message (its first argument).</summary>
    public static string? ExceptionText(object? exception)
    {
        if (exception is not PickledObject o) return exception as string;
        var cls = o.ClassName[(o.ClassName.LastIndexOf('.') + 1)..];
        var args = o.Arguments.Count == 1 && o.Arguments[0] is object?[] nested ? nested : o.Arguments;
        return args.FirstOrDefault() is string message ? $"{cls}: {message}" : cls;
    }
}
