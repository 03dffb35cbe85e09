using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RdBridge.Catalogs;

namespace RdBridge.Store;

public static partial class CatalogQuery
{
    /// <summary>
    /// One filter of a page. <see cref="Test"/> is its SQL with every column passed through a mapper, so that a plan
    /// can hide a column from the planner; <see cref="Index"/> names the index that can find its rows (a column, or
    /// <see cref="SearchTerm"/>), null when it can only be tested on rows found otherwise; <see cref="Find"/> is a
    /// search's trigram-index lookup on SQLite, added only when the search is what finds the rows.
    /// </summary>
    private sealed record Term(string? Index, Func<Func<string, string>, string> Test, string? Find = null);

    /// <summary>The index name of a search term: SQLite's FTS5 table, PostgreSQL's trigram indexes.</summary>
    private const string SearchTerm = "q";

    /// <summary>Rows read to estimate what each filter keeps when every one of them keeps more than the cap.</summary>
    internal const int SampleRows = 512;

    /// <summary>The statements of one page: its filters and their parameters, and where its counts are kept.</summary>
    private sealed class PageReader(DbAistockStore store, MatchCounts? counts, CatalogKind kind,
        List<(string Name, object? Value)> args, Action<string, IReadOnlyList<(string Name, object? Value)>>? ran,
        IReadOnlyList<Term> terms)
    {
        public IReadOnlyList<Term> Terms => terms;
        public CatalogTable Table { get; } = CatalogTable.For(kind);
        public bool Pg => store.Dialect == SqlDialect.Postgres;

        /// <summary>
        /// The WHERE clause of <paramref name="these"/>: a term <paramref name="finds"/> accepts is written as it is
        /// (a search with its index lookup); the others' columns go through <paramref name="hide"/>.
        /// </summary>
        public string Where(IEnumerable<Term> these, Func<Term, bool> finds, Func<string, string> hide)
        {
            var all = new List<string>();
            foreach (var t in these)
            {
                var own = t.Index is null || finds(t);
                if (own && t.Index is not null && t.Find is not null) all.Add(t.Find);
                all.Add(t.Test(own ? c => c : hide));
            }
            return all.Count == 0 ? "" : "WHERE " + string.Join(" AND ", all);
        }

        /// <summary>Runs a statement with the parameters it names (a count reads only some of the page's).</summary>
        public IReadOnlyList<IReadOnlyList<object?>> Query(string sql) =>
            CatalogQuery.Query(store, sql, [.. ArgsOf(sql)], ran);

        private IEnumerable<(string Name, object? Value)> ArgsOf(string sql) =>
            args.Where(a => Regex.IsMatch(sql, Regex.Escape(a.Name) + @"\b"));

        /// <summary>
        /// A figure read by <paramref name="sql"/>, kept per table version when the server keeps counts.
        /// </summary>
        public T Kept<T>(string sql, Func<IReadOnlyList<object?>, T> read) where T : notnull
        {
            T Read() => read(Query(sql)[0]);
            if (counts is null || store.CatalogVersion(kind) is not { } version) return Read();
            var key = new StringBuilder(store.Describe).Append('\n').Append(version).Append('\n').Append(sql);
            foreach (var (name, value) in ArgsOf(sql))
                key.Append('\n').Append(name).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            return counts.Get(key.ToString(), Read);
        }

        public long RowsInTable() => Kept($"SELECT count(*) FROM {Table.Name}", r => Convert.ToInt64(r[0]));
    }

    /// <summary>
    /// The page's matches, counted up to <paramref name="cap"/>: exact when <c>Exact</c>, else a lower bound; and the
    /// index the count found them by (null: the database's choice, there being one index or none).
    /// </summary>
    private static (long Matches, bool Exact, string? Driver) CountMatches(PageReader page, int cap)
    {
        var table = page.Table.Name;
        var groups = page.Terms.Select(t => t.Index).OfType<string>().Distinct().ToList();
        if (groups.Count == 0 || (groups.Count == 1 && page.Terms.All(t => t.Index is not null)))
        {
            // One index finds every match (or none can): read up to the cap of them. (PostgreSQL reads a range's or
            // a source's matches off the index alone, without the table: cap + 1 index entries.)
            var all = page.Where(page.Terms, _ => true, c => c);
            var n = page.Kept($"SELECT count(*) FROM (SELECT 1 FROM {table} {all} LIMIT {cap + 1}) AS matches",
                r => Convert.ToInt64(r[0]));
            return (n, n <= cap, groups.FirstOrDefault());
        }
        // Filters on different indexes (a source and an IC range), or one index and a filter none serves (a tag):
        // the database finds the rows by one index and tests the rest on each, so a count reads as many rows as
        // that index yields before the cap of matches is reached. SQLite takes an equality's index before a range's
        // whatever each keeps: a source every factor has, with an IC range keeping a third, read 33,500 rows to count
        // 10,001; PostgreSQL scanned the table until it had 10,001 matches (33,351 rows read at 200,000 factors).
        // The index is chosen here from what each filter keeps, and the count reads at most cap + 1 rows of it: it
        // is exact when that index runs out first, else it is the matches among the rows read, a lower bound
        // (total_exact false).
        var driver = groups.Count == 1 ? groups[0] : page.Pg ? FewestEstimated(page, groups) : Fewest(page, groups);
        var columns = new SortedSet<string>(StringComparer.Ordinal);
        var rest = page.Terms.Where(t => t.Index != driver).Select(t => t.Test(c => { columns.Add(c); return c; }))
            .ToList();
        var found = page.Where(page.Terms.Where(t => t.Index == driver), _ => true, c => c);
        var sql = $"SELECT count(*), count(*) FILTER (WHERE {string.Join(" AND ", rest)}) FROM (SELECT " +
            $"{string.Join(", ", columns)} FROM {table} {found} LIMIT {cap + 1}) AS reading";
        if (page.Pg) sql = ReadAlong(driver) + sql;
        var (read, matches) = page.Kept(sql, r => (Convert.ToInt64(r[0]), Convert.ToInt64(r[1])));
        return (matches, read <= cap, driver);
    }

    /// <summary>What starts a statement that sets PostgreSQL's planner for itself alone (run in its own transaction).
    /// </summary>
    private const string LocalSetting = "SET LOCAL ";

    /// <summary>
    /// PostgreSQL's settings for reading the driver's index, for the count statement alone. Left to itself it reads
    /// cap + 1 rows of a range keeping 60,000 of 200,000 factors by scanning the table (it prices each of the index's
    /// table reads at four sequential pages): 33,351 rows read. A bitmap scan reads 10,001 table rows, but first all
    /// 59,857 entries of the range from the index. The index scan reads 10,001 entries and their 10,001 rows, then
    /// stops (EXPLAIN ANALYZE at 200,000 factors, the two interleaved five times at load ~40: median 102 ms against
    /// 218 ms for the scan; alone on a quieter machine the scan was the faster, 60–80 ms against 110–130). What
    /// decides is that the index scan reads at most cap + 1 rows whatever the other filters keep, where the scan
    /// reads until it has cap + 1 matches: three rows for each here, more the fewer the filters keep together. A
    /// count runs once per table version (it is kept). A search is found through its trigram indexes, which only a
    /// bitmap scan reads.
    /// </summary>
    private static string ReadAlong(string driver) => driver == SearchTerm
        ? $"{LocalSetting}enable_seqscan = off; "
        : $"{LocalSetting}enable_seqscan = off; {LocalSetting}enable_bitmapscan = off; ";

    /// <summary>
    /// The group of filters PostgreSQL estimates to keep the fewest rows: its histograms (autovacuum's ANALYZE after
    /// an import) say what a range or an equality keeps, so no row is read to choose (EXPLAIN without ANALYZE).
    /// Without them the estimates are guesses; the count still reads at most cap + 1 rows, only its bound is looser.
    /// </summary>
    private static string FewestEstimated(PageReader page, IReadOnlyList<string> groups)
    {
        var table = page.Table.Name;
        var estimates = groups.Select(g => page.Kept(
            $"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} " + page.Where(page.Terms.Where(t => t.Index == g),
                _ => true, c => c),
            r => JsonNode.Parse((string)r[0]!)![0]!["Plan"]!["Plan Rows"]!.GetValue<double>())).ToArray();
        return groups[Array.IndexOf(estimates, estimates.Min())];
    }

    /// <summary>
    /// The group of filters keeping the fewest of <see cref="SampleRows"/> rows spread over the table (rowids evenly
    /// spaced): SQLite keeps no histograms, so it cannot tell what a range keeps without reading.
    /// </summary>
    private static string Fewest(PageReader page, IReadOnlyList<string> groups)
    {
        var table = page.Table.Name;
        var kept = groups.Select(g => "count(*) FILTER (WHERE " + string.Join(" AND ",
            page.Terms.Where(t => t.Index == g).Select(t => t.Test(c => c))) + ")");
        // Each sampled row is one rowid lookup; min and max rowid are read off the ends of the table's tree.
        var step = $"(hi - lo) / {SampleRows} + 1";
        var sql = $"SELECT {string.Join(", ", kept)} FROM {table} WHERE rowid IN (WITH RECURSIVE " +
            $"bounds(lo, hi) AS (SELECT (SELECT min(rowid) FROM {table}), (SELECT max(rowid) FROM {table})), " +
            $"spread(r) AS (SELECT lo FROM bounds UNION ALL SELECT r + {step} FROM spread, bounds " +
            $"WHERE r + {step} <= hi) SELECT r FROM spread)";
        var counts = page.Kept(sql, r => r.Select(v => Convert.ToInt64(v)).ToArray());
        return groups[Array.IndexOf(counts, counts.Min())];
    }
}
