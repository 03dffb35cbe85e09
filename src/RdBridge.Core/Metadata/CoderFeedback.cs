using System.Text.Json.Nodes;

namespace RdBridge.Metadata;

/// <summary>
/// What CoSTEER's evaluator said of one factor or model task in the last evolving step the log holds (its
/// <c>evolving feedback</c>, one entry per task), and how many evolving steps the coder ran. The texts are RD-Agent's,
/// exact: <c>FactorSingleFeedback</c>/<c>ModelSingleFeedback</c> keep <c>execution_feedback</c>,
/// <c>value_feedback</c>, <c>shape_feedback</c>, <c>code_feedback</c> and <c>final_feedback</c>; the newer
/// <c>CoSTEERSingleFeedback</c> keeps <c>execution</c>, <c>return_checking</c> and <c>code</c>. A field the logged
/// class does not have is null, never made up from the others.
/// </summary>
public sealed record CoderFeedback(
    int EvolvingSteps, bool? FinalDecision, string? Execution, string? ReturnChecking, string? ValueFeedback,
    string? ShapeFeedback, string? Code, string? FinalFeedback)
{
    public JsonObject ToJson() => new()
    {
        ["evolving_steps"] = EvolvingSteps,
        ["final_decision"] = FinalDecision,
        ["execution"] = Execution,
        ["return_checking"] = ReturnChecking,
        ["value_feedback"] = ValueFeedback,
        ["shape_feedback"] = ShapeFeedback,
        ["code"] = Code,
        ["final_feedback"] = FinalFeedback,
    };

    public static CoderFeedback? From(JsonNode? node) => node is JsonObject o
        ? new CoderFeedback(
            o["evolving_steps"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : 0,
            MetadataJson.Bool(o["final_decision"]), MetadataJson.Text(o["execution"]),
            MetadataJson.Text(o["return_checking"]), MetadataJson.Text(o["value_feedback"]),
            MetadataJson.Text(o["shape_feedback"]), MetadataJson.Text(o["code"]),
            MetadataJson.Text(o["final_feedback"]))
        : null;
}
