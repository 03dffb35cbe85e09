using System.Globalization;
using System.Text;
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
public sealed class SampleGenerator(SampleOptions options)
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

    // RD-Agent links the shared market data into each factor workspace. Windows grants symbolic links only to
    // administrators or in developer mode; without that right the workspace simply has no link (bundles never
    // include it), and nothing else in the tree differs.
    private static void LinkMarketData(string link, string target)
    {
        try
        {
            File.CreateSymbolicLink(link, target);
        }
        catch (Exception e) when (OperatingSystem.IsWindows() && e is UnauthorizedAccessException or IOException)
        {
        }
    }

    private void WriteModelCode(string dir)
    {
        Directory.CreateDirectory(dir);
        var hidden = 32 << _rng.Next(3);
        File.WriteAllText(Path.Combine(dir, "model.py"), ModelPy(hidden));
    }

    private static string ModelPy(int hidden) => $$"""
        import torch
        from torch import nn


        class GRUModel(nn.Module):
            def __init__(self, num_features, num_timesteps=20):
                super().__init__()
                self.rnn = nn.GRU(num_features, {{hidden}}, batch_first=True)
                self.head = nn.Linear({{hidden}}, 1)

            def forward(self, x):
                out, _ = self.rnn(x)
                return self.head(out[:, -1, :]).squeeze(-1)


        model_cls = GRUModel

        """;

    /// <summary>Writes an experiment workspace; returns the backtest its runner logs, when it has results.</summary>
    private SampleBacktest? WriteExperimentWorkspace(string dir, string action, bool withResults)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "README.md"),
            "# Qlib experiment workspace\nRun `qrun <conf>.yaml` then `python read_exp_res.py`.\n");
        File.WriteAllText(Path.Combine(dir, "read_exp_res.py"),
            "# Reads the latest recorder and writes qlib_res.csv and ret.pkl.\nimport qlib\n");
        string runner;
        if (action == "factor")
        {
            File.WriteAllText(Path.Combine(dir, "conf_baseline.yaml"),
                Template(model: false, staticFactors: false, processors: true));
            File.WriteAllText(Path.Combine(dir, "conf_combined_factors.yaml"),
                Template(model: false, staticFactors: true, processors: false));
            File.WriteAllText(Path.Combine(dir, "conf_combined_factors_sota_model.yaml"),
                Template(model: true, staticFactors: true, processors: true));
            runner = "conf_combined_factors.yaml";
        }
        else
        {
            File.WriteAllText(Path.Combine(dir, "conf_baseline_factors_model.yaml"),
                Template(model: true, staticFactors: false, processors: true));
            File.WriteAllText(Path.Combine(dir, "conf_sota_factors_model.yaml"),
                Template(model: true, staticFactors: true, processors: true));
            File.WriteAllText(Path.Combine(dir, "model.py"), ModelPy(64));
            runner = "conf_baseline_factors_model.yaml";
        }
        if (!withResults) return null;
        var lgb = action == "factor";
        var metrics = Metrics(_rng, lgb);
        var order = metrics.Keys.ToDictionary(k => k, _ => _rng.Next());
        var (retPkl, mlflowReport) = SampleCurve.Write(CurveSeed(), metrics);
        var ordered = metrics.OrderBy(m => order[m.Key]).Select(m => (m.Key, m.Value)).ToList();
        var lines = ordered.Select(m => $"{m.Key},{m.Value.ToString("R", Inv)}");
        File.WriteAllText(Path.Combine(dir, "qlib_res.csv"), ",0\n" + string.Join("\n", lines) + "\n");
        File.WriteAllBytes(Path.Combine(dir, "ret.pkl"), retPkl);
        WriteMlruns(Path.Combine(dir, "mlruns"), runner, metrics, lgb);
        WriteMlflowReports(Path.Combine(dir, "mlruns"), mlflowReport);
        return new SampleBacktest(ordered, mlflowReport);
    }

    /// <summary>
    /// The seed of a loop's curve, drawn from as much of the random stream as the filler <c>ret.pkl</c> took before,
    /// so every id and outcome after it stays what it was for the same sample seed.
    /// </summary>
    private int CurveSeed() => BitConverter.ToInt32(Floats(options.PickleKilobytes), 16);

    /// <summary>The runs' <c>report_normal_1day.pkl</c> hold the loop's curve, as Qlib's recorder leaves it.</summary>
    private static void WriteMlflowReports(string mlruns, byte[] report)
    {
        foreach (var path in Directory.EnumerateFiles(mlruns, "report_normal_1day.pkl", SearchOption.AllDirectories))
            File.WriteAllBytes(path, report);
    }

    private static SortedDictionary<string, double> Metrics(Random rng, bool lgb)
    {
        double N(double mean, double sd) => mean + sd * (rng.NextDouble() * 2 - 1);
        var ic = N(0.045, 0.015);
        var m = new SortedDictionary<string, double>(StringComparer.Ordinal)
        {
            ["IC"] = ic, ["ICIR"] = ic * N(8, 1.5), ["Rank IC"] = ic * N(1.05, 0.05), ["Rank ICIR"] = ic * N(8.5, 1.5),
            ["1day.ffr"] = 1.0, ["1day.pa"] = 0.0, ["1day.pos"] = 0.0,
        };
        foreach (var (cost, drag) in new[] { ("without_cost", 0.0), ("with_cost", 0.035) })
        {
            var ann = N(0.09, 0.05) - drag;
            var ir = ann / N(0.09, 0.01);
            var mean = ann / 238;
            m[$"1day.excess_return_{cost}.annualized_return"] = ann;
            m[$"1day.excess_return_{cost}.information_ratio"] = ir;
            m[$"1day.excess_return_{cost}.max_drawdown"] = -Math.Abs(N(0.10, 0.05));
            m[$"1day.excess_return_{cost}.mean"] = mean;
            m[$"1day.excess_return_{cost}.std"] = Math.Abs(mean / ir * Math.Sqrt(238));
        }
        if (lgb) { m["l2.train"] = N(0.99, 0.004); m["l2.valid"] = N(0.995, 0.003); }
        return m;
    }

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
            File.WriteAllBytes(p, Floats(rel.StartsWith("pred", StringComparison.Ordinal)
                ? options.PickleKilobytes * 2
                : Math.Max(1, options.PickleKilobytes / 2)));
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

    private static string Template(bool model, bool staticFactors, bool processors)
    {
        var sb = new StringBuilder();
        sb.Append("""
            qlib_init:
                provider_uri: "~/.qlib/qlib_data/cn_data"
                region: cn

            market: &market csi300
            benchmark: &benchmark SH000300

            data_handler_config: &data_handler_config
                start_time: {{ train_start | default("2008-01-01", true) }}
                end_time: {{ test_end | default("2020-08-01", true) }}
                instruments: *market
                data_loader:
                    class: NestedDataLoader
                    kwargs:
                        dataloader_l:
                            - class: qlib.contrib.data.loader.Alpha158DL
                              kwargs:
                                config:
                                    label:
                                        - ["Ref($close, -2)/Ref($close, -1) - 1"]
                                        - ["LABEL0"]
                                    feature:
                                        - {{ feature_expressions }}
                                        - {{ feature_names }}

            """);
        if (staticFactors)
        {
            sb.Append("""
                                - class: qlib.data.dataset.loader.StaticDataLoader
                                  kwargs:
                                    config: "combined_factors_df.parquet"

                """);
        }

        if (processors)
        {
            sb.Append("""
                infer_processors:
                    - class: RobustZScoreNorm
                      kwargs:
                          fields_group: feature
                          clip_outlier: true
                          fit_start_time: {{ train_start | default("2008-01-01", true) }}
                          fit_end_time: {{ train_end | default("2014-12-31", true) }}
                    - class: Fillna
                      kwargs:
                          fields_group: feature

            """);
        }

        sb.Append("""
                learn_processors:
                    - class: DropnaLabel
                    - class: CSZScoreNorm
                      kwargs:
                          fields_group: label

            port_analysis_config: &port_analysis_config
                strategy:
                    class: TopkDropoutStrategy
                    module_path: qlib.contrib.strategy
                    kwargs:
                        signal: <PRED>
                        topk: 50
                        n_drop: 5
                backtest:
                    start_time: {{ test_start | default("2017-01-01", true) }}
                    end_time: {{ test_end | default("2020-08-01", true) }}
                    account: 100000000
                    benchmark: *benchmark
                    exchange_kwargs:
                        limit_threshold: 0.095
                        deal_price: close
                        open_cost: 0.0005
                        close_cost: 0.0015
                        min_cost: 5

            task:
                model:

            """);
        sb.Append(model ? """
                    class: GeneralPTNN
                    module_path: qlib.contrib.model.pytorch_general_nn
                    kwargs:
                        n_epochs: {{ n_epochs | default(100) }}
                        lr: {{ lr | default(0.001) }}
                        early_stop: {{ early_stop | default(10) }}
                        batch_size: {{ batch_size | default(2000) }}
                        weight_decay: {{ weight_decay | default(0.0) }}
                        metric: loss
                        loss: mse
                        GPU: 0
                        pt_model_uri: "model.model_cls"

            """ : """
                    class: LGBModel
                    module_path: qlib.contrib.model.gbdt
                    kwargs:
                        loss: mse
                        colsample_bytree: 0.8879
                        learning_rate: 0.2
                        subsample: 0.8789
                        lambda_l1: 205.6999
                        lambda_l2: 580.9768
                        max_depth: 8
                        num_leaves: 210
                        num_threads: 20

            """);
        sb.Append("""
                dataset:
                    class: DatasetH
                    module_path: qlib.data.dataset
                    kwargs:
                        handler:
                            class: DataHandlerLP
                            module_path: qlib.contrib.data.handler
                            kwargs: *data_handler_config
                        segments:

            """);
        sb.Append("                train: [{{ train_start | default(\"2008-01-01\", true) }}, "
            + "{{ train_end | default(\"2014-12-31\", true) }}]\n");
        sb.Append("                valid: [{{ valid_start | default(\"2015-01-01\", true) }}, "
            + "{{ valid_end | default(\"2016-12-31\", true) }}]\n");
        sb.Append("                test: [{{ test_start | default(\"2017-01-01\", true) }}, "
            + "{{ test_end | default(\"2020-08-01\", true) }}]\n");
        sb.Append("""
                record:
                    - class: SignalRecord
                      module_path: qlib.workflow.record_temp
                      kwargs:
                        model: <MODEL>
                        dataset: <DATASET>
                    - class: SigAnaRecord
                      module_path: qlib.workflow.record_temp
                      kwargs:
                        ana_long_short: False
                        ann_scaler: 252
                    - class: PortAnaRecord
                      module_path: qlib.workflow.record_temp
                      kwargs:
                        config: *port_analysis_config

            """);
        return sb.ToString();
    }

    private static string Iso(DateTimeOffset t) => UtcText.FormatSeconds(t);
}
