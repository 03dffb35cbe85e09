using System.Reflection;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The order a page's statement gives (SQLite's outer ORDER BY over the rows read by rowid, PostgreSQL's key sort read
/// off the primary key), a model's origin (the model table has no index on it), the filters PostgreSQL is shown beside
/// the count's index, and the count's own planner settings, for the mutants of <c>CatalogQuery.cs</c> the plans of
/// <c>SampledCountMutantTests.Choices.cs</c> leave. Models are written here; each expected page comes from them.
/// </summary>
public partial class SampledCountMutantTests
{
    private const string Models = "aistock_model_catalog";
    private const string RunA = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", RunB = "0a1b2c3d4e5f60718293a4b5c6d7e8fa";

    private sealed record Model(int I)
    {
        public string Id => $"model_{I:D4}";
        public string Run => I % 2 == 0 ? RunA : RunB;
        public long Loop => I % 50;
        // 8 of the 400 are local, the others a publisher's.
        public bool Local => I % 50 == 7;
    }

    private static readonly Model[] ModelRecords = [.. Enumerable.Range(0, N).Select(i => new Model(i))];

    /// <summary>Adds the 400 models to a store <see cref="Open"/> made: the local ones, then the publisher's.</summary>
    private static void AddModels(TempDir dir, TestStore db, DbAistockStore store)
    {
        foreach (var local in new[] { true, false })
        {
            var path = dir[local ? "local/model_catalog.json" : "pub/model_catalog.json"];
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, new JsonObject
            {
                ["generated_at_utc"] = "2026-12-07T00:00:00.000Z", ["version"] = "v1", ["source"] = "rdagent_tools",
                ["models"] = new JsonArray([.. ModelRecords.Where(m => m.Local == local).Select(m =>
                    (JsonNode)new JsonObject
                    {
                        ["model_id"] = m.Id, ["task_run_id"] = m.Run, ["loop_id"] = m.Loop, ["model_type"] = "LGBModel",
                    })]),
            }.ToJsonString());
            Assert.Equal(ModelRecords.Count(m => m.Local == local),
                StoreTests.Import(store, CatalogKind.Model, path, local ? null : "lab-b").Inserted);
        }
        if (db.IsPostgres) store.Rows($"ANALYZE {Models}");
    }

    private static List<string> ModelIds(CatalogPage page) =>
        [.. page.Items.Select(i => (string)JsonNode.Parse(i.Payload)!["model_id"]!)];

    /// <summary>
    /// Models have no index on origin: an origin keeping 8 of 400 is tested on the rows the database reads in the
    /// order of the sort (task run, then loop number), not treated as a filter some index found.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_model_s_origin_is_tested_on_the_rows_read_in_the_sort_s_order(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        AddModels(dir, db, store);
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Model, Origin: "local"), CatalogQuery.CountCap, ran);
        var expected = ModelRecords.Where(m => m.Local).OrderByDescending(m => m.Run, StringComparer.Ordinal)
            .ThenByDescending(m => m.Loop).ThenByDescending(m => m.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(8, expected.Count);
        Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
        Assert.Equal(expected.Select(m => m.Id), ModelIds(page));
        if (db.IsPostgres) return;
        var plan = PagePlan(store, ran[^1]);
        HasLine($"SCAN {Models} USING INDEX idx_{Models}_loop", plan);
    }

    /// <summary>
    /// Models sorted by their key, both ways: PostgreSQL reads the primary key forwards or backwards (a key column is
    /// never null, so the sort names no NULLS clause that the index's order would not match).
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Models_sorted_by_their_id_are_read_off_the_primary_key_both_ways(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        AddModels(dir, db, store);
        foreach (var descending in new[] { true, false })
        {
            var ran = new List<(string Sql, (string, object?)[] Args)>();
            var page = Run(store, new(CatalogKind.Model, Sort: "model_id", Descending: descending),
                CatalogQuery.CountCap, ran);
            var ordered = ModelRecords.Select(m => m.Id).Order(StringComparer.Ordinal).ToList();
            if (descending) ordered.Reverse();
            Assert.Equal(((long)N, true), (page.Total, page.TotalExact));
            Assert.Equal(ordered.Take(50), ModelIds(page));
            var plan = db.IsPostgres ? PgPlan(store, ran[^1]) : PagePlan(store, ran[^1]);
            HasLine(db.IsPostgres
                ? $"Index Scan{(descending ? " Backward" : "")} using {Models}_pkey on {Models}"
                : $"SCAN {Models} USING COVERING INDEX sqlite_autoindex_{Models}_1", plan);
            Assert.DoesNotContain(db.IsPostgres ? "Sort" : "TEMP B-TREE", plan);
        }
    }

    /// <summary>
    /// A source three factors have and an IC range keeping 301, sorted by name: the count reads along the source, and
    /// PostgreSQL is shown the range as it is beside it (only SQLite, which would pick its index by its own rule, has
    /// the other filters hidden): its plan tests the range on the source's rows as written.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void PostgreSQL_is_shown_every_filter_of_a_sorted_page_as_it_is(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, Source: "qlib_alpha158", Ranges: Range("ic", 0, 0.3),
            Sort: "name", Descending: false), CatalogQuery.CountCap, ran);
        var expected = Factors.Where(f => f.Source == "qlib_alpha158" && f.Ic <= 0.3).ToList();
        Assert.Equal(3, expected.Count);
        Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
        Assert.Equal(expected.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => f.Id), Ids(page));
        if (!db.IsPostgres) return;
        var plan = PgPlan(store, ran[^1]);
        HasLine($"Index Scan using idx_{Table}_by_source on {Table}", plan);
        HasLine("Filter: ((ic >= '0'::double precision) AND (ic <= '0.3'::double precision))", plan);
    }

    /// <summary>
    /// SQLite: the page's statement orders its rows itself. The 50 rows are read by rowid from the ordered, limited
    /// subquery, which gives them in its order on this SQLite (even run again with reverse_unordered_selects on), but
    /// SQL does not promise to keep a subquery's order through a join: the plan ends by sorting the page's rows.
    /// </summary>
    [Fact]
    public void A_sqlite_page_s_statement_sorts_its_rows_after_reading_them_by_rowid()
    {
        var (dir, db, store) = Open("sqlite");
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, Tag: "common", Sort: "name", Descending: false),
            CatalogQuery.CountCap, ran);
        var expected = Factors.Where(f => f.Tag == "common").ToList();
        Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
        Assert.Equal(expected.OrderBy(f => f.Name, StringComparer.Ordinal).Take(50).Select(f => f.Id), Ids(page));
        // The statement's own steps, outside the subquery's: read the page, look up each row, sort them.
        var (sql, args) = ran[^1];
        var top = store.Rows("EXPLAIN QUERY PLAN " + sql, args).Where(r => Convert.ToInt64(r[1]) == 0)
            .Select(r => (string)r[3]!);
        Assert.Equal(["CO-ROUTINE page", "SCAN page", $"SEARCH {Table} USING INTEGER PRIMARY KEY (rowid=?)",
            "USE TEMP B-TREE FOR ORDER BY"], top);
    }

    /// <summary>
    /// PostgreSQL: the count that sets its own plan (SET LOCAL) runs in a transaction of its own, so the server
    /// takes the settings without a word. Sent alone in autocommit, the same statements still plan the count the same
    /// way, but the server warns twice ("SET LOCAL can only be used in transaction blocks") for every count, in the
    /// client's notices and in its own log. The warnings are read off the store's connection.
    /// </summary>
    [Theory, InlineData("postgres")]
    public void A_count_that_sets_its_own_plan_draws_no_warning_from_the_server(string kind)
    {
        var (dir, db, store) = Open(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var connection = (Npgsql.NpgsqlConnection)typeof(DbAistockStore)
            .GetProperty("Connection", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(store)!;
        var notices = new List<string>();
        connection.Notice += (_, e) => notices.Add($"{e.Notice.Severity}: {e.Notice.MessageText}");
        // The premise: the server does warn of a SET LOCAL outside a transaction, on this connection.
        store.Rows("SET LOCAL enable_seqscan = off; SELECT 1");
        Assert.Equal(["WARNING: SET LOCAL can only be used in transaction blocks"], notices);
        notices.Clear();

        var ran = new List<(string Sql, (string, object?)[] Args)>();
        var page = Run(store, new(CatalogKind.Factor, Source: "rdagent_generated", Ranges: Range("ic", 0.1, 0.11),
            Sort: "name", Descending: false), CatalogQuery.CountCap, ran);
        var expected = Factors.Where(f => f.Source == "rdagent_generated" && f.Ic is >= 0.1 and <= 0.11).ToList();
        Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
        Assert.Equal(expected.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => f.Id), Ids(page));
        // The premise: the count set its plan (the range's index read by an index scan).
        Assert.StartsWith("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; ", Count(ran).Sql);
        Assert.Equal([], notices);
        Assert.Equal("on", store.Rows("SHOW enable_seqscan")[0][0]);
    }

    /// <summary>PostgreSQL's plan of a page's statement (without costs), one line per node.</summary>
    private static string PgPlan(DbAistockStore store, (string Sql, (string, object?)[] Args) s) =>
        string.Join("\n", store.Rows("EXPLAIN (COSTS OFF) " + s.Sql, s.Args).Select(r => r[0]));
}
