using System.Globalization;
using RdBridge.IO;
using RdBridge.Registry;

namespace RdBridge.Sample;

/// <param name="LogGeneration">the RD-Agent log layout of every task run; null chooses it by flavor
/// (<see cref="SampleGenerator.GenerationOf"/>)</param>
/// <param name="NoRegistry">write no registry, as upstream RD-Agent leaves none: discovery builds it from the log
/// </param>
public sealed record SampleOptions(string OutDirectory, int TaskRuns = 2, int LoopsPerTaskRun = 4, int Seed = 42,
    int PickleKilobytes = 8, SampleFlavor Flavor = SampleFlavor.Mixed, SampleLogGeneration? LogGeneration = null,
    bool NoRegistry = false);

/// <summary>
/// Writes a realistic RD-Agent output tree (registry, workspaces, MLflow runs, logs) plus an empty AIstock root and an
/// <c>rdbridge.json</c> for them, the same for the same seed. Stored paths are Windows/WSL spellings of
/// <c>F:/Dev/RD-Agent-main</c> so path mapping is always exercised. The registry and the log name the same workspaces
/// for every loop: the log is written by <see cref="SampleLog"/> from the very loops the registry gets.
/// </summary>
public sealed partial class SampleGenerator(SampleOptions options)
{
    public const string StoredRoot = "F:/Dev/RD-Agent-main";
    private static readonly string[] FactorStems =
        ["PriceStrength", "Momentum", "VolumeRatio", "Volatility", "TurnoverAnomaly", "HighLowRange", "ReturnSkew",
            "AmountTrend"];
    private static readonly string[] FactorLabels =
        ["价格强度因子", "动量因子", "量比因子", "波动率因子", "换手率异常因子", "振幅因子", "收益偏度因子", "成交额趋势因子"];
    private static readonly int[] Windows = [5, 10, 20, 60];
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly Random _rng = new(options.Seed);

    public string RdAgentRoot => Path.Combine(options.OutDirectory, "RD-Agent-main");

    public void Generate()
    {
        var root = RdAgentRoot;
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
        {
            throw new IOException(
                $"'{root}' already exists and is not empty; choose another --out folder or remove it");
        }

        Directory.CreateDirectory(Path.Combine(options.OutDirectory, "AIstock"));
        Directory.CreateDirectory(Path.Combine(options.OutDirectory, "rd-strategies-lib"));
        var baseTime = new DateTimeOffset(2025, 7, 1, 8, 30, 12, TimeSpan.Zero);
        var baselines = new List<string>();
        void TaskRuns(RegistryWrite? write)
        {
            for (var t = 0; t < options.TaskRuns; t++)
                GenerateTaskRun(write, t, baseTime.AddDays(t).AddMinutes(_rng.Next(0, 600)), baselines);
        }
        if (options.NoRegistry)
        {
            TaskRuns(null);
        }
        else
        {
            using var registry = RegistryDatabase.Create(Path.Combine(root, "RDagentDB", "registry.sqlite"));
            registry.Write(write =>
            {
                TaskRuns(write);
                return 0;
            });
        }
        SampleFlavors.Apply(root, options.Flavor, baselines);
        File.WriteAllText(Path.Combine(options.OutDirectory, "rdbridge.json"), """
            {
              "rdagent": { "root": "RD-Agent-main", "strategiesLib": "rd-strategies-lib" },
              "pathMap": { "F:/Dev/RD-Agent-main": "RD-Agent-main" },
              "aistock": { "root": "AIstock" }
            }

            """);
    }

    private static readonly SampleLogGeneration[] Rotation =
        [SampleLogGeneration.Head, SampleLogGeneration.V03, SampleLogGeneration.V05, SampleLogGeneration.V08];

    /// <summary>
    /// The log layout of a task run: <c>--log-generation</c>, else the flavor's RD-Agent (upstream: HEAD; v0.8 and
    /// the fork, which is based on v0.8: v0.6–v0.8), and <c>mixed</c> rotates the task runs over all four.
    /// </summary>
    public static SampleLogGeneration GenerationOf(SampleOptions options, int taskRun) =>
        options.LogGeneration ?? options.Flavor switch
        {
            SampleFlavor.Upstream => SampleLogGeneration.Head,
            SampleFlavor.V080 or SampleFlavor.Fork => SampleLogGeneration.V08,
            _ => Rotation[taskRun % Rotation.Length],
        };

    private string Hex() { var b = new byte[16]; _rng.NextBytes(b); return Convert.ToHexStringLower(b); }

    // Each task run stores its paths in one of the three spellings real registries hold.
    private static string Stored(int taskRun, string relative)
    {
        var posix = $"{StoredRoot}/{relative}";
        return (taskRun % 3) switch
        {
            0 => posix,
            1 => posix.Replace('/', '\\'),
            _ => "/mnt/f/" + posix[3..],
        };
    }

    private void GenerateTaskRun(RegistryWrite? db, int t, DateTimeOffset start, List<string> baselines)
    {
        var taskRunId = Hex();
        var generation = GenerationOf(options, t);
        // RD-Agent of v0.3 had no quant loop: that task run researches factors.
        var scenario = (t % 3) switch
        {
            0 when SampleLog.HasQuantLoop(generation) => "QuantRDLoop", 0 or 1 => "FactorRDLoop", _ => "ModelRDLoop",
        };
        var trace = UtcText.RdAgentStamp(start);
        var version = generation switch
        {
            SampleLogGeneration.V03 => "0.3.0", SampleLogGeneration.V05 => "0.5.0", _ => "0.8.0",
        };
        db?.AddTaskRun(new NewTaskRun(taskRunId, scenario, "success", Iso(start), version, Stored(t, $"log/{trace}")));
        var time = start;
        var sota = new List<string>();
        var logged = new List<SampleLogLoop>();
        for (var l = 0; l < options.LoopsPerTaskRun; l++)
        {
            var action = scenario switch
            {
                "FactorRDLoop" => "factor", "ModelRDLoop" => "model", _ => _rng.Next(2) == 0 ? "factor" : "model"
            };
            // Loop 0 always has results; later loops sometimes fail or finish without a backtest.
            var roll = l == 0 ? 0 : _rng.Next(100);
            var outcome = roll < 75 ? "result" : roll < 88 ? "failed" : "noresult";
            var begin = time;
            time = time.AddMinutes(20 + _rng.Next(0, 40));
            var expId = Hex();
            var expRel = $"git_ignore_folder/RD-Agent_workspace/{expId}";
            var expDir = Path.Combine(RdAgentRoot, "git_ignore_folder", "RD-Agent_workspace", expId);
            var wsStatus = (l % 3) switch { 0 => "success", 1 => "present", _ => (string?)null };
            // A factor or model loop whose runner failed logged only its coded sub-workspaces: its experiment
            // workspace was never written (the quant loop logs its whole experiment as the coder result).
            var hasExperiment = outcome != "failed" || scenario == "QuantRDLoop";
            if (hasExperiment)
            {
                db?.AddWorkspace(new NewWorkspace(
                    new WorkspaceRow(
                        expId, taskRunId, l, "experiment_workspace", action, "running", wsStatus, Stored(t, expRel)),
                    Iso(begin)));
            }
            var factorNames = new List<string>();
            var factorTasks = new List<SampleFactorTask>();
            var subPaths = new List<string>();
            var subCount = action == "factor" ? 1 + _rng.Next(3) : 1;
            for (var s = 0; s < subCount; s++)
            {
                var subId = Hex();
                var subDir = Path.Combine(RdAgentRoot, "git_ignore_folder", "RD-Agent_workspace", subId);
                db?.AddWorkspace(new NewWorkspace(
                    new WorkspaceRow(subId, taskRunId, l, "sub_workspace", action, "coding", "success",
                        Stored(t, $"git_ignore_folder/RD-Agent_workspace/{subId}")),
                    Iso(begin)));
                subPaths.Add(Stored(t, $"git_ignore_folder/RD-Agent_workspace/{subId}"));
                if (action == "factor")
                {
                    var task = WriteFactorWorkspace(subDir);
                    factorNames.Add(task.Name);
                    factorTasks.Add(task);
                }
                else
                {
                    WriteModelCode(subDir);
                }
            }
            var backtest = hasExperiment ? WriteExperimentWorkspace(expDir, action, outcome == "result") : null;
            if (outcome == "result" && action == "factor")
            {
                // The run trains on the SOTA factors so far plus this loop's new ones.
                var combined = sota.Concat(factorNames).Distinct().ToList();
                Backfill.CombinedFactors.Write(Path.Combine(expDir, Backfill.CombinedFactors.FileName), combined, 16,
                    _rng);
                sota.AddRange(factorNames.Where(n => !sota.Contains(n)));
            }
            var decision = outcome != "failed" && _rng.Next(2) == 0;
            var hypothesis = action == "factor"
                ? $"Loop {l}: {string.Join(", ", factorNames)} predict next-day excess returns on CSI300"
                : $"Loop {l}: a GRU over 20 days of Alpha158 features beats the LightGBM baseline";
            var loop = new SampleLogLoop(l, action, outcome, hypothesis, decision,
                hasExperiment ? Stored(t, expRel) : null, subPaths, begin, time)
            {
                Backtest = backtest,
                FactorTasks = factorTasks,
            };
            if (l == 0 && scenario == "FactorRDLoop")
                loop = WithBaseline(db, loop, taskRunId, t, begin, baselines);
            logged.Add(loop);
            var status = outcome == "failed" ? "failed" : "success";
            var failed = outcome == "failed";
            db?.AddLoop(new LoopRow(taskRunId, l, action, status, HasResult: outcome == "result",
                LogDir: Stored(t, $"log/{trace}"), StartedAtUtc: Iso(begin), EndedAtUtc: Iso(time),
                ErrorType: failed ? "CoderError" : null,
                ErrorMessage: failed ? "factor.py raised KeyError: '$vwap' while computing the factor" : null,
                AssetBundleId: null, IsSolidified: false, MaterializationStatus: null, UpdatedAtUtc: Iso(time),
                Scenario: scenario, LogTracePath: null));
        }
        var scen = scenario switch { "FactorRDLoop" => "fin_factor", "ModelRDLoop" => "fin_model", _ => "fin_quant" };
        new SampleLog(Path.Combine(RdAgentRoot, "log"), generation).WriteRun(start, scen, logged);
    }

    /// <summary>
    /// fin_factor's loop 0 first backtests the Alpha20 baseline in an experiment workspace of its own (RD-Agent's
    /// <c>based_experiments[0]</c>), which the registry keeps as the loop's <c>baseline_workspace</c>. Its numbers come
    /// from a generator of their own, so the rest of the sample draws what it drew before.
    /// </summary>
    private SampleLogLoop WithBaseline(RegistryWrite? db, SampleLogLoop loop, string taskRunId, int t,
        DateTimeOffset begin, List<string> baselines)
    {
        var rng = new Random(unchecked(options.Seed * 7919 + t));
        var bytes = new byte[16];
        rng.NextBytes(bytes);
        var id = Convert.ToHexStringLower(bytes);
        var rel = $"git_ignore_folder/RD-Agent_workspace/{id}";
        var dir = Path.Combine(RdAgentRoot, "git_ignore_folder", "RD-Agent_workspace", id);
        Directory.CreateDirectory(dir);
        baselines.Add(dir);
        File.WriteAllText(Path.Combine(dir, "README.md"), "# Qlib experiment workspace: the Alpha20 baseline\n");
        File.WriteAllText(Path.Combine(dir, "read_exp_res.py"),
            "# Reads the latest recorder and writes qlib_res.csv and ret.pkl.\nimport qlib\n");
        File.WriteAllText(Path.Combine(dir, "conf_baseline.yaml"),
            Template(model: false, staticFactors: false, processors: true));
        var metrics = Metrics(rng, lgb: true);
        var (retPkl, chart) = SampleCurve.Write(rng.Next(), metrics);
        var ordered = metrics.Select(m => (m.Key, m.Value)).ToList();
        File.WriteAllText(Path.Combine(dir, "qlib_res.csv"),
            ",0\n" + string.Concat(ordered.Select(m => $"{m.Key},{SampleFlavors.PythonRepr(m.Value)}\n")));
        File.WriteAllBytes(Path.Combine(dir, "ret.pkl"), retPkl);
        db?.AddWorkspace(new NewWorkspace(
            new WorkspaceRow(id, taskRunId, 0, "baseline_workspace", "factor", "running", "success", Stored(t, rel)),
            Iso(begin)));
        return loop with { BaselineWorkspace = Stored(t, rel), BaselineBacktest = new SampleBacktest(ordered, chart) };
    }

    private SampleFactorTask WriteFactorWorkspace(string dir)
    {
        Directory.CreateDirectory(dir);
        var i = _rng.Next(FactorStems.Length);
        var w = Windows[_rng.Next(Windows.Length)];
        var name = $"{FactorStems[i]}_{w}D";
        var field = i % 2 == 0 ? "$close" : "$volume";
        File.WriteAllText(Path.Combine(dir, "factor.py"),
            $"\"\"\"[{FactorLabels[i]}] {w}日{FactorLabels[i]}: rolling {w}-day statistic of {field} relative to "
            + "its mean.\"\"\"\n"
            + $$""""
            import numpy as np
            import pandas as pd


            def calculate_{{name}}():
                df = pd.read_hdf("daily_pv.h5", key="data")
                grouped = df["{{field}}"].groupby(level="instrument")
                mean = grouped.transform(lambda s: s.rolling(window={{w}}).mean())
                result = (df["{{field}}"] / (mean + 1e-12) - 1).to_frame("{{name}}")
                result.to_hdf("result.h5", key="data")


            if __name__ == "__main__":
                calculate_{{name}}()

            """");
        File.WriteAllText(Path.Combine(dir, "README.md"), "# Factor workspace\nMarket data: daily_pv.h5 (linked).\n");
        // The market data is written on every OS, so the random stream (and with it every id and outcome after the
        // first factor) is the same on Windows and Linux for the same seed.
        var data = Path.Combine(RdAgentRoot, "git_ignore_folder", "factor_implementation_source_data");
        Directory.CreateDirectory(data);
        var target = Path.Combine(data, "daily_pv.h5");
        if (!File.Exists(target)) File.WriteAllBytes(target, Floats(64));
        LinkMarketData(Path.Combine(dir, "daily_pv.h5"), target);
        File.WriteAllBytes(Path.Combine(dir, "result.h5"), Floats(options.PickleKilobytes));
        return new SampleFactorTask(name, FactorLabels[i], w, field);
    }

    /// <summary>
    /// The seed of a loop's curve, drawn from as much of the random stream as the filler <c>ret.pkl</c> took before,
    /// so every id and outcome after it stays what it was for the same sample seed.
    /// </summary>
    private int CurveSeed() => BitConverter.ToInt32(Floats(options.PickleKilobytes), 16);

    private void WriteMlruns(string root, string runner, SortedDictionary<string, double> metrics, bool lgb)
    {
        Directory.CreateDirectory(Path.Combine(root, ".trash"));
        Directory.CreateDirectory(Path.Combine(root, "0"));
        File.WriteAllText(Path.Combine(root, "0", "meta.yaml"),
            "artifact_location: file:///workspace/mlruns/0\ncreation_time: 1751358612000\nexperiment_id: '0'\n"
            + "last_update_time: 1751358612000\nlifecycle_stage: active\nname: Default\n");
        var expId = (100000000000000000L + _rng.NextInt64(800000000000000000L)).ToString(Inv);
        var runId = Hex();
        var run = Path.Combine(root, expId, runId);
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(root, expId, "meta.yaml"),
            $"artifact_location: file:///workspace/qlib_workspace/mlruns/{expId}\ncreation_time: 1751358612000\n"
            + $"experiment_id: '{expId}'\nlast_update_time: 1751358612000\nlifecycle_stage: active\nname: workflow\n");
        File.WriteAllText(Path.Combine(run, "meta.yaml"),
            $"artifact_uri: file:///workspace/qlib_workspace/mlruns/{expId}/{runId}/artifacts\n"
            + $"end_time: 1751362212000\nentry_point_name: ''\nexperiment_id: '{expId}'\nlifecycle_stage: active\n"
            + $"run_id: {runId}\nrun_name: mlflow_recorder\nrun_uuid: {runId}\nsource_name: ''\nsource_type: 4\n"
            + "source_version: ''\nstart_time: 1751358612000\nstatus: 3\ntags: []\nuser_id: root\n");
        Directory.CreateDirectory(Path.Combine(run, "metrics"));
        foreach (var (k, v) in metrics)
            File.WriteAllText(Path.Combine(run, "metrics", k), $"1751362200000 {v.ToString("R", Inv)} 0\n");
        Directory.CreateDirectory(Path.Combine(run, "params"));
        var pars = new Dictionary<string, string>
        {
            ["cmd-sys.argv"] = $"/opt/conda/bin/qrun {runner}",
            ["model.class"] = lgb ? "LGBModel" : "GeneralPTNN",
            ["model.module_path"] = lgb ? "qlib.contrib.model.gbdt" : "qlib.contrib.model.pytorch_general_nn",
            ["dataset.kwargs.segments.train"] = "[datetime.date(2008, 1, 1), datetime.date(2014, 12, 31)]",
            ["dataset.kwargs.segments.valid"] = "[datetime.date(2015, 1, 1), datetime.date(2016, 12, 31)]",
            ["dataset.kwargs.segments.test"] = "[datetime.date(2017, 1, 1), datetime.date(2020, 8, 1)]",
        };
        foreach (var (k, v) in pars) File.WriteAllText(Path.Combine(run, "params", k), v);
        Directory.CreateDirectory(Path.Combine(run, "tags"));
        File.WriteAllText(Path.Combine(run, "tags", "mlflow.runName"), "mlflow_recorder");
        var art = Path.Combine(run, "artifacts");
        foreach (var rel in new[] { "params.pkl", "pred.pkl", "label.pkl", "task", "dataset", "config",
                     "sig_analysis/ic.pkl", "sig_analysis/ric.pkl", "portfolio_analysis/report_normal_1day.pkl",
                     "portfolio_analysis/port_analysis_1day.pkl", "portfolio_analysis/indicator_analysis_1day.pkl" })
        {
            var p = Path.Combine(art, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            var filler = Floats(rel.StartsWith("pred", StringComparison.Ordinal)
                ? options.PickleKilobytes * 2
                : Math.Max(1, options.PickleKilobytes / 2));
            // The IC series are real pickles (the loop page draws them); the filler is still drawn, so every id and
            // outcome after it stays what it was for the same seed.
            var icMetric = rel.EndsWith("/ic.pkl", StringComparison.Ordinal) ? "IC"
                : rel.EndsWith("/ric.pkl", StringComparison.Ordinal) ? "Rank IC" : null;
            File.WriteAllBytes(p, icMetric is null ? filler
                : SampleCurve.DailyIc(BitConverter.ToInt32(filler, 16), metrics.GetValueOrDefault(icMetric, 0.03)));
        }
    }

    // Float64 data with a pickle header: compresses like the real pandas pickles.
    private byte[] Floats(int kilobytes)
    {
        var bytes = new byte[Math.Max(1, kilobytes) * 1024];
        bytes[0] = 0x80; bytes[1] = 0x05;
        var v = 1.0;
        for (var i = 16; i + 8 <= bytes.Length; i += 8)
        {
            v *= 1 + (_rng.NextDouble() - 0.5) * 0.02;
            BitConverter.TryWriteBytes(bytes.AsSpan(i, 8), Math.Round(v, 4));
        }
        return bytes;
    }

    private static string Iso(DateTimeOffset t) => UtcText.FormatSeconds(t);
}
