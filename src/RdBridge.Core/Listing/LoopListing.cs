using System.Globalization;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;
using static RdBridge.Catalogs.CatalogFields;

namespace RdBridge.Listing;

/// <summary>One loop as <c>rdbridge list</c> shows it: who, what, how it went, the key metrics, when.</summary>
public sealed record ListedLoop(
    string TaskRunId, long LoopId, string? Scenario, string? Action, string? Status, bool? Decision,
    double? AnnualizedReturn, double? Ic, double? MaxDrawdown, string? StartedAtUtc, string? EndedAtUtc,
    string? AssetBundleId);

/// <summary>One task run, summed up from its loops.</summary>
public sealed record ListedTaskRun(
    string TaskRunId, string? Scenario, int Loops, int Succeeded, int Accepted, double? BestAnnualizedReturn,
    string? StartedAtUtc, string? EndedAtUtc);

/// <summary>What the user asked to see.</summary>
/// <param name="TaskRun">a task run id or a unique start of one</param>
/// <param name="Sort">a column of the loop catalog (<see cref="CatalogQuery.SortColumns"/>); by default when each
/// loop started</param>
public sealed record ListFilter(
    string? TaskRun = null, string? Status = null, string? Action = null, bool? Decision = null,
    string? Sort = null, bool Descending = true, int Limit = 50);

/// <summary>
/// Task runs and loops from the AIstock loop catalog (what init and sync imported), for <c>rdbridge list</c>: the
/// database sorts; status, action, decision and the task run are filtered as the user spelt them; task run ids are
/// accepted by any unique start.
/// </summary>
public static class LoopListing
{
    /// <summary>A catalog holds at most this many loops for a listing (a page of the store at a time).</summary>
    public const int MaxLoopsRead = 100_000;

    public static IReadOnlyList<ListedLoop> Loops(ICatalogReader store, ListFilter filter)
    {
        var taskRun = filter.TaskRun is null ? null : TaskRunIds.Resolve(store, filter.TaskRun);
        var list = new List<ListedLoop>();
        foreach (var loop in All(store, filter.Sort ?? StartedAtUtc, filter.Descending, taskRun))
        {
            if (filter.Status is { } s && !string.Equals(loop.Status, s, StringComparison.OrdinalIgnoreCase)) continue;
            if (filter.Action is { } a && !string.Equals(loop.Action, a, StringComparison.OrdinalIgnoreCase)) continue;
            if (filter.Decision is { } d && loop.Decision != d) continue;
            list.Add(loop);
            if (list.Count >= filter.Limit) break;
        }
        return list;
    }

    /// <summary>Task runs, newest first unless told otherwise, each summed up from its loops.</summary>
    public static IReadOnlyList<ListedTaskRun> TaskRuns(ICatalogReader store, ListFilter filter)
    {
        var runs = All(store, StartedAtUtc, descending: false, null)
            .GroupBy(l => l.TaskRunId)
            .Select(g => new ListedTaskRun(g.Key, g.Select(l => l.Scenario).FirstOrDefault(x => x is not null),
                g.Count(), g.Count(l => l.Status == "success"), g.Count(l => l.Decision == true),
                g.Max(l => l.AnnualizedReturn), g.Min(l => l.StartedAtUtc), g.Max(l => l.EndedAtUtc)));
        var ordered = filter.Descending
            ? runs.OrderByDescending(r => r.StartedAtUtc, StringComparer.Ordinal)
            : runs.OrderBy(r => r.StartedAtUtc, StringComparer.Ordinal);
        return ordered.ThenBy(r => r.TaskRunId, StringComparer.Ordinal).Take(filter.Limit).ToList();
    }

    private static IEnumerable<ListedLoop> All(ICatalogReader store, string sort, bool descending, string? taskRun)
    {
        if (!CatalogQuery.SortColumns(CatalogKind.Loop).Contains(sort))
        {
            throw new QueryException($"cannot sort loops by '{sort}'; sort by one of " +
                string.Join(", ", CatalogQuery.SortColumns(CatalogKind.Loop)));
        }
        var read = 0;
        for (var page = 1; read < MaxLoopsRead; page++)
        {
            var result = store.Page(new CatalogPageRequest(CatalogKind.Loop, TaskRunId: taskRun, Sort: sort,
                Descending: descending, Page: page, PageSize: CatalogQuery.MaxPageSize));
            foreach (var item in result.Items)
            {
                read++;
                yield return Read(JsonNode.Parse(item.Payload)!.AsObject());
            }
            if (result.Items.Count < CatalogQuery.MaxPageSize) yield break;
        }
    }

    private static ListedLoop Read(JsonObject o) => new(
        (string?)o[TaskRunId] ?? "", o[LoopId]?.GetValue<long>() ?? -1, Text(o, Scenario),
        Text(o, CatalogFields.Action), Text(o, Status),
        o[Decision] is JsonValue d && d.TryGetValue<bool>(out var b) ? b : null, Number(o, AnnualizedReturn),
        Number(o, Ic), Number(o, MaxDrawdown), Text(o, StartedAtUtc), Text(o, EndedAtUtc), Text(o, AssetBundleId));

    private static string? Text(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static double? Number(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    /// <summary>The loops as JSON, for <c>--json</c>.</summary>
    public static JsonArray ToJson(IEnumerable<ListedLoop> loops) => new(loops.Select(l => (JsonNode?)new JsonObject
    {
        [TaskRunId] = l.TaskRunId, [LoopId] = l.LoopId, [Scenario] = l.Scenario, [CatalogFields.Action] = l.Action,
        [Status] = l.Status, [Decision] = l.Decision, [AnnualizedReturn] = l.AnnualizedReturn, [Ic] = l.Ic,
        [MaxDrawdown] = l.MaxDrawdown, [StartedAtUtc] = l.StartedAtUtc, [EndedAtUtc] = l.EndedAtUtc,
        [AssetBundleId] = l.AssetBundleId,
    }).ToArray());

    public static JsonArray ToJson(IEnumerable<ListedTaskRun> runs) => new(runs.Select(r => (JsonNode?)new JsonObject
    {
        [TaskRunId] = r.TaskRunId, [Scenario] = r.Scenario, ["loops"] = r.Loops, ["succeeded"] = r.Succeeded,
        ["accepted"] = r.Accepted, ["best_annualized_return"] = r.BestAnnualizedReturn,
        [StartedAtUtc] = r.StartedAtUtc, [EndedAtUtc] = r.EndedAtUtc,
    }).ToArray());

    /// <summary>A fraction as a percentage with two decimals, or a dash.</summary>
    public static string Percent(double? v) =>
        v is { } x ? (x * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%" : "–";
}

/// <summary>Task run ids by a unique start, as git takes a short commit id.</summary>
public static class TaskRunIds
{
    /// <summary>The one task run id of the loop catalog that starts with <paramref name="prefix"/>.</summary>
    public static string Resolve(ICatalogReader store, string prefix)
    {
        if (prefix.Length == 0) throw new QueryException("an empty task run id names nothing");
        var ids = Starting(store, prefix);
        if (ids.Contains(prefix)) return prefix;
        return ids.Count switch
        {
            1 => ids.Min!,
            0 => throw new QueryException($"no task run id starts with '{prefix}'; 'rdbridge list runs' lists them"),
            _ => throw new QueryException($"'{prefix}' starts several task run ids ({string.Join(", ", ids.Take(5))}" +
                "); give more of it"),
        };
    }

    /// <summary>
    /// The full id for a unique start; the text as given when no id starts with it (the caller then reports the id it
    /// cannot find, as for a full one); an error naming the candidates when the start fits several.
    /// </summary>
    public static string Complete(ICatalogReader store, string typed)
    {
        var ids = Starting(store, typed);
        if (ids.Contains(typed)) return typed;
        return ids.Count switch
        {
            0 => typed,
            1 => ids.Min!,
            _ => Resolve(store, typed),
        };
    }

    /// <summary>The ids starting with the prefix, in order; two are enough to know it is ambiguous.</summary>
    private static SortedSet<string> Starting(ICatalogReader store, string prefix)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        if (prefix.Length == 0) return ids;
        // The catalog's own prefix match on task_run_id (its index), sorted so that a third page is never needed:
        // the first two distinct ids settle it.
        for (var page = 1; ; page++)
        {
            var result = store.Page(new CatalogPageRequest(CatalogKind.Loop, TaskRunId: prefix, Sort: TaskRunId,
                Descending: false, Page: page, PageSize: CatalogQuery.MaxPageSize));
            foreach (var item in result.Items)
            {
                var id = (string?)JsonNode.Parse(item.Payload)?[TaskRunId];
                if (id is not null && id.StartsWith(prefix, StringComparison.Ordinal)) ids.Add(id);
            }
            if (result.Items.Count < CatalogQuery.MaxPageSize || ids.Count > 1) break;
        }
        return ids;
    }
}
