using System.Text;

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
}
