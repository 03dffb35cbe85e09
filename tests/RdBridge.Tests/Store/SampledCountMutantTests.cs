using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The match count of a catalog page (<c>CatalogQuery.Counts.cs</c>): which index drives it, how far it reads, and
/// when it says its total is exact, written for the mutants <c>bench/mutation.sh StoreRows</c> left alive (the
/// 200,000-row QueryPlanChoiceTests are too slow for that plan). 400 factors are written here with metrics that are
/// permutations of 0..399 thousandths (unrelated to the rows' order); each expected total is counted from those
/// records, each plan is the database's own (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN) for the statement the
/// page ran.
/// </summary>
public partial class SampledCountMutantTests
{
    private const int N = 400;

    private sealed record Factor(int I)
    {
        public string Id => $"factor_{I:D4}";
        // "needle" in 10 names; every expression holds "close".
        public string Name => $"F{I:D4}" + (I % 40 == 7 ? "_needle" : "");
        public string Source => I < 3 ? "qlib_alpha158" : "rdagent_generated";
        public string Tag => I % 10 == 0 ? "rare" : "common";
        public double Ic => I * 37 % N / 1000.0;
        public double Icir => I * 113 % N / 1000.0;
        public double Return => I * 151 % N / 1000.0;
    }

    private static readonly Factor[] Factors = [.. Enumerable.Range(0, N).Select(i => new Factor(i))];

    /// <param name="upTo">the schema version the store is migrated to (every version when null)</param>
    private static (TempDir Dir, TestStore Db, DbAistockStore Store) Open(string kind, int? upTo = null)
    {
        var (dir, db, store) = TestStore.OpenNew(kind, upTo);
        var records = new JsonArray([.. Factors.Select(f => (JsonNode)new JsonObject
        {
            ["factor_id"] = f.Id, ["name"] = f.Name, ["source"] = f.Source, ["expression"] = $"Mean($close, {f.I + 2})",
            ["tags"] = new JsonArray(f.Tag), ["task_run_id"] = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", ["loop_id"] = 1,
            ["performance_metrics"] = new JsonObject
            {
                ["ic"] = f.Ic, ["icir"] = f.Icir, ["rank_ic"] = f.Ic / 2, ["rank_icir"] = f.Icir / 2,
                ["annualized_return"] = f.Return,
            },
        })]);
        var path = dir["factor_catalog.json"];
        File.WriteAllText(path, new JsonObject
        {
            ["generated_at_utc"] = "2026-12-07T00:00:00.000Z", ["version"] = "v1", ["source"] = "rdagent_tools",
            ["factors"] = records,
        }.ToJsonString());
        Assert.Equal(N, StoreTests.Import(store, CatalogKind.Factor, path).Inserted);
        // PostgreSQL chooses the count's index from its statistics (autovacuum's, a minute after an import).
        if (db.IsPostgres) ((DbAistockStore)store).Rows("ANALYZE aistock_factor_catalog");
        return (dir, db, (DbAistockStore)store);
    }

    private static Dictionary<string, (double?, double?)> Range(string column, double min, double max) =>
        new() { [column] = (min, max) };

    private static CatalogPage Run(DbAistockStore store, CatalogPageRequest q, int cap,
        List<(string Sql, (string, object?)[] Args)>? ran = null) =>
        CatalogQuery.Run(store, q, null, ran is null ? null : (sql, args) => ran.Add((sql, [.. args])), cap);

    /// <summary>
    /// A wide IC range named first and a narrow ICIR range keeping fewer rows than the cap, with a tag: the count goes
    /// along the ICIR range (the fewest in SQLite's sample, which at 400 rows is every row; in PostgreSQL's
    /// histograms), runs out below the cap and is exact. Along the IC range it would stop at cap + 1 rows read and
    /// say only "at least".
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_count_over_two_indexes_goes_along_the_one_keeping_fewer_rows_and_is_exact_when_it_runs_out(
        string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var ranges = Range("ic", 0, 0.3);
        ranges["icir"] = (0.1, 0.11);
        var narrow = Factors.Count(f => f.Icir is >= 0.1 and <= 0.11);
        var wide = Factors.Count(f => f.Ic is >= 0 and <= 0.3);
        // The premises: the ICIR range alone keeps fewer than the cap of 20, the IC range more.
        Assert.Equal((11, 301), (narrow, wide));
        var expected = Factors.Count(f => f.Tag == "common" && f.Ic is >= 0 and <= 0.3 && f.Icir is >= 0.1 and <= 0.11);

        var page = Run(store, new(CatalogKind.Factor, Tag: "common", Ranges: ranges, Sort: "name"), cap: 20);
        Assert.Equal((expected, true), (page.Total, page.TotalExact));
        Assert.Equal(expected, page.Items.Count);
        // The two ranges without the tag, the narrow one named first: the same choice.
        var reversed = Range("icir", 0.1, 0.11);
        reversed["ic"] = (0, 0.3);
        page = Run(store, new(CatalogKind.Factor, Ranges: reversed, Sort: "name"), cap: 20);
        var both = Factors.Count(f => f.Ic is >= 0 and <= 0.3 && f.Icir is >= 0.1 and <= 0.11);
        Assert.Equal((both, true), (page.Total, page.TotalExact));
    }

    /// <summary>
    /// An IC range and a tag (which no index serves): the count reads along the IC index. Past the cap it read cap + 1
    /// rows and says "at least", even though the matches among them are fewer than the cap; the page's rows (all the
    /// matches, fewer than a page) then raise the total to the true count. A range keeping exactly the cap is read to
    /// its end: exact.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_count_along_one_index_past_the_cap_is_a_lower_bound_and_at_the_cap_exact(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        // 101 factors in the range (IC 0 to 0.1), of which 11 rare-tagged: fewer than the cap of 20.
        var inRange = Factors.Where(f => f.Ic is >= 0 and <= 0.1).ToList();
        var rare = inRange.Count(f => f.Tag == "rare");
        Assert.Equal(101, inRange.Count);
        Assert.Equal(11, rare);
        var page = Run(store, new(CatalogKind.Factor, Tag: "rare", Ranges: Range("ic", 0, 0.1), Sort: "name"), 20);
        Assert.Equal((rare, false, rare), (page.Total, page.TotalExact, page.Items.Count));

        // Exactly 20 factors in IC 0 to 0.019: the count reads all 20 and no more, and knows it saw them all.
        var twenty = Factors.Where(f => f.Ic is >= 0 and <= 0.0195).ToList();
        Assert.Equal(20, twenty.Count);
        page = Run(store, new(CatalogKind.Factor, Tag: "rare", Ranges: Range("ic", 0, 0.0195), Sort: "name"), 20);
        Assert.Equal((twenty.Count(f => f.Tag == "rare"), true), (page.Total, page.TotalExact));
        page = Run(store, new(CatalogKind.Factor, Tag: "common", Ranges: Range("ic", 0, 0.0195), Sort: "name"), 20);
        Assert.Equal((twenty.Count(f => f.Tag == "common"), true), (page.Total, page.TotalExact));
    }

    /// <summary>
    /// One filter with its own index (a source three factors have): counted up to the cap, exact when the matches are
    /// exactly the cap, a lower bound (cap + 1) when they are more.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_count_on_one_index_is_exact_at_the_cap_and_a_lower_bound_one_past_it(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var q = new CatalogPageRequest(CatalogKind.Factor, Source: "qlib_alpha158", PageSize: 2);
        Assert.Equal(3, Factors.Count(f => f.Source == "qlib_alpha158"));
        var page = Run(store, q, cap: 3);
        Assert.Equal((3L, true), (page.Total, page.TotalExact));
        page = Run(store, q, cap: 2);
        Assert.Equal((3L, false), (page.Total, page.TotalExact));
    }

    /// <summary>
    /// Filters on one index and one none serves leave nothing to choose: no sample is read (SQLite's spread of rowids,
    /// PostgreSQL's EXPLAIN); two indexes are chosen between by one.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_count_with_one_index_reads_no_sample_and_one_with_two_does(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        bool Sample(string sql) => db.IsPostgres
            ? sql.StartsWith("EXPLAIN", StringComparison.Ordinal)
            : sql.Contains("WITH RECURSIVE", StringComparison.Ordinal);
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, Tag: "rare", Ranges: Range("ic", 0, 0.1)), 20, ran);
        Assert.Equal(Factors.Count(f => f.Tag == "rare" && f.Ic is >= 0 and <= 0.1), page.Items.Count);
        Assert.DoesNotContain(ran, s => Sample(s.Sql));
        ran.Clear();
        var ranges = Range("ic", 0, 0.1);
        ranges["icir"] = (0, 0.1);
        Run(store, new(CatalogKind.Factor, Ranges: ranges), 20, ran);
        // One statement per index on PostgreSQL (an EXPLAIN each), one for both on SQLite.
        Assert.Equal(db.IsPostgres ? 2 : 1, ran.Count(s => Sample(s.Sql)));
    }

    /// <summary>
    /// Each statement a page runs is given exactly the parameters its text names (read here from the text), among
    /// them when a parameter's name is the start of another's (@p1 and @p10): a search and five ranges make twelve on
    /// SQLite (the search's LIKE and its FTS5 phrase), eleven on PostgreSQL, and the sampling statements name only
    /// some of them.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Each_statement_of_a_page_is_given_exactly_the_parameters_it_names(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var ranges = new Dictionary<string, (double?, double?)>
        {
            ["ic"] = (0, 0.4), ["icir"] = (0, 0.4), ["rank_ic"] = (0, 0.2), ["rank_icir"] = (0, 0.2),
            ["annualized_return"] = (0, 0.4),
        };
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, Search: "needle", Ranges: ranges), CatalogQuery.CountCap, ran);
        Assert.Equal((10L, true), (page.Total, page.TotalExact));
        Assert.Equal(db.IsPostgres ? 11 : 12, ran.SelectMany(s => s.Args).Select(a => a.Item1).Distinct().Count());
        // A statement that names @p10 but not @p1 (the premise: there is one).
        Assert.Contains(ran, s => s.Sql.Contains("@p10", StringComparison.Ordinal) && !Named(s.Sql).Contains("@p1"));
        foreach (var (sql, args) in ran)
            Assert.Equal(Named(sql), args.Select(a => a.Item1).Order(StringComparer.Ordinal));
    }

    /// <summary>The parameters a statement's text names, whole (@p10 is not @p1), each once, in text order.</summary>
    private static List<string> Named(string sql) =>
        [.. Regex.Matches(sql, @"@p[0-9]+").Select(m => m.Value).Distinct().Order(StringComparer.Ordinal)];
}
