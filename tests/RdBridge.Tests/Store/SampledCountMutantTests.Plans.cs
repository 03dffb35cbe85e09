using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The plans of the count and of the page, as the database reports them for the statements the page ran: the count
/// reads along the index it chose (on PostgreSQL under the settings its statement sets for itself), a search is found
/// through its index unless the sort's index is walked, and a page whose matches are sorted finds them by the count's
/// index. Each plan is checked by the whole line that shows the choice.
/// </summary>
public partial class SampledCountMutantTests
{
    private const string Table = "aistock_factor_catalog";
    private const string Fts = "SCAN aistock_factor_search VIRTUAL TABLE INDEX 0:M4";

    /// <summary>
    /// SQLite: a search for a text ten factors hold, alone and with a range keeping three quarters: the count and the
    /// page find the ten through the FTS5 index (a MATCH over the factor's four searched texts).
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_search_is_counted_and_found_through_its_index(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var needles = Factors.Where(f => f.Name.Contains("needle", StringComparison.Ordinal)).ToList();
        Assert.Equal(10, needles.Count);
        foreach (var q in new CatalogPageRequest[]
        {
            new(CatalogKind.Factor, Search: "NEEDLE", Sort: "ic"),
            new(CatalogKind.Factor, Search: "NEEDLE", Ranges: Range("ic", 0, 0.3), Sort: "ic"),
        })
        {
            var ran = new List<(string Sql, (string, object?)[] Args)>();
            var page = Run(store, q, CatalogQuery.CountCap, ran);
            var expected = needles.Where(f => q.Ranges is null || f.Ic <= 0.3).ToList();
            Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
            Assert.Equal(expected.OrderByDescending(f => f.Ic).Select(f => f.Id), Ids(page));
            var count = Count(ran);
            var pageSql = ran[^1];
            if (db.IsPostgres)
            {
                // The search alone is counted as PostgreSQL chooses (at 400 rows: by scanning the table). With the
                // range, it keeps fewer in PostgreSQL's estimates: the count reads its trigram index (only a bitmap
                // scan can), not the table.
                if (q.Ranges is null) continue;
                var plan = CountPlan(store, count);
                HasLine($"Bitmap Index Scan on idx_{Table}_name_trgm", plan);
                Assert.DoesNotContain("Seq Scan", plan);
                continue;
            }
            HasLine(Fts, SqlitePlan(store, count));
            HasLine(Fts, PagePlan(store, pageSql));
        }
    }

    /// <summary>
    /// A page whose filters keep most rows walks the sort's index and tests the filters on each row: a search every
    /// factor holds is tested by its LIKE alone (the FTS5 index is not asked to list all 400), a range on another
    /// metric is hidden from SQLite, which would otherwise find its rows by their index and sort them.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_page_keeping_most_rows_walks_the_sort_s_index_without_the_filters_indexes(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        // The premise of the walk: 4 × 50 × 400 rows < 400² matches (and < 301²).
        Assert.Equal(N, Factors.Length);
        var search = new CatalogPageRequest(CatalogKind.Factor, Search: "close", Sort: "ic");
        var range = new CatalogPageRequest(CatalogKind.Factor, Ranges: Range("ic", 0, 0.3), Sort: "annualized_return");
        foreach (var (q, keeps, sort) in new (CatalogPageRequest, Func<Factor, bool>, Func<Factor, double>)[]
        {
            (search, _ => true, f => f.Ic), (range, f => f.Ic <= 0.3, f => f.Return),
        })
        {
            var ran = new List<(string Sql, (string, object?)[] Args)>();
            var page = Run(store, q, CatalogQuery.CountCap, ran);
            var expected = Factors.Where(keeps).ToList();
            Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
            Assert.Equal(expected.OrderByDescending(sort).Take(50).Select(f => f.Id), Ids(page));
            if (db.IsPostgres) continue;
            var plan = PagePlan(store, ran[^1]);
            HasLine($"SCAN {Table} USING INDEX idx_{Table}_{q.Sort}", plan);
            Assert.DoesNotContain("aistock_factor_search", plan);
            Assert.DoesNotContain("TEMP B-TREE", plan);
        }
    }

    /// <summary>
    /// A source nearly every factor has and an IC range keeping 11: the count goes along the IC index, and so does
    /// the page on SQLite (left to itself SQLite takes an equality's index before a range's, whatever each keeps),
    /// then sorts the 11 by name. On PostgreSQL the count reads the IC index by an index scan, neither scanning the
    /// table nor listing the range first (a bitmap), for a range keeping 11 rows and for one keeping 148.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_count_and_a_sorted_page_read_along_the_range_keeping_fewer_rows(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        foreach (var (min, max, keeps) in new[] { (0.1, 0.11, 11), (0.0, 0.15, 148) })
        {
            var q = new CatalogPageRequest(CatalogKind.Factor, Source: "rdagent_generated",
                Ranges: Range("ic", min, max), Sort: "name", Descending: false);
            var expected = Factors.Where(f => f.Source == "rdagent_generated" && f.Ic >= min && f.Ic <= max).ToList();
            // The premise: the range keeps fewer than the source (397 factors).
            Assert.Equal(keeps, expected.Count);
            var ran = new List<(string Sql, (string, object?)[] Args)>();
            var page = Run(store, q, CatalogQuery.CountCap, ran);
            Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
            Assert.Equal(expected.OrderBy(f => f.Name, StringComparer.Ordinal).Take(50).Select(f => f.Id), Ids(page));
            var count = Count(ran);
            if (db.IsPostgres)
            {
                var plan = CountPlan(store, count);
                HasLine($"Index Scan using idx_{Table}_ic on {Table}", plan);
                Assert.DoesNotContain("Seq Scan", plan);
                Assert.DoesNotContain("Bitmap", plan);
                continue;
            }
            HasLine($"SEARCH {Table} USING INDEX idx_{Table}_ic (ic>? AND ic<?)", SqlitePlan(store, count));
            var pagePlan = PagePlan(store, ran[^1]);
            HasLine($"SEARCH {Table} USING INDEX idx_{Table}_ic (ic>? AND ic<?)", pagePlan);
            HasLine("USE TEMP B-TREE FOR ORDER BY", pagePlan);
        }
    }

    private static List<string> Ids(CatalogPage page) =>
        [.. page.Items.Select(i => (string)System.Text.Json.Nodes.JsonNode.Parse(i.Payload)!["factor_id"]!)];

    /// <summary>The count statement among those a page ran (the only one reading its matches as a subquery).</summary>
    private static (string Sql, (string, object?)[] Args) Count(List<(string Sql, (string, object?)[] Args)> ran) =>
        ran.Single(s => s.Sql.Contains(") AS matches", StringComparison.Ordinal)
            || s.Sql.Contains(") AS reading", StringComparison.Ordinal));

    /// <summary>
    /// SQLite's plan of the page's statement, the part that finds and orders its row ids (the lines under the
    /// co-routine; the 50 rows are then read by rowid and their order kept).
    /// </summary>
    private static string PagePlan(DbAistockStore store, (string Sql, (string, object?)[] Args) s)
    {
        Assert.StartsWith("SELECT payload", s.Sql);
        var rows = store.Rows("EXPLAIN QUERY PLAN " + s.Sql, s.Args);
        var under = new HashSet<object?> { rows.Single(r => (string)r[3]! == "CO-ROUTINE page")[0] };
        foreach (var r in rows.Where(r => under.Contains(r[1]))) under.Add(r[0]);
        return string.Join("\n", rows.Where(r => under.Contains(r[1])).Select(r => r[3]));
    }

    /// <summary>SQLite's plan of a statement the page ran: each line's detail.</summary>
    private static string SqlitePlan(DbAistockStore store, (string Sql, (string, object?)[] Args) s) =>
        string.Join("\n", store.Rows("EXPLAIN QUERY PLAN " + s.Sql, s.Args).Select(r => r[3]));

    /// <summary>
    /// PostgreSQL's plan of the count as it ran: under the settings its statement sets for itself (what precedes the
    /// SELECT), in a transaction of its own that ends with it.
    /// </summary>
    private static string CountPlan(DbAistockStore store, (string Sql, (string, object?)[] Args) s)
    {
        var at = s.Sql.IndexOf("SELECT count(*)", StringComparison.Ordinal);
        return string.Join("\n", store.RowsAlone(s.Sql[..at] + "EXPLAIN (COSTS OFF) " + s.Sql[at..], s.Args)
            .Select(r => r[0]));
    }

    /// <summary>The plan holds <paramref name="line"/> as a whole line (PostgreSQL's indent and arrow aside).</summary>
    private static void HasLine(string line, string plan)
    {
        var lines = plan.Split('\n').Select(l => l.Trim().TrimStart('-', '>').TrimStart());
        Assert.True(lines.Contains(line), $"no line '{line}' in the plan:\n{plan}");
    }
}
