using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// Which index a page's filters are given to, read from the plans of the statements the page ran, for the mutants of
/// <c>CatalogQuery.cs</c> that change only the plan (<c>bench/mutation.sh StoreQuery</c>, 2026-12-07): a search on a
/// store standing exactly at its index's version, a search too short for a trigram, a loop number with and without
/// its task run, an origin, a filter no index serves, a range on the sort column, a key sort on PostgreSQL. Each
/// case also checks the page's rows and total against the records written here. Index names are the schema's.
/// </summary>
public partial class SampledCountMutantTests
{
    /// <summary>
    /// A store standing exactly at the version that gave the factor table its search index (SQLite's FTS5 table at
    /// version 6, PostgreSQL's trigram indexes on every searched column at version 8) finds a search through it: the
    /// count along the index, with a range keeping three quarters beside it.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_store_standing_at_its_search_index_s_version_finds_a_search_through_that_index(string kind)
    {
        var version = kind == "sqlite" ? StoreSchema.SearchIndexVersion : StoreSchema.ModelSearchIndexVersion;
        var (dir, db, store) = Open(kind, version);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        Assert.Equal(version, Convert.ToInt32(db.Scalar("SELECT max(version) FROM schema_migrations")));
        var q = new CatalogPageRequest(CatalogKind.Factor, Search: "NEEDLE", Ranges: Range("ic", 0, 0.3), Sort: "ic");
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, q, CatalogQuery.CountCap, ran);
        var expected = Factors.Where(f => f.Name.Contains("needle", StringComparison.Ordinal) && f.Ic <= 0.3).ToList();
        Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
        Assert.Equal(expected.OrderByDescending(f => f.Ic).Select(f => f.Id), Ids(page));
        if (db.IsPostgres)
        {
            HasLine($"Bitmap Index Scan on idx_{Table}_name_trgm", CountPlan(store, Count(ran)));
            return;
        }
        HasLine(Fts, SqlitePlan(store, Count(ran)));
        HasLine(Fts, PagePlan(store, ran[^1]));
    }

    /// <summary>
    /// A search of two characters has no trigram to look up: it is a filter like a tag, tested on each row, and a
    /// page keeping few rows (ten factors' names hold "le") is read off the sort's index in order, not found and
    /// sorted as if an index had found the matches.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_search_too_short_for_a_trigram_is_tested_on_the_rows_read_off_the_sort_s_index(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, Search: "le", Sort: "ic"), CatalogQuery.CountCap, ran);
        // The texts written: the name and the expression (no description, no formula hint).
        var expected = Factors.Where(f => $"{f.Name} Mean($close, {f.I + 2})".Contains("le", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(10, expected.Count);
        Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
        Assert.Equal(expected.OrderByDescending(f => f.Ic).Select(f => f.Id), Ids(page));
        if (db.IsPostgres) return;
        var plan = PagePlan(store, ran[^1]);
        HasLine($"SCAN {Table} USING INDEX idx_{Table}_ic", plan);
        Assert.DoesNotContain("TEMP B-TREE", plan);
    }

    /// <summary>
    /// A loop number is found by the (task run, loop) index with its task run: the count seeks both columns. Without
    /// a task run it is no filter of the page's choosing, and SQLite finds it by the loop-number index (schema version
    /// 5) itself; here every factor is of loop 1, which the page would otherwise leave to the walk of the IC index.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_loop_number_is_sought_with_its_task_run_in_one_index_and_alone_by_its_own(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var firstFifty = Factors.OrderByDescending(f => f.Ic).Take(50).Select(f => f.Id).ToList();
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, TaskRunId: "0a1b2c3d4e5f60718293a4b5c6d7e8f9", LoopId: 1),
            CatalogQuery.CountCap, ran);
        Assert.Equal(((long)N, true), (page.Total, page.TotalExact));
        Assert.Equal(firstFifty, Ids(page));
        if (!db.IsPostgres)
        {
            HasLine($"SEARCH {Table} USING COVERING INDEX idx_{Table}_loop (task_run_id=? AND loop_id=?)",
                SqlitePlan(store, Count(ran)));
        }

        ran.Clear();
        page = Run(store, new(CatalogKind.Factor, LoopId: 1), CatalogQuery.CountCap, ran);
        Assert.Equal(((long)N, true), (page.Total, page.TotalExact));
        Assert.Equal(firstFifty, Ids(page));
        if (db.IsPostgres) return;
        HasLine($"SEARCH {Table} USING INDEX idx_{Table}_by_loop_id (loop_id=?)", PagePlan(store, ran[^1]));
    }

    /// <summary>
    /// An origin keeping most factors (all 400 are local) is tested on the rows walked off the sort's index, like
    /// any filter keeping most rows: the origin index (factors and loops have one) is not asked to find all 400.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void An_origin_keeping_most_factors_is_tested_on_the_rows_walked_off_the_sort_s_index(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, Origin: "local", Sort: "ic"), CatalogQuery.CountCap, ran);
        Assert.Equal(((long)N, true), (page.Total, page.TotalExact));
        Assert.Equal(Factors.OrderByDescending(f => f.Ic).Take(50).Select(f => f.Id), Ids(page));
        if (db.IsPostgres) return;
        var plan = PagePlan(store, ran[^1]);
        HasLine($"SCAN {Table} USING INDEX idx_{Table}_ic", plan);
        Assert.DoesNotContain("TEMP B-TREE", plan);
    }

    /// <summary>
    /// A tag (no index serves it) keeping 40 of the 400 factors leaves the page to the database, which reads the sort's
    /// index in order and tests the tag on each row; hiding the order (as for matches an index found) would sort.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_filter_no_index_serves_keeping_few_rows_is_read_in_the_sort_s_index_order(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, Tag: "rare", Sort: "ic"), CatalogQuery.CountCap, ran);
        var rare = Factors.Where(f => f.Tag == "rare").ToList();
        Assert.Equal(40, rare.Count);
        Assert.Equal((rare.Count, true), (page.Total, page.TotalExact));
        Assert.Equal(rare.OrderByDescending(f => f.Ic).Select(f => f.Id), Ids(page));
        if (db.IsPostgres) return;
        var plan = PagePlan(store, ran[^1]);
        HasLine($"SCAN {Table} USING INDEX idx_{Table}_ic", plan);
        Assert.DoesNotContain("TEMP B-TREE", plan);
    }

    /// <summary>
    /// A range on the sort column with a source, both keeping most factors: the page walks the IC index from the
    /// range's start (the range stays visible to the seek, the source is tested on each row).
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_walked_page_seeks_the_start_of_a_range_on_its_sort_column(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, Source: "rdagent_generated", Ranges: Range("ic", 0, 0.35),
            Sort: "ic"), CatalogQuery.CountCap, ran);
        var expected = Factors.Where(f => f.Source == "rdagent_generated" && f.Ic <= 0.35).ToList();
        // The premise of the walk: 4 × 50 × 400 rows < matches².
        Assert.Equal(348, expected.Count);
        Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
        Assert.Equal(expected.OrderByDescending(f => f.Ic).Take(50).Select(f => f.Id), Ids(page));
        if (db.IsPostgres) return;
        var plan = PagePlan(store, ran[^1]);
        HasLine($"SEARCH {Table} USING INDEX idx_{Table}_ic (ic>? AND ic<?)", plan);
        Assert.DoesNotContain("TEMP B-TREE", plan);
    }
}
