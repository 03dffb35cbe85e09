using System.Globalization;
using System.Text;
using System.Text.Json;
using RdBridge.Catalogs;

namespace RdBridge.Store;

/// <summary>A page of one catalog, as the consumer API and the web UI ask for it.</summary>
public sealed record CatalogPageRequest(
    CatalogKind Kind,
    string? Search = null,
    string? TaskRunId = null,
    long? LoopId = null,
    string? Source = null,
    string? Origin = null,
    string? Tag = null,
    IReadOnlyDictionary<string, (double? Min, double? Max)>? Ranges = null,
    string? Sort = null,
    bool Descending = true,
    int Page = 1,
    int PageSize = 50)
{
    /// <summary>Loops only: RD-Agent's decision (true: accepted).</summary>
    public bool? Decision { get; init; }
    /// <summary>Loops only: the loop's status as the registry recorded it.</summary>
    public string? Status { get; init; }
    /// <summary>Loops only: started at or after / before this UTC time (ISO 8601 text sorts in time order).</summary>
    public string? StartedFrom { get; init; }
    public string? StartedBefore { get; init; }
}

/// <summary>
/// One page. <see cref="Items"/> are the stored records. <see cref="Total"/> is exact when
/// <see cref="TotalExact"/>; past <see cref="CatalogQuery.CountCap"/> matches it is a lower bound, so that a page of a
/// 200,000-row catalog never has to count every row.
/// </summary>
public sealed record CatalogPage(
    CatalogKind Kind, long Total, bool TotalExact, int Page, int PageSize, IReadOnlyList<CatalogItem> Items)
{
    /// <summary>
    /// Writes the page as the API's JSON envelope, piece by piece: a page of 50 factors is ~100 KB, and building it as
    /// one string (then its UTF-8 bytes) put three large-object-heap allocations on every request.
    /// </summary>
    public async Task WriteJsonAsync(TextWriter w, string kindName)
    {
        await w.WriteAsync($"{{\"kind\":\"{kindName}\",\"total\":{Total}," +
            $"\"total_exact\":{(TotalExact ? "true" : "false")},\"page\":{Page},\"page_size\":{PageSize},\"items\":[");
        for (var i = 0; i < Items.Count; i++)
        {
            if (i > 0) await w.WriteAsync(',');
            await Items[i].WriteJsonAsync(w);
        }
        await w.WriteAsync("]}");
    }
}

/// <summary>
/// A stored record as it goes out: its JSON text unchanged, with <c>origin</c> and <c>imported_updated_at</c> in front.
/// </summary>
public sealed record CatalogItem(string Payload, string Origin, string? UpdatedAt)
{
    public async Task WriteJsonAsync(TextWriter w)
    {
        await w.WriteAsync($"{{\"origin\":{JsonSerializer.Serialize(Origin)}," +
            $"\"imported_updated_at\":{JsonSerializer.Serialize(UpdatedAt)}");
        // The record's own members follow, without its braces: the stored text is never parsed again.
        var body = Payload.AsMemory().Trim();
        var inner = body.Length < 2 || body.Span[0] != '{' ? ReadOnlyMemory<char>.Empty : body[1..^1].Trim();
        if (!inner.IsEmpty) { await w.WriteAsync(','); await w.WriteAsync(inner); }
        await w.WriteAsync('}');
    }
}

/// <summary>
/// A request the query cannot answer; the message says which parameter and what it accepts. HTTP 400.
/// </summary>
public sealed class QueryException(string message) : RdBridgeException(message, ExitCodes.UsageError);

/// <summary>
/// Filters, sorting and paging done by the database (never a full-table load): every filter is a parameter, every
/// column name comes from a fixed list, so nothing from the request reaches the SQL text.
/// </summary>
public static class CatalogQuery
{
    public const int MaxPageSize = 500;
    public const int CountCap = 10_000;

    /// <summary>The numeric columns a kind can be sorted and range-filtered by.</summary>
    public static IReadOnlyList<string> NumericColumns(CatalogKind kind) => CatalogTable.For(kind).Columns
        .Where(c => c.Type is ColumnType.Real or ColumnType.Integer).Select(c => c.Name).ToList();

    public static IReadOnlyList<string> SortColumns(CatalogKind kind) => kind switch
    {
        CatalogKind.Factor => [.. NumericColumns(kind), "name", "source", "task_run_id", "updated_at"],
        CatalogKind.Model => [.. NumericColumns(kind), "model_id", "model_type", "task_run_id", "updated_at"],
        CatalogKind.Strategy => [.. NumericColumns(kind), "strategy_id", "task_run_id", "updated_at"],
        _ => [.. NumericColumns(kind), "task_run_id", "started_at_utc", "ended_at_utc", "status", "updated_at"],
    };

    private static IReadOnlyList<string> SearchColumns(CatalogKind kind) => kind switch
    {
        CatalogKind.Factor => ["name", "expression", "description_cn", "formula_hint"],
        CatalogKind.Model => ["model_id", "model_type", "network_class"],
        CatalogKind.Strategy => ["strategy_id", "model_type", "config_fingerprint"],
        _ => ["task_run_id", "action", "status", "model_type", "hypothesis"],
    };

    /// <summary>One page of a catalog; the store runs the SQL written here.</summary>
    /// <param name="counts">Match counts kept across requests (the server's); null counts every time.</param>
    public static CatalogPage Run(ICatalogReader store, CatalogPageRequest q, MatchCounts? counts = null) =>
        store.Page(q, counts);

    internal static CatalogPage Run(DbAistockStore store, CatalogPageRequest q, MatchCounts? counts)
    {
        var table = CatalogTable.For(q.Kind);
        var pg = store.Dialect == SqlDialect.Postgres;
        if (q.Page < 1) throw new QueryException("page starts at 1");
        if (q.PageSize is < 1 or > MaxPageSize)
            throw new QueryException($"page_size must be between 1 and {MaxPageSize}");
        var where = new List<string>();
        var args = new List<(string, object?)>();
        string Arg(object? v) { var n = "@p" + args.Count; args.Add((n, v)); return n; }

        if (!string.IsNullOrWhiteSpace(q.Search))
        {
            var like = Arg("%" + EscapeLike(q.Search.Trim()) + "%");
            where.Add("(" + string.Join(" OR ", SearchColumns(q.Kind)
                .Select(c => pg ? $"{c} ILIKE {like} ESCAPE '\\'" : $"{c} LIKE {like} ESCAPE '\\'")) + ")");
        }
        if (q.TaskRunId is not null)
        {
            // A full id is matched exactly (the index's equality); a shorter one as the start of ids.
            where.Add(q.TaskRunId.Length >= 32
                ? $"task_run_id = {Arg(q.TaskRunId)}"
                : $"task_run_id LIKE {Arg(EscapeLike(q.TaskRunId) + "%")} ESCAPE '\\'");
        }
        if (q.Kind != CatalogKind.Loop && (q.Decision is not null || q.Status is not null || q.StartedFrom is not null
                || q.StartedBefore is not null))
        {
            throw new QueryException("decision, status, started_from and started_before filter loops only");
        }
        if (q.Decision is { } decision) where.Add($"decision = {(pg ? Arg(decision) : Arg(decision ? 1 : 0))}");
        if (q.Status is not null) where.Add($"status = {Arg(q.Status)}");
        if (q.StartedFrom is not null) where.Add($"started_at_utc >= {Arg(q.StartedFrom)}");
        if (q.StartedBefore is not null) where.Add($"started_at_utc < {Arg(q.StartedBefore)}");
        if (q.LoopId is not null) where.Add($"loop_id = {Arg(q.LoopId)}");
        if (q.Origin is not null) where.Add(q.Origin is "local" ? "origin IS NULL" : $"origin = {Arg(q.Origin)}");
        if (q.Source is not null)
        {
            if (q.Kind != CatalogKind.Factor)
            {
                throw new QueryException("source filters factors only (rdagent_generated, qlib_alpha158, …); " +
                    "use origin for the publisher");
            }

            where.Add($"source = {Arg(q.Source)}");
        }
        if (q.Tag is not null)
        {
            if (q.Kind != CatalogKind.Factor) throw new QueryException("tag filters factors only");
            var t = Arg(q.Tag);
            where.Add(pg
                ? $"tags @> jsonb_build_array({t}::text)"
                : $"EXISTS (SELECT 1 FROM json_each(tags) WHERE value = {t})");
        }
        var numeric = NumericColumns(q.Kind);
        foreach (var (column, (min, max)) in q.Ranges ?? new Dictionary<string, (double?, double?)>())
        {
            if (!numeric.Contains(column))
            {
                throw new QueryException($"min_/max_{column}: {q.Kind.ToString().ToLowerInvariant()}s have no " +
                    $"numeric column '{column}'; use one of {string.Join(", ", numeric)}");
            }

            if (min is not null) where.Add($"{column} >= {Arg(min)}");
            if (max is not null) where.Add($"{column} <= {Arg(max)}");
        }
        var sort = q.Sort
            ?? (q.Kind switch { CatalogKind.Factor => "ic", CatalogKind.Loop => "task_run_id", _ => "task_run_id" });
        if (!SortColumns(q.Kind).Contains(sort))
        {
            throw new QueryException($"sort: {q.Kind.ToString().ToLowerInvariant()}s can be sorted by " +
                $"{string.Join(", ", SortColumns(q.Kind))}");
        }

        var dir = q.Descending ? "DESC" : "ASC";
        // A missing value sorts as the lowest one in both stores (SQLite's own rule), so one index serves both
        // directions; the key makes the order total, so pages never overlap or skip.
        var nulls = pg ? (q.Descending ? " NULLS LAST" : " NULLS FIRST") : "";
        // Within a task run, loops in number order (9 before 29), whatever the kind's own key says.
        var byLoop = sort == "task_run_id" && !table.Key.Contains("loop_id") ? $"loop_id {dir}, " : "";
        var order = $"{sort} {dir}{nulls}, {byLoop}{string.Join(", ", table.Key.Select(k => $"{k} {dir}"))}";
        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);

        var counted = MatchCount(store, counts, q.Kind,
            $"SELECT count(*) FROM (SELECT 1 FROM {table.Name} {filter} LIMIT {CountCap + 1}) AS matches", args);
        var offset = (long)(q.Page - 1) * q.PageSize;
        var rows =
            store.Rows($"SELECT payload, origin, updated_at FROM {table.Name} {filter} ORDER BY {order} " +
                $"LIMIT {q.PageSize} OFFSET {offset.ToString(CultureInfo.InvariantCulture)}", [.. args]);
        var items = rows.Select(r => new CatalogItem((string)r[0]!, r[1] as string ?? "local", r[2] as string))
            .ToList();
        var exact = counted <= CountCap;
        return new CatalogPage(
            q.Kind, exact ? counted : Math.Max(counted, offset + items.Count), exact, q.Page, q.PageSize, items);
    }

    private static long MatchCount(DbAistockStore store, MatchCounts? counts, CatalogKind kind, string sql,
        List<(string Name, object? Value)> args)
    {
        long Count() => Convert.ToInt64(store.Rows(sql, [.. args])[0][0]);
        if (counts is null || store.CatalogVersion(kind) is not { } version) return Count();
        var key = new StringBuilder(store.Describe).Append('\n').Append(version).Append('\n').Append(sql);
        foreach (var (name, value) in args)
            key.Append('\n').Append(name).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
        return counts.Get(key.ToString(), Count);
    }

    private static string EscapeLike(string s) => s.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
