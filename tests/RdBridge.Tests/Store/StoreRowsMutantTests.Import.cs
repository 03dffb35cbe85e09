using System.Text.Json.Nodes;
using RdBridge.Catalogs;

using static RdBridge.Tests.Store.ProvenanceCatalog;

namespace RdBridge.Tests.Store;

/// <summary>
/// What <c>bench/mutation.sh StoreRowsPostgres</c> left in <see cref="RdBridge.Store.CatalogImport"/>: the PostgreSQL
/// cases never refused a record, met a loop repeated without a workspace, or read the import mark of an import that
/// updated a row. The same on both stores; the expected reasons and counts are read off the file written here.
/// </summary>
public sealed partial class StoreRowsMutantTests
{
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_refused_record_and_a_loop_repeated_without_a_workspace_are_each_named_in_the_skip_reasons(
        string kind)
    {
        var (dir, _, store) = TestStore.OpenNew(kind);
        using var __ = dir;
        using var ___ = store;
        var path = dir["catalogs/loop_catalog.json"];
        var noWorkspace = Loop("tr1", 0, null, "x");
        noWorkspace.Remove("workspace_id");
        // tr1/0 twice, neither naming a workspace; then a number where a record should be (the file's third).
        Write(path, new JsonObject
        {
            ["loops"] = new JsonArray(noWorkspace.DeepClone(), noWorkspace.DeepClone(), 42),
        });
        var summary = StoreTests.Import(store, CatalogKind.Loop, path);
        Assert.Equal((1L, 2L), (summary.Inserted, summary.Skipped));
        // Each reason once, in name order (the reader's refusals come before the records' own skips).
        Assert.Equal([
                "loop record #3: it is a number, not a record (a JSON object)",
                "loop tr1/0 appears more than once in the catalog with the same workspace; the record on its " +
                "experiment workspace was kept",
            ], summary.SkipReasons.Order(StringComparer.Ordinal));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void The_import_mark_counts_every_record_of_the_file_whether_inserted_updated_or_unchanged(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var path = dir["catalogs/loop_catalog.json"];
        WriteLoops(path, Loop("tr1", 0, "a", "kept"), Loop("tr1", 1, "b", "before"), Loop("tr1", 2, "c", "kept"));
        StoreTests.Import(store, CatalogKind.Loop, path);
        // Two unchanged, one changed, one new: the file's four records are all in the store after it.
        WriteLoops(path, Loop("tr1", 0, "a", "kept"), Loop("tr1", 1, "b", "after"), Loop("tr1", 2, "c", "kept"),
            Loop("tr1", 3, "d", "new"));
        var summary = StoreTests.Import(store, CatalogKind.Loop, path);
        Assert.Equal((1L, 1L, 2L), (summary.Inserted, summary.Updated, summary.Unchanged));
        Assert.Equal(4, db.Scalar(
            "SELECT rows_imported FROM rdbridge_catalog_imports WHERE catalog = 'aistock_loop_catalog'"));
    }
}
