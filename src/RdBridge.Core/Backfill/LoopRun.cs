using RdBridge.Metadata;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>
/// What the run of a loop's experiment workspace left that every metadata file derives from: the workflow YAML that
/// ran and the metrics of <c>qlib_res.csv</c>, with the problems met while reading them.
/// </summary>
public sealed record LoopRun(
    MetadataOrigin Origin, string Directory, string? ConfigName, WorkflowConfig? Config, QlibMetrics? Metrics,
    IReadOnlyList<string> Problems)
{
    /// <summary>The rule that chose the config (<see cref="ConfigChoice"/>).</summary>
    public string? ConfigSource { get; init; }
    /// <summary>The MLflow run the metadata comes from (<see cref="MlflowRun.Chosen(string)"/>).</summary>
    public MlflowRun? Run { get; init; }
    /// <summary>Where the metrics came from: <c>qlib_res.csv</c>, else the chosen MLflow run.</summary>
    public string? MetricsSource { get; init; }
    /// <summary>What the run's logged params changed in the rendered config.</summary>
    public IReadOnlyList<string> ParamsApplied { get; init; } = [];
    /// <summary>
    /// What the metadata cannot tell although nothing is broken (a feature list the config does not show): said in
    /// the run's report, not counted as a failure.
    /// </summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The base features the config gives the model (null without a config).</summary>
    public FeatureList? Features { get; } = Config?.Features();

    public static LoopRun Read(LoopWorkspaces lw)
    {
        var ws = lw.Primary ?? throw new InvalidOperationException("loop has no primary workspace");
        var dir = ws.Local!;
        var id = ws.Row.WorkspaceId;
        var problems = new List<string>();
        var mlflowRun = MlflowRun.Chosen(dir);
        var choice = WorkspaceFiles.ChooseConfig(dir, lw.Kind, mlflowRun);
        var configName = choice.Name;
        var config = configName is null ? null : ReadConfig(dir, configName, id, problems);
        var applied = config is not null && mlflowRun is not null ? RunParams.Apply(config, mlflowRun) : [];
        if (configName is null)
            problems.Add($"workspace {id} has no workflow YAML; model and strategy metadata stay empty");
        var origin = new MetadataOrigin(lw.Loop.TaskRunId, lw.Loop.LoopId, id);
        var metrics = ReadMetrics(dir, id, problems);
        var metricsSource = metrics is null ? null : WorkspaceFiles.QlibRes;
        if (metrics is null && mlflowRun?.LastMetricValues() is { Count: > 0 } logged)
        {
            // No qlib_res.csv (a store Qlib wrote without RD-Agent): the chosen run's own metrics, read the same way.
            var csv = ",0\n" + string.Join("\n", logged.Select(kv => $"{kv.Key},{kv.Value}")) + "\n";
            metrics = QlibResults.Parse(new StringReader(csv), $"mlruns run {mlflowRun.RunId}");
            metricsSource = $"mlflow run {mlflowRun.RunId}";
        }
        var run = new LoopRun(origin, dir, configName, config, metrics, problems)
        {
            ConfigSource = choice.Source,
            Run = mlflowRun,
            ParamsApplied = applied,
            MetricsSource = metricsSource,
        };
        return run.Features is { Complete: false } f
            ? run with { Notes = [$"the base features of {configName} in workspace {id} are incomplete: {f.Reason}"] }
            : run;
    }

    private static WorkflowConfig? ReadConfig(string dir, string configName, string workspaceId, List<string> problems)
    {
        try { return WorkflowConfig.Load(Path.Combine(dir, configName)); }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            problems.Add($"{configName} in workspace {workspaceId} cannot be read: {e.Message}");
            return null;
        }
    }

    private static QlibMetrics? ReadMetrics(string dir, string workspaceId, List<string> problems)
    {
        var resPath = Path.Combine(dir, WorkspaceFiles.QlibRes);
        if (!File.Exists(resPath)) return null;
        try
        {
            var metrics = QlibResults.Read(resPath);
            problems.AddRange(metrics.Problems.Select(p => $"workspace {workspaceId}: {p}"));
            return metrics;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{WorkspaceFiles.QlibRes} in workspace {workspaceId} cannot be read: {e.Message}");
            return null;
        }
    }
}
