using System.Globalization;

namespace RdBridge.Sample;

/// <summary>One loop of a sample log: what RD-Agent would log for it.</summary>
public sealed record SampleLogLoop(
    long LoopId, string Action, string Outcome, string Hypothesis, bool Decision,
    string? ExperimentWorkspace, IReadOnlyList<string> SubWorkspaces, DateTimeOffset Started, DateTimeOffset Ended)
{
    public const string Result = "result";
    public const string Failed = "failed";
    public const string Running = "running";
}

/// <summary>
/// Writes an RD-Agent log tree as the current RD-Agent does
/// (<c>log/&lt;UTC start&gt;/Loop_N/&lt;step&gt;/&lt;tag&gt;/&lt;pid&gt;/&lt;timestamp&gt;.pkl</c>, steps
/// <c>direct_exp_gen, coding, running, feedback, record</c>), with the objects pickled at protocol 4 the way CPython
/// pickles RD-Agent's classes (class + <c>__dict__</c>), workspace paths as <c>pathlib</c> paths and times as tz-aware
/// datetimes; plus <c>debug_llm</c> noise and <c>__session__</c> files. The experiment's <c>running_info.result</c> is
/// None here (the metrics are in the workspace's qlib_res.csv).
/// </summary>
public sealed class SampleLog(string logRoot, string storedRoot)
{
    private const string Pid = "12345";
    private const string Stamp = "yyyy-MM-dd_HH-mm-ss-ffffff";
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

    private static readonly string[] Steps = ["direct_exp_gen", "coding", "running", "feedback", "record"];

    /// <summary>Writes one task run's log folder; <paramref name="scenario"/> is fin_factor, fin_model or fin_quant.
    /// </summary>
    public string WriteRun(DateTimeOffset start, string scenario, IReadOnlyList<SampleLogLoop> loops)
    {
        var trace = Path.Combine(logRoot, start.UtcDateTime.ToString(Stamp, CultureInfo.InvariantCulture));
        var scen = scenario switch
        {
            "fin_model" => Qlib + ".experiment.model_experiment.QlibModelScenario",
            "fin_quant" => Qlib + ".experiment.quant_experiment.QlibQuantScenario",
            _ => Qlib + ".experiment.factor_experiment.QlibFactorScenario",
        };
        var t = start;
        Write(trace, ["scenario"], ref t,
            p => p.Object(scen, [("_background", w => w.Str("Qlib research on CSI300"))]));
        Write(trace, ["RDLOOP_SETTINGS"], ref t, p => p.Dict(
        [
            ("scen", w => w.Str(scen)), ("evolving_n", w => w.Int(10)),
            ("train_start", w => w.Str("2008-01-01")), ("test_end", w => w.Str("2020-08-01")),
        ]));
        foreach (var loop in loops) WriteLoop(trace, scenario, loop);
        return trace;
    }

    private void WriteLoop(string trace, string scenario, SampleLogLoop loop)
    {
        var lp = $"Loop_{loop.LoopId}";
        var model = loop.Action == "model";
        var quant = scenario == "fin_quant";
        var t = loop.Started;
        var step = (loop.Ended - loop.Started) / 12;
        void Timed(string name, Action body)
        {
            var s = t;
            body();
            t += step;
            var e = t;
            Write(trace, [lp, name, "time_info"], ref t,
                p => p.Dict([("start_time", w => w.Time(s)), ("end_time", w => w.Time(e))]));
        }
        (string, Action<PickleText>)[] action = quant ? [("action", w => w.Str(loop.Action))] : [];
        Action<PickleText> hyp = p => p.Object(quant ? QuantHypothesis : Hypothesis,
            [("hypothesis", w => w.Str(loop.Hypothesis)), ("reason", w => w.Str("because")), .. action]);
        Action<PickleText> tasks = p => p.List(loop.SubWorkspaces.Select((_, i) => (Action<PickleText>)(w =>
            w.Object(model ? ModelTask : FactorTask, [("name", x => x.Str($"task_{loop.LoopId}_{i}"))]))));
        Action<PickleText> Workspace(string cls, string rel) => p => p.Object(cls,
        [
            ("file_dict", w => w.Dict([])),
            ("workspace_path", w => w.PosixPath(storedRoot.TrimEnd('/') + "/" + rel)),
        ]);
        var workspaceClass = model ? ModelWorkspace : FactorWorkspace;
        Action<PickleText> subs = p => p.List(loop.SubWorkspaces.Select(s => Workspace(workspaceClass, s)));
        Action<PickleText> experiment = p => p.Object(model ? ModelExperiment : FactorExperiment,
        [
            ("hypothesis", hyp), ("sub_tasks", tasks), ("sub_workspace_list", subs),
            ("based_experiments", w => w.List([])),
            ("experiment_workspace", loop.ExperimentWorkspace is { } e ? Workspace(QlibWorkspace, e) : w => w.None()),
            ("running_info", w => w.Object("rdagent.core.experiment.RunningInfo",
                [("result", x => x.None()), ("running_time", x => x.None())])),
        ]);

        Timed("direct_exp_gen", () =>
        {
            Noise(trace, [lp, "direct_exp_gen"], ref t);
            Write(trace, [lp, "direct_exp_gen", "hypothesis generation"], ref t, hyp);
            Write(trace, [lp, "direct_exp_gen", "experiment generation"], ref t, tasks);
        });
        Timed("coding", () => Write(trace, [lp, "coding", "coder result"], ref t, quant ? experiment : subs));
        if (loop.Outcome == SampleLogLoop.Running)
        {
            Directory.CreateDirectory(Path.Combine(trace, lp, "running"));
            return;
        }
        var failed = loop.Outcome == SampleLogLoop.Failed;
        Timed("running", () =>
        {
            if (failed) return;
            Write(trace, [lp, "running", "Qlib_execute_log"], ref t, p => p.Str("qrun output"));
            Write(trace, [lp, "running", "runner result"], ref t, experiment);
        });
        var reason = failed ? "factor.py raised KeyError: '$vwap'" : $"IC {(loop.Decision ? "improved" : "fell")}";
        Timed("feedback", () => Write(trace, [lp, "feedback", "feedback"], ref t, p => p.Object(Feedback,
        [
            ("decision", w => w.Bool(!failed && loop.Decision)),
            ("reason", w => w.Str(reason)),
            ("exception", w => { if (failed) w.Object("rdagent.core.exception.CoderError", []); else w.None(); }),
            ("observations", w => w.Str("backtest finished")), ("new_hypothesis", w => w.Str("try a liquidity factor")),
        ])));
        Timed("record", () => { });
        var session = Path.Combine(trace, "__session__", loop.LoopId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(session);
        for (var i = 0; i < Steps.Length; i++)
        {
            var index = i;
            File.WriteAllBytes(Path.Combine(session, $"{i}_{Steps[i]}"),
                PickleText.Of(p => p.Dict([("step_idx", w => w.Int(index))])));
        }
    }

    /// <summary>
    /// What RD-Agent logs under <paramref name="tag"/> for a loop of the registry sample: the hypothesis, the coded
    /// sub-workspaces or the experiment, naming the workspaces by their stored paths (any of the three spellings).
    /// </summary>
    public static byte[] Payload(string tag, string text, string action, string experiment, IReadOnlyList<string> subs)
    {
        var model = action == "model";
        Action<PickleText> Workspace(string cls, string path) => p => p.Object(cls,
            [("file_dict", w => w.Dict([])), ("workspace_path", w => w.StoredPath(path))]);
        var workspaceClass = model ? ModelWorkspace : FactorWorkspace;
        Action<PickleText> subList = p => p.List(subs.Select(s => Workspace(workspaceClass, s)));
        Action<PickleText> hyp = p => p.Object(QuantHypothesis,
            [("hypothesis", w => w.Str(text)), ("reason", w => w.Str("sample")), ("action", w => w.Str(action))]);
        return PickleText.Of(tag switch
        {
            "hypothesis generation" => hyp,
            "coder result" => subList,
            _ => p => p.Object(model ? ModelExperiment : FactorExperiment,
            [
                ("hypothesis", hyp), ("sub_workspace_list", subList), ("based_experiments", w => w.List([])),
                ("experiment_workspace", Workspace(QlibWorkspace, experiment)),
            ]),
        });
    }

    private static void Noise(string trace, string[] tag, ref DateTimeOffset t)
    {
        for (var i = 0; i < 3; i++)
        {
            Write(trace, [.. tag, "debug_llm"], ref t,
                p => p.Dict([("system", w => w.Str("s")), ("user", w => w.Str("u")), ("resp", w => w.Str("r"))]));
        }
    }

    private static void Write(string trace, string[] tag, ref DateTimeOffset t, Action<PickleText> body)
    {
        var dir = Path.Combine([trace, .. tag, Pid]);
        Directory.CreateDirectory(dir);
        var name = t.UtcDateTime.ToString(Stamp, CultureInfo.InvariantCulture) + ".pkl";
        File.WriteAllBytes(Path.Combine(dir, name), PickleText.Of(body));
        t = t.AddSeconds(1);
    }
}
