using System.Globalization;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The answers of a catalog page (<see cref="CatalogQuery"/>) and of the task-run index (<see cref="TaskRunQuery"/>)
/// for every filter, sort and page the API offers, written for the mutants <c>bench/mutation.sh StoreQuery</c> left
/// alive (issue 24). The loops and factors are written here; each expected page is computed from those records
/// (filtered and ordered with LINQ by the rule the API documents), never read back through RdBridge.
/// </summary>
public partial class StoreQueryMutantTests
{
    // Two task runs sharing 31 of their 32 characters, and a publisher's.
    private const string A = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", B = "0a1b2c3d4e5f60718293a4b5c6d7e8fa";
    private const string C = "9f8e7d6c5b4a39281706f5e4d3c2b1a0", Publisher = "lab-b";

    private sealed record Loop(string Run, long Id, string Status, bool? Decision, string Started, double? Ic,
        double? Return, string? Origin = null)
    {
        public string Key => $"{Run}/{Id}";
    }

    // Loop 9 before 29 and 100 (numbers, not text), a loop without decision or metrics, two loops 2 in two runs.
    private static readonly Loop[] Loops =
    [
        new(A, 2, "success", true, "2025-07-01T10:00:00Z", 0.031, 0.12),
        new(A, 9, "failed", false, "2025-07-01T11:00:00Z", null, null),
        new(A, 29, "success", false, "2025-07-02T09:30:00Z", 0.050, -0.03),
        new(A, 100, "running", null, "2025-07-03T00:00:00Z", 0.020, 0.25),
        new(B, 1, "success", true, "2025-06-30T23:59:59Z", 0.044, 0.08),
        new(B, 3, "failed", null, "2025-07-02T09:30:00Z", -0.010, null),
        new(C, 1, "success", true, "2025-07-01T12:00:00Z", 0.061, 0.19, Publisher),
        new(C, 2, "success", false, "2025-07-04T08:00:00Z", 0.020, 0.02, Publisher),
    ];

    private static JsonObject Record(Loop l) => new()
    {
        ["task_run_id"] = l.Run, ["loop_id"] = l.Id, ["workspace_id"] = $"ws{l.Run[..4]}{l.Id:D4}",
        ["asset_bundle_id"] = $"bundle_{l.Run}_{l.Id}", ["log_dir"] = $"/logs/{l.Run[..6]}",
        ["scenario"] = "QuantRDLoop", ["action"] = l.Id % 2 == 0 ? "factor" : "model", ["status"] = l.Status,
        // Loop 9 says nothing of a result: the index reads that as none.
        ["has_result"] = l.Id == 9 ? null : l.Return is not null, ["decision"] = l.Decision,
        ["started_at_utc"] = l.Started, ["ended_at_utc"] = l.Started[..11] + "23:59:59Z", ["ic"] = l.Ic,
        ["annualized_return"] = l.Return, ["rank_ic"] = l.Ic is { } ic ? ic / 2 : null, ["ic_ir"] = l.Id / 10.0,
        ["information_ratio"] = l.Id * 0.25, ["max_drawdown"] = -l.Id / 100.0,
    };

    private static string WriteCatalog(TempDir dir, string name, string list, IEnumerable<JsonNode> records)
    {
        var doc = new JsonObject
        {
            ["generated_at_utc"] = "2026-12-06T00:00:00.000Z", ["version"] = "v1", ["source"] = "rdagent_tools",
            [list] = new JsonArray([.. records]),
        };
        var path = dir[name];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, doc.ToJsonString());
        return path;
    }

    private static (TempDir Dir, TestStore Db, IAistockStore Store) LoopStore(string kind)
    {
        var dir = new TempDir();
        var db = TestStore.Create(kind, dir);
        var store = db.Open();
        store.Migrate();
        var local = WriteCatalog(dir, "local/loop_catalog.json", "loops",
            Loops.Where(l => l.Origin is null).Select(Record));
        var published = WriteCatalog(dir, "pub/loop_catalog.json", "loops",
            Loops.Where(l => l.Origin is not null).Select(Record));
        Assert.Equal(6, StoreTests.Import(store, CatalogKind.Loop, local).Inserted);
        Assert.Equal(2, StoreTests.Import(store, CatalogKind.Loop, published, Publisher).Inserted);
        return (dir, db, store);
    }

    private static List<string> Keys(CatalogPage page) => [.. page.Items.Select(i => JsonNode.Parse(i.Payload)!)
        .Select(l => $"{l["task_run_id"]}/{l["loop_id"]}")];

    /// <summary>The API's default order of loops: by task run, then by loop number, both in the direction asked.
    /// </summary>
    private static List<string> ByRun(IEnumerable<Loop> loops, bool descending = true) => descending
        ? [.. loops.OrderByDescending(l => l.Run, StringComparer.Ordinal).ThenByDescending(l => l.Id)
            .Select(l => l.Key)]
        : [.. loops.OrderBy(l => l.Run, StringComparer.Ordinal).ThenBy(l => l.Id).Select(l => l.Key)];

    private static List<string> Found(IAistockStore store, CatalogPageRequest q)
    {
        var page = CatalogQuery.Run(store, q);
        Assert.True(page.TotalExact);
        Assert.Equal(page.Total, page.Items.Count);
        return Keys(page);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Each_loop_filter_keeps_exactly_the_loops_that_match_it(string kind)
    {
        var (dir, db, store) = LoopStore(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        CatalogPageRequest Q() => new(CatalogKind.Loop);

        Assert.Equal(ByRun(Loops), Found(store, Q()));
        Assert.Equal(ByRun(Loops, descending: false), Found(store, Q() with { Descending = false }));
        Assert.Equal(ByRun(Loops.Where(l => l.Decision == true)), Found(store, Q() with { Decision = true }));
        Assert.Equal(ByRun(Loops.Where(l => l.Decision == false)), Found(store, Q() with { Decision = false }));
        Assert.Equal(ByRun(Loops.Where(l => l.Status == "failed")), Found(store, Q() with { Status = "failed" }));
        // From is inclusive and before is exclusive: two loops started at exactly 2025-07-02T09:30:00Z.
        const string t = "2025-07-02T09:30:00Z";
        Assert.Equal(ByRun(Loops.Where(l => string.CompareOrdinal(l.Started, t) >= 0)),
            Found(store, Q() with { StartedFrom = t }));
        Assert.Equal(ByRun(Loops.Where(l => string.CompareOrdinal(l.Started, t) < 0)),
            Found(store, Q() with { StartedBefore = t }));
        Assert.Equal(ByRun(Loops.Where(l => l.Id == 2)), Found(store, Q() with { LoopId = 2 }));
        Assert.Equal(ByRun(Loops.Where(l => l.Origin is null)), Found(store, Q() with { Origin = "local" }));
        Assert.Equal(ByRun(Loops.Where(l => l.Origin == Publisher)), Found(store, Q() with { Origin = Publisher }));
        Assert.Equal(ByRun(Loops.Where(l => l.Decision == false && l.Status == "success")),
            Found(store, Q() with { Decision = false, Status = "success" }));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_full_task_run_id_is_matched_whole_and_a_shorter_one_as_a_prefix_with_wildcards_taken_literally(
        string kind)
    {
        var (dir, db, store) = LoopStore(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        List<string> Run(string id) => Found(store, new(CatalogKind.Loop, TaskRunId: id));

        Assert.Equal(ByRun(Loops.Where(l => l.Run == A)), Run(A));
        Assert.Equal(ByRun(Loops.Where(l => l.Run.StartsWith(A[..31], StringComparison.Ordinal))), Run(A[..31]));
        Assert.Equal(ByRun(Loops.Where(l => l.Run.StartsWith("0a1b", StringComparison.Ordinal))), Run("0a1b"));
        Assert.Empty(Run("0a1b_"));
        Assert.Empty(Run("0a1b%"));
        // A backslash is itself: unescaped, "\2" would be LIKE's escaped '2' and match "0a1b2…".
        Assert.Empty(Run("0a1b\\2"));
        Assert.Empty(Run(A + "0"));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Loops_sorted_by_a_metric_put_missing_values_lowest_and_break_ties_by_their_key(string kind)
    {
        var (dir, db, store) = LoopStore(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        // Missing sorts below every value in both directions; equal values (0.020 twice) fall back on the key.
        List<string> Expected(Func<Loop, double?> metric, bool descending)
        {
            var ordered = Loops.OrderBy(l => metric(l) is null ? 0 : 1).ThenBy(l => metric(l) ?? 0)
                .ThenBy(l => l.Run, StringComparer.Ordinal).ThenBy(l => l.Id).Select(l => l.Key).ToList();
            if (descending) ordered.Reverse();
            return ordered;
        }
        foreach (var descending in new[] { true, false })
        {
            Assert.Equal(Expected(l => l.Ic, descending),
                Found(store, new(CatalogKind.Loop, Sort: "ic", Descending: descending)));
            Assert.Equal(Expected(l => l.Return, descending),
                Found(store, new(CatalogKind.Loop, Sort: "annualized_return", Descending: descending)));
        }
        // A range on another metric than the sort's, bounds included.
        var inRange = Loops.Where(l => l.Ic is >= 0.020 and <= 0.050);
        Assert.Equal(Expected(l => l.Return, true).Where(k => inRange.Any(l => l.Key == k)),
            Found(store, new(CatalogKind.Loop, Sort: "annualized_return",
                Ranges: new Dictionary<string, (double?, double?)> { ["ic"] = (0.020, 0.050) })));
        Assert.Equal(Expected(l => l.Ic, true).Where(k => Loops.Any(l => l.Key == k && l.Ic >= 0.044)),
            Found(store, new(CatalogKind.Loop, Sort: "ic",
                Ranges: new Dictionary<string, (double?, double?)> { ["ic"] = (0.044, null) })));
        Assert.Equal(Expected(l => l.Ic, true).Where(k => Loops.Any(l => l.Key == k && l.Ic <= 0.020)),
            Found(store, new(CatalogKind.Loop, Sort: "ic",
                Ranges: new Dictionary<string, (double?, double?)> { ["ic"] = (null, 0.020) })));
        // Sorted by start time, text order is time order; ties (two loops at 09:30) by key.
        Assert.Equal([.. Loops.OrderBy(l => l.Started, StringComparer.Ordinal)
                .ThenBy(l => l.Run, StringComparer.Ordinal)
                .ThenBy(l => l.Id).Select(l => l.Key)],
            Found(store, new(CatalogKind.Loop, Sort: "started_at_utc", Descending: false)));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Pages_split_the_order_without_overlap_and_say_their_number_size_and_the_exact_total(string kind)
    {
        var (dir, db, store) = LoopStore(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var all = ByRun(Loops);
        for (var page = 1; page <= 5; page++)
        {
            var p = CatalogQuery.Run(store, new(CatalogKind.Loop, Page: page, PageSize: 3));
            Assert.Equal((CatalogKind.Loop, 8L, true, page, 3), (p.Kind, p.Total, p.TotalExact, p.Page, p.PageSize));
            Assert.Equal(all.Skip((page - 1) * 3).Take(3), Keys(p));
        }
        // Each item names its publisher ("local": this machine) and when it was imported.
        var items = CatalogQuery.Run(store, new(CatalogKind.Loop, PageSize: 8)).Items;
        Assert.Equal(ByRun(Loops).Select(k => Loops.Single(l => l.Key == k).Origin ?? "local"),
            items.Select(i => i.Origin));
        Assert.All(items, i => Assert.Matches(@"^\d{4}-\d\d-\d\dT", i.UpdatedAt!));
        Assert.Equal(8, CatalogQuery.Run(store, new(CatalogKind.Loop, PageSize: CatalogQuery.MaxPageSize)).Items.Count);
        Assert.Single(CatalogQuery.Run(store, new(CatalogKind.Loop, PageSize: 1)).Items);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_request_the_query_cannot_answer_is_refused_naming_the_parameter_and_what_it_accepts(string kind)
    {
        var (dir, db, store) = LoopStore(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        string Refused(CatalogPageRequest q) => Assert.Throws<QueryException>(() => CatalogQuery.Run(store, q)).Message;

        Assert.Equal("page starts at 1", Refused(new(CatalogKind.Loop, Page: 0)));
        Assert.Equal("page_size must be between 1 and 500", Refused(new(CatalogKind.Loop, PageSize: 0)));
        Assert.Equal("page_size must be between 1 and 500", Refused(new(CatalogKind.Loop, PageSize: 501)));
        const string loopsOnly = "decision, status, started_from and started_before filter loops only";
        Assert.Equal(loopsOnly, Refused(new CatalogPageRequest(CatalogKind.Factor) { Decision = true }));
        Assert.Equal(loopsOnly, Refused(new CatalogPageRequest(CatalogKind.Model) { Status = "success" }));
        Assert.Equal(loopsOnly, Refused(new CatalogPageRequest(CatalogKind.Strategy) { StartedFrom = "2025" }));
        Assert.Equal(loopsOnly, Refused(new CatalogPageRequest(CatalogKind.Factor) { StartedBefore = "2025" }));
        Assert.Equal(
            "source filters factors only (rdagent_generated, qlib_alpha158, …); use origin for the publisher",
            Refused(new(CatalogKind.Loop, Source: "rdagent_generated")));
        Assert.Equal("tag filters factors only", Refused(new(CatalogKind.Model, Tag: "rdagent")));
        Assert.Equal("min_/max_status: loops have no numeric column 'status'; use one of loop_id, annualized_return, "
                + "max_drawdown, information_ratio, ic, ic_ir, rank_ic",
            Refused(new(CatalogKind.Loop, Ranges: new Dictionary<string, (double?, double?)> { ["status"] = (1, 2) })));
        Assert.Equal("sort: strategys can be sorted by loop_id, strategy_id, task_run_id, updated_at",
            Refused(new(CatalogKind.Strategy, Sort: "ic")));
    }

    private sealed record Factor(string Id, string Name, string Source, string[] Tags, double? Ic);

    private static readonly Factor[] Factors =
    [
        new("factor_0001", "Momentum_20D", "rdagent_generated", ["rdagent", "generated"], 0.041),
        new("factor_0002", "KLEN", "qlib_alpha158", ["alpha158"], 0.012),
        new("factor_0003", "Amihud_Illiq", "rdagent_generated", ["rdagent", "liquidity"], null),
        new("factor_0004", "ROC60", "qlib_alpha158", ["alpha158", "generated"], 0.027),
        new("factor_0005", "Turnover_5D", "rdagent_generated", [], 0.041),
    ];

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Factors_are_filtered_by_source_and_tag_and_sorted_by_ic_unless_told_otherwise(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate();
        var catalog = WriteCatalog(dir, "factor_catalog.json", "factors", Factors.Select(f => (JsonNode)new JsonObject
        {
            ["factor_id"] = f.Id, ["name"] = f.Name, ["source"] = f.Source,
            ["tags"] = new JsonArray([.. f.Tags.Select(t => (JsonNode)t)]), ["task_run_id"] = A, ["loop_id"] = 1,
            ["performance_metrics"] = new JsonObject { ["ic"] = f.Ic },
        }));
        Assert.Equal(Factors.Length, StoreTests.Import(store, CatalogKind.Factor, catalog).Inserted);
        List<string> Ids(CatalogPageRequest q)
        {
            var page = CatalogQuery.Run(store, q);
            Assert.Equal(page.Total, page.Items.Count);
            return [.. page.Items.Select(i => (string)JsonNode.Parse(i.Payload)!["factor_id"]!)];
        }
        // By IC, best first, a missing IC last, a tie by id; ascending the reverse.
        List<string> ByIc(IEnumerable<Factor> fs) => [.. fs.OrderByDescending(f => f.Ic is null ? 0 : 1)
            .ThenByDescending(f => f.Ic).ThenByDescending(f => f.Id, StringComparer.Ordinal).Select(f => f.Id)];

        Assert.Equal(ByIc(Factors), Ids(new(CatalogKind.Factor)));
        Assert.Equal(ByIc(Factors).AsEnumerable().Reverse(), Ids(new(CatalogKind.Factor, Descending: false)));
        Assert.Equal(ByIc(Factors.Where(f => f.Source == "qlib_alpha158")),
            Ids(new(CatalogKind.Factor, Source: "qlib_alpha158")));
        Assert.Equal(ByIc(Factors.Where(f => f.Tags.Contains("generated"))),
            Ids(new(CatalogKind.Factor, Tag: "generated")));
        Assert.Empty(Ids(new(CatalogKind.Factor, Tag: "gen")));
        Assert.Equal(ByIc(Factors.Where(f => f.Tags.Contains("rdagent") && f.Source == "rdagent_generated")),
            Ids(new(CatalogKind.Factor, Source: "rdagent_generated", Tag: "rdagent")));
        Assert.Equal([.. Factors.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => f.Id)],
            Ids(new(CatalogKind.Factor, Sort: "name", Descending: false)));
        Assert.Equal(ByIc(Factors.Where(f => f.Ic is >= 0.027)),
            Ids(new(CatalogKind.Factor,
                Ranges: new Dictionary<string, (double?, double?)> { ["ic"] = (0.027, null) })));
        Assert.Equal([.. Factors.Where(f => f.Ic is <= 0.027).OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => f.Id)],
            Ids(new(CatalogKind.Factor, Sort: "name", Descending: false,
                Ranges: new Dictionary<string, (double?, double?)> { ["ic"] = (null, 0.027) })));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Past_ten_thousand_matches_the_total_is_a_lower_bound_and_at_ten_thousand_it_is_exact(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate();
        // 10,100 loops of one task run; loop i has IC i, so an IC range picks an exact number of them.
        const int n = 10_100;
        var catalog = WriteCatalog(dir, "loop_catalog.json", "loops", Enumerable.Range(0, n).Select(i =>
            (JsonNode)new JsonObject { ["task_run_id"] = A, ["loop_id"] = i, ["ic"] = i }));
        Assert.Equal(n, StoreTests.Import(store, CatalogKind.Loop, catalog).Inserted);

        var exact = CatalogQuery.Run(store, new(CatalogKind.Loop,
            Ranges: new Dictionary<string, (double?, double?)> { ["ic"] = (0, 9_999) }));
        Assert.Equal((10_000L, true), (exact.Total, exact.TotalExact));
        var over = CatalogQuery.Run(store, new(CatalogKind.Loop,
            Ranges: new Dictionary<string, (double?, double?)> { ["ic"] = (0, 10_000) }));
        Assert.Equal((10_001L, false), (over.Total, over.TotalExact));
        // The last page: offset 10,050 and its 50 rows say more than the capped count does.
        var last = CatalogQuery.Run(store, new(CatalogKind.Loop, Page: 202, Descending: false));
        Assert.Equal((10_100L, false, 50), (last.Total, last.TotalExact, last.Items.Count));
        Assert.Equal(Enumerable.Range(10_050, 50).Select(i => $"{A}/{i}"), Keys(last));
    }

    /// <summary>
    /// The count cap lowered to 2 (the API's is 10,000) over the eight loops: the count stops at 3, a lower bound.
    /// A page's rows raise the bound to the last row's place; a page past the last loop holds nothing and proves
    /// nothing, so its total stays the count. It once became the page's offset: page 300 of 10,100 loops said "at least
    /// 14,950" (mutation-survivors.md).
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Past_the_count_cap_a_page_beyond_the_last_loop_keeps_the_counted_lower_bound(string kind)
    {
        var (dir, db, opened) = LoopStore(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = opened;
        var store = (DbAistockStore)opened;
        const int cap = 2;
        CatalogPage Page(int number) =>
            CatalogQuery.Run(store, new(CatalogKind.Loop, Page: number, PageSize: 3), null, countCap: cap);
        var all = ByRun(Loops);
        Assert.Equal(8, all.Count);

        var first = Page(1);
        Assert.Equal((cap + 1L, false), (first.Total, first.TotalExact));
        Assert.Equal(all.Take(3), Keys(first));
        // Rows 7 and 8 of 8: the last page's last row shows there are 8.
        var last = Page(3);
        Assert.Equal((8L, false), (last.Total, last.TotalExact));
        Assert.Equal(all.Skip(6), Keys(last));
        foreach (var beyond in new[] { 4, 300 })
        {
            var page = Page(beyond);
            Assert.Empty(page.Items);
            Assert.Equal((cap + 1L, false, beyond), (page.Total, page.TotalExact, page.Page));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_kept_count_is_served_until_the_table_changes_then_counted_again(string kind)
    {
        var (dir, db, store) = LoopStore(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var counts = new MatchCounts();
        CatalogPageRequest Failed() => new(CatalogKind.Loop, PageSize: 1) { Status = "failed" };
        Assert.Equal(2, CatalogQuery.Run(store, Failed(), counts).Total);
        Assert.Equal(5, CatalogQuery.Run(store, new(CatalogKind.Loop, PageSize: 1) { Status = "success" }, counts)
            .Total);
        Assert.Equal(2, CatalogQuery.Run(store, Failed(), counts).Total);
        // A third failed loop imported: the table's version moves on, and the count with it.
        var more = WriteCatalog(dir, "more/loop_catalog.json", "loops",
            [Record(new Loop(B, 7, "failed", null, "2025-07-05T00:00:00Z", null, null))]);
        Assert.Equal(1, StoreTests.Import(store, CatalogKind.Loop, more, "lab-c").Inserted);
        Assert.Equal(3, CatalogQuery.Run(store, Failed(), counts).Total);
        Assert.Equal(1, CatalogQuery.Run(store, Failed() with { Origin = "lab-c" }, counts).Total);
        Assert.Equal(2, CatalogQuery.Run(store, Failed() with { Origin = "local" }, counts).Total);
    }

    [Fact]
    public void Match_counts_keep_a_count_per_key_and_forget_all_of_them_at_1024()
    {
        var counts = new MatchCounts();
        var asked = 0;
        long Count(long n) { asked++; return n; }
        Assert.Equal(7, counts.Get("k0", () => Count(7)));
        Assert.Equal(7, counts.Get("k0", () => Count(8)));
        Assert.Equal(1, asked);
        for (var i = 1; i < 1024; i++) counts.Get($"k{i}", () => Count(i));
        Assert.Equal(1024, asked);
        // 1,024 kept: all still served.
        Assert.Equal(7, counts.Get("k0", () => Count(-1)));
        Assert.Equal(1023, counts.Get("k1023", () => Count(-1)));
        Assert.Equal(1024, asked);
        // The 1,025th key clears the others before it is kept.
        Assert.Equal(5, counts.Get("k1024", () => Count(5)));
        Assert.Equal(5, counts.Get("k1024", () => Count(-1)));
        Assert.Equal(9, counts.Get("k0", () => Count(9)));
        Assert.Equal(1026, asked);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Two_databases_whose_tables_stand_at_the_same_version_never_share_a_kept_count(string kind)
    {
        var (dir1, db1, one) = LoopStore(kind);
        var (dir2, db2, two) = LoopStore(kind);
        using var _ = dir1;
        using var __ = db1;
        using var ___ = one;
        using var ____ = dir2;
        using var _____ = db2;
        using var ______ = two;
        db2.Exec("DELETE FROM aistock_loop_catalog WHERE status = 'failed'");
        // The same version and migration time in both (a database copied, then changed).
        foreach (var db in new[] { db1, db2 })
        {
            db.Exec("UPDATE rdbridge_table_versions SET version = 99 WHERE table_name = 'aistock_loop_catalog'");
            db.Exec("UPDATE schema_migrations SET applied_at = '2026-12-06T00:00:00Z' WHERE version = 2");
        }
        Assert.Equal(one.CatalogVersion(CatalogKind.Loop), two.CatalogVersion(CatalogKind.Loop));
        var counts = new MatchCounts();
        CatalogPageRequest Failed() => new(CatalogKind.Loop, PageSize: 1) { Status = "failed" };
        Assert.Equal(Loops.Count(l => l.Status == "failed"), CatalogQuery.Run(one, Failed(), counts).Total);
        Assert.Equal(0, CatalogQuery.Run(two, Failed(), counts).Total);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Records_sorted_by_task_run_come_in_loop_number_order_within_it_whatever_their_ids(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate();
        // Ids in the opposite order of the loops' numbers (9 before 29 before 100).
        (string Id, string Run, long Loop)[] factors =
        [
            ("factor_a", A, 100), ("factor_b", A, 29), ("factor_c", A, 9), ("factor_d", B, 3), ("factor_e", A, 9),
        ];
        var catalog = WriteCatalog(dir, "factor_catalog.json", "factors", factors.Select(f => (JsonNode)new JsonObject
        {
            ["factor_id"] = f.Id, ["name"] = f.Id.ToUpperInvariant(), ["task_run_id"] = f.Run, ["loop_id"] = f.Loop,
        }));
        Assert.Equal(factors.Length, StoreTests.Import(store, CatalogKind.Factor, catalog).Inserted);
        (string Id, string Run, long Loop)[] models = [("model_a", A, 29), ("model_b", A, 9), ("model_c", B, 1)];
        var modelCatalog = WriteCatalog(dir, "model_catalog.json", "models", models.Select(m => (JsonNode)new JsonObject
        {
            ["model_id"] = m.Id, ["task_run_id"] = m.Run, ["loop_id"] = m.Loop, ["workspace_id"] = "ws_" + m.Id,
        }));
        Assert.Equal(models.Length, StoreTests.Import(store, CatalogKind.Model, modelCatalog).Inserted);
        List<string> Ids(CatalogPageRequest q, string field) =>
            [.. CatalogQuery.Run(store, q).Items.Select(i => (string)JsonNode.Parse(i.Payload)![field]!)];

        Assert.Equal([.. factors.OrderBy(f => f.Run, StringComparer.Ordinal).ThenBy(f => f.Loop)
                .ThenBy(f => f.Id, StringComparer.Ordinal).Select(f => f.Id)],
            Ids(new(CatalogKind.Factor, Sort: "task_run_id", Descending: false), "factor_id"));
        // A model's page sorts by task run unless told otherwise.
        Assert.Equal([.. models.OrderByDescending(m => m.Run, StringComparer.Ordinal).ThenByDescending(m => m.Loop)
                .Select(m => m.Id)],
            Ids(new(CatalogKind.Model), "model_id"));
    }

    [Fact]
    public async Task A_page_is_written_as_the_api_envelope_with_each_record_s_members_after_its_origin()
    {
        var page = new CatalogPage(CatalogKind.Factor, 12_345, false, 3, 2,
        [
            new CatalogItem(" { \"factor_id\": \"f1\", \"ic\": 0.5 } ", "local", "2026-12-06T10:00:00Z"),
            new CatalogItem("{}", "lab \"b\"", null),
            new CatalogItem("[1]", "x", null),
        ]);
        using var w = new StringWriter();
        await page.WriteJsonAsync(w, "factors");
        Assert.Equal("{\"kind\":\"factors\",\"total\":12345,\"total_exact\":false,\"page\":3,\"page_size\":2,"
            + "\"items\":["
            + "{\"origin\":\"local\",\"imported_updated_at\":\"2026-12-06T10:00:00Z\","
            + "\"factor_id\": \"f1\", \"ic\": 0.5},"
            + "{\"origin\":\"lab \\u0022b\\u0022\",\"imported_updated_at\":null},"
            + "{\"origin\":\"x\",\"imported_updated_at\":null}]}", w.ToString());
        using var empty = new StringWriter();
        await new CatalogPage(CatalogKind.Loop, 0, true, 1, 50, []).WriteJsonAsync(empty, "loops");
        Assert.Equal("{\"kind\":\"loops\",\"total\":0,\"total_exact\":true,\"page\":1,\"page_size\":50,\"items\":[]}",
            empty.ToString());
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void The_task_run_index_lists_each_loop_s_columns_by_run_and_number_and_a_prefix_keeps_its_runs(string kind)
    {
        var (dir, db, store) = LoopStore(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        List<string> Expected(IEnumerable<Loop> loops) => ByRun(loops, descending: false);
        static string Row(LoopSummary s) => string.Join("|", s.TaskRunId, s.LoopId, s.Scenario, s.Action, s.Status,
            s.HasResult, s.StartedAtUtc, s.EndedAtUtc, s.Decision?.ToString() ?? "-", s.AssetBundleId, s.LogDir,
            string.Join(",", s.Metrics.Select(m => $"{m.Key}={m.Value?.ToString("R", CultureInfo.InvariantCulture)}")));
        string FromRecord(string key)
        {
            var l = Loops.Single(x => x.Key == key);
            var r = Record(l);
            string M(string f) => $"{f}=" + (r[f] is { } v
                ? v.GetValue<double>().ToString("R", CultureInfo.InvariantCulture) : "");
            return string.Join("|", l.Run, l.Id, "QuantRDLoop", (string)r["action"]!, l.Status, l.Return is not null,
                l.Started, (string)r["ended_at_utc"]!, l.Decision?.ToString() ?? "-", (string)r["asset_bundle_id"]!,
                (string)r["log_dir"]!, string.Join(",", new[] { "annualized_return", "ic", "rank_ic", "ic_ir",
                    "information_ratio", "max_drawdown" }.Select(M)));
        }

        Assert.Equal(Expected(Loops).Select(FromRecord), store.LoopSummaries(null).Select(Row));
        Assert.Equal(Expected(Loops).Select(FromRecord), store.LoopSummaries("").Select(Row));
        Assert.Equal(Expected(Loops.Where(l => l.Run == B)).Select(FromRecord), store.LoopSummaries(B).Select(Row));
        Assert.Equal(Expected(Loops.Where(l => l.Run != C)).Select(FromRecord),
            store.LoopSummaries("0a1b2c").Select(Row));
        Assert.Empty(store.LoopSummaries("0a1b_"));
        Assert.Empty(store.LoopSummaries("0a1b%"));
        Assert.Empty(store.LoopSummaries("0a1b\\2"));
    }
}
