using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Runs;
using RdBridge.Store;

using static RdBridge.Tests.Store.ProvenanceCatalog;

namespace RdBridge.Tests.Store;

/// <summary>
/// Which loops found each factor, as <c>factor_provenance.json</c>, an old catalog's inline lists and a publisher's
/// feed give it (<see cref="ProvenanceFile"/>, <see cref="ProvenanceImport"/>), written for the mutants
/// <c>bench/mutation.sh Provenance</c> left alive (issue 24). The files are written here; the expected rows are
/// their entries, and the table is read back with plain SQL.
/// </summary>
public class ProvenanceMutantTests
{
    private const string Written = "factor provenance entries written";

    private static JsonObject Entry(string? factor, string? run, long? loop, string? loadedFrom = null)
    {
        var e = new JsonObject();
        if (factor is not null) e["factor_id"] = factor;
        if (run is not null) e["task_run_id"] = run;
        if (loop is not null) e["loop_id"] = loop;
        e["workspace_id"] = $"ws_{factor}_{loop}";
        e["workspace_path"] = $"/ws/{run}/{loop}";
        e["asset_bundle_id"] = $"bundle_{run}_{loop}";
        if (loadedFrom is not null) e["loaded_from"] = loadedFrom;
        return e;
    }

    /// <summary>The row the table should hold for an entry: every column, the origin last.</summary>
    private static string Row(JsonObject e, string? factor = null, string? origin = null) => string.Join("|",
        factor ?? (string)e["factor_id"]!, (string)e["task_run_id"]!, (long)e["loop_id"]!, (string?)e["workspace_id"],
        (string?)e["workspace_path"], (string?)e["asset_bundle_id"], (string?)e["loaded_from"], origin);

    private static List<string> Table(TestStore db) => [.. db.Rows(
            "SELECT factor_id, task_run_id, loop_id, workspace_id, workspace_path, asset_bundle_id, loaded_from, " +
            "origin FROM aistock_factor_provenance")
        .Select(r => string.Join("|", r.Select(v => v is DBNull ? null : v))).Order(StringComparer.Ordinal)];

    private static (bool Separate, StageReport Report) Import(IAistockStore store, string folder)
    {
        var report = new StageReport("import");
        using var session = store.BeginImport();
        session.Savepoint();
        CatalogImport.Run(session, CatalogKind.Factor, Path.Combine(folder, "factor_catalog.json"));
        session.ReleaseSavepoint();
        var separate = ProvenanceImport.FromDirectory(session, folder, report);
        session.Commit();
        return (separate, report);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_provenance_file_gives_every_entry_naming_a_factor_and_a_loop_and_leaves_out_the_rest(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        JsonObject[] kept =
        [
            Entry("factor_a", RunA, 1), Entry("factor_a", RunA, 2, loadedFrom: "combined_factors_df.parquet"),
            Entry("factor_b", RunB, 1),
        ];
        JsonObject[] incomplete = [Entry(null, RunA, 3), Entry("factor_b", null, 4), Entry("factor_b", RunB, null)];
        var folder = dir["catalogs"];
        Write(Path.Combine(folder, "factor_catalog.json"),
            Envelope("v2", "factors", [Factor("factor_a"), Factor("factor_b")]));
        Write(Path.Combine(folder, "factor_provenance.json"), Envelope("v2", "provenance",
            [kept[0], incomplete[0], kept[1], incomplete[1], incomplete[2], kept[2]]));

        var (separate, report) = Import(store, folder);
        Assert.True(separate);
        Assert.Empty(report.Problems);
        Assert.Equal(3, report.Get(Counter.Change(Written)));
        Assert.Equal(kept.Select(e => Row(e)).Order(StringComparer.Ordinal), Table(db));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void An_old_catalog_s_inline_entries_take_their_record_s_factor_id_and_nothing_else_is_read_as_one(
        string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var first = Entry(null, RunA, 1);
        var second = Entry("named_elsewhere", RunB, 7, loadedFrom: "combined_factors_df.parquet");
        var folder = dir["catalogs"];
        Write(Path.Combine(folder, "factor_catalog.json"), Envelope("v1", "factors",
        [
            Factor("factor_a", new JsonArray(first, Entry(null, RunA, null), Entry(null, null, 2), "not an entry",
                second)),
            // A list that is not one, and an entry list on a record whose id is not text: nothing from either.
            Factor("factor_b", Entry(null, RunA, 5)),
            new JsonObject { ["factor_id"] = 42, ["provenance"] = new JsonArray(Entry(null, RunA, 6)) },
            Factor("factor_c"),
        ]));

        var (separate, report) = Import(store, folder);
        Assert.False(separate);
        Assert.Empty(report.Problems);
        Assert.Equal([Row(first, "factor_a"), Row(second, "factor_a")], Table(db));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_v2_catalog_without_its_provenance_file_is_named_with_the_fix_and_an_older_one_is_not(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        foreach (var version in new[] { "v2", "v3" })
        {
            var folder = dir[version];
            Write(Path.Combine(folder, "factor_catalog.json"), Envelope(version, "factors",
                [Factor("factor_" + version, new JsonArray(Entry(null, RunA, 1)))]));
            var (separate, report) = Import(store, folder);
            Assert.False(separate);
            var problem = Assert.Single(report.Problems);
            Assert.Equal(("factor_provenance.json", Path.Combine(folder, "factor_provenance.json"),
                    "factor_provenance.json is missing beside a v2 factor catalog: which loops found each factor is "
                    + "not imported; run 'rdbridge export' again"),
                (problem.Item, problem.Path, problem.Message));
            Assert.Empty(Table(db));
        }
        // A v1 catalog without any inline list, and a folder without a factor catalog: nothing to say.
        var old = dir["v1"];
        Write(Path.Combine(old, "factor_catalog.json"), Envelope("v1", "factors", [Factor("factor_v1")]));
        var (oldSeparate, oldReport) = Import(store, old);
        Assert.False(oldSeparate);
        Assert.Empty(oldReport.Problems);
        using var session = store.BeginImport();
        var none = new StageReport("import");
        Directory.CreateDirectory(dir["empty"]);
        Assert.False(ProvenanceImport.FromDirectory(session, dir["empty"], none));
        Assert.Empty(none.Problems);
        Assert.Empty(none.Counts);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_provenance_file_cut_after_a_full_batch_is_refused_whole_and_the_factors_still_land(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var folder = dir["catalogs"];
        Write(Path.Combine(folder, "factor_catalog.json"), Envelope("v2", "factors", [Factor("factor_a")]));
        // 450 entries (a full batch of 400 is written before the cut is read), the file cut inside the last one.
        var text = Envelope("v2", "provenance",
            Enumerable.Range(1, 450).Select(i => (JsonNode)Entry("factor_a", RunA, i))).ToJsonString();
        var file = Path.Combine(folder, "factor_provenance.json");
        File.WriteAllText(file, text[..^20]);

        var (separate, report) = Import(store, folder);
        Assert.False(separate);
        var problem = Assert.Single(report.Problems);
        Assert.Equal(("factor_provenance.json", file), (problem.Item, problem.Path));
        // Cut: the file ends (at its own length) inside its last entry.
        Assert.Equal($"{file} ends at byte {new FileInfo(file).Length} in the middle of a value; the file is truncated "
            + "— export it again; no factor provenance from this file was imported", problem.Message);
        Assert.Empty(Table(db));
        Assert.Equal(["factor_a"], db.Rows("SELECT factor_id FROM aistock_factor_catalog").Select(r => (string)r[0]!));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_feed_s_provenance_list_and_its_factors_inline_entries_are_stored_for_its_publisher(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var listed = Entry("factor_a", RunB, 2);
        var inline = Entry("other_id", RunB, 1);
        var feed = dir["feed.json"];
        Write(feed, new JsonObject
        {
            // A list under another catalog name holds neither the feed's provenance nor its factors.
            ["items"] = new JsonArray(Factor("factor_y", new JsonArray(Entry(null, RunB, 4)))),
            ["factors"] = new JsonArray(Factor("factor_z", new JsonArray(inline))),
            ["provenance"] = new JsonArray(listed, Entry(null, RunB, 3)),
        });
        var report = new StageReport("pull");
        using (var session = store.BeginImport())
        {
            ProvenanceImport.FromFeed(session, feed, "lab-b", report);
            session.Commit();
        }
        Assert.Empty(report.Problems);
        Assert.Equal(2, report.Get(Counter.Change(Written)));
        Assert.Equal([Row(listed, origin: "lab-b"), Row(inline, "factor_z", "lab-b")], Table(db));

        // A feed cut after a full batch of its list (400 entries) was written: said for the publisher, none kept.
        var broken = dir["broken.json"];
        var text = new JsonObject
        {
            ["provenance"] =
                new JsonArray([.. Enumerable.Range(1, 450).Select(i => (JsonNode)Entry("factor_q", RunB, i))]),
            ["factors"] = new JsonArray(Factor("factor_q", new JsonArray(Entry(null, RunB, 1)))),
        }.ToJsonString();
        File.WriteAllText(broken, text[..^10]);
        var failed = new StageReport("pull");
        using (var session = store.BeginImport())
        {
            ProvenanceImport.FromFeed(session, broken, "lab-c", failed);
            session.Commit();
        }
        var problem = Assert.Single(failed.Problems);
        Assert.Equal(("lab-c", broken), (problem.Item, problem.Path));
        Assert.Equal($"provenance of the feed not imported: {broken} ends at byte {new FileInfo(broken).Length} in "
            + "the middle of a value; the file is truncated — export it again", problem.Message);
        Assert.Equal([Row(listed, origin: "lab-b"), Row(inline, "factor_z", "lab-b")], Table(db));
    }
}
