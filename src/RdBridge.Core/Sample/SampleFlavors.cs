using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RdBridge.Sample;

/// <summary>
/// The workspace shapes of the three RD-Agent families users have; <c>mixed</c> rotates them per workspace.
/// </summary>
public enum SampleFlavor { Upstream, V080, Fork, Mixed }

/// <summary>
/// Turns the generated experiment workspaces into what each RD-Agent family really leaves, after the tree is
/// written (so the base sample, and its random draws, stay as they are):
/// <list type="bullet">
/// <item>upstream HEAD: Jinja templates whose <c>test_end</c> defaults to null; the real date only in MLflow
/// params;</item>
/// <item>v0.8.0 (the last pip release): no Jinja, hard-coded dates and 20 features, an <c>Alpha158</c> +
/// <c>FilterCol</c> baseline;</item>
/// <item>the AIstock fork: <c>conf_combined_factors_dynamic.yaml</c> (custom loader,
/// <c>EnhancedTopkDropoutStrategy</c>)
/// that an argv without a YAML ran, and comment-only <c>*_backup.yaml</c> markers.</item>
/// </list>
/// Every family's MLflow store gets Qlib's flattened task as params, the tags and <c>code_*.txt</c> artifacts a real
/// <c>qrun</c> writes, and a FAILED run in a second experiment; <c>qlib_res.csv</c> numbers are printed as pandas does.
/// </summary>
public static partial class SampleFlavors
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static SampleFlavor Parse(string text) => text.ToLowerInvariant() switch
    {
        "upstream" => SampleFlavor.Upstream,
        "v0.8" or "v0.8.0" or "v080" => SampleFlavor.V080,
        "fork" => SampleFlavor.Fork,
        "mixed" => SampleFlavor.Mixed,
        _ => throw new ArgumentException($"--flavor {text}: use upstream, v0.8, fork or mixed"),
    };

    /// <param name="baselines">the Alpha20 baseline workspaces, which keep the template as RD-Agent ran it</param>
    public static void Apply(string rdAgentRoot, SampleFlavor flavor, IReadOnlyCollection<string>? baselines = null)
    {
        var root = Path.Combine(rdAgentRoot, "git_ignore_folder", "RD-Agent_workspace");
        if (!Directory.Exists(root)) return;
        var experiments = Directory.EnumerateDirectories(root)
            .Where(d => Directory.EnumerateFiles(d, "conf_*.yaml").Any() && baselines?.Contains(d) != true)
            .Order(StringComparer.Ordinal).ToList();
        // Rotated within factor and model workspaces separately, so each kind shows every family.
        var seen = new Dictionary<bool, int> { [true] = 0, [false] = 0 };
        for (var i = 0; i < experiments.Count; i++)
        {
            var isFactor = File.Exists(Path.Combine(experiments[i], "conf_baseline.yaml"));
            var f = flavor == SampleFlavor.Mixed ? (SampleFlavor)(seen[isFactor]++ % 3) : flavor;
            Shape(experiments[i], f, i);
        }
    }

    private static void Shape(string dir, SampleFlavor flavor, int index)
    {
        var factor = File.Exists(Path.Combine(dir, "conf_baseline.yaml"));
        var run = MlflowRunFolder(dir);
        switch (flavor)
        {
            case SampleFlavor.Upstream:
                foreach (var yaml in Directory.EnumerateFiles(dir, "conf_*.yaml"))
                {
                    File.WriteAllText(yaml, File.ReadAllText(yaml).Replace(
                        "{{ test_end | default(\"2020-08-01\", true) }}", "{{ test_end | default(\"null\", true) }}"));
                }

                break;
            case SampleFlavor.V080:
                foreach (var yaml in Directory.EnumerateFiles(dir, "conf_*.yaml"))
                    File.WriteAllText(yaml, Backfill.WorkflowConfig.Render(File.ReadAllText(yaml), []));
                if (factor) File.WriteAllText(Path.Combine(dir, "conf_baseline.yaml"), V080Baseline);
                break;
            case SampleFlavor.Fork:
                File.WriteAllText(Path.Combine(dir, (factor ? "conf_combined_factors" : "conf_baseline_factors_model")
                    + "_20251209_backup.yaml"),
                    "# backup of the template before the 2025-12-09 change; see git history\n");
                if (factor) File.WriteAllText(Path.Combine(dir, "conf_combined_factors_dynamic.yaml"), ForkDynamic);
                break;
        }
        if (run is null) return;
        var forkFactor = flavor == SampleFlavor.Fork && factor;
        CompleteRun(run, forkFactor, index);
        AddFailedRun(Path.Combine(dir, "mlruns"), run, index);
        PandasNumbers(Path.Combine(dir, "qlib_res.csv"));
    }

    private static string? MlflowRunFolder(string dir)
    {
        var mlruns = Path.Combine(dir, "mlruns");
        if (!Directory.Exists(mlruns)) return null;
        return Directory.EnumerateDirectories(mlruns).SelectMany(Directory.EnumerateDirectories)
            .Where(d => File.Exists(Path.Combine(d, "meta.yaml"))).Order(StringComparer.Ordinal).FirstOrDefault();
    }

    /// <summary>The params, tags and artifacts a real <c>qrun</c> leaves besides the metrics.</summary>
    private static void CompleteRun(string run, bool forkFactor, int index)
    {
        var pars = Path.Combine(run, "params");
        var loader = forkFactor ? "CombinedAlpha158DynamicFactorsLoader" : "NestedDataLoader";
        var extra = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["dataset.class"] = "DatasetH",
            ["dataset.module_path"] = "qlib.data.dataset",
            ["dataset.kwargs.handler.class"] = "DataHandlerLP",
            ["dataset.kwargs.handler.module_path"] = "qlib.contrib.data.handler",
            ["dataset.kwargs.handler.kwargs.data_loader.class"] = loader,
            ["dataset.kwargs.handler.kwargs.instruments"] = "csi300",
            ["dataset.kwargs.handler.kwargs.start_time"] = "2008-01-01",
            ["dataset.kwargs.handler.kwargs.end_time"] = "2020-08-01",
            ["record"] = "[{'class': 'SignalRecord', 'module_path': 'qlib.workflow.record_temp', 'kwargs': {'model': "
                + "'<MODEL>', 'dataset': '<DATASET>'}}, {'class': 'SigAnaRecord', "
                + "'module_path': 'qlib.workflow.record_temp', "
                + "'kwargs': {'ana_long_short': False, 'ann_scaler': 252}}, {'class': 'PortAnaRecord', 'module_path': "
                + "'qlib.workflow.record_temp', 'kwargs': {'config': {'strategy': {'class': '"
                + (forkFactor ? "EnhancedTopkDropoutStrategy" : "TopkDropoutStrategy") + "', 'module_path': '"
                + (forkFactor
                    ? "rdagent.scenarios.qlib.experiment.factor_template.custom_strategy"
                    : "qlib.contrib.strategy")
                + "', 'kwargs': {'signal': '<PRED>', 'topk': 50, 'n_drop': 5}}, 'backtest': {'start_time': "
                + "datetime.date(2017, 1, 1), 'end_time': datetime.date(2020, 8, 1), 'account': 100000000, "
                + "'benchmark': "
                + "'SH000300', 'exchange_kwargs': {'limit_threshold': 0.095, 'deal_price': 'close', "
                + "'open_cost': 0.0005, "
                + "'close_cost': 0.0015, 'min_cost': 5}}}}}]",
        };
        if (forkFactor)
        {
            // The fork's runner starts qrun through its own entry point: the argv names no YAML. Its dates are its own.
            extra["cmd-sys.argv"] = "/opt/conda/envs/rdagent/bin/python -m rdagent.app.qlib_rd_loop.runner";
            extra["dataset.kwargs.segments.train"] = "[datetime.date(2018, 8, 1), datetime.date(2022, 12, 31)]";
            extra["dataset.kwargs.segments.valid"] = "[datetime.date(2023, 1, 1), datetime.date(2024, 6, 30)]";
            extra["dataset.kwargs.segments.test"] = "[datetime.date(2024, 7, 1), datetime.date(2025, 12, 1)]";
            extra["record"] = extra["record"]
                .Replace("datetime.date(2017, 1, 1)", "datetime.date(2024, 7, 1)", StringComparison.Ordinal)
                .Replace("datetime.date(2020, 8, 1)", "datetime.date(2025, 11, 28)", StringComparison.Ordinal);
        }
        foreach (var (k, v) in extra) File.WriteAllText(Path.Combine(pars, k), v);
        var tags = Path.Combine(run, "tags");
        File.WriteAllText(Path.Combine(tags, "hostname"), $"rdagent-worker-{index % 4}");
        File.WriteAllText(Path.Combine(tags, "mlflow.source.name"), "/opt/conda/bin/qrun");
        File.WriteAllText(Path.Combine(tags, "mlflow.source.type"), "LOCAL");
        File.WriteAllText(Path.Combine(tags, "mlflow.user"), "root");
        var art = Path.Combine(run, "artifacts");
        File.WriteAllText(Path.Combine(art, "code_status.txt"),
            "On branch main\nnothing to commit, working tree clean\n");
        File.WriteAllText(Path.Combine(art, "code_diff.txt"), "");
        File.WriteAllText(Path.Combine(art, "code_cached.txt"), "");
    }

    /// <summary>
    /// A run that failed before its backtest, in an experiment of its own: never the metadata's source.
    /// </summary>
    private static void AddFailedRun(string mlruns, string finishedRun, int index)
    {
        var exp = Path.Combine(mlruns, "1");
        Directory.CreateDirectory(exp);
        File.WriteAllText(Path.Combine(exp, "meta.yaml"),
            "artifact_location: file:///workspace/qlib_workspace/mlruns/1\n"
            + "creation_time: 1751358000000\nexperiment_id: '1'\nlast_update_time: 1751358000000\n"
            + "lifecycle_stage: active\n"
            + "name: workflow_failed\n");
        var runId = string.Concat(Enumerable.Repeat($"{index:x4}", 8));
        var run = Path.Combine(exp, runId);
        Directory.CreateDirectory(Path.Combine(run, "params"));
        Directory.CreateDirectory(Path.Combine(run, "tags"));
        Directory.CreateDirectory(Path.Combine(run, "artifacts"));
        File.WriteAllText(Path.Combine(run, "meta.yaml"),
            $"artifact_uri: file:///workspace/qlib_workspace/mlruns/1/{runId}"
            + $"/artifacts\nend_time: 1751369999000\nentry_point_name: ''\nexperiment_id: '1'\n"
            + "lifecycle_stage: active\n"
            + $"run_id: {runId}\nrun_name: mlflow_recorder\nrun_uuid: {runId}\nsource_name: ''\nsource_type: 4\n"
            + "source_version: ''\nstart_time: 1751369000000\nstatus: 4\ntags: []\nuser_id: root\n");
        File.Copy(Path.Combine(finishedRun, "params", "cmd-sys.argv"), Path.Combine(run, "params", "cmd-sys.argv"));
        File.WriteAllText(Path.Combine(run, "params", "model.class"), "LGBModel");
        File.WriteAllText(Path.Combine(run, "tags", "mlflow.runName"), "mlflow_recorder");
    }

    /// <summary>
    /// <c>qlib_res.csv</c> as pandas prints a float Series: Python's repr of each value (<c>1.0</c>, <c>0.0</c>,
    /// <c>6.975e-05</c>), not .NET's round-trip text (<c>1</c>, <c>6.975E-05</c>).
    /// </summary>
    private static void PandasNumbers(string path)
    {
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path).Select(line =>
        {
            var comma = line.LastIndexOf(',');
            if (comma <= 0 || !double.TryParse(line[(comma + 1)..], NumberStyles.Float, Inv, out var v)) return line;
            return line[..comma] + "," + PythonRepr(v);
        });
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
    }

    public static string PythonRepr(double v)
    {
        var abs = Math.Abs(v);
        if (v != 0 && (abs < 1e-4 || abs >= 1e16))
        {
            var e = v.ToString("R", Inv);
            var m = Exponent().Match(e);
            if (!m.Success)
                e = v.ToString("0.################E+00", Inv);
            m = Exponent().Match(e);
            var mantissa = m.Groups["m"].Value;
            var exp = int.Parse(m.Groups["e"].Value, Inv);
            return $"{mantissa}e{(exp < 0 ? "-" : "+")}{Math.Abs(exp):D2}";
        }
        var text = v.ToString("R", Inv);
        return text.Contains('.') || text.Contains('E') ? text : text + ".0";
    }

    [GeneratedRegex(@"^(?<m>-?[\d.]+)E(?<e>[-+]?\d+)$")] private static partial Regex Exponent();

    private static readonly string Alpha20Expressions =
        "[" + string.Join(", ", Backfill.Alpha20.Factors.Select(f => "\"" + f.Expression + "\"")) + "]";
    private static readonly string Alpha20Names =
        "[" + string.Join(", ", Backfill.Alpha20.Factors.Select(f => "\"" + f.Name + "\"")) + "]";

    private static string V080Baseline => new StringBuilder()
        .Append("qlib_init:\n    provider_uri: \"~/.qlib/qlib_data/cn_data\"\n    region: cn\n\n")
        .Append("market: &market csi300\nbenchmark: &benchmark SH000300\n\n")
        .Append("data_handler_config: &data_handler_config\n    start_time: 2008-01-01\n    end_time: 2020-08-01\n")
        .Append("    fit_start_time: 2008-01-01\n    fit_end_time: 2014-12-31\n    instruments: *market\n")
        .Append("    infer_processors:\n        - class: FilterCol\n          kwargs:\n")
        .Append("              fields_group: feature\n")
        .Append("              col_list: ").Append(Alpha20Names).Append('\n')
        .Append("        - class: RobustZScoreNorm\n          kwargs:\n              fields_group: feature\n")
        .Append("              clip_outlier: true\n        - class: Fillna\n          kwargs:\n")
        .Append("              fields_group: feature\n")
        .Append("    learn_processors:\n        - class: DropnaLabel\n        - class: CSRankNorm\n          kwargs:\n")
        .Append("              fields_group: label\n    label: [\"Ref($close, -2) / Ref($close, -1) - 1\"]\n\n")
        .Append(Portfolio("TopkDropoutStrategy", "qlib.contrib.strategy", "", "2017-01-01", "2020-08-01"))
        .Append(TaskHead)
        .Append("            handler:\n                class: Alpha158\n")
        .Append("                module_path: qlib.contrib.data.handler\n")
        .Append("                kwargs: *data_handler_config\n")
        .Append(TaskTail("2008-01-01", "2014-12-31", "2015-01-01", "2016-12-31", "2017-01-01", "2020-08-01"))
        .ToString();

    private static string ForkDynamic => new StringBuilder()
        .Append("qlib_init:\n    provider_uri: \"/data/qlib_bin\"\n    region: cn\n\n")
        .Append("market: &market all\nbenchmark: &benchmark 000300.SH\n\n")
        .Append("data_handler_config: &data_handler_config\n    start_time: 2018-08-01\n    end_time: 2025-12-01\n")
        .Append("    instruments: *market\n    data_loader:\n        class: CombinedAlpha158DynamicFactorsLoader\n")
        .Append("        module_path: rdagent.scenarios.qlib.experiment.custom_loaders\n        kwargs:\n")
        .Append("            alpha158_config:\n                label:\n")
        .Append("                    - [\"Ref($close, -2)/Ref($close, -1) - 1\"]\n                    - [\"LABEL0\"]\n")
        .Append("                feature:\n                    - ").Append(Alpha20Expressions).Append('\n')
        .Append("                    - ").Append(Alpha20Names).Append('\n')
        .Append("            dynamic_path: \"combined_factors_df.parquet\"\n            join: \"left\"\n")
        .Append("    learn_processors:\n        - class: DropnaLabel\n        - class: CSZScoreNorm\n")
        .Append("          kwargs:\n")
        .Append("              fields_group: label\n\n")
        .Append(Portfolio("EnhancedTopkDropoutStrategy",
            "rdagent.scenarios.qlib.experiment.factor_template.custom_strategy",
            "            min_score: 0.1\n            max_position_ratio: 0.90\n            stop_loss: -0.10\n",
            "2024-07-01", "2025-11-28"))
        .Append(TaskHead)
        .Append("            handler:\n                class: DataHandlerLP\n")
        .Append("                module_path: qlib.contrib.data.handler\n")
        .Append("                kwargs: *data_handler_config\n")
        .Append(TaskTail("2018-08-01", "2022-12-31", "2023-01-01", "2024-06-30", "2024-07-01", "2025-12-01"))
        .ToString();

    private static string Portfolio(string cls, string module, string extraKwargs, string start, string end) =>
        "port_analysis_config: &port_analysis_config\n    strategy:\n"
        + $"        class: {cls}\n        module_path: {module}\n        kwargs:\n"
        + "            signal: <PRED>\n            topk: 50\n            n_drop: 5\n" + extraKwargs
        + $"    backtest:\n        start_time: {start}\n        end_time: {end}\n        account: 100000000\n"
        + "        benchmark: *benchmark\n        exchange_kwargs:\n            limit_threshold: 0.095\n"
        + "            deal_price: close\n            open_cost: 0.0005\n            close_cost: 0.0015\n"
        + "            min_cost: 5\n\n";

    private const string TaskHead = "task:\n    model:\n        class: LGBModel\n"
        + "        module_path: qlib.contrib.model.gbdt\n"
        + "        kwargs:\n            loss: mse\n            colsample_bytree: 0.8879\n"
        + "            learning_rate: 0.2\n"
        + "            subsample: 0.8789\n            lambda_l1: 205.6999\n            lambda_l2: 580.9768\n"
        + "            max_depth: 8\n            num_leaves: 210\n            num_threads: 20\n"
        + "    dataset:\n        class: DatasetH\n        module_path: qlib.data.dataset\n        kwargs:\n";

    private static string TaskTail(string trainStart, string trainEnd, string validStart, string validEnd,
        string testStart, string testEnd) =>
        $"            segments:\n                train: [{trainStart}, {trainEnd}]\n"
        + $"                valid: [{validStart}, {validEnd}]\n                test: [{testStart}, {testEnd}]\n"
        + "    record:\n        - class: SignalRecord\n          module_path: qlib.workflow.record_temp\n"
        + "          kwargs:\n            model: <MODEL>\n            dataset: <DATASET>\n"
        + "        - class: SigAnaRecord\n          module_path: qlib.workflow.record_temp\n          kwargs:\n"
        + "            ana_long_short: False\n            ann_scaler: 252\n"
        + "        - class: PortAnaRecord\n          module_path: qlib.workflow.record_temp\n          kwargs:\n"
        + "            config: *port_analysis_config\n";
}
