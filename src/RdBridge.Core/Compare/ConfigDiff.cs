using System.Text.Json.Nodes;
using RdBridge.IO;

namespace RdBridge.Compare;

/// <summary>
/// One setting that differs between two workflow configs: where it is, what part of the run it steers.
/// </summary>
/// <param name="Kind">added (only in the second), removed (only in the first) or changed.</param>
/// <param name="Before">The first config's value as compact JSON (null when it has none).</param>
public sealed record ConfigChange(string Section, string Path, string Kind, string? Before, string? After);

/// <summary>
/// Two Qlib workflow configs (as <see cref="Backfill.WorkflowConfig"/> reads them) compared key by key: a value that
/// moved in the file or changed only its quoting is no change; a list is compared item by item. Each change is
/// placed in the part of the run a researcher looks for: dataset segments, handler, processors, model, strategy,
/// backtest, or other.
/// </summary>
public static class ConfigDiff
{
    private static readonly string[] SectionOrder =
        ["dataset segments", "handler", "processors", "model", "strategy", "backtest", "records", "other"];

    public static IReadOnlyList<string> Sections => SectionOrder;

    public static IReadOnlyList<ConfigChange> Diff(JsonNode? a, JsonNode? b)
    {
        var changes = new List<ConfigChange>();
        Walk(a, b, "", changes, 0);
        return changes.OrderBy(c => Array.IndexOf(SectionOrder, c.Section)).ToList();
    }

    private static void Walk(JsonNode? a, JsonNode? b, string path, List<ConfigChange> changes, int depth)
    {
        if (depth > 64) throw new CompareException($"the configs nest deeper than 64 levels at '{path}'");
        switch (a, b)
        {
            case (JsonObject oa, JsonObject ob):
                foreach (var (key, va) in oa)
                {
                    if (ob.TryGetPropertyValue(key, out var vb)) Walk(va, vb, Join(path, key), changes, depth + 1);
                    else changes.Add(Change(Join(path, key), "removed", va, null));
                }

                foreach (var (key, vb) in ob)
                    if (!oa.ContainsKey(key)) changes.Add(Change(Join(path, key), "added", null, vb));
                return;
            case (JsonArray la, JsonArray lb):
                for (var i = 0; i < Math.Max(la.Count, lb.Count); i++)
                {
                    var p = $"{path}[{i}]";
                    if (i >= lb.Count) changes.Add(Change(p, "removed", la[i], null));
                    else if (i >= la.Count) changes.Add(Change(p, "added", null, lb[i]));
                    else Walk(la[i], lb[i], p, changes, depth + 1);
                }
                return;
            default:
                if (Text(a) != Text(b)) changes.Add(Change(path, "changed", a, b));
                return;
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static ConfigChange Change(string path, string kind, JsonNode? before, JsonNode? after) =>
        new(SectionOf(path), path, kind, kind == "added" ? null : Text(before), kind == "removed" ? null : Text(after));

    private static string Text(JsonNode? node) => CanonicalJson.Canonical(node);

    /// <summary>The part of the run a setting steers, by where Qlib's workflow format puts it.</summary>
    public static string SectionOf(string path)
    {
        bool Under(string prefix) => path == prefix || path.StartsWith(prefix + ".", StringComparison.Ordinal)
            || path.StartsWith(prefix + "[", StringComparison.Ordinal);
        if (Under("task.dataset.kwargs.segments")) return "dataset segments";
        if (path.Contains("processors", StringComparison.Ordinal)) return "processors";
        if (Under("task.dataset") || Under("data_handler_config") || Under("market") || Under("benchmark")
            || Under("qlib_init"))
        {
            return "handler";
        }

        if (Under("task.model")) return "model";
        if (Under("port_analysis_config.strategy")) return "strategy";
        if (Under("port_analysis_config.backtest")) return "backtest";
        if (Under("task.record"))
        {
            return path.Contains(".strategy", StringComparison.Ordinal) ? "strategy"
            : path.Contains(".backtest", StringComparison.Ordinal) ? "backtest" : "records";
        }

        return "other";
    }
}
