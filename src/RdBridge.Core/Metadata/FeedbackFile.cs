using System.Text.Json.Nodes;

namespace RdBridge.Metadata;

/// <summary>The texts of a loop's feedback: what ran, what the numbers say, why the hypothesis held or not.</summary>
public sealed record FeedbackSummary(string? Execution, string? ValueFeedback, string? ShapeFeedback, string? Metrics)
{
    public JsonObject ToJson() => new()
    {
        ["execution"] = Execution,
        ["value_feedback"] = ValueFeedback,
        ["shape_feedback"] = ShapeFeedback,
        ["metrics"] = Metrics,
    };

    public static FeedbackSummary? From(JsonNode? node) => node is JsonObject o
        ? new FeedbackSummary(MetadataJson.Text(o["execution"]), MetadataJson.Text(o["value_feedback"]),
            MetadataJson.Text(o["shape_feedback"]), MetadataJson.Text(o["metrics"]))
        : null;
}

/// <summary>
/// <c>feedback.json</c>: RD-Agent's decision on the loop and its texts; <c>source</c> says where they came from
/// (<c>log</c>, <c>metrics</c> or <c>registry</c>).
/// </summary>
public sealed record FeedbackFile(
    MetadataOrigin Origin, string? Status, bool? Decision, string? Hypothesis, string? Source, FeedbackSummary? Summary)
{
    public const string FileName = "feedback.json";

    public JsonObject ToJson()
    {
        var o = Origin.NewObject();
        o["status"] = Status;
        o["decision"] = Decision;
        o["hypothesis"] = Hypothesis;
        o["source"] = Source;
        o["summary"] = Summary?.ToJson();
        return o;
    }

    public static FeedbackFile From(JsonObject o) => new(MetadataOrigin.From(o), MetadataJson.Text(o["status"]),
        MetadataJson.Bool(o["decision"]), MetadataJson.Text(o["hypothesis"]), MetadataJson.Text(o["source"]),
        FeedbackSummary.From(o["summary"]));

    public static FeedbackFile Read(string path) => From(MetadataJson.ReadObject(path));
}
