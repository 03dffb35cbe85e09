using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RdBridge.IO;

/// <summary>
/// The JSON conventions used for every file RdBridge writes: UTF-8, readable Chinese, indented; and a canonical form
/// (sorted keys, no spaces) for fingerprints that must not change with key order.
/// </summary>
public static class CanonicalJson
{
    public static readonly JsonSerializerOptions FileOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // Not Environment.NewLine: a file (and the bundle holding it) is byte-identical on Windows and Linux.
        NewLine = "\n",
    };

    public static readonly JsonWriterOptions FileWriterOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NewLine = "\n",
    };

    public static byte[] ToFileBytes(JsonNode node)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(node, FileOptions);
        var withNewline = new byte[bytes.Length + 1];
        bytes.CopyTo(withNewline, 0);
        withNewline[^1] = (byte)'\n';
        return withNewline;
    }

    /// <summary>Compact JSON with object keys sorted at every level.</summary>
    public static string Canonical(JsonNode? node)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream,
            new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteSorted(writer, node);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public static string Fingerprint(JsonNode? node) => FileDigest.Sha256OfText(Canonical(node));

    private static void WriteSorted(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null: writer.WriteNullValue(); break;
            case JsonObject o:
                writer.WriteStartObject();
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(k);
                    WriteSorted(writer, v);
                }
                writer.WriteEndObject();
                break;
            case JsonArray a:
                writer.WriteStartArray();
                foreach (var item in a) WriteSorted(writer, item);
                writer.WriteEndArray();
                break;
            default: node.WriteTo(writer); break;
        }
    }
}
