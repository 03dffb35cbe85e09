using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Runs;
using RdBridge.Store;

using static RdBridge.Tests.Store.ProvenanceCatalog;

namespace RdBridge.Tests.Store;

// The provenance half: ProvenanceImport's savepoints, ProvenanceTable's schema and its version 7 migration.
public sealed partial class StoreRowsMutantTests
{
    private const string Written = "factor provenance entries written";

    // Past what a 32-bit integer holds (2,147,483,647): a loop id the table must keep as it is.
    private const long BigLoop = 5_000_000_000;

    private static JsonObject Occurrence(string? factor, string run, long loop)
    {
        var e = new JsonObject();
        if (factor is not null) e["factor_id"] = factor;
        e["task_run_id"] = run;
        e["loop_id"] = loop;
        e["workspace_id"] = $"ws_{loop}";
        e["workspace_path"] = $"/ws/{run}/{loop}";
        e["asset_bundle_id"] = $"bundle_{loop}";
        return e;
    }

    private static List<string> ProvenanceRows(TestStore db) => [.. db.Rows(
            "SELECT factor_id, task_run_id, loop_id, workspace_id, workspace_path, asset_bundle_id, origin " +
            "FROM aistock_factor_provenance")
        .Select(r => string.Join("|", r.Select(v => v is DBNull ? null : v))).Order(StringComparer.Ordinal)];

    private static string Row(string factor, JsonObject e, string? origin = null) => string.Join("|", factor,
        (string)e["task_run_id"]!, (long)e["loop_id"]!, (string)e["workspace_id"]!, (string)e["workspace_path"]!,
        (string)e["asset_bundle_id"]!, origin);

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_provenance_import_releases_its_savepoint_so_the_caller_s_rollback_undoes_all_since_its_own(
        string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var factors = new[] { Factor("factor_a"), Factor("factor_b") };
        var entries = new[] { Occurrence("factor_a", RunA, 1), Occurrence("factor_b", RunA, 2) };
        // 450 entries: a full batch (400) is written before the cut inside the last one is read.
        var many = Enumerable.Range(1, 450).Select(i => (JsonNode)Occurrence("factor_a", RunB, i)).ToList();
        string Folder(string name, JsonObject? provenance, int cut = 0)
        {
            var folder = dir[name];
            Write(Path.Combine(folder, "factor_catalog.json"), Envelope("v2", "factors", factors));
            if (provenance is not null)
            {
                var text = provenance.ToJsonString();
                File.WriteAllText(Path.Combine(folder, "factor_provenance.json"), text[..^cut]);
            }
            return folder;
        }
        var good = Folder("good", Envelope("v2", "provenance", entries));
        var missing = Folder("missing", null);
        var cutFile = Folder("cut", Envelope("v2", "provenance", many), cut: 20);
        var feed = dir["feed.json"];
        Write(feed, Envelope("v2", "provenance", entries).Also(f => f["factors"] = new JsonArray()));
        var cutFeed = dir["cut_feed.json"];
        File.WriteAllText(cutFeed, Envelope("v2", "provenance", many).ToJsonString()[..^10]);

        // Each way out of FromDirectory and FromFeed, with what its report then says (written, problems).
        var ways = new (string Name, Action<IImportSession, StageReport> Run, long Written, int Problems)[]
        {
            ("a provenance file", (s, r) => ProvenanceImport.FromDirectory(s, good, r), entries.Length, 0),
            ("a v2 catalog without its file", (s, r) => ProvenanceImport.FromDirectory(s, missing, r), 0, 1),
            ("a cut provenance file", (s, r) => ProvenanceImport.FromDirectory(s, cutFile, r), 0, 1),
            ("a feed", (s, r) => ProvenanceImport.FromFeed(s, feed, "lab-b", r), entries.Length, 0),
            ("a cut feed", (s, r) => ProvenanceImport.FromFeed(s, cutFeed, "lab-c", r), 0, 1),
        };
        foreach (var way in ways)
        {
            var report = new StageReport("import");
            using (var session = store.BeginImport())
            {
                // The caller's own savepoint, the factors written after it, then the provenance import.
                session.Savepoint();
                var summary = CatalogImport.Run(session, CatalogKind.Factor, Path.Combine(good, "factor_catalog.json"));
                Assert.Equal(factors.Length, summary.Inserted);
                way.Run(session, report);
                session.RollbackToSavepoint();
                session.ReleaseSavepoint();
                session.Commit();
            }
            Assert.Equal((way.Name, way.Written, way.Problems),
                (way.Name, report.Get(Counter.Change(Written)), report.Problems.Count));
            // Back to the caller's savepoint: neither the factors nor any provenance stayed.
            Assert.Equal((way.Name, 0L, 0L), (way.Name, db.Scalar("SELECT count(*) FROM aistock_factor_catalog"),
                db.Scalar("SELECT count(*) FROM aistock_factor_provenance")));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void The_provenance_table_keeps_a_loop_id_past_32_bits_and_indexes_the_factors_of_a_loop(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        if (db.IsPostgres)
        {
            Assert.Equal("bigint", db.Rows("SELECT data_type FROM information_schema.columns WHERE table_name = " +
                "'aistock_factor_provenance' AND column_name = 'loop_id'").Single()[0]);
            Assert.Equal("CREATE INDEX idx_aistock_factor_provenance_loop ON public.aistock_factor_provenance " +
                "USING btree (task_run_id, loop_id)", db.Rows("SELECT indexdef FROM pg_indexes WHERE " +
                "indexname = 'idx_aistock_factor_provenance_loop'").Single()[0]);
        }
        else
        {
            // SQLite's own integer type, as every other integer column of the store declares it.
            Assert.Equal("INTEGER", db.Rows(
                "SELECT type FROM pragma_table_info('aistock_factor_provenance') WHERE name = 'loop_id'").Single()[0]);
            Assert.Equal(["task_run_id", "loop_id"], db.Rows(
                    "SELECT name FROM pragma_index_info('idx_aistock_factor_provenance_loop') ORDER BY seqno")
                .Select(r => (string)r[0]!));
        }

        var folder = dir["catalogs"];
        Write(Path.Combine(folder, "factor_catalog.json"), Envelope("v2", "factors", [Factor("factor_a")]));
        var big = Occurrence("factor_a", RunA, BigLoop);
        Write(Path.Combine(folder, "factor_provenance.json"), Envelope("v2", "provenance", [big]));
        var report = new StageReport("import");
        using (var session = store.BeginImport())
        {
            CatalogImport.Run(session, CatalogKind.Factor, Path.Combine(folder, "factor_catalog.json"));
            Assert.True(ProvenanceImport.FromDirectory(session, folder, report));
            session.Commit();
        }
        Assert.Empty(report.Problems);
        Assert.Equal([Row("factor_a", big)], ProvenanceRows(db));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Version_7_moves_each_inline_list_into_the_table_and_leaves_a_factor_without_a_list_as_it_was(
        string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind, upTo: ProvenanceTable.Version - 1);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var first = Occurrence(null, RunA, 1);
        var big = Occurrence(null, RunB, BigLoop);
        var catalog = dir["catalogs/factor_catalog.json"];
        Write(catalog, Envelope("v1", "factors",
        [
            // The same loop twice: one row, the first.
            Factor("factor_a").Also(f => f["provenance"] = new JsonArray(first, big, Occurrence(null, RunA, 1)
                .Also(e => e["workspace_id"] = "ws_again"))),
            Factor("factor_b").Also(f => f["provenance"] = null),
            Factor("factor_c"),
        ]));
        Assert.Equal(3, StoreTests.Import(store, CatalogKind.Factor, catalog).Inserted);
        const string payloads = "SELECT factor_id, payload FROM aistock_factor_catalog ORDER BY factor_id";
        var before = db.Rows(payloads).ToDictionary(r => (string)r[0]!, r => r[1]!.ToString()!);
        Assert.Equal(1, db.Scalar("SELECT count(*) FROM aistock_factor_catalog WHERE provenance IS NOT NULL"));
        // A premise: factor_b's payload holds its null list, which a migration touching every row would take out.
        Assert.True(JsonNode.Parse(before["factor_b"])!.AsObject().ContainsKey("provenance"));

        Assert.Equal([ProvenanceTable.Version], store.Migrate(upTo: ProvenanceTable.Version));
        Assert.Equal([Row("factor_a", first), Row("factor_a", big)], ProvenanceRows(db));
        Assert.Equal(0, db.Scalar("SELECT count(*) FROM aistock_factor_catalog WHERE provenance IS NOT NULL"));
        var after = db.Rows(payloads).ToDictionary(r => (string)r[0]!, r => r[1]!.ToString()!);
        // factor_a: its payload without the list; factor_b (a null list) and factor_c (none): untouched.
        Assert.Equal(Fields(JsonNode.Parse(before["factor_a"])!.AsObject().Also(f => f.Remove("provenance"))),
            Fields(JsonNode.Parse(after["factor_a"])));
        Assert.Equal((before["factor_b"], before["factor_c"]), (after["factor_b"], after["factor_c"]));
    }
}
