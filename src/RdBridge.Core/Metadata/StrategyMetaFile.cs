using System.Text.Json.Nodes;

namespace RdBridge.Metadata;

/// <summary>Where AIstock finds a strategy's config as Python: a function of the generated strategy library.</summary>
public sealed record PythonImplementation(string? Module, string? Func)
{
    public JsonObject ToJson() => new() { ["module"] = Module, ["func"] = Func };

    public static PythonImplementation? From(JsonNode? node) => node is JsonObject o
        ? new PythonImplementation(MetadataJson.Text(o["module"]), MetadataJson.Text(o["func"]))
        : null;
}

/// <summary>
/// <c>strategy_meta.json</c>: the portfolio strategy and backtest settings the loop ran, as Qlib's config has them,
/// and a fingerprint of the two that tells equal strategies apart from different ones.
/// </summary>
public sealed record StrategyMetaFile(
    MetadataOrigin Origin, string? StrategyId, string? ConfigFile, string? ConfigFingerprint,
    JsonObject? PortfolioConfig, JsonObject? BacktestConfig, PythonImplementation? PythonImplementation)
{
    public const string FileName = "strategy_meta.json";

    /// <summary>The rule that chose <see cref="ConfigFile"/>.</summary>
    public string? ConfigSource { get; init; }
    /// <summary>The MLflow run the backtest settings were taken from.</summary>
    public string? RunId { get; init; }
    /// <summary>What the run's logged params changed in the rendered template (the backtest window).</summary>
    public IReadOnlyList<string> ParamsApplied { get; init; } = [];

    public JsonObject ToJson()
    {
        var o = Origin.NewObject();
        o["strategy_id"] = StrategyId;
        o["config_file"] = ConfigFile;
        o["config_source"] = ConfigSource;
        o["run_id"] = RunId;
        o["config_fingerprint"] = ConfigFingerprint;
        o["portfolio_config"] = MetadataJson.Copy(PortfolioConfig);
        o["backtest_config"] = MetadataJson.Copy(BacktestConfig);
        o["python_implementation"] = PythonImplementation?.ToJson();
        o["params_applied"] = MetadataJson.TextArray(ParamsApplied);
        return o;
    }

    public static StrategyMetaFile From(JsonObject o) => new(MetadataOrigin.From(o),
        MetadataJson.Text(o["strategy_id"]),
        MetadataJson.Text(o["config_file"]), MetadataJson.Text(o["config_fingerprint"]),
        MetadataJson.Copy(o["portfolio_config"]) as JsonObject, MetadataJson.Copy(o["backtest_config"]) as JsonObject,
        PythonImplementation.From(o["python_implementation"]))
    {
        ConfigSource = MetadataJson.Text(o["config_source"]),
        RunId = MetadataJson.Text(o["run_id"]),
        ParamsApplied = MetadataJson.Texts(o["params_applied"]),
    };

    public static StrategyMetaFile Read(string path) => From(MetadataJson.ReadObject(path));
}
