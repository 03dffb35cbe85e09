using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.IO;
using RdBridge.Show;

namespace RdBridge.Cli;

/// <summary>
/// What <c>show</c> prints without <c>--json</c>: the record's own values, its links one level down, lists as counts
/// with their first items, and every problem — a screen, not the ~450 lines of the full JSON.
/// </summary>
internal static class ShowSummary
{
    private const int ListedItems = 5;

    public static void Write(TextWriter w, JsonObject record)
    {
        foreach (var (key, value) in record)
        {
            if (key == ShowQuery.ProblemsField) continue;
            switch (value)
            {
                case JsonObject o:
                    w.WriteLine($"{key}:");
                    foreach (var (k, v) in o) w.WriteLine($"  {k,-24} {Brief(v)}");
                    break;
                case JsonArray a:
                    w.WriteLine($"{key}: {Counted.Of(a.Count, "item")}");
                    foreach (var item in a.Take(ListedItems)) w.WriteLine($"  - {Brief(item)}");
                    if (a.Count > ListedItems) w.WriteLine($"  … and {a.Count - ListedItems} more");
                    break;
                default:
                    w.WriteLine($"{key,-26} {Brief(value)}");
                    break;
            }
        }
        if (record[ShowQuery.ProblemsField] is JsonArray { Count: > 0 } problems)
        {
            w.WriteLine($"problems ({problems.Count}):");
            foreach (var p in problems) w.WriteLine($"  ✗ {Brief(p)}");
        }
        else
        {
            w.WriteLine("problems: none — every link checked");
        }
    }

    /// <summary>A value on one line: scalars as they are, an object by its scalar fields, a list by its count.
    /// </summary>
    private static string Brief(JsonNode? node) => node switch
    {
        null => "–",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Cut(v.GetValue<string>()),
        JsonValue v => v.ToJsonString(),
        JsonArray a => a.All(x => x is JsonValue)
            ? Cut(string.Join(", ", a.Select(x => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.String
                ? xv.GetValue<string>() : x?.ToJsonString())))
            : Counted.Of(a.Count, "item"),
        JsonObject o => Cut(string.Join(", ", o.Where(kv => kv.Value is JsonValue)
            .Select(kv => $"{kv.Key}={Brief(kv.Value)}"))),
        _ => node.ToJsonString(),
    };

    private static string Cut(string text) => text.Length <= 100 ? text : text[..99] + "…";
}
