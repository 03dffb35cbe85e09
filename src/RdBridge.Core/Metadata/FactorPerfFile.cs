using System.Text.Json.Nodes;

namespace RdBridge.Metadata;

/// <summary>
/// <c>factor_perf.json</c>: the loop's backtest metrics under RdBridge's names (<see cref="MetricNames"/>), the same
/// numbers under Qlib's names, and the factors they were measured with. Written only when the run has results.
/// </summary>
public sealed record FactorPerfFile(
    MetadataOrigin Origin, string? Source, IReadOnlyList<KeyValuePair<string, double?>> Metrics,
    IReadOnlyList<KeyValuePair<string, double?>> QlibMetrics, IReadOnlyList<string> FactorNames)
{
    public const string FileName = "factor_perf.json";

    /// <summary>The MLflow run the workspace's metadata comes from.</summary>
    public string? RunId { get; init; }

    /// <summary>One metric by its canonical name, null when absent.</summary>
    public double? Metric(string canonical) =>
        Metrics.FirstOrDefault(kv => kv.Key == canonical) is { Key: not null } kv ? kv.Value : null;

    public JsonObject MetricsJson() => MetadataJson.NumberObject(Metrics);

    public JsonObject ToJson()
    {
        var o = Origin.NewObject();
        o["source"] = Source;
        o["run_id"] = RunId;
        o["metrics"] = MetricsJson();
        o["qlib_metrics"] = MetadataJson.NumberObject(QlibMetrics);
        o["factor_names"] = MetadataJson.TextArray(FactorNames);
        return o;
    }

    public static FactorPerfFile From(JsonObject o) => new(MetadataOrigin.From(o), MetadataJson.Text(o["source"]),
        MetadataJson.Numbers(o["metrics"]), MetadataJson.Numbers(o["qlib_metrics"]),
        MetadataJson.Texts(o["factor_names"]))
    {
        RunId = MetadataJson.Text(o["run_id"]),
    };

    public static FactorPerfFile Read(string path) => From(MetadataJson.ReadObject(path));
}
