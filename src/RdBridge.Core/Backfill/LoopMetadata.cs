using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.IO;
using RdBridge.Metadata;
using RdBridge.Pickles;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>The metadata files of one loop, derived from the real files of its workspaces.</summary>
public sealed record LoopMetadata(IReadOnlyList<(string FileName, JsonObject Content)> Files, QlibMetrics? Metrics, IReadOnlyList<string> Problems)
{
    public const string Version = "v1";

    public static LoopMetadata Derive(LoopWorkspaces lw, Configuration.PathMap? map = null)
    {
        var loop = lw.Loop;
        var ws = lw.Primary ?? throw new InvalidOperationException("loop has no primary workspace");
        var dir = ws.Local!;
        var problems = new List<string>();
        var kind = lw.Kind;

        JsonObject Envelope() => new()
        {
            ["version"] = Version,
            ["task_run_id"] = loop.TaskRunId,
            ["loop_id"] = loop.LoopId,
            ["workspace_id"] = ws.Row.WorkspaceId,
        };

        // The configuration that ran.
        WorkflowConfig? config = null;
        var configName = WorkspaceFiles.RunnerConfig(dir, kind);
        if (configName is null)
            problems.Add($"workspace {ws.Row.WorkspaceId} has no workflow YAML; model and strategy metadata stay empty");
        else
        {
            try { config = WorkflowConfig.Load(Path.Combine(dir, configName)); }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"{configName} in workspace {ws.Row.WorkspaceId} cannot be read: {e.Message}");
            }
        }

        // Metrics.
        QlibMetrics? metrics = null;
        var resPath = Path.Combine(dir, WorkspaceFiles.QlibRes);
        if (File.Exists(resPath))
        {
            try
            {
                metrics = QlibResults.Read(resPath);
                problems.AddRange(metrics.Problems.Select(p => $"workspace {ws.Row.WorkspaceId}: {p}"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add($"{WorkspaceFiles.QlibRes} in workspace {ws.Row.WorkspaceId} cannot be read: {e.Message}");
            }
        }

        // Factors: the base features of the config, then the generated ones of the sub-workspaces.
        var factors = new JsonArray();
        if (config is not null)
        {
            foreach (var (name, expression) in config.BaseFeatures())
            {
                factors.Add(new JsonObject
                {
                    ["name"] = name,
                    ["source"] = "qlib_alpha158",
                    ["expression"] = expression,
                    ["workspace_id"] = ws.Row.WorkspaceId,
                    ["input_schema"] = InputSchema.FromExpression(expression).ToJson(),
                    ["tags"] = new JsonArray("alpha158", "base"),
                });
            }
        }
        var generated = new List<(FactorCode Code, string WorkspaceId)>();
        foreach (var sub in lw.SubWorkspaces)
        {
            var factorPy = Path.Combine(sub.Local!, "factor.py");
            if (!File.Exists(factorPy)) continue;
            try { generated.Add((FactorCode.Read(factorPy, $"factor_{sub.Row.WorkspaceId[..Math.Min(8, sub.Row.WorkspaceId.Length)]}"), sub.Row.WorkspaceId)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add($"factor.py in sub-workspace {sub.Row.WorkspaceId} cannot be read: {e.Message}");
            }
        }
        foreach (var (code, subId) in generated.OrderBy(g => g.Code.Name, StringComparer.Ordinal).ThenBy(g => g.WorkspaceId, StringComparer.Ordinal))
        {
            factors.Add(new JsonObject
            {
                ["name"] = code.Name,
                ["source"] = "rdagent_generated",
                ["description_cn"] = code.Description,
                ["code_fingerprint"] = FileDigest.Sha256OfText(string.Concat(code.Code.Where(c => !char.IsWhiteSpace(c))))[..16],
                ["workspace_id"] = subId,
                ["code_path"] = $"workspaces/{subId}/factor.py",
                ["input_schema"] = code.Schema.ToJson(),
                ["tags"] = new JsonArray("rdagent"),
            });
        }
        // Factors the run loaded from combined_factors_df.parquet (this loop's and the SOTA ones), found by column name.
        var parquet = Path.Combine(dir, CombinedFactors.FileName);
        if (File.Exists(parquet))
        {
            try
            {
                var known = factors.Select(f => (string?)f!["name"]).ToHashSet();
                foreach (var name in CombinedFactors.Names(parquet).Where(n => !known.Contains(n)).Order(StringComparer.Ordinal))
                    factors.Add(new JsonObject
                    {
                        ["name"] = name,
                        ["source"] = "rdagent_generated",
                        ["workspace_id"] = ws.Row.WorkspaceId,
                        ["found_in"] = CombinedFactors.FileName,
                        ["input_schema"] = InputSchema.FromCode("", name).ToJson(),
                        ["tags"] = new JsonArray("rdagent", "sota"),
                    });
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"{CombinedFactors.FileName} in workspace {ws.Row.WorkspaceId}: {e.Message}");
            }
        }
        var factorNames = factors.Select(f => (JsonNode?)JsonValue.Create((string)f!["name"]!)).ToArray();

        var files = new List<(string, JsonObject)>();
        var factorMeta = Envelope();
        factorMeta["config_file"] = configName;
        factorMeta["factors"] = factors;
        files.Add((WorkspaceFiles.FactorMeta, factorMeta));

        if (metrics is not null && !metrics.IsEmpty)
        {
            var perf = Envelope();
            perf["source"] = WorkspaceFiles.QlibRes;
            perf["metrics"] = MetricsObject(metrics);
            perf["qlib_metrics"] = new JsonObject(metrics.Raw.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value)));
            perf["factor_names"] = new JsonArray(factorNames.Select(n => n?.DeepClone()).ToArray());
            files.Add((WorkspaceFiles.FactorPerf, perf));
        }

        var feedback = Envelope();
        feedback["status"] = loop.Status;
        var logged = map is null ? null : LoggedFeedback(loop, map, problems);
        feedback["decision"] = logged?["decision"] is bool decided ? decided : null;
        feedback["hypothesis"] = logged?["new_hypothesis"] as string;
        feedback["source"] = logged is not null ? "log" : metrics is { IsEmpty: false } ? "metrics" : "registry";
        feedback["summary"] = new JsonObject
        {
            ["execution"] = logged?["observations"] as string
                ?? (loop.ErrorMessage is { } err ? $"{loop.ErrorType ?? "error"}: {err}" : metrics is { IsEmpty: false } ? "backtest finished" : "no backtest result"),
            ["value_feedback"] = logged?["hypothesis_evaluation"] as string ?? (metrics is { IsEmpty: false } ? MetricsSentence(metrics) : null),
            ["shape_feedback"] = logged?["reason"] as string,
            ["metrics"] = metrics is { IsEmpty: false } ? MetricsSentence(metrics) : null,
        };
        files.Add((WorkspaceFiles.Feedback, feedback));

        var modelMeta = Envelope();
        modelMeta["config_file"] = configName;
        var model = config?.Model;
        modelMeta["model_type"] = WorkflowConfig.Text(model?["class"]);
        modelMeta["model_module"] = WorkflowConfig.Text(model?["module_path"]);
        modelMeta["model_config"] = model?["kwargs"]?.DeepClone();
        modelMeta["network_class"] = NetworkClass(dir);
        var dataset = config?.Dataset;
        modelMeta["dataset_config"] = dataset is null ? null : new JsonObject
        {
            ["class"] = WorkflowConfig.Text(dataset["class"]),
            ["module_path"] = WorkflowConfig.Text(dataset["module_path"]),
            ["handler"] = WorkflowConfig.Text(config!.Handler?["class"]),
            ["segments"] = dataset["kwargs"]?["segments"]?.DeepClone(),
        };
        var handlerKwargs = config?.HandlerKwargs;
        modelMeta["preprocess_config"] = new JsonObject
        {
            ["infer_processors"] = handlerKwargs?["infer_processors"]?.DeepClone() ?? new JsonArray(),
            ["learn_processors"] = handlerKwargs?["learn_processors"]?.DeepClone() ?? new JsonArray(),
        };
        modelMeta["feature_schema"] = new JsonObject
        {
            ["base_features"] = new JsonArray(factorNames.Where(n => factors.Any(f => (string?)f!["name"] == (string?)n && (string?)f!["source"] == "qlib_alpha158")).Select(n => n?.DeepClone()).ToArray()),
            ["loads_generated_factors"] = config?.LoadsGeneratedFactors ?? false,
        };
        var weights = WorkspaceFiles.ModelWeights(dir);
        modelMeta["model_artifacts"] = new JsonObject
        {
            ["model_files"] = weights is null ? new JsonArray() : new JsonArray(weights),
            ["mlruns"] = Directory.Exists(Path.Combine(dir, WorkspaceFiles.MlRuns)) ? WorkspaceFiles.MlRuns : null,
            ["model_code"] = File.Exists(Path.Combine(dir, "model.py")) ? "model.py" : null,
        };
        files.Add((WorkspaceFiles.ModelMeta, modelMeta));

        var strategy = Envelope();
        strategy["strategy_id"] = loop.StrategyId;
        strategy["config_file"] = configName;
        var portfolio = config?.Strategy?.DeepClone() as JsonObject;
        var backtest = config?.Backtest?.DeepClone() as JsonObject;
        if (config is not null && portfolio is null)
            problems.Add($"{configName} in workspace {ws.Row.WorkspaceId} has no port_analysis_config.strategy");
        strategy["config_fingerprint"] = CanonicalJson.Fingerprint(new JsonObject { ["portfolio"] = portfolio?.DeepClone(), ["backtest"] = backtest?.DeepClone() })[..16];
        strategy["portfolio_config"] = portfolio;
        strategy["backtest_config"] = backtest;
        strategy["python_implementation"] = new JsonObject
        {
            ["module"] = "rd_strategies_lib.generated",
            ["func"] = PythonNames.StrategyFunction(loop.StrategyId),
        };
        files.Add((WorkspaceFiles.StrategyMeta, strategy));

        return new LoopMetadata(files, metrics, problems);
    }

    /// <summary>The last <c>HypothesisFeedback</c> RD-Agent logged for the loop (<c>&lt;trace&gt;/Loop_N/feedback/feedback/&lt;pid&gt;/*.pkl</c>), if readable.</summary>
    private static PickledObject? LoggedFeedback(Registry.LoopRow loop, Configuration.PathMap map, List<string> problems)
    {
        var trace = map.Map(loop.LogTracePath ?? loop.LogDir).Local;
        var dir = trace is null ? null : Path.Combine(trace, $"Loop_{loop.LoopId}", "feedback", "feedback");
        if (dir is null || !Directory.Exists(dir)) return null;
        var file = Directory.EnumerateFiles(dir, "*.pkl", SearchOption.AllDirectories).Order(StringComparer.Ordinal).LastOrDefault();
        if (file is null) return null;
        try
        {
            return PickleReader.Read(RegularFile.ReadAllBytes(file, ReadLimits.Pickle)) as PickledObject;
        }
        // A pickle cut short (RD-Agent may be writing it right now) runs off its end: IndexOutOfRange or
        // ArgumentOutOfRange. It is this loop's problem; the file is read again by the next run that examines the loop.
        catch (Exception e) when (e is FormatException or IOException or InvalidCastException or KeyNotFoundException
                                      or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            problems.Add($"the logged feedback '{file}' cannot be read ({e.Message}); feedback.json falls back to the metrics");
            return null;
        }
    }

    public static JsonObject MetricsObject(QlibMetrics metrics) =>
        new(metrics.Canonical().Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value)));

    private static string MetricsSentence(QlibMetrics m)
    {
        static string Pct(double? v) => v is null ? "n/a" : (v.Value * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "%";
        static string Num(double? v) => v is null ? "n/a" : v.Value.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);
        return $"IC {Num(m["ic"])}; annualized excess return (with cost) {Pct(m["annualized_return"])}; max drawdown {Pct(m["max_drawdown"])}; information ratio {Num(m["information_ratio"])}";
    }

    private static string? NetworkClass(string dir)
    {
        var modelPy = Path.Combine(dir, "model.py");
        if (!RegularFile.Exists(modelPy)) return null;
        foreach (var line in RegularFile.ReadAllText(modelPy, ReadLimits.PythonSource).Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("model_cls", StringComparison.Ordinal) && t.Contains('='))
                return t[(t.IndexOf('=') + 1)..].Trim();
        }
        return null;
    }
}
