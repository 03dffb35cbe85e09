using System.Globalization;
using System.Text;

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
/// Writes an RD-Agent log tree as the current RD-Agent does (<c>log/&lt;UTC start&gt;/Loop_N/&lt;step&gt;/&lt;tag&gt;/&lt;pid&gt;/
/// &lt;timestamp&gt;.pkl</c>, steps <c>direct_exp_gen, coding, running, feedback, record</c>), with the objects pickled at
/// protocol 4 the way CPython pickles RD-Agent's classes (class + <c>__dict__</c>), workspace paths as
/// <c>pathlib.PosixPath</c> and times as tz-aware datetimes; plus <c>debug_llm</c> noise and <c>__session__</c> files.
/// The experiment's <c>running_info.result</c> is None here (the metrics are in the workspace's qlib_res.csv).
/// </summary>
public sealed class SampleLog(string logRoot, string storedRoot)
{
    private const string Pid = "12345";

    /// <summary>Writes one task run's log folder; <paramref name="scenario"/> is fin_factor, fin_model or fin_quant.</summary>
    public string WriteRun(DateTimeOffset start, string scenario, IReadOnlyList<SampleLogLoop> loops)
    {
        var trace = Path.Combine(logRoot, start.UtcDateTime.ToString("yyyy-MM-dd_HH-mm-ss-ffffff", CultureInfo.InvariantCulture));
        var scen = scenario switch
        {
            "fin_model" => "rdagent.scenarios.qlib.experiment.model_experiment.QlibModelScenario",
            "fin_quant" => "rdagent.scenarios.qlib.experiment.quant_experiment.QlibQuantScenario",
            _ => "rdagent.scenarios.qlib.experiment.factor_experiment.QlibFactorScenario",
        };
        var t = start;
        Write(trace, ["scenario"], ref t, p => p.Object(scen, [("_background", w => w.Str("Qlib research on CSI300"))]));
        Write(trace, ["RDLOOP_SETTINGS"], ref t, p => p.Dict([("scen", w => w.Str(scen)), ("evolving_n", w => w.Int(10)),
            ("train_start", w => w.Str("2008-01-01")), ("test_end", w => w.Str("2020-08-01"))]));
        foreach (var loop in loops) WriteLoop(trace, scenario, loop);
        return trace;
    }

    private void WriteLoop(string trace, string scenario, SampleLogLoop loop)
    {
        var lp = $"Loop_{loop.LoopId}";
        var model = loop.Action == "model";
        var t = loop.Started;
        var step = (loop.Ended - loop.Started) / 12;
        void Timed(string name, Action body)
        {
            var s = t;
            body();
            t += step;
            var e = t;
            Write(trace, [lp, name, "time_info"], ref t, p => p.Dict([("start_time", w => w.Time(s)), ("end_time", w => w.Time(e))]));
        }
        Action<PickleText> Hyp = p => p.Object(scenario == "fin_quant"
                ? "rdagent.scenarios.qlib.proposal.quant_proposal.QlibQuantHypothesis" : "rdagent.core.proposal.Hypothesis",
            [("hypothesis", w => w.Str(loop.Hypothesis)), ("reason", w => w.Str("because")),
             .. scenario == "fin_quant" ? new (string, Action<PickleText>)[] { ("action", w => w.Str(loop.Action)) } : []]);
        var taskClass = model ? "rdagent.components.coder.model_coder.model.ModelTask" : "rdagent.components.coder.factor_coder.factor.FactorTask";
        Action<PickleText> Tasks = p => p.List(loop.SubWorkspaces.Select((_, i) => (Action<PickleText>)(w =>
            w.Object(taskClass, [("name", x => x.Str($"task_{loop.LoopId}_{i}"))]))));
        var wsClass = model ? "rdagent.components.coder.model_coder.model.ModelFBWorkspace" : "rdagent.components.coder.factor_coder.factor.FactorFBWorkspace";
        Action<PickleText> Workspace(string cls, string rel) => p => p.Object(cls,
            [("file_dict", w => w.Dict([])), ("workspace_path", w => w.PosixPath(storedRoot.TrimEnd('/') + "/" + rel))]);
        Action<PickleText> Subs = p => p.List(loop.SubWorkspaces.Select(s => Workspace(wsClass, s)));
        var expClass = model ? "rdagent.scenarios.qlib.experiment.model_experiment.QlibModelExperiment"
            : "rdagent.scenarios.qlib.experiment.factor_experiment.QlibFactorExperiment";
        Action<PickleText> Experiment = p => p.Object(expClass,
        [
            ("hypothesis", Hyp), ("sub_tasks", Tasks), ("sub_workspace_list", Subs), ("based_experiments", w => w.List([])),
            ("experiment_workspace", loop.ExperimentWorkspace is { } e
                ? Workspace("rdagent.scenarios.qlib.experiment.workspace.QlibFBWorkspace", e) : w => w.None()),
            ("running_info", w => w.Object("rdagent.core.experiment.RunningInfo", [("result", x => x.None()), ("running_time", x => x.None())])),
        ]);

        Timed("direct_exp_gen", () =>
        {
            Noise(trace, [lp, "direct_exp_gen"], ref t);
            Write(trace, [lp, "direct_exp_gen", "hypothesis generation"], ref t, Hyp);
            Write(trace, [lp, "direct_exp_gen", "experiment generation"], ref t, Tasks);
        });
        Timed("coding", () => Write(trace, [lp, "coding", "coder result"], ref t, scenario == "fin_quant" ? Experiment : Subs));
        if (loop.Outcome == SampleLogLoop.Running)
        {
            Directory.CreateDirectory(Path.Combine(trace, lp, "running"));
            return;
        }
        Timed("running", () =>
        {
            if (loop.Outcome == SampleLogLoop.Failed) return;
            Write(trace, [lp, "running", "Qlib_execute_log"], ref t, p => p.Str("qrun output"));
            Write(trace, [lp, "running", "runner result"], ref t, Experiment);
        });
        var failed = loop.Outcome == SampleLogLoop.Failed;
        Timed("feedback", () => Write(trace, [lp, "feedback", "feedback"], ref t, p => p.Object("rdagent.core.proposal.HypothesisFeedback",
        [
            ("decision", w => w.Bool(!failed && loop.Decision)),
            ("reason", w => w.Str(failed ? "factor.py raised KeyError: '$vwap'" : $"IC {(loop.Decision ? "improved" : "fell")}")),
            ("exception", w => { if (failed) w.Object("rdagent.core.exception.CoderError", []); else w.None(); }),
            ("observations", w => w.Str("backtest finished")), ("new_hypothesis", w => w.Str("try a liquidity factor")),
        ])));
        Timed("record", () => { });
        var session = Path.Combine(trace, "__session__", loop.LoopId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(session);
        foreach (var (name, i) in new[] { "direct_exp_gen", "coding", "running", "feedback", "record" }.Select((n, i) => (n, i)))
            File.WriteAllBytes(Path.Combine(session, $"{i}_{name}"), PickleText.Of(p => p.Dict([("step_idx", w => w.Int(i))])));
    }

    /// <summary>
    /// What RD-Agent logs under <paramref name="tag"/> for a loop of the registry sample: the hypothesis, the coded
    /// sub-workspaces or the experiment, naming the workspaces by their stored paths (any of the three spellings).
    /// </summary>
    public static byte[] Payload(string tag, string text, string action, string experiment, IReadOnlyList<string> subs)
    {
        var model = action == "model";
        var wsClass = model ? "rdagent.components.coder.model_coder.model.ModelFBWorkspace" : "rdagent.components.coder.factor_coder.factor.FactorFBWorkspace";
        Action<PickleText> Workspace(string cls, string path) => p => p.Object(cls,
            [("file_dict", w => w.Dict([])), ("workspace_path", w => w.StoredPath(path))]);
        Action<PickleText> Subs = p => p.List(subs.Select(s => Workspace(wsClass, s)));
        Action<PickleText> Hyp = p => p.Object("rdagent.scenarios.qlib.proposal.quant_proposal.QlibQuantHypothesis",
            [("hypothesis", w => w.Str(text)), ("reason", w => w.Str("sample")), ("action", w => w.Str(action))]);
        return PickleText.Of(tag switch
        {
            "hypothesis generation" => Hyp,
            "coder result" => Subs,
            _ => p => p.Object(model ? "rdagent.scenarios.qlib.experiment.model_experiment.QlibModelExperiment"
                : "rdagent.scenarios.qlib.experiment.factor_experiment.QlibFactorExperiment",
            [
                ("hypothesis", Hyp), ("sub_workspace_list", Subs), ("based_experiments", w => w.List([])),
                ("experiment_workspace", Workspace("rdagent.scenarios.qlib.experiment.workspace.QlibFBWorkspace", experiment)),
            ]),
        });
    }

    private static void Noise(string trace, string[] tag, ref DateTimeOffset t)
    {
        for (var i = 0; i < 3; i++)
            Write(trace, [.. tag, "debug_llm"], ref t, p => p.Dict([("system", w => w.Str("s")), ("user", w => w.Str("u")), ("resp", w => w.Str("r"))]));
    }

    private static void Write(string trace, string[] tag, ref DateTimeOffset t, Action<PickleText> body)
    {
        var dir = Path.Combine([trace, .. tag, Pid]);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, t.UtcDateTime.ToString("yyyy-MM-dd_HH-mm-ss-ffffff", CultureInfo.InvariantCulture) + ".pkl"),
            PickleText.Of(body));
        t = t.AddSeconds(1);
    }
}

/// <summary>
/// A protocol-4 pickle of plain data and of objects as CPython pickles a class without <c>__reduce__</c>: the class by
/// STACK_GLOBAL, NEWOBJ with no arguments, then BUILD with its <c>__dict__</c>.
/// </summary>
public sealed class PickleText
{
    private readonly List<byte> _b = [0x80, 0x04];

    public static byte[] Of(Action<PickleText> body)
    {
        var p = new PickleText();
        body(p);
        p._b.Add((byte)'.');
        return p._b.ToArray();
    }

    public void Str(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        if (utf8.Length < 256) { _b.Add(0x8c); _b.Add((byte)utf8.Length); }
        else { _b.Add((byte)'X'); _b.AddRange(BitConverter.GetBytes((uint)utf8.Length)); }
        _b.AddRange(utf8);
    }

    public void None() => _b.Add((byte)'N');
    public void Bool(bool v) => _b.Add(v ? (byte)0x88 : (byte)0x89);
    public void Int(int v) { _b.Add((byte)'J'); _b.AddRange(BitConverter.GetBytes(v)); }

    public void List(IEnumerable<Action<PickleText>> items)
    {
        _b.Add((byte)']');
        foreach (var item in items) { item(this); _b.Add((byte)'a'); }
    }

    public void Dict(IEnumerable<(string Key, Action<PickleText> Value)> items)
    {
        _b.Add((byte)'}');
        foreach (var (k, v) in items) { Str(k); v(this); _b.Add((byte)'s'); }
    }

    public void Object(string className, IEnumerable<(string Key, Action<PickleText> Value)> state)
    {
        Global(className);
        _b.Add((byte)')'); _b.Add(0x81);
        Dict(state);
        _b.Add((byte)'b');
    }

    /// <summary>A path as the machine that wrote it held it: <c>pathlib.WindowsPath</c> for a drive path, else PosixPath.</summary>
    public void StoredPath(string path)
    {
        if (path.Length < 3 || path[1] != ':' || !char.IsAsciiLetter(path[0])) { PosixPath(path); return; }
        var parts = path[2..].Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries).ToList();
        parts.Insert(0, path[..2] + "\\");
        Parts("pathlib.WindowsPath", parts);
    }

    /// <summary>A <c>pathlib.PosixPath</c>: its class and the tuple of its parts, by REDUCE.</summary>
    public void PosixPath(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (path.StartsWith('/')) parts.Insert(0, "/");
        Parts("pathlib.PosixPath", parts);
    }

    private void Parts(string cls, List<string> parts)
    {
        Global(cls);
        _b.Add((byte)'(');
        foreach (var part in parts) Str(part);
        _b.Add((byte)'t'); _b.Add((byte)'R');
    }

    /// <summary>A tz-aware <c>datetime.datetime</c> in UTC: its 10-byte state and <c>datetime.timezone(timedelta(0))</c>.</summary>
    public void Time(DateTimeOffset t)
    {
        var u = t.UtcDateTime;
        var us = (int)(u.Ticks % TimeSpan.TicksPerSecond / 10);
        Global("datetime.datetime");
        _b.Add((byte)'C'); _b.Add(10);
        _b.AddRange([(byte)(u.Year >> 8), (byte)u.Year, (byte)u.Month, (byte)u.Day, (byte)u.Hour, (byte)u.Minute, (byte)u.Second,
            (byte)(us >> 16), (byte)(us >> 8), (byte)us]);
        Global("datetime.timezone");
        Global("datetime.timedelta");
        _b.AddRange([(byte)'K', 0, (byte)'K', 0, (byte)'K', 0, 0x87, (byte)'R', 0x85, (byte)'R', 0x86, (byte)'R']);
    }

    private void Global(string className)
    {
        var dot = className.LastIndexOf('.');
        Str(className[..dot]);
        Str(className[(dot + 1)..]);
        _b.Add(0x93);
    }
}
