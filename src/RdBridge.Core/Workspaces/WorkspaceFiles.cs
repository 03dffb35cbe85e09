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
    public static readonly string[] RootModelFiles = ["model.pkl", "model.joblib", "model.bin", "model.onnx", "model.pt", "model.pth"];

    /// <summary>The run folders of an MLflow file store (<c>mlruns/&lt;exp&gt;/&lt;run&gt;/meta.yaml</c>), sorted.</summary>
    public static IReadOnlyList<string> MlflowRuns(string workspace)
    {
        var root = Path.Combine(workspace, MlRuns);
        if (!Directory.Exists(root)) return [];
        return Directory.EnumerateDirectories(root)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .SelectMany(Directory.EnumerateDirectories)
            .Where(d => File.Exists(Path.Combine(d, "meta.yaml")))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The trained model: a root <c>model.*</c> file, else the first <c>mlruns/**/artifacts/params.pkl</c> (Qlib writes no root model file).</summary>
    public static string? ModelWeights(string workspace)
    {
        foreach (var name in RootModelFiles)
            if (File.Exists(Path.Combine(workspace, name))) return name;
        foreach (var run in MlflowRuns(workspace))
        {
            var p = Path.Combine(run, "artifacts", "params.pkl");
            if (File.Exists(p)) return Path.GetRelativePath(workspace, p).Replace('\\', '/');
        }
        return null;
    }

    /// <summary>The YAML <c>qrun</c> ran: from the MLflow <c>cmd-sys.argv</c> param when recorded, else by RD-Agent's template rules.</summary>
    public static string? RunnerConfig(string workspace, string kind)
    {
        foreach (var run in MlflowRuns(workspace))
        {
            var argv = Path.Combine(run, "params", "cmd-sys.argv");
            if (!File.Exists(argv)) continue;
            var yaml = File.ReadAllText(argv).Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(a => Path.GetFileName(a.Trim('\'', '"')))
                .FirstOrDefault(a => a.EndsWith(".yaml", StringComparison.Ordinal) || a.EndsWith(".yml", StringComparison.Ordinal));
            if (yaml is not null && File.Exists(Path.Combine(workspace, yaml))) return yaml;
        }
        var hasModelPy = File.Exists(Path.Combine(workspace, "model.py"));
        var hasCombined = File.Exists(Path.Combine(workspace, "combined_factors_df.parquet"));
        string[] preference = kind == "model"
            ? [hasCombined ? "conf_sota_factors_model.yaml" : "conf_baseline_factors_model.yaml", "conf_baseline_factors_model.yaml", "conf_sota_factors_model.yaml", "conf.yaml"]
            : [hasModelPy ? "conf_combined_factors_sota_model.yaml" : "conf_combined_factors.yaml", "conf_combined_factors.yaml", "conf_baseline.yaml", "conf.yaml", "conf_combined.yaml"];
        foreach (var name in preference)
            if (File.Exists(Path.Combine(workspace, name))) return name;
        return Directory.EnumerateFiles(workspace, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal).FirstOrDefault();
    }
}
