using System.Diagnostics;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// Search (<c>q=</c>) finds every factor whose name, expression, Chinese description or formulation holds the
/// text, ASCII case aside — on SQLite through the trigram index of schema version
/// <see cref="StoreSchema.SearchIndexVersion"/>, on PostgreSQL through pg_trgm — and exactly those: the same rows
/// the table scan found before; and the same for loops (task run, action, status, model type, hypothesis). The
/// expected rows are computed here from the catalog file.
/// </summary>
public class SearchIndexTests
{
    private static readonly string[] Texts = ["name", "expression", "description_cn", "formula_hint"];

    // Chinese words of two and more characters, parts of identifiers in another case, LIKE's own wildcards and FTS5's
    // quote taken literally, a text found nowhere.
    private static readonly string[] Queries =
    [
        "动量反转", "动量", "价量关系", "momentumrev", "MEAN($CLOSE", "_0001", "#12", "50%", "say \"hi\"",
        "a_b", "日", "zz-not-there",
    ];

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_search_finds_exactly_the_factors_holding_the_text_before_and_after_the_index_is_added(string kind)
    {
        using var dir = new TempDir();
        var catalog = Catalog(dir);
        var factors = JsonNode.Parse(File.ReadAllText(catalog))!["factors"]!.AsArray().Select(f => f!).ToList();
        using var db = TestStore.Create(kind, dir);
        using (var old = db.Open())
        {
            // A database that held its factors before the search index existed.
            old.Migrate(upTo: StoreSchema.SearchIndexVersion - 1);
            Assert.Equal(factors.Count, StoreTests.Import(old, CatalogKind.Factor, catalog).Inserted);
            foreach (var q in Queries) Assert.Equal(Expected(factors, q), Found(old, q));
        }
        using var store = db.Open();
        Assert.Contains(StoreSchema.SearchIndexVersion, store.Migrate());
        foreach (var q in Queries) Assert.Equal(Expected(factors, q), Found(store, q));

        // Rows written after the migration (an import changing a description) are found by their new text only.
        var doc = JsonNode.Parse(File.ReadAllText(catalog))!;
        var changed = doc["factors"]![7]!;
        var before = (string)changed["description_cn"]!;
        changed["description_cn"] = "季节性换手率因子";
        File.WriteAllText(catalog, doc.ToJsonString());
        factors = doc["factors"]!.AsArray().Select(f => f!).ToList();
        Assert.Equal(1, StoreTests.Import(store, CatalogKind.Factor, catalog).Updated);
        Assert.Equal([(string)changed["factor_id"]!], Found(store, "季节性"));
        Assert.Equal(Expected(factors, before), Found(store, before));
        Assert.DoesNotContain((string)changed["factor_id"]!, Found(store, before));
        if (!db.IsPostgres)
        {
            // The index answers the query: SQLite's plan reads the trigram table, not every factor.
            var plan = string.Join("\n", db.Rows("EXPLAIN QUERY PLAN SELECT factor_id FROM aistock_factor_catalog " +
                "WHERE rowid IN (SELECT rowid FROM aistock_factor_search " +
                "WHERE aistock_factor_search MATCH '\"动量反转\"')").Select(r => r[^1]));
            // The plan's whole line for the trigram table (a MATCH on the whole table: M, then its 4 columns); its
            // other lines' wording varies with SQLite's version.
            Assert.Contains("SCAN aistock_factor_search VIRTUAL TABLE INDEX 0:M4", plan.Split('\n'));
            Assert.DoesNotContain("SCAN aistock_factor_catalog", plan);
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_loop_search_finds_exactly_the_loops_holding_the_text_before_and_after_the_index_is_added(
        string kind)
    {
        using var dir = new TempDir();
        var gen = dir["gen"];
        Generate(gen, 30, 30);
        var path = Path.Combine(gen, "loop_catalog.json");
        var doc = JsonNode.Parse(File.ReadAllText(path))!;
        var loops = doc["loops"]!.AsArray().Select(l => l!).ToList();
        for (var i = 0; i < loops.Count; i++)
        {
            if (i % 3 == 0) loops[i]["hypothesis"] = $"动量与成交量背离 #{i}";
            if (i % 5 == 0) loops[i]["model_type"] = "XGBModel";
        }
        File.WriteAllText(path, doc.ToJsonString());
        string[] queries = [loops[0]["task_run_id"]!.GetValue<string>()[..10], "succ", "XGB", "动量与成交", "量背", "#1",
            "nothing-here"];
        string[] texts = ["task_run_id", "action", "status", "model_type", "hypothesis"];
        List<string> Expected(string q) => [.. loops
            .Where(l => texts.Any(t => l[t] is JsonValue v
                && v.GetValueKind() == System.Text.Json.JsonValueKind.String
                && v.GetValue<string>().Contains(q, StringComparison.OrdinalIgnoreCase)))
            .OrderByDescending(l => (string)l["task_run_id"]!, StringComparer.Ordinal)
            .ThenByDescending(l => (long)l["loop_id"]!)
            .Select(l => $"{l["task_run_id"]}/{l["loop_id"]}")];
        static List<string> Found(IAistockStore store, string q) => [.. CatalogQuery.Run(store,
                new CatalogPageRequest(CatalogKind.Loop, Search: q, PageSize: CatalogQuery.MaxPageSize)).Items
            .Select(i => JsonNode.Parse(i.Payload)!).Select(l => $"{l["task_run_id"]}/{l["loop_id"]}")];

        using var db = TestStore.Create(kind, dir);
        using (var old = db.Open())
        {
            old.Migrate(upTo: StoreSchema.SearchIndexVersion - 1);
            Assert.Equal(loops.Count, StoreTests.Import(old, CatalogKind.Loop, path).Inserted);
            foreach (var q in queries) Assert.Equal(Expected(q), Found(old, q));
        }
        using var store = db.Open();
        Assert.Contains(StoreSchema.SearchIndexVersion, store.Migrate());
        foreach (var q in queries) Assert.Equal(Expected(q), Found(store, q));
        // A precondition: the query matches the hypotheses written with it above, so the equality is not of two
        // empty lists.
        Assert.NotEmpty(Found(store, "动量与成交"));
    }

    private static void Generate(string folder, int factors, int loops)
    {
        using var p = Process.Start(new ProcessStartInfo("python3",
            [Path.Combine(Paths.RepoRoot, "bench", "gen_catalogs.py"), folder, $"{factors}", $"{loops}"]))!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>The ids of every factor holding the text, in the API's default order (IC, best first).</summary>
    private static List<string> Expected(List<JsonNode> factors, string q) => factors
        .Where(f => Texts.Any(t => f[t] is JsonValue v && v.GetValue<string>().Contains(q,
            StringComparison.OrdinalIgnoreCase)))
        .OrderByDescending(f => (double)f["performance_metrics"]!["ic"]!)
        .ThenByDescending(f => (string)f["factor_id"]!, StringComparer.Ordinal)
        .Select(f => (string)f["factor_id"]!).ToList();

    private static List<string> Found(IAistockStore store, string q)
    {
        var page = CatalogQuery.Run(store, new CatalogPageRequest(CatalogKind.Factor, Search: q,
            PageSize: CatalogQuery.MaxPageSize));
        Assert.True(page.TotalExact);
        Assert.Equal(page.Total, page.Items.Count);
        return [.. page.Items.Select(i => (string)JsonNode.Parse(i.Payload)!["factor_id"]!)];
    }

    /// <summary>
    /// 300 factors from the benchmarks' generator, and a few written here with the texts the queries look for.
    /// </summary>
    private static string Catalog(TempDir dir)
    {
        var gen = dir["gen"];
        Generate(gen, 300, 10);
        var doc = JsonNode.Parse(File.ReadAllText(Path.Combine(gen, "factor_catalog.json")))!;
        var factors = doc["factors"]!.AsArray();
        var extra = new (string Name, string Expression, string Description, string? Formula)[]
        {
            ("MomentumReversal_20D", "Mean($close, 20)/Ref($close, 20)", "20日动量反转因子", null),
            ("Turnover50", "Rank($volume, 50%)", "换手率 50% 分位", "x = \"hi\""),
            ("Quote_Factor", "Std($high, 5)", "说 say \"hi\" 的因子", "a_b + c"),
            ("动量", "Mean($open, 5)", "短期动量", "momentum = a*b"),
        };
        for (var i = 0; i < extra.Length; i++)
        {
            var f = factors[i]!.DeepClone();
            f["factor_id"] = $"factor_search_{i:D4}";
            f["name"] = extra[i].Name;
            f["expression"] = extra[i].Expression;
            f["description_cn"] = extra[i].Description;
            if (extra[i].Formula is { } formula) f["formula_hint"] = formula;
            // Above the generator's range and distinct, so no tie is broken by a collation.
            f["performance_metrics"]!["ic"] = 0.1 + i / 1000.0;
            factors.Add(f);
        }
        var path = dir["factor_catalog.json"];
        File.WriteAllText(path, doc.ToJsonString());
        return path;
    }
}
