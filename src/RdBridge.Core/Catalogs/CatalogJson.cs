using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RdBridge.Catalogs;

/// <summary>
/// The one way catalog records, their files' heads and a loop's lineage become JSON and back: source-generated (no
/// reflection), field names from the records' property names in snake_case. Export writes through it, import and the
/// stores read through it, <c>show</c>, <c>compare</c>, the API and the feed serialise through it. A field added to a
/// record here appears in the catalog file, both stores' payloads, the API and <c>show</c>, with nothing else
/// changed.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(FactorRecord))]
[JsonSerializable(typeof(ModelRecord))]
[JsonSerializable(typeof(StrategyRecord))]
[JsonSerializable(typeof(LoopRecord))]
[JsonSerializable(typeof(FactorOccurrence))]
[JsonSerializable(typeof(RecordLinks))]
[JsonSerializable(typeof(IReadOnlyList<FactorOccurrence>))]
[JsonSerializable(typeof(LoopWorkspace))]
[JsonSerializable(typeof(IReadOnlyList<LoopWorkspace>))]
[JsonSerializable(typeof(CatalogHeader))]
[JsonSerializable(typeof(FactorCatalog))]
[JsonSerializable(typeof(ModelCatalog))]
[JsonSerializable(typeof(StrategyCatalog))]
[JsonSerializable(typeof(LoopCatalog))]
[JsonSerializable(typeof(LoopLineage))]
public sealed partial class CatalogJson : JsonSerializerContext
{
    /// <summary>
    /// A stored or streamed record read as its kind's type; null when its shape does not fit (a field of another type
    /// than RdBridge writes), so a reader can fall back to the record's text.
    /// </summary>
    public static T? Read<T>(JsonElement record) where T : class
    {
        try { return (T?)record.Deserialize(Default.GetTypeInfo(typeof(T))!); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { return null; }
    }

    /// <inheritdoc cref="Read{T}(JsonElement)"/>
    public static T? Read<T>(string json) where T : class
    {
        using var doc = JsonDocument.Parse(json);
        return Read<T>(doc.RootElement.Clone());
    }

    /// <summary>
    /// The JSON name of a record property, as this context writes it (for a column named after its field). Not for a
    /// property whose name is given by an attribute.
    /// </summary>
    public static string FieldName(string propertyName) => JsonNamingPolicy.SnakeCaseLower.ConvertName(propertyName);

    /// <summary>
    /// A record as a store holds it (its payload), with the publisher it came from. A payload whose shape does not fit
    /// the type (another tool's) is kept whole in <see cref="LoopLinks.Unknown"/>, so nothing of it is lost.
    /// </summary>
    public static T ReadStored<T>(string payload, string? origin) where T : CatalogRecord, new()
    {
        using var doc = JsonDocument.Parse(payload);
        var root = doc.RootElement.Clone();
        var record = Read<T>(root) ?? new T
        {
            Unknown = root.ValueKind == JsonValueKind.Object
                ? root.EnumerateObject().ToDictionary(p => p.Name, p => p.Value)
                : null,
        };
        return record with { Origin = origin ?? "local" };
    }

    /// <summary>Writes a record into a catalog being streamed (the writer's indentation and encoder apply).</summary>
    public static void Write<T>(Utf8JsonWriter writer, T record) where T : class =>
        JsonSerializer.Serialize(writer, record, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)
            Default.GetTypeInfo(typeof(T))!);

    /// <summary>A record as a JSON object, for views that add to it (<c>show</c>'s loop view).</summary>
    public static JsonObject ToNode<T>(T record) where T : class =>
        JsonSerializer.SerializeToNode(record, Default.GetTypeInfo(typeof(T))!)!.AsObject();

    /// <summary>
    /// The same context writing readable Chinese and '+' (the API's JSON; the UI inserts values as text, never as
    /// markup).
    /// </summary>
    public static JsonSerializerOptions Readable => s_readable ??= new JsonSerializerOptions(Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
    private static JsonSerializerOptions? s_readable;

    /// <summary>A record or lineage as the API serves it.</summary>
    public static string ToReadableText<T>(T record) where T : class =>
        JsonSerializer.Serialize(record, Readable.GetTypeInfo(typeof(T)));

    /// <summary>A record as compact text (a stored payload, a spooled factor).</summary>
    public static string ToText<T>(T record) where T : class =>
        JsonSerializer.Serialize(record, Default.GetTypeInfo(typeof(T))!);
}
