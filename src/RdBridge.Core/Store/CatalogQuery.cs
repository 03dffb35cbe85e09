using System.Globalization;
using System.Text.Json;
using RdBridge.Catalogs;
using static RdBridge.Catalogs.CatalogFields;

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
public static partial class CatalogQuery
{
    public const int MaxPageSize = 500;
    public const int CountCap = 10_000;

    /// <summary>The numeric columns a kind can be sorted and range-filtered by.</summary>
    public static IReadOnlyList<string> NumericColumns(CatalogKind kind) => CatalogTable.For(kind).Columns
        .Where(c => c.Type is ColumnType.Real or ColumnType.Integer).Select(c => c.Name).ToList();

    public static IReadOnlyList<string> SortColumns(CatalogKind kind) => kind switch
    {
        CatalogKind.Factor => [.. NumericColumns(kind), Name, Source, TaskRunId, "updated_at"],
        CatalogKind.Model => [.. NumericColumns(kind), ModelId, ModelType, TaskRunId, "updated_at"],
        CatalogKind.Strategy => [.. NumericColumns(kind), StrategyId, TaskRunId, "updated_at"],
        _ => [.. NumericColumns(kind), TaskRunId, StartedAtUtc, EndedAtUtc, Status, "updated_at"],
    };

    private static IReadOnlyList<string> SearchColumns(CatalogKind kind) => kind switch
    {
        CatalogKind.Factor => [Name, Expression, DescriptionCn, FormulaHint],
        CatalogKind.Model => [ModelId, ModelType, NetworkClass],
        CatalogKind.Strategy => [StrategyId, ModelType, ConfigFingerprint],
        _ => [TaskRunId, CatalogFields.Action, Status, ModelType, Hypothesis],
    };

    /// <summary>One page of a catalog; the store runs the SQL written here.</summary>
    /// <param name="counts">Match counts kept across requests (the server's); null counts every time.</param>
    public static CatalogPage Run(ICatalogReader store, CatalogPageRequest q, MatchCounts? counts = null) =>
        store.Page(q, counts);

    /// <param name="ran">Told each statement the page runs (the plan tests read their plans).</param>
    /// <param name="countCap">Matches counted at most (the tests lower it to see a count stop).</param>
    internal static CatalogPage Run(DbAistockStore store, CatalogPageRequest q, MatchCounts? counts,
        Action<string, IReadOnlyList<(string Name, object? Value)>>? ran = null, int countCap = CountCap)
    {
        var table = CatalogTable.For(q.Kind);
        var pg = store.Dialect == SqlDialect.Postgres;
        if (q.Page < 1) throw new QueryException("page starts at 1");
        if (q.PageSize is < 1 or > MaxPageSize)
            throw new QueryException($"page_size must be between 1 and {MaxPageSize}");
        var args = new List<(string Name, object? Value)>();
        string Arg(object? v) { var n = "@p" + args.Count; args.Add((n, v)); return n; }
        var terms = new List<Term>();

        if (!string.IsNullOrWhiteSpace(q.Search))
        {
            var text = q.Search.Trim();
            var like = Arg("%" + EscapeLike(text) + "%");
            // The LIKE decides what a search finds, whichever plan reads the page; an index only finds the rows to
            // test. On SQLite a trigram index (schema version 6) finds the rows holding the text (it folds case at
            // least as widely as LIKE does, so it never misses a row LIKE keeps). Only an index holding every
            // searched column can answer; under three characters there is no trigram to look up, and the LIKE scans.
            // PostgreSQL's trigram indexes cover every searched column from schema version 8.
            var (index, since) = StoreSchema.SearchIndexesByVersion.FirstOrDefault(i => i.Index.Table == table.Name);
            var trigrams = text.EnumerateRunes().Count() >= 3;
            string? find = null;
            if (!pg && index is not null && SearchColumns(q.Kind).All(index.Columns.Contains)
                && store.SchemaVersion >= since && trigrams)
            {
                var phrase = Arg("\"" + text.Replace("\"", "\"\"") + "\"");
                find = $"rowid IN (SELECT rowid FROM {index.Index} WHERE {index.Index} MATCH {phrase})";
            }
            var found = find is not null
                || (pg && trigrams && store.SchemaVersion >= StoreSchema.ModelSearchIndexVersion);
            terms.Add(new(found ? SearchTerm : null, c => "(" + string.Join(" OR ", SearchColumns(q.Kind)
                .Select(s => $"{c(s)} {(pg ? "ILIKE" : "LIKE")} {like} ESCAPE '\\'")) + ")", find));
        }
        if (q.TaskRunId is not null)
        {
            // A full id is matched exactly (the index's equality); a shorter one as the start of ids.
            var a = q.TaskRunId.Length >= 32 ? Arg(q.TaskRunId) : Arg(EscapeLike(q.TaskRunId) + "%");
            terms.Add(new(TaskRunId, q.TaskRunId.Length >= 32
                ? c => $"{c(TaskRunId)} = {a}"
                : c => $"{c(TaskRunId)} LIKE {a} ESCAPE '\\'"));
        }
        if (q.Kind != CatalogKind.Loop && (q.Decision is not null || q.Status is not null || q.StartedFrom is not null
                || q.StartedBefore is not null))
        {
            throw new QueryException("decision, status, started_from and started_before filter loops only");
        }
        if (q.Decision is { } decision)
        {
            var a = pg ? Arg(decision) : Arg(decision ? 1 : 0);
            terms.Add(new(null, c => $"{c(Decision)} = {a}"));
        }
        if (q.Status is not null) { var a = Arg(q.Status); terms.Add(new(Status, c => $"{c(Status)} = {a}")); }
        if (q.StartedFrom is not null)
        {
            var a = Arg(q.StartedFrom);
            terms.Add(new(StartedAtUtc, c => $"{c(StartedAtUtc)} >= {a}"));
        }
        if (q.StartedBefore is not null)
        {
            var a = Arg(q.StartedBefore);
            terms.Add(new(StartedAtUtc, c => $"{c(StartedAtUtc)} < {a}"));
        }
        if (q.LoopId is not null)
        {
            // With its task run, sought in the (task run, loop) index; alone, left to the database (its sort index).
            var a = Arg(q.LoopId);
            terms.Add(new(q.TaskRunId is null ? null : TaskRunId, c => $"{c(LoopId)} = {a}"));
        }
        if (q.Origin is not null)
        {
            var a = q.Origin is "local" ? null : Arg(q.Origin);
            // Only the factor and loop tables have an index on origin.
            terms.Add(new(q.Kind is CatalogKind.Factor or CatalogKind.Loop ? Origin : null,
                c => a is null ? $"{c(Origin)} IS NULL" : $"{c(Origin)} = {a}"));
        }
        if (q.Source is not null)
        {
            if (q.Kind != CatalogKind.Factor)
            {
                throw new QueryException("source filters factors only (rdagent_generated, qlib_alpha158, …); " +
                    "use origin for the publisher");
            }

            var a = Arg(q.Source);
            terms.Add(new(Source, c => $"{c(Source)} = {a}"));
        }
        if (q.Tag is not null)
        {
            if (q.Kind != CatalogKind.Factor) throw new QueryException("tag filters factors only");
            var t = Arg(q.Tag);
            terms.Add(new(null, c => pg
                ? $"{c(Tags)} @> jsonb_build_array({t}::text)"
                : $"EXISTS (SELECT 1 FROM json_each({c(Tags)}) WHERE value = {t})"));
        }
        var numeric = NumericColumns(q.Kind);
        foreach (var (column, (min, max)) in q.Ranges ?? new Dictionary<string, (double?, double?)>())
        {
            if (!numeric.Contains(column))
            {
                throw new QueryException($"min_/max_{column}: {q.Kind.ToString().ToLowerInvariant()}s have no " +
                    $"numeric column '{column}'; use one of {string.Join(", ", numeric)}");
            }

            if (min is not null) { var a = Arg(min); terms.Add(new(column, c => $"{c(column)} >= {a}")); }
            if (max is not null) { var a = Arg(max); terms.Add(new(column, c => $"{c(column)} <= {a}")); }
        }
        var sort = q.Sort
            ?? (q.Kind switch { CatalogKind.Factor => "ic", CatalogKind.Loop => TaskRunId, _ => TaskRunId });
        if (!SortColumns(q.Kind).Contains(sort))
        {
            throw new QueryException($"sort: {q.Kind.ToString().ToLowerInvariant()}s can be sorted by " +
                $"{string.Join(", ", SortColumns(q.Kind))}");
        }

        var dir = q.Descending ? "DESC" : "ASC";
        // A missing value sorts as the lowest one in both stores (SQLite's own rule), so one index serves both
        // directions; the key makes the order total, so pages never overlap or skip.
        // A key column is never null: without the clause PostgreSQL reads its primary key backwards for DESC.
        var nulls = pg && !table.Key.Contains(sort) ? (q.Descending ? " NULLS LAST" : " NULLS FIRST") : "";
        var page = new PageReader(store, counts, q.Kind, args, ran, terms);
        var filter = page.Where(terms, _ => true, c => c);

        var (counted, exact, driver) = CountMatches(page, countCap);
        var offset = (long)(q.Page - 1) * q.PageSize;
        var orderBy = sort;
        // Filters on the sort column alone (a range on the metric sorted by, a task run's rows sorted by task run) are
        // left to the database: the sort's index seeks to them and reads them in order, 50 rows for 50 (hiding the
        // order made a range of 600 loops sorted by its own metric read and sort all 600).
        var filtered = new HashSet<string>();
        foreach (var t in terms.Where(t => t.Index is not null)) t.Test(c => { filtered.Add(c); return c; });
        if (filtered.Count > 0 && !filtered.SetEquals([sort]))
        {
            // The plan, chosen here rather than by SQLite: every sort column has its own index (schema version 4), so
            // a page can be read by walking the sort's index and testing the filters row by row, which reads about
            // (offset + page) × rows / matches rows; or by finding the matches through a filter's index and sorting
            // them, which reads every match. SQLite keeps no histogram (no sqlite_stat4), so it guesses that a range
            // keeps a quarter of the table and always takes the filter's index: a metric range holding 60,000 rows,
            // sorted by another metric, sorted 60,000 rows for 50 (200+ ms). PostgreSQL has histograms but assumes
            // filter and order independent: one task run's 2,000 factors sorted by name walked 166,000 rows of the
            // name index (1.6 s). The match count, already taken for the page's total, tells which plan reads less.
            // A range on the sort column itself stays visible: its index seeks to the range and reads it in order.
            // PostgreSQL is not shown the walk by hiding the filters: it then estimates a hidden filter to keep
            // 0.5% of the rows, and read and sorted all 50,000 factors for a source and an IC range that keep 15,000
            // (250 ms). With the filters visible its histograms see the many matches and it walks the sort's index.
            if (WalkSortIndex(offset + q.PageSize, counted, page.RowsInTable()))
            {
                // A search is tested on the walked rows by its LIKE alone: asking the trigram index too made SQLite
                // list every row holding the text before walking (all 10,000 loops for a text every loop holds:
                // 12 ms a page with one client, 30 ms with four).
                if (!pg) filter = page.Where(terms, _ => false, c => c == sort ? c : Hidden(table, c, pg));
            }
            else
            {
                orderBy = Hidden(table, sort, pg);
                // SQLite finds the matches by the index the count chose (the filter keeping the fewest rows) rather
                // than by its own rule (an equality before a range, whatever either keeps).
                if (!pg && driver is not null)
                    filter = page.Where(terms, t => t.Index == driver, c => Hidden(table, c, pg));
            }
        }
        // Within a task run, loops in number order (9 before 29), whatever the kind's own key says.
        var byLoop = sort == TaskRunId && !table.Key.Contains(LoopId) ? $"{LoopId} {dir}, " : "";
        // The sort column is not named twice when it is part of the key: SQLite then no longer sees that the key's
        // index gives the order, and sorted each task run's loops in a temporary tree.
        var order = $"{orderBy} {dir}{nulls}, {byLoop}" +
            string.Join(", ", table.Key.Where(k => k != sort).Select(k => $"{k} {dir}"));
        order = order.TrimEnd(' ', ',');
        var limit = $"LIMIT {q.PageSize} OFFSET {offset.ToString(CultureInfo.InvariantCulture)}";
        // SQLite sorts whole rows: sorting one task run's 2,000 factors by name copied their ~5 KB payloads (and
        // read their overflow pages) into the sorter to keep 50. The page's rows are found and ordered by rowid first,
        // reading only the columns the filter and the order need, then the 50 payloads are read. PostgreSQL sorts
        // the pointers to its out-of-line (TOAST) payloads, not the payloads.
        var sql = pg
            ? $"SELECT payload, origin, updated_at FROM {table.Name} {filter} ORDER BY {order} {limit}"
            : $"SELECT payload, origin, updated_at FROM (SELECT rowid AS page_row FROM {table.Name} {filter} " +
                $"ORDER BY {order} {limit}) AS page CROSS JOIN {table.Name} ON {table.Name}.rowid = page.page_row " +
                $"ORDER BY {order}";
        var rows = page.Query(sql);
        var items = rows.Select(r => new CatalogItem((string)r[0]!, r[1] as string ?? "local", r[2] as string))
            .ToList();
        // Past the cap the total is a lower bound: a page's last row raises it, an empty page (past the last match)
        // says nothing.
        var total = exact || items.Count == 0 ? counted : Math.Max(counted, offset + items.Count);
        return new CatalogPage(q.Kind, total, exact, q.Page, q.PageSize, items);
    }

    /// <summary>
    /// Where every statement a page runs is written (one JSON line: the SQL and its parameters) when the environment
    /// names a file: <c>bench/query-bench.sh</c> reads back each shape's statements to show their plans and the rows
    /// they read. Unset, nothing is written. Settable so that a test can switch it on in-process; the variable is read
    /// once, when <see cref="CatalogQuery"/> is first used, as before.
    /// </summary>
    internal static string? TraceFile { get; set; } = Environment.GetEnvironmentVariable("RDBRIDGE_QUERY_TRACE");
    private static readonly Lock TraceLock = new();

    private static IReadOnlyList<IReadOnlyList<object?>> Query(DbAistockStore store, string sql,
        List<(string Name, object? Value)> args, Action<string, IReadOnlyList<(string Name, object? Value)>>? ran)
    {
        ran?.Invoke(sql, args);
        if (TraceFile is { } trace)
        {
            var line = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["sql"] = sql, ["args"] = args.ToDictionary(a => a.Name, a => a.Value),
            });
            lock (TraceLock) File.AppendAllText(trace, line + "\n");
        }
        // A count that sets its own plan (PostgreSQL's SET LOCAL) runs in a transaction that ends with it.
        return sql.StartsWith(LocalSetting, StringComparison.Ordinal)
            ? store.RowsAlone(sql, [.. args])
            : store.Rows(sql, [.. args]);
    }

    /// <summary>
    /// Whether walking the sort's index reads fewer rows than sorting the matches: it reads about
    /// <paramref name="wanted"/> × rows / matches rows, sorting reads every match. Past the count cap the matches are
    /// a lower bound, which only makes the walk look dearer than it is. The estimate assumes the matches spread evenly
    /// along the sort; they seldom do (a task run's factors cluster by name and time), so the walk must look four
    /// times cheaper before it is chosen.
    /// </summary>
    internal static bool WalkSortIndex(long wanted, long matches, long rowsInTable) =>
        matches > 0 && 4.0 * wanted * rowsInTable < (double)matches * matches;

    /// <summary>The column's value in a form no index serves (the same value, the same order, nulls alike).</summary>
    private static string Hidden(CatalogTable table, string column, bool pg)
    {
        if (!pg) return "+" + column;
        var type = table.Columns.FirstOrDefault(c => c.Name == column)?.Type ?? ColumnType.Text;
        return type is ColumnType.Real or ColumnType.Integer ? $"({column} + 0)" : $"({column} || '')";
    }

    private static string EscapeLike(string s) => s.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
