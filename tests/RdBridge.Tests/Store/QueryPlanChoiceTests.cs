using System.Diagnostics;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The plan a page is read by, as the database itself reports it (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN)
/// for the statement CatalogQuery ran. The expected plans are reasoned from the indexes (schema versions 3 and 5: one
/// per sort column, the key as tie-breaker) and from the match counts read here from the catalog file: a filter
/// keeping many rows walks the sort's index, a filter keeping few finds its rows by its own index and sorts them.
/// </summary>
public class QueryPlanChoiceTests
{
    // 4,000 factors over 400 loops (4 task runs of 100 loops, 10 factors a loop), metrics drawn uniformly.
    private const int Factors = 4000, Loops = 400;

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Each_representative_shape_is_read_by_the_plan_its_match_count_calls_for(string kind)
    {
        using var dir = new TempDir();
        var gen = dir["gen"];
        using (var p = Process.Start(new ProcessStartInfo("python3",
            [Path.Combine(Paths.RepoRoot, "bench", "gen_catalogs.py"), gen, $"{Factors}", $"{Loops}"]))!)
        {
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }
        var factors = JsonNode.Parse(File.ReadAllText(Path.Combine(gen, "factor_catalog.json")))!["factors"]!
            .AsArray().Select(f => f!).ToList();
        var loops = JsonNode.Parse(File.ReadAllText(Path.Combine(gen, "loop_catalog.json")))!["loops"]!
            .AsArray().Select(l => l!).ToList();
        using var db = TestStore.Create(kind, dir);
        using var opened = db.Open();
        opened.Migrate();
        StoreTests.Import(opened, CatalogKind.Factor, Path.Combine(gen, "factor_catalog.json"));
        StoreTests.Import(opened, CatalogKind.Loop, Path.Combine(gen, "loop_catalog.json"));
        var store = (DbAistockStore)opened;

        double Ic(JsonNode f) => (double)f["performance_metrics"]!["ic"]!;
        // The premises, from the file: which side of the rule (walk when 4 × 50 × rows < matches²) each shape is on.
        var wide = factors.Count(f => Ic(f) is >= 0.02 and <= 0.05);
        // A premise about the generated file (which side of the rule), not a result: the count is the file's.
        Assert.True(4.0 * 50 * Factors < (double)wide * wide, $"{wide} factors in the wide range");
        var narrow = factors.Count(f => Ic(f) is >= 0.03 and <= 0.0305);
        // The same premise for the narrow range: few enough matches to be found by its index.
        Assert.True(4.0 * 50 * Factors > (double)narrow * narrow, $"{narrow} factors in the narrow range");
        var prefix = ((string)loops[0]["task_run_id"]!)[..16];
        Assert.All(loops, l => Assert.StartsWith(prefix, (string)l["task_run_id"]!));
        var first = factors[0];

        var byReturn = new Dictionary<string, (double?, double?)> { ["ic"] = (0.02, 0.05) };
        var narrowIc = new Dictionary<string, (double?, double?)> { ["ic"] = (0.03, 0.0305) };
        string inner, plan;

        // Each plan is checked by the whole line that shows the choice (HasLine): the other lines and their order vary
        // with the engine's version (SQLite's bundled build, PostgreSQL's planner).
        // No filter: the sort's own index, read in order and covering the row ids; nothing sorted.
        (inner, _) = Plan(store, new(CatalogKind.Factor, Sort: "annualized_return"));
        if (!db.IsPostgres)
        {
            HasLine("SCAN aistock_factor_catalog USING COVERING INDEX " +
                "idx_aistock_factor_catalog_annualized_return", inner);
            Assert.DoesNotContain("TEMP B-TREE", inner);
        }

        // A range keeping a third of the rows, sorted by another metric: the sort's index is walked and the range
        // tested row by row; the range's own index is not used and nothing is sorted. (PostgreSQL is left to choose
        // here: its histograms see the many matches; hiding the range from it made it scan the table.)
        (inner, plan) = Plan(store, new(CatalogKind.Factor, Ranges: byReturn, Sort: "annualized_return"));
        if (!db.IsPostgres)
        {
            Assert.DoesNotContain("idx_aistock_factor_catalog_ic", plan);
            HasLine("SCAN aistock_factor_catalog USING INDEX idx_aistock_factor_catalog_annualized_return", inner);
            Assert.DoesNotContain("TEMP B-TREE", inner);
        }

        // A narrow range: its matches are found by the range's index and sorted, the sort's index not used.
        (inner, plan) = Plan(store, new(CatalogKind.Factor, Ranges: narrowIc, Sort: "annualized_return"));
        Assert.DoesNotContain("idx_aistock_factor_catalog_annualized_return", plan);
        HasLine(db.IsPostgres ? "Sort" : "USE TEMP B-TREE FOR ORDER BY", inner);
        if (!db.IsPostgres)
        {
            HasLine("SEARCH aistock_factor_catalog USING INDEX idx_aistock_factor_catalog_ic (ic>? AND ic<?)", inner);
        }

        // The narrow range sorted by its own metric: that metric's index seeks to the range and reads it in order.
        (inner, plan) = Plan(store, new(CatalogKind.Factor, Ranges: narrowIc, Sort: "ic"));
        if (db.IsPostgres)
        {
            // PostgreSQL reads the range off the IC index, whether by an index scan or a bitmap of it (then sorts).
            var lines = inner.Split('\n').Select(l => l.Trim().TrimStart('-', '>').TrimStart()).ToList();
            Assert.True(lines.Contains("Index Scan using idx_aistock_factor_catalog_ic on aistock_factor_catalog")
                || lines.Contains("Bitmap Index Scan on idx_aistock_factor_catalog_ic"), inner);
        }
        else
        {
            HasLine("SEARCH aistock_factor_catalog USING COVERING INDEX idx_aistock_factor_catalog_ic " +
                "(ic>? AND ic<?)", inner);
            Assert.DoesNotContain("TEMP B-TREE", inner);
        }

        // One loop's ten factors sorted by name: found by the (task run, loop) index, then sorted.
        (inner, plan) = Plan(store, new(CatalogKind.Factor, TaskRunId: (string)first["task_run_id"]!,
            LoopId: (long)first["loop_id"]!, Sort: "name"));
        Assert.DoesNotContain("idx_aistock_factor_catalog_by_name", plan);
        HasLine(db.IsPostgres ? "Sort" : "USE TEMP B-TREE FOR ORDER BY", inner);
        if (!db.IsPostgres)
        {
            HasLine("SEARCH aistock_factor_catalog USING INDEX idx_aistock_factor_catalog_loop " +
                "(task_run_id=? AND loop_id=?)", inner);
        }

        if (db.IsPostgres) return; // below: what SQLite's own choices got wrong, and its trigram search index
        // Loops by task run: the key's order, read off the (task run, loop) index with nothing sorted (naming
        // task_run_id twice in the ORDER BY made SQLite sort each task run's loops).
        (inner, _) = Plan(store, new(CatalogKind.Loop, Sort: "task_run_id"));
        Assert.Matches("SCAN aistock_loop_catalog USING COVERING INDEX " +
            "(sqlite_autoindex_aistock_loop_catalog_1|idx_aistock_loop_catalog_loop)", inner);
        Assert.DoesNotContain("TEMP B-TREE", inner);

        // A search every loop matches (the task runs' common prefix): the started-at index is walked and the search
        // tested on each walked row by its LIKE; the trigram index is not asked (listing its 400 matches first was the
        // cost), nothing sorted.
        (inner, _) = Plan(store, new(CatalogKind.Loop, Search: prefix, Sort: "started_at_utc"));
        HasLine("SCAN aistock_loop_catalog USING INDEX idx_aistock_loop_catalog_by_started_at_utc", inner);
        Assert.DoesNotContain("aistock_loop_search", inner);
        Assert.DoesNotContain("LIST SUBQUERY", inner);
        Assert.DoesNotContain("TEMP B-TREE", inner);

        // A search one factor matches: the trigram index finds it, the row is read by its rowid, then sorted.
        var name = (string)factors[123]["name"]!;
        Assert.Single(factors, f => ((string)f["name"]!).Contains(name, StringComparison.OrdinalIgnoreCase));
        (inner, _) = Plan(store, new(CatalogKind.Factor, Search: name, Sort: "annualized_return"));
        // FTS5's index string: a MATCH on the whole table (M, then the column count: the factor's 4 searched texts).
        HasLine("SCAN aistock_factor_search VIRTUAL TABLE INDEX 0:M4", inner);
        HasLine("SEARCH aistock_factor_catalog USING INTEGER PRIMARY KEY (rowid=?)", inner);
        Assert.DoesNotContain("idx_aistock_factor_catalog_annualized_return", inner);
    }

    /// <summary>
    /// A search keeping most loops walks the sort's index and tests the LIKE on each row; one keeping few is found by
    /// the trigram index (SQLite) and sorted. Both answer what the catalog file holds: the loops with the text in a
    /// searched column (task run, action, status, model type, hypothesis), ASCII letters in either case, in the
    /// sort's order then the key's.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_search_answers_the_same_loops_whether_walked_or_found_by_its_index(string kind)
    {
        using var dir = new TempDir();
        var (factors, loops) = Generate(dir);
        _ = factors;
        using var db = TestStore.Create(kind, dir);
        using var opened = db.Open();
        opened.Migrate();
        StoreTests.Import(opened, CatalogKind.Loop, Path.Combine(dir["gen"], "loop_catalog.json"));
        var store = (DbAistockStore)opened;

        string? Text(JsonNode l, string field) => (string?)l[field];
        IEnumerable<string?> Searched(JsonNode l) => [Text(l, "task_run_id"), Text(l, "action"), Text(l, "status"),
            Text(l, "model_type"), Text(l, "hypothesis")];
        // LIKE folds ASCII letters only; every text searched here is ASCII or has no case.
        bool Holds(JsonNode l, string q) => Searched(l).Any(t => t is not null &&
            t.ToLowerInvariant().Contains(q.ToLowerInvariant(), StringComparison.Ordinal));
        List<string> Expected(string q, int page) => [.. loops.Where(l => Holds(l, q))
            .OrderByDescending(l => (double)l["ic"]!)
            .ThenByDescending(l => Text(l, "task_run_id"), StringComparer.Ordinal)
            .ThenByDescending(l => (long)l["loop_id"]!)
            .Skip((page - 1) * 50).Take(50).Select(l => $"{Text(l, "task_run_id")}/{(long)l["loop_id"]!}")];
        List<string> Got(CatalogPage p) => [.. p.Items.Select(i => JsonNode.Parse(i.Payload)!)
            .Select(l => $"{(string)l["task_run_id"]!}/{(long)l["loop_id"]!}")];

        var prefix = ((string)loops[0]["task_run_id"]!)[..16].ToUpperInvariant();
        var hypothesis = ((string)loops[0]["hypothesis"]!)[..8].ToUpperInvariant();
        var chinese = ((string)loops[0]["hypothesis"]!)[^5..^2];
        var oneRun = ((string)loops[^1]["task_run_id"]!).ToUpperInvariant();
        // The premises, from the file: the first three texts are held by every loop (walk: 4 × 50 × 400 < 400²), the
        // last by one task run's 100 loops (found by the index: 4 × 50 × 400 > 100²).
        Assert.Equal(Loops, loops.Count(l => Holds(l, prefix)));
        Assert.Equal(Loops, loops.Count(l => Holds(l, hypothesis)));
        Assert.Equal(Loops, loops.Count(l => Holds(l, chinese)));
        Assert.Equal(100, loops.Count(l => Holds(l, oneRun)));
        foreach (var q in new[] { prefix, hypothesis, chinese, oneRun })
        {
            // Page 1 of a text every loop holds is walked; page 2 (100 rows wanted: 4 × 100 × 400 = 400²) and any page
            // of the task run's text are found by the index: the same search answered by both plans.
            foreach (var number in new[] { 1, 2 })
            {
                var matches = loops.Count(l => Holds(l, q));
                var walked = 4.0 * 50 * number * Loops < (double)matches * matches;
                var request = new CatalogPageRequest(CatalogKind.Loop, Search: q, Sort: "ic", Page: number);
                var (inner, _) = Plan(store, request);
                var page = CatalogQuery.Run(store, request);
                Assert.Equal(Expected(q, number), Got(page));
                Assert.Equal(loops.Count(l => Holds(l, q)), page.Total);
                Assert.True(page.TotalExact);
                if (db.IsPostgres) continue;
                if (walked)
                {
                    HasLine("SCAN aistock_loop_catalog USING INDEX idx_aistock_loop_catalog_ic", inner);
                    Assert.DoesNotContain("aistock_loop_search", inner);
                    Assert.DoesNotContain("TEMP B-TREE", inner);
                }
                else
                {
                    // A MATCH on the whole FTS5 table: M, then its column count (the loop's 5 searched texts).
                    HasLine("SCAN aistock_loop_search VIRTUAL TABLE INDEX 0:M5", inner);
                    HasLine("USE TEMP B-TREE FOR ORDER BY", inner);
                }
            }
        }
    }

    /// <summary>
    /// A source every factor has and an IC range keeping a third: the count reads the IC index (the filter keeping
    /// fewer rows in SQLite's sample, in PostgreSQL's histograms), at most cap + 1 of its rows. Below the cap it is
    /// exact; past it the total is a lower bound and says so, however few of the rows read matched.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_count_over_two_indexes_reads_the_one_keeping_fewer_rows_and_at_most_the_cap(string kind)
    {
        using var dir = new TempDir();
        var (factors, _) = Generate(dir);
        using var db = TestStore.Create(kind, dir);
        using var opened = db.Open();
        opened.Migrate();
        StoreTests.Import(opened, CatalogKind.Factor, Path.Combine(dir["gen"], "factor_catalog.json"));
        var store = (DbAistockStore)opened;
        // PostgreSQL chooses the count's index from its statistics, which autovacuum gathers a minute after an
        // import; the test gathers them at once.
        if (db.IsPostgres) store.Rows("ANALYZE aistock_factor_catalog");
        double M(JsonNode f, string m) => (double)f["performance_metrics"]![m]!;

        var source = (string)factors[0]["source"]!;
        Assert.All(factors, f => Assert.Equal(source, (string)f["source"]!));
        var inRange = factors.Count(f => M(f, "ic") is >= 0.02 and <= 0.05);
        // A premise about the generated file (the range keeps about a third); the total below is checked exactly.
        Assert.InRange(inRange, Factors / 5, Factors / 2);
        var request = new CatalogPageRequest(CatalogKind.Factor, Source: source,
            Ranges: new Dictionary<string, (double?, double?)> { ["ic"] = (0.02, 0.05) }, Sort: "icir");
        var statements = new List<(string Sql, (string, object?)[] Args)>();
        var page = CatalogQuery.Run(store, request, null, (sql, args) => statements.Add((sql, [.. args])));
        Assert.Equal(inRange, page.Total);
        Assert.True(page.TotalExact);
        var (count, countArgs) = statements.Single(s => s.Sql.Contains("SELECT count(*), count(*) FILTER"));
        if (!db.IsPostgres)
        {
            var plan = string.Join("\n", store.Rows("EXPLAIN QUERY PLAN " + count, countArgs).Select(r => r[3]));
            HasLine("SEARCH aistock_factor_catalog USING INDEX idx_aistock_factor_catalog_ic (ic>? AND ic<?)", plan);
        }
        else
        {
            // PostgreSQL's statement sets its planner for itself (SET LOCAL, then the count): explained under the
            // same settings, it reads the IC index (its histogram: a third of the rows; the source: all of them),
            // neither scanning the table nor listing the whole range first (a bitmap).
            var at = count.IndexOf("SELECT count(*)", StringComparison.Ordinal);
            Assert.StartsWith("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; ", count);
            var plan = string.Join("\n", store.RowsAlone(count[..at] + "EXPLAIN (COSTS OFF) " + count[at..],
                countArgs).Select(r => r[0]));
            HasLine("Index Scan using idx_aistock_factor_catalog_ic on aistock_factor_catalog", plan);
            Assert.DoesNotContain("Seq Scan", plan);
            Assert.DoesNotContain("Bitmap", plan);
        }

        // Capped at 100: the first 101 factors of the IC index all have the source, so at least 101 match.
        page = CatalogQuery.Run(store, request, null, countCap: 100);
        Assert.False(page.TotalExact);
        Assert.Equal(101, page.Total);
        // A page past the last match holds nothing and proves nothing more: the lower bound stays what was counted
        // (it once became the page's offset, more than there are).
        var pastTheEnd = inRange / 50 + 10;
        page = CatalogQuery.Run(store, request with { Page = pastTheEnd }, null, countCap: 100);
        Assert.Empty(page.Items);
        Assert.Equal((101L, false), (page.Total, page.TotalExact));
        // Two ranges keeping about a third each: of the 101 rows read along one, some match the other; the total is
        // what was found, no more than the true count, and not exact.
        var both = new Dictionary<string, (double?, double?)> { ["ic"] = (0.02, 0.05), ["icir"] = (0.1, 0.4) };
        var bothCount = factors.Count(f => M(f, "ic") is >= 0.02 and <= 0.05 && M(f, "icir") is >= 0.1 and <= 0.4);
        page = CatalogQuery.Run(store, new(CatalogKind.Factor, Ranges: both, Sort: "name"), null, countCap: 100);
        Assert.False(page.TotalExact);
        // Past the cap the total is the matches among the first 101 rows the count read along one index, rows read in
        // no order SQL promises (the engine's index order and its choice of index): only these bounds are knowable.
        Assert.InRange(page.Total, page.Items.Count, Math.Min(bothCount, 101));
        Assert.Equal(50, page.Items.Count);
        page = CatalogQuery.Run(store, new(CatalogKind.Factor, Ranges: both, Sort: "name"));
        Assert.True(page.TotalExact);
        Assert.Equal(bothCount, page.Total);
        // The wide IC range named first, a narrow ICIR range keeping fewer than the cap: the count goes along the
        // narrow one (a guess that took the first would read 101 rows of the IC index and stop short), so it runs out
        // below the cap and is exact.
        var narrow = new Dictionary<string, (double?, double?)> { ["ic"] = (0.02, 0.05), ["icir"] = (0.2, 0.21) };
        var narrowCount = factors.Count(f => M(f, "ic") is >= 0.02 and <= 0.05 && M(f, "icir") is >= 0.2 and <= 0.21);
        // A premise about the generated file: the ICIR range alone keeps fewer than the cap.
        Assert.InRange(factors.Count(f => M(f, "icir") is >= 0.2 and <= 0.21), 1, 100);
        page = CatalogQuery.Run(store, new(CatalogKind.Factor, Ranges: narrow, Sort: "name"), null, countCap: 100);
        Assert.Equal((narrowCount, true), (page.Total, page.TotalExact));
    }

    /// <summary>
    /// The other counts that read along one index and test the rest on each row: a search and an IC range (the
    /// search found through its trigram index on PostgreSQL, its FTS5 table on SQLite), a tag (no index) and an IC
    /// range. Below the cap the total is the file's count and exact, past it a lower bound that says so; the page is
    /// the file's first 50 matches by name.
    /// </summary>
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_count_along_one_index_is_exact_below_the_cap_and_a_lower_bound_past_it(string kind)
    {
        using var dir = new TempDir();
        var (factors, _) = Generate(dir);
        using var db = TestStore.Create(kind, dir);
        using var opened = db.Open();
        opened.Migrate();
        StoreTests.Import(opened, CatalogKind.Factor, Path.Combine(dir["gen"], "factor_catalog.json"));
        var store = (DbAistockStore)opened;
        if (db.IsPostgres) store.Rows("ANALYZE aistock_factor_catalog");
        bool InRange(JsonNode f) => (double)f["performance_metrics"]!["ic"]! is >= 0.02 and <= 0.05;
        // LIKE and ILIKE fold ASCII letters; the searched text is ASCII.
        bool Holds(JsonNode f, string q) => new[] { "name", "expression", "description_cn", "formula_hint" }
            .Any(c => ((string?)f[c])?.Contains(q, StringComparison.OrdinalIgnoreCase) == true);
        bool Tagged(JsonNode f, string t) => f["tags"]!.AsArray().Any(x => (string)x! == t);
        var ic = new Dictionary<string, (double?, double?)> { ["ic"] = (0.02, 0.05) };
        var shapes = new (CatalogPageRequest Request, Func<JsonNode, bool> Keeps)[]
        {
            (new(CatalogKind.Factor, Search: "sLoPe", Ranges: ic, Sort: "name"), f => Holds(f, "slope") && InRange(f)),
            (new(CatalogKind.Factor, Tag: "generated", Ranges: ic, Sort: "name"),
                f => Tagged(f, "generated") && InRange(f)),
        };
        foreach (var (request, keeps) in shapes)
        {
            var expected = factors.Where(keeps).Select(f => (string)f["name"]!).ToList();
            // The premises: more matches than the lowered cap below, fewer than the real one.
            Assert.InRange(expected.Count, 102, CatalogQuery.CountCap);
            var first50 = expected.OrderByDescending(n => n, StringComparer.Ordinal).Take(50).ToList();
            List<string> Names(CatalogPage p) => [.. p.Items.Select(i => (string)JsonNode.Parse(i.Payload)!["name"]!)];

            var page = CatalogQuery.Run(store, request);
            Assert.Equal((expected.Count, true), (page.Total, page.TotalExact));
            Assert.Equal(first50, Names(page));
            page = CatalogQuery.Run(store, request, null, countCap: 100);
            Assert.False(page.TotalExact);
            // The matches among the 101 rows read along one index, in an order SQL does not promise: only the bounds
            // (the page's 50, the rows read) are knowable.
            Assert.InRange(page.Total, 50, 101);
            Assert.Equal(first50, Names(page));
        }
    }

    /// <summary>
    /// The plan holds <paramref name="line"/> as a whole line (PostgreSQL's indent and arrow aside): the choice is
    /// that line, not a fragment of some other one.
    /// </summary>
    private static void HasLine(string line, string plan)
    {
        var lines = plan.Split('\n').Select(l => l.Trim().TrimStart('-', '>').TrimStart());
        Assert.True(lines.Contains(line), $"no line '{line}' in the plan:\n{plan}");
    }

    private static (List<JsonNode> Factors, List<JsonNode> Loops) Generate(TempDir dir)
    {
        var gen = dir["gen"];
        using (var p = Process.Start(new ProcessStartInfo("python3",
            [Path.Combine(Paths.RepoRoot, "bench", "gen_catalogs.py"), gen, $"{Factors}", $"{Loops}"]))!)
        {
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }
        return (JsonNode.Parse(File.ReadAllText(Path.Combine(gen, "factor_catalog.json")))!["factors"]!
                .AsArray().Select(f => f!).ToList(),
            JsonNode.Parse(File.ReadAllText(Path.Combine(gen, "loop_catalog.json")))!["loops"]!
                .AsArray().Select(l => l!).ToList());
    }

    /// <summary>
    /// The plan of the page's statement: on SQLite the part that finds and orders the page's row ids (the rows are then
    /// read by rowid), on PostgreSQL the whole plan; and the whole plan text.
    /// </summary>
    private static (string Inner, string Whole) Plan(DbAistockStore store, CatalogPageRequest request)
    {
        var statements = new List<(string Sql, (string, object?)[] Args)>();
        CatalogQuery.Run(store, request, null, (sql, args) => statements.Add((sql, [.. args])));
        var (page, pageArgs) = statements[^1];
        Assert.StartsWith("SELECT payload", page);
        if (store.Dialect == SqlDialect.Postgres)
        {
            var text = string.Join("\n", store.Rows("EXPLAIN (COSTS OFF) " + page, pageArgs).Select(r => r[0]));
            return (text, text);
        }
        // (id, parent, unused, detail): the lines under the co-routine that reads the page's row ids.
        var rows = store.Rows("EXPLAIN QUERY PLAN " + page, pageArgs);
        var routine = rows.Single(r => (string)r[3]! == "CO-ROUTINE page")[0];
        var under = new HashSet<object?> { routine };
        foreach (var r in rows.Where(r => under.Contains(r[1]))) under.Add(r[0]);
        return (string.Join("\n", rows.Where(r => under.Contains(r[1])).Select(r => r[3])),
            string.Join("\n", rows.Select(r => r[3])));
    }
}
