using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RdBridge.Metadata;

/// <summary>
/// Turns arbitrary ids into Python identifiers and string literals that cannot break the generated code.
/// </summary>
public static class PythonNames
{
    /// <summary>
    /// ASCII letters, digits and underscores only; a short digest keeps ids that differ only in other characters
    /// apart.
    /// </summary>
    public static string Identifier(string id)
    {
        var sb = new StringBuilder(id.Length);
        foreach (var c in id)
            sb.Append(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' ? c : '_');
        var safe = sb.ToString();
        if (safe.Length == 0 || char.IsDigit(safe[0])) safe = "_" + safe;
        if (safe != id) safe += "_" + IO.FileDigest.Sha256OfText(id)[..8];
        return safe;
    }

    public static string StrategyFunction(string strategyId) => $"get_{Identifier(strategyId)}_config";

    /// <summary>
    /// A Python string literal: double-quoted, with every non-printable or non-ASCII character escaped.
    /// </summary>
    public static string StringLiteral(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            var v = rune.Value;
            switch (v)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\t': sb.Append(@"\t"); break;
                default:
                    if (v is >= 0x20 and < 0x7f) sb.Append((char)v);
                    else if (v <= 0xff) sb.Append($"\\x{v:x2}");
                    else if (v <= 0xffff) sb.Append($"\\u{v:x4}");
                    else sb.Append($"\\U{v:x8}");
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>
    /// A JSON value as a Python literal (dicts one key a line at <paramref name="indent"/> levels of four spaces),
    /// every string through <see cref="StringLiteral"/>: what the generated strategy library returns.
    /// </summary>
    public static string Literal(JsonNode? node, int indent)
    {
        switch (node)
        {
            case null: return "None";
            case JsonObject o:
                if (o.Count == 0) return "{}";
                var pad = new string(' ', 4 * (indent + 1));
                var items = o.Select(p =>
                    pad + StringLiteral(p.Key) + ": " + Literal(p.Value, indent + 1));
                return "{\n" + string.Join(",\n", items) + ",\n" + new string(' ', 4 * indent) + "}";
            case JsonArray a:
                return "[" + string.Join(", ", a.Select(i => Literal(i, indent + 1))) + "]";
            case JsonValue v:
                return v.GetValueKind() switch
                {
                    JsonValueKind.String => StringLiteral(v.GetValue<string>()),
                    JsonValueKind.True => "True",
                    JsonValueKind.False => "False",
                    JsonValueKind.Number => v.ToJsonString(),
                    _ => "None",
                };
            default: return "None";
        }
    }
}
