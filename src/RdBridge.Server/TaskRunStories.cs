using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Registry;
using RdBridge.Store;

namespace RdBridge.Server;

/// <summary>
/// One loop as a task run's story tells it: where it stands (failed and running loops too), RD-Agent's hypothesis and
/// decision, and its headline metrics when it has results. <see cref="InCatalog"/>: AIstock holds its results (a
/// bundle, metrics and curves; failed and running loops are in AIstock's loop table too, without them).
/// </summary>
public sealed record StoryLoop(
    long LoopId, string? Action, string Status, bool HasResult, bool InCatalog, bool? Decision, string? Hypothesis,
    string? StartedAtUtc, string? EndedAtUtc, string? AssetBundleId, string? ErrorType, string? ErrorMessage,
    IReadOnlyDictionary<string, string> Texts, IReadOnlyDictionary<string, double?> Metrics)
{
    public JsonObject ToJson()
    {
        var metrics = new JsonObject();
        foreach (var (k, v) in Metrics) metrics[k] = v;
        var texts = new JsonObject();
        foreach (var (k, v) in Texts) texts[k] = v;
        return new JsonObject
        {
            [CatalogFields.LoopId] = LoopId, [CatalogFields.Action] = Action, [CatalogFields.Status] = Status,
            [CatalogFields.HasResult] = HasResult, ["in_catalog"] = InCatalog, [CatalogFields.Decision] = Decision,
            [CatalogFields.Hypothesis] = Hypothesis, [CatalogFields.StartedAtUtc] = StartedAtUtc,
            [CatalogFields.EndedAtUtc] = EndedAtUtc, [CatalogFields.AssetBundleId] = AssetBundleId,
            [CatalogFields.ErrorType] = ErrorType, [CatalogFields.ErrorMessage] = ErrorMessage, ["texts"] = texts,
            ["metrics"] = metrics,
        };
    }
}

/// <summary>A task run: its loops in order, and the few facts its index row shows.</summary>
public sealed record TaskRunStory(string TaskRunId, string? Scenario, string? LogFolder, IReadOnlyList<StoryLoop> Loops)
{
    private const int NameLength = 72;

    /// <summary>
    /// A short name a researcher recognises: the first hypothesis RD-Agent logged (cut at a word), else the log
    /// folder's name, else the id's first 12 characters.
    /// </summary>
    public string Name
    {
        get
        {
            var first = Loops.Select(l => l.Hypothesis).FirstOrDefault(h => !string.IsNullOrWhiteSpace(h))?.Trim();
            if (first is not null)
            {
                // Discovery prefixes "Loop N: "; the run's name is the idea, not the loop number.
                var colon = first.IndexOf(": ", StringComparison.Ordinal);
                if (first.StartsWith("Loop ", StringComparison.Ordinal) && colon > 0) first = first[(colon + 2)..];
                return first.Length <= NameLength ? first : first[..NameLength].TrimEnd() + "…";
            }

            return LogFolder ?? TaskRunId[..Math.Min(12, TaskRunId.Length)];
        }
    }

    public string? StartedAtUtc => Loops.Select(l => l.StartedAtUtc).Where(t => t is not null).Min();
    public string? EndedAtUtc => Loops.Select(l => l.EndedAtUtc ?? l.StartedAtUtc).Where(t => t is not null).Max();

    /// <summary>
    /// The chosen metric after each loop with a value: the first is the baseline (the first loop with results, which
    /// RD-Agent runs against the starting factor set), then the best so far. Higher is better for every metric kept
    /// (drawdowns are negative).
    /// </summary>
    public IReadOnlyList<(long LoopId, double Value, double Best, bool Improved)> BestSoFar(string metric)
    {
        var list = new List<(long, double, double, bool)>();
        double? best = null;
        foreach (var l in Loops)
        {
            if (l.Metrics.GetValueOrDefault(metric) is not { } v || !double.IsFinite(v)) continue;
            var improved = best is null || v > best;
            if (improved) best = v;
            list.Add((l.LoopId, v, best!.Value, improved));
        }
        return list;
    }

    public JsonObject IndexJson(string metric)
    {
        var byStatus = new JsonObject();
        foreach (var g in Loops.GroupBy(l => l.Status).OrderBy(g => g.Key, StringComparer.Ordinal))
            byStatus[g.Key] = g.Count();
        var best = BestSoFar(metric);
        long? top = best.Count == 0 ? null : best.Where(b => b.Value == best[^1].Best).Select(b => b.LoopId).First();
        return new JsonObject
        {
            [CatalogFields.TaskRunId] = TaskRunId, ["name"] = Name, [CatalogFields.Scenario] = Scenario,
            ["log_folder"] = LogFolder, [CatalogFields.StartedAtUtc] = StartedAtUtc,
            [CatalogFields.EndedAtUtc] = EndedAtUtc, ["loops"] = Loops.Count,
            ["by_status"] = byStatus, ["with_results"] = Loops.Count(l => l.InCatalog),
            ["accepted"] = Loops.Count(l => l.Decision == true),
            ["best"] = best.Count == 0 ? null : new JsonObject
            {
                ["metric"] = metric, ["value"] = best[^1].Best, [CatalogFields.LoopId] = top,
            },
        };
    }
}

/// <summary>
/// Builds task runs' stories from what this side holds: AIstock's loop table (loops with results) and, where the
/// configuration names RD-Agent's registry (a consumer on the RD-Agent machine, or <c>--role both</c>), every loop
/// discovery or the fork recorded, with its status, error and hypothesis. Without the registry the hypothesis of a
/// loop with results comes from its bundle's <c>feedback.json</c>.
/// </summary>
public static class TaskRunStories
{
    public static IReadOnlyList<TaskRunStory> Read(RdBridgeSettings settings, ICatalogReader store, string? prefix)
    {
        var stored = store.LoopSummaries(prefix).GroupBy(l => l.TaskRunId).ToDictionary(g => g.Key, g => g.ToList());
        var registry = ReadRegistry(settings, prefix);
        var ids = stored.Keys.Union(registry.Keys).Order(StringComparer.Ordinal);
        return ids.Select(id => Merge(settings, id, stored.GetValueOrDefault(id) ?? [], registry.GetValueOrDefault(id)))
            .ToList();
    }

    private sealed record RegistryRun(string? Scenario, string? LogFolder, IReadOnlyList<LoopRow> Loops,
        IReadOnlyDictionary<long, LoopTexts> Texts);

    private static Dictionary<string, RegistryRun> ReadRegistry(RdBridgeSettings settings, string? prefix)
    {
        var runs = new Dictionary<string, RegistryRun>(StringComparer.Ordinal);
        if (!settings.HasRdAgent || !File.Exists(settings.RegistryPath)) return runs;
        try
        {
            using var db = RegistryDatabase.Open(settings.RegistryPath, writable: false);
            var texts = db.ReadLoopTexts(null).Where(t => prefix is null || t.TaskRunId.StartsWith(prefix,
                StringComparison.Ordinal)).GroupBy(t => t.TaskRunId)
                .ToDictionary(g => g.Key, g => g.GroupBy(t => t.LoopId).ToDictionary(x => x.Key, x => x.First()));
            foreach (var g in db.ReadLoops(new LoopSelection())
                         .Where(l => prefix is null || l.TaskRunId.StartsWith(prefix, StringComparison.Ordinal))
                         .GroupBy(l => l.TaskRunId))
            {
                var first = g.First();
                runs[g.Key] = new RegistryRun(first.Scenario, Folder(first.LogTracePath ?? first.LogDir), g.ToList(),
                    texts.GetValueOrDefault(g.Key) ?? []);
            }
            // Loops discovery read from the log but the registry's loops table lacks (still running, say).
            foreach (var (id, loops) in texts.Where(t => !runs.ContainsKey(t.Key)))
                runs[id] = new RegistryRun(null, null, [], loops);
        }
        catch (Exception e) when (e is RegistryException or IOException or Microsoft.Data.Sqlite.SqliteException)
        {
            // The registry is an extra: without it the story is told from AIstock's loops alone.
        }
        return runs;
    }

    /// <summary>The last folder of a log path in any spelling RD-Agent stores (F:\…, F:/…, /mnt/f/…).</summary>
    private static string? Folder(string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) return null;
        var parts = path.Replace('\\', '/').TrimEnd('/').Split('/');
        return parts[^1] is { Length: > 0 } last && !last.StartsWith("Loop_", StringComparison.Ordinal)
            ? last
            : parts.Length > 1 ? parts[^2] : null;
    }

    private static TaskRunStory Merge(RdBridgeSettings settings, string id, List<LoopSummary> stored,
        RegistryRun? registry)
    {
        var byLoop = stored.ToDictionary(l => l.LoopId);
        var rows = registry?.Loops.ToDictionary(l => l.LoopId) ?? [];
        var texts = registry?.Texts ?? new Dictionary<long, LoopTexts>();
        var loopIds = byLoop.Keys.Union(rows.Keys).Union(texts.Keys).Order();
        var loops = new List<StoryLoop>();
        foreach (var loopId in loopIds)
        {
            var s = byLoop.GetValueOrDefault(loopId);
            var r = rows.GetValueOrDefault(loopId);
            var t = texts.GetValueOrDefault(loopId);
            var status = r?.Status ?? t?.Status ?? s?.Status ?? "unknown";
            var hypothesis = t?.Hypothesis ?? (s is null ? null : BundleHypothesis(settings, s.AssetBundleId));
            var withResults = s is { HasResult: true, AssetBundleId: not null };
            loops.Add(new StoryLoop(loopId, s?.Action ?? r?.Action, status, s?.HasResult ?? r?.HasResult ?? false,
                withResults, s?.Decision ?? t?.Decision, hypothesis, s?.StartedAtUtc ?? r?.StartedAtUtc,
                s?.EndedAtUtc ?? r?.EndedAtUtc, s?.AssetBundleId ?? r?.AssetBundleId, r?.ErrorType,
                r?.ErrorMessage, t?.More ?? new Dictionary<string, string>(),
                s?.Metrics ?? new Dictionary<string, double?>()));
        }
        var scenario = stored.Select(l => l.Scenario).FirstOrDefault(x => x is not null) ?? registry?.Scenario;
        var folder = registry?.LogFolder ?? Folder(stored.Select(l => l.LogDir).FirstOrDefault(x => x is not null));
        return new TaskRunStory(id, scenario, folder, loops);
    }

    /// <summary>The hypothesis a loop's bundle recorded in its feedback.json (asset cache), or null.</summary>
    private static string? BundleHypothesis(RdBridgeSettings settings, string? bundleId)
    {
        if (bundleId is null || !Layout.BundleId.IsSafe(bundleId)) return null;
        var folder = settings.AssetCache.Extracted(bundleId);
        var ws = Path.Combine(folder, "workspaces");
        if (!Directory.Exists(ws)) return null;
        foreach (var dir in Directory.EnumerateDirectories(ws).Order(StringComparer.Ordinal))
        {
            var file = Path.Combine(dir, Metadata.FeedbackFile.FileName);
            if (!File.Exists(file)) continue;
            try { return Metadata.FeedbackFile.Read(file).Hypothesis; }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException or RdBridgeException)
            {
                return null;
            }
        }
        return null;
    }
}
