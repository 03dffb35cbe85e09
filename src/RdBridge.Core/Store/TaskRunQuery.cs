using System.Globalization;
using RdBridge.Catalogs;

namespace RdBridge.Store;

/// <summary>
/// One stored loop in the few columns a task run's story needs: its ids, where it stands, RD-Agent's decision and
/// its headline metrics. Read from the loop table's columns, never its payloads, so a task-run index over thousands of
/// loops parses no JSON.
/// </summary>
public sealed record LoopSummary(
    string TaskRunId, long LoopId, string? Scenario, string? Action, string? Status, bool HasResult,
    string? StartedAtUtc, string? EndedAtUtc, bool? Decision, string? AssetBundleId, string? LogDir,
    IReadOnlyDictionary<string, double?> Metrics);

/// <summary>The loop table read a task run at a time (or whole, for the index), by the columns alone.</summary>
public static class TaskRunQuery
{
    /// <summary>The loop table's metric columns a task run's story charts, in the order the UI offers them.</summary>
    public static readonly IReadOnlyList<string> Metrics =
    [
        CatalogFields.AnnualizedReturn, CatalogFields.Ic, CatalogFields.RankIc, CatalogFields.IcIr,
        CatalogFields.InformationRatio, CatalogFields.MaxDrawdown,
    ];

    /// <summary>The columns read before the metrics, in the order the row is taken apart below.</summary>
    private static readonly IReadOnlyList<string> Columns =
    [
        CatalogFields.TaskRunId, CatalogFields.LoopId, CatalogFields.Scenario, CatalogFields.Action,
        CatalogFields.Status, CatalogFields.HasResult, CatalogFields.StartedAtUtc, CatalogFields.EndedAtUtc,
        CatalogFields.Decision, CatalogFields.AssetBundleId, CatalogFields.LogDir,
    ];

    internal static IReadOnlyList<LoopSummary> Run(DbAistockStore store, string? taskRunIdPrefix)
    {
        var args = new List<(string, object?)>();
        var where = "";
        if (!string.IsNullOrEmpty(taskRunIdPrefix))
        {
            // A prefix of a hexadecimal id: the LIKE's own wildcards are escaped, so '_' and '%' match themselves.
            var escaped = taskRunIdPrefix.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
            where = $@"WHERE {CatalogFields.TaskRunId} LIKE @p ESCAPE '\'";
            args.Add(("@p", escaped + "%"));
        }

        var rows = store.Rows(
            $"SELECT {string.Join(", ", Columns.Concat(Metrics))} FROM {CatalogTable.Loop.Name} {where} " +
            $"ORDER BY {CatalogFields.TaskRunId}, {CatalogFields.LoopId}", [.. args]);
        return rows.Select(r =>
        {
            var metrics = new Dictionary<string, double?>();
            for (var i = 0; i < Metrics.Count; i++)
                metrics[Metrics[i]] = Number(r[Columns.Count + i]);
            return new LoopSummary((string)r[0]!, Convert.ToInt64(r[1], CultureInfo.InvariantCulture), r[2] as string,
                r[3] as string, r[4] as string, Bool(r[5]) ?? false, r[6] as string, r[7] as string, Bool(r[8]),
                r[9] as string, r[10] as string, metrics);
        }).ToList();
    }

    private static double? Number(object? v) =>
        v is null or DBNull ? null : Convert.ToDouble(v, CultureInfo.InvariantCulture);

    private static bool? Bool(object? v) => v switch
    {
        null or DBNull => null,
        bool b => b,
        _ => Convert.ToInt64(v, CultureInfo.InvariantCulture) != 0,
    };
}
