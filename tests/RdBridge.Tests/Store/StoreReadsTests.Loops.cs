using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

// A loop's factors on each schema, the loops walked page by page, and what a schema version or a disposed store
// changes.
public partial class StoreReadsTests
{
    // The factors the input names for tr-b/2, in name order: alpha (f_b) then zeta (f_a); f_c is tr-b's loop 5.
    private static List<LoopFactor> FactorsOfB2() => [.. Factors
        .Where(f => f["provenance"]!.AsArray().Any(p => (string)p!["task_run_id"]! == B && (long)p["loop_id"]! == 2))
        .OrderBy(f => (string)f["name"]!, StringComparer.Ordinal)
        .Select(f => new LoopFactor((string)f["name"]!, (string)f["source"]!, (string)f["factor_id"]!,
            (double)f["performance_metrics"]!["ic"]!, (double)f["performance_metrics"]!["annualized_return"]!))];

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_loops_factors_are_read_inline_below_version_7_and_from_the_provenance_table_from_it(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        var expected = FactorsOfB2();
        Assert.Equal(["alpha", "zeta"], expected.Select(f => f.Name));
        using (var old = db.Open())
        {
            old.Migrate(upTo: ProvenanceTable.Version - 1);
            ImportAll(dir, old);
            Assert.Equal(expected, old.FactorsOfLoop(B, 2));
            Assert.Empty(old.FactorsOfLoop(B, 3));
        }
        using (var seven = db.Open())
        {
            Assert.Equal([ProvenanceTable.Version], seven.Migrate(upTo: ProvenanceTable.Version));
            // The entries moved out of the factor rows: only the table still names the loop's factors.
            Assert.Equal(0, db.Scalar("SELECT count(*) FROM aistock_factor_catalog WHERE provenance IS NOT NULL"));
            Assert.Equal(expected, seven.FactorsOfLoop(B, 2));
        }
        // A store that does not migrate reads the database's version before its first read.
        using var reader = db.Open();
        Assert.Equal(expected, reader.FactorsOfLoop(B, 2));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void The_loops_walk_every_page_of_the_loops_with_results_in_key_order(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate();
        // One more than a page of 256, a loop without result among them, and a loop with factor names.
        var loops = Enumerable.Range(0, 258).Select(i => Loop(i % 2 == 0 ? A : B, i, i != 5,
            i == 7 ? null : $"bundle_{i}", i == 9 ? "s9" : null, i == 9 ? ["zeta", "alpha"] : [])).ToList();
        StoreTests.Import(store, CatalogKind.Loop, WriteCatalog(dir, "many", CatalogKind.Loop, loops));
        var expected = loops.Where(l => (bool)l["has_result"]!)
            .Select(l => ((string)l["task_run_id"]!, (long)l["loop_id"]!))
            .OrderBy(k => k.Item1, StringComparer.Ordinal).ThenBy(k => k.Item2).ToList();
        Assert.Equal(257, expected.Count);
        var walked = store.Loops().ToList();
        Assert.Equal(expected, walked.Select(l => (l.TaskRunId, l.LoopId)));
        var nine = walked.Single(l => l.LoopId == 9);
        Assert.Equal((B, "bundle_9", "s9", $"ws-{B}-9", $"/ws/{B}/9"),
            (nine.TaskRunId, nine.AssetBundleId, nine.StrategyId, nine.WorkspaceId, nine.WorkspacePath));
        Assert.Equal(["zeta", "alpha"], nine.FactorNames);
        var seven = walked.Single(l => l.LoopId == 7);
        Assert.Equal(((string?)null, 0), (seven.AssetBundleId, seven.FactorNames.Count));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void On_schema_version_3_a_loop_another_publisher_holds_stays_theirs(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate(upTo: 3);
        var loop = Loops[1];
        StoreTests.Import(store, CatalogKind.Loop, WriteCatalog(dir, "a", CatalogKind.Loop, [loop]), "lab-a");
        var changed = (JsonObject)loop.DeepClone();
        changed["status"] = "failed";
        var second = StoreTests.Import(store, CatalogKind.Loop,
            WriteCatalog(dir, "b", CatalogKind.Loop, [changed]), "lab-b");
        Assert.Equal(0, second.Inserted + second.Updated);
        var row = db.Rows("SELECT origin, status FROM aistock_loop_catalog")[0];
        Assert.Equal(("lab-a", "success"), ((string)row[0]!, (string)row[1]!));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_disposed_store_answers_no_more_queries(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        var store = db.Open();
        store.Migrate();
        Assert.Equal(0, store.Count(CatalogKind.Loop));
        store.Dispose();
        // Its connection is closed: the provider's exception type is the only thing both stores share.
        Assert.ThrowsAny<InvalidOperationException>(() => store.Count(CatalogKind.Loop));
    }
}
