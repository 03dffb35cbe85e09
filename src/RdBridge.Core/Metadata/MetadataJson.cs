using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.IO;

namespace RdBridge.Metadata;

/// <summary>
/// Which loop and workspace a metadata file describes: the envelope every one of the five files starts with.
/// </summary>
public sealed record MetadataOrigin(string TaskRunId, long LoopId, string WorkspaceId)
{
    /// <summary>The schema version written into every metadata file.</summary>
    public const string Version = "v1";

    internal JsonObject NewObject() => new()
    {
        ["version"] = Version,
        ["task_run_id"] = TaskRunId,
        ["loop_id"] = LoopId,
        ["workspace_id"] = WorkspaceId,
    };

    internal static MetadataOrigin From(JsonObject o) => new(
        MetadataJson.Text(o["task_run_id"]) ?? "",
        o["loop_id"] is JsonValue v && v.TryGetValue<long>(out var id) ? id : 0,
        MetadataJson.Text(o["workspace_id"]) ?? "");
}

/// <summary>
/// How the metadata records go to and from their files: RdBridge's file JSON on the way out; on the way in a file
/// that is not JSON or not an object is an error (<see cref="JsonException"/>), a field of the wrong type is absent.
/// </summary>
public static class MetadataJson
{
    public static JsonObject ReadObject(string path) =>
        JsonNode.Parse(RegularFile.ReadAllBytes(path, ReadLimits.MetadataJson)) as JsonObject
            ?? throw new JsonException("not a JSON object");

    public static byte[] ToFileBytes(JsonObject content) => CanonicalJson.ToFileBytes(content);

    public static string? Text(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static bool? Bool(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    public static double? Number(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    public static IReadOnlyList<string> Texts(JsonNode? node) =>
        node is JsonArray a ? a.Select(Text).OfType<string>().ToList() : [];

    public static JsonArray TextArray(IEnumerable<string> texts) =>
        new(texts.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());

    /// <summary>Named numbers in their order (metrics), null where a value is missing or not a number.</summary>
    public static IReadOnlyList<KeyValuePair<string, double?>> Numbers(JsonNode? node) =>
        node is JsonObject o ? o.Select(p => new KeyValuePair<string, double?>(p.Key, Number(p.Value))).ToList() : [];

    public static JsonObject NumberObject(IEnumerable<KeyValuePair<string, double?>> numbers) =>
        new(numbers.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value)));

    public static JsonNode? Copy(JsonNode? node) => node?.DeepClone();
}
