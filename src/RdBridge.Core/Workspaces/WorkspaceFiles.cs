using RdBridge.IO;
using RdBridge.Metadata;

namespace RdBridge.Workspaces;

/// <summary>Names and lookups for the files an RD-Agent / Qlib workspace holds.</summary>
public static class WorkspaceFiles
{
    public const string FactorMeta = FactorMetaFile.FileName;
    public const string FactorPerf = FactorPerfFile.FileName;
    public const string Feedback = FeedbackFile.FileName;
    public const string ModelMeta = ModelMetaFile.FileName;
    public const string StrategyMeta = StrategyMetaFile.FileName;
    public const string QlibRes = "qlib_res.csv";
    public const string RetPkl = "ret.pkl";
    public const string MlRuns = "mlruns";

    public static readonly string[] MetaFiles = WorkspaceMetadata.FileNames;
    public static readonly string[] RootModelFiles =
        ["model.pkl", "model.joblib", "model.bin", "model.onnx", "model.pt", "model.pth"];

    /// <summary>The run folders of an MLflow file store (<c>mlruns/&lt;exp&gt;/&lt;run&gt;/meta.yaml</c>),
    /// sorted.</summary>
    public static IReadOnlyList<string> MlflowRuns(string workspace)
    {
        var root = Path.Combine(workspace, MlRuns);
        if (!Directory.Exists(root)) return [];
        return Directory.EnumerateDirectories(root)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .SelectMany(Directory.EnumerateDirectories)
            .Where(d => RegularFile.Exists(Path.Combine(d, "meta.yaml")))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The trained model: a root <c>model.*</c> file, else the weights artifact of the run the metadata comes from
    /// (<see cref="MlflowRun.Chosen(string)"/>; Qlib writes no root model file).
    /// </summary>
    public static string? ModelWeights(string workspace) => ModelWeights(workspace, MlflowRun.Chosen(workspace));

    /// <summary>The trained model, with the workspace's chosen run already read.</summary>
    public static string? ModelWeights(string workspace, MlflowRun? chosen)
    {
        foreach (var name in RootModelFiles)
            if (RegularFile.Exists(Path.Combine(workspace, name))) return name;
        return chosen?.Weights() is { } p
            ? PortablePath.Relative(workspace, p)
            : null;
    }

    /// <summary>
    /// The YAML <c>qrun</c> ran and the rule that chose it: the one the chosen MLflow run's <c>cmd-sys.argv</c>
    /// names; else the one whose classes match every class the run's params logged; else the file RD-Agent's runner
    /// of the scenario runs. Comment-only and backup YAMLs are never candidates.
    /// </summary>
    public static ConfigChoice ChooseConfig(string workspace, string kind) =>
        ChooseConfig(workspace, kind, MlflowRun.Chosen(workspace));

    /// <summary>The YAML <c>qrun</c> ran, with the workspace's chosen run already read.</summary>
    public static ConfigChoice ChooseConfig(string workspace, string kind, MlflowRun? run)
    {
        var candidates = Directory.EnumerateFiles(workspace, "*.yaml")
            .Concat(Directory.EnumerateFiles(workspace, "*.yml"))
            .Select(Path.GetFileName).OfType<string>()
            .Where(n => !n.Contains("backup", StringComparison.OrdinalIgnoreCase))
            .Where(n => IsWorkflow(Path.Combine(workspace, n)))
            .Order(StringComparer.Ordinal).ToList();
        if (run?.Param("cmd-sys.argv") is { } argv)
        {
            var yaml = argv.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(a => Path.GetFileName(a.Trim('\'', '"').Replace('\\', '/')))
                .FirstOrDefault(a =>
                    a.EndsWith(".yaml", StringComparison.Ordinal) || a.EndsWith(".yml", StringComparison.Ordinal));
            if (yaml is not null && RegularFile.Exists(Path.Combine(workspace, yaml)))
                return new ConfigChoice(yaml, ConfigChoice.FromArgv);
        }
        if (run is not null && ByParams(workspace, candidates, run) is { } matched)
            return new ConfigChoice(matched, ConfigChoice.FromParams);
        var hasModelPy = RegularFile.Exists(Path.Combine(workspace, "model.py"));
        var hasCombined = RegularFile.Exists(Path.Combine(workspace, "combined_factors_df.parquet"));
        string[] preference = kind == "model"
            ? [hasCombined ? "conf_sota_factors_model.yaml" : "conf_baseline_factors_model.yaml",
                "conf_baseline_factors_model.yaml", "conf_sota_factors_model.yaml", "conf.yaml"]
            : [hasModelPy ? "conf_combined_factors_sota_model.yaml" : "conf_combined_factors_dynamic.yaml",
                "conf_combined_factors.yaml", "conf_baseline.yaml", "conf.yaml", "conf_combined.yaml"];
        foreach (var name in preference)
            if (candidates.Contains(name)) return new ConfigChoice(name, ConfigChoice.FromRunner);
        return new ConfigChoice(candidates.FirstOrDefault(),
            candidates.Count > 0 ? ConfigChoice.FirstInWorkspace : null);
    }

    /// <summary>A workflow YAML has a <c>task:</c> at the top; the fork's marker files hold only comments.</summary>
    private static bool IsWorkflow(string path)
    {
        try
        {
            var text = RegularFile.ReadAllText(path, ReadLimits.WorkflowYaml);
            return text.Split('\n').Any(l => l.StartsWith("task:", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // a FIFO, a device or a huge file is no workflow
        }
    }

    /// <summary>
    /// The only candidate that spells every <c>*.class</c> param the run logged (Qlib's flattened task).
    /// </summary>
    private static string? ByParams(string workspace, IReadOnlyList<string> candidates, MlflowRun run)
    {
        var classes = run.Params.Where(p => p.Key.EndsWith(".class", StringComparison.Ordinal) && p.Value.Length > 0)
            .Select(p => p.Value).Distinct().ToList();
        if (classes.Count == 0) return null;
        var matches = candidates.Where(c =>
        {
            var text = RegularFile.ReadAllText(Path.Combine(workspace, c), ReadLimits.WorkflowYaml);
            return classes.All(cls => System.Text.RegularExpressions.Regex.IsMatch(text,
                @"class:\s*[""']?" + System.Text.RegularExpressions.Regex.Escape(cls) + @"[""']?\s*$",
                System.Text.RegularExpressions.RegexOptions.Multiline));
        }).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }
}

/// <summary>The workflow YAML chosen for a workspace and the rule that chose it (<c>config_source</c>).</summary>
public sealed record ConfigChoice(string? Name, string? Source)
{
    public const string FromArgv = "mlflow cmd-sys.argv";
    public const string FromParams = "mlflow params";
    public const string FromRunner = "runner of the scenario";
    public const string FirstInWorkspace = "first YAML in the workspace";
}
