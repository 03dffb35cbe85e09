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
/// The loop's own hypothesis as RD-Agent logged it (<c>Hypothesis</c>; the text itself is
/// <see cref="FeedbackFile.Hypothesis"/>) and the feedback's texts under RD-Agent's names, the next loop's
/// suggestion among them.
/// </summary>
public sealed record ResearchTexts(
    string? HypothesisReason, string? ConciseReason, string? ConciseObservation, string? ConciseJustification,
    string? ConciseKnowledge, string? HypothesisAction, string? Observations, string? HypothesisEvaluation,
    string? DecisionReason, string? NewHypothesis, string? CodeChangeSummary, string? Exception)
{
    public static readonly ResearchTexts None = new(null, null, null, null, null, null, null, null, null, null, null,
        null);

    internal void WriteTo(JsonObject o)
    {
        o["hypothesis_reason"] = HypothesisReason;
        o["concise_reason"] = ConciseReason;
        o["concise_observation"] = ConciseObservation;
        o["concise_justification"] = ConciseJustification;
        o["concise_knowledge"] = ConciseKnowledge;
        o["hypothesis_action"] = HypothesisAction;
        o["observations"] = Observations;
        o["hypothesis_evaluation"] = HypothesisEvaluation;
        o["decision_reason"] = DecisionReason;
        o["new_hypothesis"] = NewHypothesis;
        o["code_change_summary"] = CodeChangeSummary;
        o["exception"] = Exception;
    }

    internal static ResearchTexts From(JsonObject o) => new(MetadataJson.Text(o["hypothesis_reason"]),
        MetadataJson.Text(o["concise_reason"]), MetadataJson.Text(o["concise_observation"]),
        MetadataJson.Text(o["concise_justification"]), MetadataJson.Text(o["concise_knowledge"]),
        MetadataJson.Text(o["hypothesis_action"]), MetadataJson.Text(o["observations"]),
        MetadataJson.Text(o["hypothesis_evaluation"]), MetadataJson.Text(o["decision_reason"]),
        MetadataJson.Text(o["new_hypothesis"]), MetadataJson.Text(o["code_change_summary"]),
        MetadataJson.Text(o["exception"]));
}

/// <summary>
/// <c>feedback.json</c>: RD-Agent's decision on the loop and its texts; <c>source</c> says where they came from
/// (<c>log</c>, <c>metrics</c> or <c>registry</c>). <c>hypothesis</c> is the loop's own hypothesis (the one its
/// experiment tested), <c>new_hypothesis</c> the feedback's suggestion for the next loop.
/// </summary>
public sealed record FeedbackFile(
    MetadataOrigin Origin, string? Status, bool? Decision, string? Hypothesis, string? Source, FeedbackSummary? Summary)
{
    public const string FileName = "feedback.json";

    /// <summary>The rest of what RD-Agent logged: the hypothesis's reason and concise fields, the feedback's
    /// texts.</summary>
    public ResearchTexts Texts { get; init; } = ResearchTexts.None;

    public JsonObject ToJson()
    {
        var o = Origin.NewObject();
        o["status"] = Status;
        o["decision"] = Decision;
        o["hypothesis"] = Hypothesis;
        o["source"] = Source;
        o["summary"] = Summary?.ToJson();
        Texts.WriteTo(o);
        return o;
    }

    public static FeedbackFile From(JsonObject o) => new(MetadataOrigin.From(o), MetadataJson.Text(o["status"]),
        MetadataJson.Bool(o["decision"]), MetadataJson.Text(o["hypothesis"]), MetadataJson.Text(o["source"]),
        FeedbackSummary.From(o["summary"]))
    {
        Texts = ResearchTexts.From(o),
    };

    public static FeedbackFile Read(string path) => From(MetadataJson.ReadObject(path));
}
