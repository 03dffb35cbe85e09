using System.Globalization;
using System.Text.Json.Nodes;
using RdBridge.Configuration;
using RdBridge.Discovery;
using RdBridge.IO;
using RdBridge.Metadata;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>The metadata files of one loop, derived from the real files of its workspaces.</summary>
public sealed record LoopMetadata(
    FactorMetaFile FactorMeta, FactorPerfFile? FactorPerf, FeedbackFile Feedback, ModelMetaFile ModelMeta,
    StrategyMetaFile StrategyMeta, QlibMetrics? Metrics, IReadOnlyList<string> Problems)
{
    /// <summary>What the files cannot tell, for the run's report (not failures).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The loop's backtest curve, written as <c>backtest_report.json</c>; null when it has none.</summary>
    public LoopBacktest? Backtest { get; init; }

    /// <summary>The files to write, in a fixed order; <c>factor_perf.json</c> only when the run has results.</summary>
    public IEnumerable<(string FileName, JsonObject Content)> Files
    {
        get
        {
            yield return (FactorMetaFile.FileName, FactorMeta.ToJson());
            if (FactorPerf is not null) yield return (FactorPerfFile.FileName, FactorPerf.ToJson());
            yield return (FeedbackFile.FileName, Feedback.ToJson());
            yield return (ModelMetaFile.FileName, ModelMeta.ToJson());
            yield return (StrategyMetaFile.FileName, StrategyMeta.ToJson());
        }
    }

    /// <param name="listings">the stage's listings of the logs (a task run's log listed once, not per loop)</param>
    public static LoopMetadata Derive(LoopWorkspaces lw, PathMap? map = null, LogListings? listings = null)
    {
        var run = LoopRun.Read(lw);
        var problems = new List<string>(run.Problems);
        var texts = map is null ? LoopTexts.Empty : LoggedTexts(lw.Loop, map, problems, listings);
        var factors = FactorDerivation.Derive(lw, run, problems, texts);
        var origin = run.Origin;
        var factorMeta = new FactorMetaFile(origin, run.ConfigName, factors) { ConfigSource = run.ConfigSource };
        var perf = run.Metrics is { IsEmpty: false } m
            ? new FactorPerfFile(origin, run.MetricsSource, m.Canonical().ToList(), m.Raw.ToList(),
                factors.Select(f => f.Name).ToList()) { RunId = run.Run?.RunId }
            : null;
        var notes = new List<string>(run.Notes);
        var backtest = LoopBacktest.Read(run, problems, notes);
        return new LoopMetadata(factorMeta, perf, DeriveFeedback(lw, run, texts), DeriveModel(lw, run, factors, texts),
            DeriveStrategy(lw, run, problems), run.Metrics, problems) { Notes = notes, Backtest = backtest };
    }

    private static FeedbackFile DeriveFeedback(LoopWorkspaces lw, LoopRun run, LoopTexts texts)
    {
        var loop = lw.Loop;
        var logged = texts.Feedback;
        var hypothesis = texts.Hypothesis;
        var metrics = run.Metrics is { IsEmpty: false } m ? m : null;
        var execution = logged?.Observations
            ?? (loop.ErrorMessage is { } err ? $"{loop.ErrorType ?? "error"}: {err}"
                : metrics is not null ? "backtest finished" : "no backtest result");
        var sentence = metrics is null ? null : MetricsSentence(metrics);
        var summary = new FeedbackSummary(execution, logged?.HypothesisEvaluation ?? sentence, logged?.Reason,
            sentence);
        var source = logged is not null ? "log" : metrics is not null ? "metrics" : "registry";
        // The loop's own hypothesis (what its experiment tested); the feedback's new_hypothesis is the next loop's.
        return new FeedbackFile(run.Origin, loop.Status, logged?.Decision, hypothesis?.Text, source, summary)
        {
            Texts = texts.Research(),
        };
    }

    private static ModelMetaFile DeriveModel(LoopWorkspaces lw, LoopRun run, IReadOnlyList<FactorEntry> factors,
        LoopTexts texts)
    {
        var config = run.Config;
        var model = config?.Model;
        var dataset = config?.Dataset;
        var datasetConfig = dataset is null ? null : new DatasetConfig(WorkflowConfig.Text(dataset["class"]),
            WorkflowConfig.Text(dataset["module_path"]), WorkflowConfig.Text(config!.Handler?["class"]),
            dataset["kwargs"]?["segments"]?.DeepClone())
        {
            Kwargs = DatasetKwargs(dataset["kwargs"] as JsonObject),
        };
        var handlerKwargs = config?.HandlerKwargs;
        var preprocess = new PreprocessConfig(
            handlerKwargs?["infer_processors"]?.DeepClone() ?? new JsonArray(),
            handlerKwargs?["learn_processors"]?.DeepClone() ?? new JsonArray());
        var baseNames = factors.Where(f => factors.Any(b => b.Name == f.Name && b.Source == FactorEntry.BaseSource))
            .Select(f => f.Name).ToList();
        var features = run.Features;
        var schema = new FeatureSchema(baseNames, features?.LoadsGeneratedFactors ?? false,
            features?.Complete ?? false, features is null ? "no workflow config was found or read" : features.Reason);
        var dir = run.Directory;
        var weights = WorkspaceFiles.ModelWeights(dir, run.Run);
        var artifacts = new ModelArtifacts(weights is null ? [] : [weights],
            Directory.Exists(Path.Combine(dir, WorkspaceFiles.MlRuns)) ? WorkspaceFiles.MlRuns : null,
            File.Exists(Path.Combine(dir, "model.py")) ? "model.py" : null);
        return new ModelMetaFile(run.Origin, run.ConfigName, WorkflowConfig.Text(model?["class"]),
            WorkflowConfig.Text(model?["module_path"]), model?["kwargs"]?.DeepClone(), NetworkClass(dir),
            datasetConfig, preprocess, schema, artifacts)
        {
            ConfigSource = run.ConfigSource,
            RunId = run.Run?.RunId,
            Role = lw.Kind == "model" ? ModelMetaFile.Proposed : ModelMetaFile.Baseline,
            ParamsApplied = run.ParamsApplied.Where(n => n.StartsWith("segments", StringComparison.Ordinal)
                || n.StartsWith("model.", StringComparison.Ordinal)
                || n.StartsWith("dataset.", StringComparison.Ordinal)).ToList(),
            ModelTask = ModelTaskOf(lw, texts),
        };
    }

    /// <summary>The dataset's own kwargs (<c>step_len</c> of a TSDatasetH…); its handler and segments have their own
    /// fields.</summary>
    private static JsonObject? DatasetKwargs(JsonObject? kwargs)
    {
        if (kwargs is null) return null;
        var rest = new JsonObject();
        foreach (var (k, v) in kwargs.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (k is not ("handler" or "segments")) rest[k] = v?.DeepClone();
        }
        return rest;
    }

    /// <summary>The loop's <c>ModelTask</c>: the one coded in the sub-workspace with <c>model.py</c>, else the first
    /// logged.</summary>
    private static ModelTaskText? ModelTaskOf(LoopWorkspaces lw, LoopTexts texts)
    {
        var coded = lw.SubWorkspaces.FirstOrDefault(s => s.Local is { } d && File.Exists(Path.Combine(d, "model.py")));
        var task = texts.TaskFor(coded?.Row.WorkspaceId, null, LoggedTask.Model)
            ?? texts.Tasks.FirstOrDefault(t => t.Kind == LoggedTask.Model);
        return task is null ? null : new ModelTaskText(task.Name, task.Description, task.Formulation,
            task.Architecture, task.Variables?.DeepClone(), task.Hyperparameters?.DeepClone(),
            task.TrainingHyperparameters?.DeepClone(), task.ModelType) { CoderFeedback = task.Coder };
    }

    private static StrategyMetaFile DeriveStrategy(LoopWorkspaces lw, LoopRun run, List<string> problems)
    {
        var config = run.Config;
        var portfolio = config?.Strategy?.DeepClone() as JsonObject;
        var backtest = config?.Backtest?.DeepClone() as JsonObject;
        if (config is not null && portfolio is null)
        {
            problems.Add(
                $"{run.ConfigName} in workspace {run.Origin.WorkspaceId} has no port_analysis_config.strategy");
        }

        var fingerprint = CanonicalJson.Fingerprint(new JsonObject
        {
            ["portfolio"] = portfolio?.DeepClone(),
            ["backtest"] = backtest?.DeepClone(),
        })[..16];
        var strategyId = lw.Loop.StrategyId;
        return new StrategyMetaFile(run.Origin, strategyId, run.ConfigName, fingerprint, portfolio, backtest,
            new PythonImplementation("rd_strategies_lib.generated", PythonNames.StrategyFunction(strategyId)))
        {
            ConfigSource = run.ConfigSource,
            RunId = run.Run?.RunId,
            ParamsApplied = run.ParamsApplied.Where(n => n.StartsWith("backtest", StringComparison.Ordinal)).ToList(),
        };
    }

    /// <summary>
    /// Every text RD-Agent logged for the loop (its <c>Hypothesis</c>, tasks, last <c>HypothesisFeedback</c> and
    /// CoSTEER's last evolving feedback), in any log generation discovery reads, if the log is here.
    /// </summary>
    private static LoopTexts LoggedTexts(Registry.LoopRow loop, PathMap map, List<string> problems,
        LogListings? listings) =>
        LoopTexts.OfLoop(loop.LogTracePath ?? loop.LogDir, loop.LoopId, map, problems, listings);

    private static string MetricsSentence(QlibMetrics m)
    {
        static string Pct(double? v) =>
            v is null ? "n/a" : (v.Value * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";
        static string Num(double? v) => v is null ? "n/a" : v.Value.ToString("0.0000", CultureInfo.InvariantCulture);
        return $"IC {Num(m["ic"])}; annualized excess return (with cost) {Pct(m["annualized_return"])}; "
            + $"max drawdown {Pct(m["max_drawdown"])}; information ratio {Num(m["information_ratio"])}";
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
