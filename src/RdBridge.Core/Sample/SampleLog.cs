using System.Globalization;
using System.Text;
using RdBridge.IO;

namespace RdBridge.Sample;

/// <summary>The RD-Agent log layouts users have on disk, oldest first.</summary>
public enum SampleLogGeneration
{
    /// <summary>v0.3.0 and earlier: no <c>Loop_N</c> folders at all; every loop's pickles share the run's
    /// <c>r/</c>, <c>d/</c> and <c>ef/</c> folders, setup objects under <c>init/</c>; no <c>time_info</c>.</summary>
    V03,
    /// <summary>v0.4 to mid-2025 (v0.5): <c>Loop_N/&lt;step&gt;/</c> with steps <c>direct_exp_gen, coding, running,
    /// feedback</c> and the old tag segments (<c>r.</c>, <c>d.</c>, <c>ef.</c>, <c>init.</c>) below them.</summary>
    V05,
    /// <summary>v0.6 to v0.8: the same steps without the segments, plus <c>time_info</c> and the run's settings.
    /// </summary>
    V08,
    /// <summary>RD-Agent HEAD (2026): a fifth step, <c>record</c>.</summary>
    Head,
}

/// <summary>A backtest a runner logged: the metrics as read back from <c>qlib_res.csv</c> (in the file's order) and
/// the report DataFrame pickle (<c>Quantitative Backtesting Chart</c>, protocol 4).</summary>
/// <summary>A factor a sample loop's code computes: its name, its label (Chinese), window and input field.</summary>
public sealed record SampleFactorTask(string Name, string Label, int Window, string Field);

public sealed record SampleBacktest(IReadOnlyList<(string Name, double Value)> Metrics, byte[] Chart);

/// <summary>One loop of a sample log: what RD-Agent would log for it. Workspace paths are as RD-Agent's machine
/// stored them (any of the three spellings).</summary>
public sealed record SampleLogLoop(
    long LoopId, string Action, string Outcome, string Hypothesis, bool Decision,
    string? ExperimentWorkspace, IReadOnlyList<string> SubWorkspaces, DateTimeOffset Started, DateTimeOffset Ended)
{
    public const string Result = "result";
    /// <summary>The backtest ran but left no <c>qlib_res.csv</c>: the runner's result is None.</summary>
    public const string NoResult = "noresult";
    public const string Failed = "failed";
    public const string Running = "running";

    public SampleBacktest? Backtest { get; init; }

    /// <summary>What the loop's factor tasks proposed, in the order of <see cref="SubWorkspaces"/>; empty for a model
    /// loop or a loop written without them (its tasks then get generic texts).</summary>
    public IReadOnlyList<SampleFactorTask> FactorTasks { get; init; } = [];

    /// <summary>fin_factor's loop 0 first runs the Alpha20 baseline: its experiment workspace and backtest.</summary>
    public string? BaselineWorkspace { get; init; }
    public SampleBacktest? BaselineBacktest { get; init; }
}

/// <summary>
/// Writes RD-Agent log trees of every generation (<see cref="SampleLogGeneration"/>): pickles at
/// <c>&lt;trace&gt;/&lt;tag path&gt;/&lt;pid&gt;/&lt;UTC timestamp&gt;.pkl</c>, with RD-Agent's objects pickled at
/// protocol 4 the way CPython pickles its classes (class + <c>__dict__</c>), workspace paths as <c>pathlib</c> paths,
/// times as tz-aware datetimes and each experiment's result as the pandas Series of its <c>qlib_res.csv</c>; plus the
/// noise discovery must skip (<c>debug_llm</c>, <c>common_logs.log</c>, <c>__session__</c>). The one writer of the
/// sample's logs and of the tests' C# log fixtures.
/// </summary>
public sealed class SampleLog(string logRoot, SampleLogGeneration generation = SampleLogGeneration.Head)
{
    private const string Pid = "12345";
    private const string Qlib = "rdagent.scenarios.qlib";
    private const string Hypothesis = "rdagent.core.proposal.Hypothesis";
    private const string QuantHypothesis = Qlib + ".proposal.quant_proposal.QlibQuantHypothesis";
    private const string Feedback = "rdagent.core.proposal.HypothesisFeedback";
    private const string FactorTask = "rdagent.components.coder.factor_coder.factor.FactorTask";
    private const string ModelTask = "rdagent.components.coder.model_coder.model.ModelTask";
    private const string FactorWorkspace = "rdagent.components.coder.factor_coder.factor.FactorFBWorkspace";
    private const string ModelWorkspace = "rdagent.components.coder.model_coder.model.ModelFBWorkspace";
    private const string QlibWorkspace = Qlib + ".experiment.workspace.QlibFBWorkspace";
    private const string FactorExperiment = Qlib + ".experiment.factor_experiment.QlibFactorExperiment";
    private const string ModelExperiment = Qlib + ".experiment.model_experiment.QlibModelExperiment";

    public static SampleLogGeneration Parse(string text) => text.ToLowerInvariant() switch
    {
        "v0.3" or "v03" or "v0.3.0" => SampleLogGeneration.V03,
        "v0.5" or "v05" or "v0.4" or "v04" => SampleLogGeneration.V05,
        "v0.8" or "v08" or "v0.6" or "v0.7" => SampleLogGeneration.V08,
        "head" => SampleLogGeneration.Head,
        _ => throw new ArgumentException($"--log-generation {text}: use v0.3, v0.5, v0.8 or head"),
    };

    public static string Name(SampleLogGeneration g) => g switch
    {
        SampleLogGeneration.V03 => "v0.3", SampleLogGeneration.V05 => "v0.5", SampleLogGeneration.V08 => "v0.8",
        _ => "head",
    };

    /// <summary>Whether RD-Agent of this generation had the quant loop (fin_quant came in 2025-05, after v0.4).
    /// </summary>
    public static bool HasQuantLoop(SampleLogGeneration g) => g != SampleLogGeneration.V03;

    private bool Flat => generation == SampleLogGeneration.V03;
    private bool Segments => generation is SampleLogGeneration.V03 or SampleLogGeneration.V05;
    private bool Timed => generation is SampleLogGeneration.V08 or SampleLogGeneration.Head;

    private string[] Steps => generation switch
    {
        SampleLogGeneration.V03 => ["propose", "exp_gen", "coding", "running", "feedback"],
        SampleLogGeneration.Head => ["direct_exp_gen", "coding", "running", "feedback", "record"],
        _ => ["direct_exp_gen", "coding", "running", "feedback"],
    };

    /// <summary>Writes one task run's log folder; <paramref name="scenario"/> is fin_factor, fin_model or fin_quant.
    /// </summary>
    public string WriteRun(DateTimeOffset start, string scenario, IReadOnlyList<SampleLogLoop> loops)
    {
        var trace = Path.Combine(logRoot, UtcText.RdAgentStamp(start));
        var scen = scenario switch
        {
            "fin_model" => Qlib + ".experiment.model_experiment.QlibModelScenario",
            "fin_quant" => Qlib + ".experiment.quant_experiment.QlibQuantScenario",
            _ => Qlib + ".experiment.factor_experiment.QlibFactorScenario",
        };
        var t = start;
        string[] init = Segments ? ["init"] : [];
        Write(trace, [.. init, "scenario"], ref t,
            p => p.Object(scen, [("_background", w => w.Str("Qlib research on CSI300"))]));
        if (Timed)
        {
            Write(trace, ["RDLOOP_SETTINGS"], ref t, p => p.Dict(
            [
                ("scen", w => w.Str(scen)), ("evolving_n", w => w.Int(10)),
                ("train_start", w => w.Str("2008-01-01")), ("test_end", w => w.Str("2020-08-01")),
            ]));
            Write(trace, ["RD_AGENT_SETTINGS"], ref t,
                p => p.Dict([("multi_proc_n", w => w.Int(1)), ("step_semaphore", w => w.Int(1))]));
        }
        Action<PickleText>? baseline = null;
        foreach (var loop in loops)
        {
            if (loop.BaselineWorkspace is { } b)
                baseline = Experiment(FactorExperiment, null, [], b, loop.BaselineBacktest, FactorWorkspace);
            WriteLoop(trace, scenario, loop, baseline);
        }
        return trace;
    }

    private Action<PickleText> Workspace(string cls, string path) => p => p.Object(cls,
    [
        (Flat ? "code_dict" : "file_dict", w => w.Dict([])), ("workspace_path", w => w.StoredPath(path)),
    ]);

    /// <summary>An experiment; its result as the generation holds it (<c>exp.result</c> up to v0.6, then
    /// <c>running_info.result</c>).</summary>
    private Action<PickleText> Experiment(string cls, Action<PickleText>? hypothesis, IReadOnlyList<string> subs,
        string? workspace, SampleBacktest? backtest, string subClass, long loopId = 0,
        Action<PickleText>? based = null, IReadOnlyList<SampleFactorTask>? factors = null)
    {
        Action<PickleText> result = backtest is null
            ? w => w.None()
            : w => w.Raw(Pickles.PandasPickleWriter.Series(backtest.Metrics));
        var tasks = Tasks(subClass == ModelWorkspace, subs.Count, loopId, factors);
        var state = new List<(string, Action<PickleText>)>
        {
            ("hypothesis", hypothesis ?? (w => w.None())), ("sub_tasks", tasks),
            ("sub_workspace_list", w => w.List(subs.Select(s => Workspace(subClass, s)))),
            ("based_experiments", based is null ? w => w.List([]) : w => w.List([based])),
            ("experiment_workspace", workspace is null ? w => w.None() : Workspace(QlibWorkspace, workspace)),
        };
        if (Timed)
        {
            state.Add(("running_info", w => w.Object("rdagent.core.experiment.RunningInfo",
                [("result", result), ("running_time", x => x.None())])));
        }
        else
        {
            state.Add(("result", result));
        }

        return p => p.Object(cls, state);
    }

    /// <summary>
    /// The loop's tasks as RD-Agent's proposal writes them: a FactorTask's name, description, LaTeX formulation and
    /// variables; a ModelTask's description, formulation, architecture, hyperparameters and model type. The texts
    /// vary with the loop and task so the demo shows each loop's own.
    /// </summary>
    private static Action<PickleText> Tasks(bool model, int count, long loopId,
        IReadOnlyList<SampleFactorTask>? factors = null) => p => p.List(
        Enumerable.Range(0, count).Select(i => model ? SampleTaskTexts.Model(ModelTask, loopId, i)
            : factors is not null && i < factors.Count ? SampleTaskTexts.Factor(FactorTask, factors[i])
            : SampleTaskTexts.Factor(FactorTask, loopId, i)));

    private void WriteLoop(string trace, string scenario, SampleLogLoop loop, Action<PickleText>? baseline)
    {
        var model = loop.Action == "model";
        var quant = scenario == "fin_quant";
        var t = loop.Started;
        var stepLength = (loop.Ended - loop.Started) / 8;
        var steps = Steps;
        var done = new List<string>();
        string[] Where(string step, params string[] tag)
        {
            var segment = step switch
            {
                "propose" or "exp_gen" or "direct_exp_gen" => "r", "coding" => "d", _ => "ef",
            };
            if (Flat) return [segment, .. tag];
            string[] head = [$"Loop_{loop.LoopId}", step];
            return Segments ? [.. head, segment, .. tag] : [.. head, .. tag];
        }
        void Step(string name, Action body)
        {
            var s = t;
            body();
            t = t > s + stepLength ? t : s + stepLength;
            var e = t;
            if (Timed)
            {
                Write(trace, [$"Loop_{loop.LoopId}", name, "time_info"], ref t,
                    p => p.Dict([("start_time", w => w.Time(s)), ("end_time", w => w.Time(e))]));
            }

            done.Add(name);
        }

        (string, Action<PickleText>)[] action = quant ? [("action", w => w.Str(loop.Action))] : [];
        Action<PickleText> hyp = p => p.Object(quant ? QuantHypothesis : Hypothesis,
        [
            ("hypothesis", w => w.Str(loop.Hypothesis)), ("reason", w => w.Str("价量信号在样本外仍然有效")),
            ("concise_reason", w => w.Str("momentum persists")), ("concise_observation", w => w.Str("IC > 0")),
            ("concise_justification", w => w.Str("prior loops")), ("concise_knowledge", w => w.Str("Alpha158")),
            .. action,
        ]);
        var subClass = model ? ModelWorkspace : FactorWorkspace;
        Action<PickleText> tasks = Tasks(model, loop.SubWorkspaces.Count, loop.LoopId, loop.FactorTasks);
        Action<PickleText> subs = p => p.List(loop.SubWorkspaces.Select(s => Workspace(subClass, s)));
        var experiment = Experiment(model ? ModelExperiment : FactorExperiment, hyp, loop.SubWorkspaces,
            loop.ExperimentWorkspace, loop.Backtest, subClass, loop.LoopId, baseline, loop.FactorTasks);

        if (Flat)
        {
            Step("propose", () =>
            {
                Noise(trace, Where("propose"), ref t);
                Write(trace, Where("propose", "hypothesis generation"), ref t, hyp);
            });
            Step("exp_gen", () => Write(trace, Where("exp_gen", "experiment generation"), ref t, tasks));
        }
        else
        {
            Step("direct_exp_gen", () =>
            {
                Noise(trace, Where("direct_exp_gen"), ref t);
                Write(trace, Where("direct_exp_gen", "hypothesis generation"), ref t, hyp);
                Write(trace, Where("direct_exp_gen", "experiment generation"), ref t, tasks);
            });
        }
        Step("coding", () =>
        {
            Write(trace, Segments ? Where("coding", "evolving code") : Where("coding", "evo_loop_0", "evolving code"),
                ref t, subs);
            Write(trace, Where("coding", "coder result"), ref t, quant ? experiment : subs);
        });
        if (loop.Outcome == SampleLogLoop.Running)
        {
            if (!Flat) Directory.CreateDirectory(Path.Combine(trace, $"Loop_{loop.LoopId}", "running"));
            Session(trace, loop.LoopId, done);
            return;
        }
        var failed = loop.Outcome == SampleLogLoop.Failed;
        if (failed && Flat)
        {
            // v0.3 skips a loop whose runner raised (FactorEmptyError) straight to the next one: no runner result,
            // no feedback.
            Session(trace, loop.LoopId, done);
            return;
        }
        if (!failed)
        {
            Step("running", () =>
            {
                if (loop.BaselineBacktest is { } b) Backtest(trace, Where("running"), ref t, b, "baseline");
                if (loop.Backtest is { } r) Backtest(trace, Where("running"), ref t, r, $"loop {loop.LoopId}");
                else WriteExecuteLog(trace, Where("running"), ref t, "qlib_res.csv was not written");
                Write(trace, Where("running", "runner result"), ref t, experiment);
            });
        }

        var reason = failed
            ? "factor.py raised KeyError: '$vwap' while computing the factor"
            : $"第{loop.LoopId}轮：新因子与 SOTA 组合后 IC {(loop.Decision ? "提升" : "下降")}，回撤{(loop.Decision ? "可控" : "扩大")}。";
        Step("feedback", () => Write(trace, Where("feedback", "feedback"), ref t, p => p.Object(Feedback,
        [
            ("decision", w => w.Bool(!failed && loop.Decision)),
            ("reason", w => w.Str(reason)),
            ("observations", w => w.Str($"本轮实现了假设中的因子，回测完成（loop {loop.LoopId}）。")),
            ("hypothesis_evaluation",
                w => w.Str(loop.Decision ? "假设得到支持：价量因子提升了选股能力。" : "假设未得到支持：收益未超过 SOTA。")),
            ("new_hypothesis", w => w.Str("尝试加入资金流因子并与流动性因子交互。")),
            ("acceptable", w => w.Bool(!failed && loop.Decision)),
            ("code_change_summary", w => w.Str("")),
            ("exception", w =>
            {
                if (failed) w.Object("rdagent.core.exception.CoderError", []);
                else w.None();
            }),
        ])));
        if (steps.Contains("record")) Step("record", () => { });
        Session(trace, loop.LoopId, done);
    }

    /// <summary>What the workspace's <c>execute</c> logs for one backtest: qrun's output (from v0.5 on) and the
    /// report DataFrame.</summary>
    private void Backtest(string trace, string[] running, ref DateTimeOffset t, SampleBacktest b, string what)
    {
        WriteExecuteLog(trace, running, ref t, $"qrun of the {what}: backtest finished");
        WriteFile(trace, [.. running, "Quantitative Backtesting Chart"], ref t, b.Chart);
    }

    private void WriteExecuteLog(string trace, string[] running, ref DateTimeOffset t, string text)
    {
        if (generation is SampleLogGeneration.V03 or SampleLogGeneration.V05) return;
        Write(trace, [.. running, "Qlib_execute_log"], ref t, p => p.Str(text));
    }

    /// <summary>The loop snapshot RD-Agent writes after each step it finished: not a log message.</summary>
    private void Session(string trace, long loopId, List<string> done)
    {
        var session = Path.Combine(trace, "__session__", loopId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(session);
        var steps = Steps;
        foreach (var name in done)
        {
            var index = Array.IndexOf(steps, name);
            File.WriteAllBytes(Path.Combine(session, $"{index}_{name}"),
                PickleText.Of(p => p.Dict([("step_idx", w => w.Int(index)), ("loop_idx", w => w.Int((int)loopId))])));
        }
    }

    /// <summary>The LLM traffic of a step: <c>debug_llm</c> pickles from v0.6 on; older versions wrote it to the
    /// loguru text logs beside the pickles.</summary>
    private void Noise(string trace, string[] tag, ref DateTimeOffset t)
    {
        if (!Timed) return;
        for (var i = 0; i < 3; i++)
        {
            Write(trace, [.. tag, "debug_llm"], ref t,
                p => p.Dict([("system", w => w.Str("s")), ("user", w => w.Str("u")), ("resp", w => w.Str("r"))]));
        }
    }

    private void Write(string trace, string[] tag, ref DateTimeOffset t, Action<PickleText> body) =>
        WriteFile(trace, tag, ref t, PickleText.Of(body));

    private void WriteFile(string trace, string[] tag, ref DateTimeOffset t, byte[] pickle)
    {
        var dir = Path.Combine([trace, .. tag, Pid]);
        Directory.CreateDirectory(dir);
        var stamp = UtcText.RdAgentStamp(t);
        File.WriteAllBytes(Path.Combine(dir, stamp + ".pkl"), pickle);
        if (Segments)
        {
            // Until 2025-06 each tag folder also held the loguru text log of what was logged there.
            File.AppendAllText(Path.Combine(dir, "common_logs.log"), new StringBuilder()
                .Append(t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture))
                .Append(" | INFO | ").Append(string.Join('.', tag)).Append(" | logged ").Append(stamp)
                .Append(".pkl\n").ToString());
        }

        t = t.AddSeconds(1);
    }
}
