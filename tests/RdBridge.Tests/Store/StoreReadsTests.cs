using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The store's own reads (<see cref="DbAistockStore"/>: counts, a loop's record and factors, finding records by key,
/// the checks verify makes, the loops walked page by page), called directly on both stores, for the mutants
/// <c>bench/mutation.sh StoreDb</c> left alive or uncovered. Every expected value is read from the catalog records
/// written here, or with SQL on the database.
/// </summary>
public partial class StoreReadsTests
{
    private const string A = "tr-a", B = "tr-b", C = "tr-c";

    private static JsonObject Loop(string run, long id, bool hasResult, string? bundle, string? strategy = null,
        params string[] factors)
    {
        var loop = new JsonObject
        {
            ["task_run_id"] = run, ["loop_id"] = id, ["status"] = hasResult ? "success" : "failed",
            ["has_result"] = hasResult, ["workspace_id"] = $"ws-{run}-{id}", ["workspace_path"] = $"/ws/{run}/{id}",
        };
        if (bundle is not null) loop["asset_bundle_id"] = bundle;
        if (strategy is not null) loop["strategy_id"] = strategy;
        if (factors.Length > 0) loop["factor_names"] = new JsonArray([.. factors.Select(f => (JsonNode)f)]);
        return loop;
    }

    // Loops written out of key order; tr-b/2 is not the first row. tr-a/3 has no result (no bundle expected),
    // tr-a/7 names a bundle not its own, tr-a/4 has a result and no bundle.
    private static readonly JsonObject[] Loops =
    [
        Loop(A, 7, true, "bundle_other"),
        Loop(B, 2, true, $"bundle_{B}_2", "s2", "zeta", "alpha"),
        Loop(A, 10, true, $"bundle_{A}_10", "s1", "alpha"),
        Loop(A, 3, false, null),
        Loop(A, 4, true, null),
    ];

    private static JsonObject Occurrence(string run, long loop) => new() { ["task_run_id"] = run, ["loop_id"] = loop };

    private static JsonObject Factor(string id, string name, string source, string run, long loop, double ic,
        params JsonObject[] provenance) => new()
    {
        ["factor_id"] = id, ["name"] = name, ["source"] = source, ["expression"] = $"$close/{name}",
        ["fingerprint"] = "fp_" + id, ["task_run_id"] = run, ["loop_id"] = loop,
        ["performance_metrics"] = new JsonObject { ["ic"] = ic, ["annualized_return"] = ic * 3 },
        ["provenance"] = new JsonArray([.. provenance]),
    };

    // The factor ids sort the other way round from the names. f_b is in two loops; f_c is in another loop of tr-b;
    // f_e has f_b's name from another source and is inserted after it though its loop sorts first.
    private static readonly JsonObject[] Factors =
    [
        Factor("f_a", "zeta", "rdagent_generated", B, 2, 0.01, Occurrence(B, 2)),
        Factor("f_b", "alpha", "rdagent_generated", B, 2, 0.02, Occurrence(B, 2), Occurrence(A, 10)),
        Factor("f_c", "mid", "rdagent_generated", B, 5, 0.03, Occurrence(B, 5)),
        Factor("f_e", "alpha", "user", A, 10, 0.04, Occurrence(A, 10)),
    ];

    // model_y and model_z belong to no loop of the loop catalog.
    private static readonly JsonObject[] Models =
    [
        new() { ["model_id"] = "model_z", ["task_run_id"] = C, ["loop_id"] = 1, ["workspace_id"] = "wz" },
        new() { ["model_id"] = "model_a", ["task_run_id"] = A, ["loop_id"] = 10, ["workspace_id"] = "wa" },
        new() { ["model_id"] = "model_y", ["task_run_id"] = C, ["loop_id"] = 0, ["workspace_id"] = "wy" },
    ];

    private static readonly JsonObject[] Strategies =
    [
        new() { ["strategy_id"] = "s2", ["task_run_id"] = B, ["loop_id"] = 2 },
        new() { ["strategy_id"] = "s1", ["task_run_id"] = A, ["loop_id"] = 10 },
    ];

    internal static string WriteCatalog(TempDir dir, string folder, CatalogKind kind, IEnumerable<JsonObject> records)
    {
        var path = dir[Path.Combine(folder, CatalogFile.FileName(kind))];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var doc = new JsonObject
        {
            ["generated_at_utc"] = "2026-12-06T00:00:00.000Z", ["version"] = "v1", ["source"] = "rdagent_tools",
            [CatalogFile.ListName(kind)] = new JsonArray([.. records.Select(r => r.DeepClone())]),
        };
        File.WriteAllText(path, doc.ToJsonString());
        return path;
    }

    private static void ImportAll(TempDir dir, IAistockStore store, bool withFactors = true)
    {
        StoreTests.Import(store, CatalogKind.Loop, WriteCatalog(dir, "in", CatalogKind.Loop, Loops));
        if (withFactors)
        {
            StoreTests.Import(store, CatalogKind.Factor, WriteCatalog(dir, "in", CatalogKind.Factor, Factors));
        }
        StoreTests.Import(store, CatalogKind.Model, WriteCatalog(dir, "in", CatalogKind.Model, Models));
        StoreTests.Import(store, CatalogKind.Strategy, WriteCatalog(dir, "in", CatalogKind.Strategy, Strategies));
    }

    private static (TempDir Dir, TestStore Db, IAistockStore Store) Filled(string kind)
    {
        var dir = new TempDir();
        var db = TestStore.Create(kind, dir);
        var store = db.Open();
        store.Migrate();
        ImportAll(dir, store);
        return (dir, db, store);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void The_counts_are_the_rows_the_bundled_rows_and_the_rows_naming_a_bundle(string kind)
    {
        var (dir, db, store) = Filled(kind);
        using (dir) using (db) using (store)
        {
            Assert.Equal(Loops.Length, store.Count(CatalogKind.Loop));
            Assert.Equal(Factors.Length, store.Count(CatalogKind.Factor));
            Assert.Equal(Loops.Count(l => l["asset_bundle_id"] is not null), store.CountWithBundle(CatalogKind.Loop));
            Assert.Equal(Loops.Count(l => (bool)l["has_result"]!), store.CountExpectingBundle(CatalogKind.Loop));
            Assert.Equal(Models.Length, store.CountExpectingBundle(CatalogKind.Model));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_loops_record_is_that_loops_row_not_the_first_row_of_the_table(string kind)
    {
        var (dir, db, store) = Filled(kind);
        using (dir) using (db) using (store)
        {
            var record = store.OfLoop(CatalogKind.Loop, B, 2)!;
            Assert.Equal((B, 2L), (record.TaskRunId!, record.LoopId!.Value));
            var payload = JsonNode.Parse(record.Payload)!;
            Assert.Equal($"bundle_{B}_2", (string)payload["asset_bundle_id"]!);
            Assert.Null(store.OfLoop(CatalogKind.Loop, B, 3));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Records_are_found_by_factor_name_or_id_model_strategy_and_bundle_in_loop_order(string kind)
    {
        var (dir, db, store) = Filled(kind);
        using (dir) using (db) using (store)
        {
            // Two factors named alpha: tr-a's first though it was written second.
            Assert.Equal(["f_e", "f_b"], store.Find(RecordKey.Factor, "alpha")
                .Select(r => (string)JsonNode.Parse(r.Payload)!["factor_id"]!));
            Assert.Equal([(A, 10L)], store.Find(RecordKey.Factor, "f_e").Select(r => (r.TaskRunId!, r.LoopId!.Value)));
            Assert.Equal(["model_y"], store.Find(RecordKey.Model, "model_y")
                .Select(r => (string)JsonNode.Parse(r.Payload)!["model_id"]!));
            Assert.Equal(["s1"], store.Find(RecordKey.Strategy, "s1")
                .Select(r => (string)JsonNode.Parse(r.Payload)!["strategy_id"]!));
            Assert.Equal([(B, 2L)], store.Find(RecordKey.Bundle, $"bundle_{B}_2")
                .Select(r => (r.TaskRunId!, r.LoopId!.Value)));
            Assert.Empty(store.Find(RecordKey.Model, "model_q"));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Rows_without_a_loop_are_those_whose_loop_is_not_in_the_loop_catalog_in_key_order(string kind)
    {
        var (dir, db, store) = Filled(kind);
        using (dir) using (db) using (store)
        {
            Assert.Equal([new OrphanRow("model_y", C, 0), new OrphanRow("model_z", C, 1)],
                store.RowsWithoutLoop(CatalogKind.Model, 5));
            Assert.Equal([new OrphanRow("model_y", C, 0)], store.RowsWithoutLoop(CatalogKind.Model, 1));
            Assert.Equal([new OrphanRow("f_c", B, 5)], store.RowsWithoutLoop(CatalogKind.Factor, 5));
            // Every loop row is its own loop (the loop table's key has two columns).
            Assert.Empty(store.RowsWithoutLoop(CatalogKind.Loop, 5));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Rows_without_their_own_bundle_count_a_missing_and_a_foreign_bundle_of_loops_with_results(string kind)
    {
        var (dir, db, store) = Filled(kind);
        using (dir) using (db) using (store)
        {
            // tr-a/7 (bundle_other) and tr-a/4 (none); tr-a/3 has no result and is not expected to have one.
            Assert.Equal(2, store.RowsWithoutOwnBundle(CatalogKind.Loop));
            // No model row names a bundle.
            Assert.Equal(Models.Length, store.RowsWithoutOwnBundle(CatalogKind.Model));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Strategies_and_factor_names_are_known_only_when_stored(string kind)
    {
        var (dir, db, store) = Filled(kind);
        using (dir) using (db) using (store)
        {
            Assert.True(store.HasStrategy("s1"));
            Assert.False(store.HasStrategy("s9"));
            Assert.True(store.HasFactorNamed("mid"));
            Assert.False(store.HasFactorNamed("f_c"));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_content_hash_is_the_stored_rows_by_its_whole_key_and_none_for_a_missing_key(string kind)
    {
        var (dir, db, store) = Filled(kind);
        using (dir) using (db) using (store)
        {
            var stored = (string)db.Rows(
                $"SELECT content_hash FROM aistock_loop_catalog WHERE task_run_id = '{A}' AND loop_id = 10")[0][0]!;
            Assert.Equal(stored, store.ContentHash(CatalogKind.Loop,
                new Dictionary<string, object?> { ["task_run_id"] = A, ["loop_id"] = 10L }));
            Assert.Null(store.ContentHash(CatalogKind.Loop,
                new Dictionary<string, object?> { ["task_run_id"] = A, ["loop_id"] = 11L }));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void No_catalog_has_duplicates_until_a_factor_is_stored_twice_under_two_ids(string kind)
    {
        var (dir, db, store) = Filled(kind);
        using (dir) using (db) using (store)
        {
            Assert.All(Enum.GetValues<CatalogKind>(), k => Assert.False(store.HasDuplicates(k)));
            // The same name, source and fingerprint as f_a under another id: one factor to a user, stored twice.
            var copy = (JsonObject)Factors[0].DeepClone();
            copy["factor_id"] = "f_z";
            StoreTests.Import(store, CatalogKind.Factor, WriteCatalog(dir, "copy", CatalogKind.Factor, [copy]));
            Assert.True(store.HasDuplicates(CatalogKind.Factor));
            Assert.False(store.HasDuplicates(CatalogKind.Model));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_started_sync_run_reads_back_without_progress(string kind)
    {
        var (dir, db, store) = Filled(kind);
        using (dir) using (db) using (store)
        {
            var id = store.StartSyncRun("full", null);
            var run = Assert.Single(store.SyncRuns(5));
            Assert.Equal((id, "full", "running", (string?)null, (double?)null),
                (run.Id, run.Mode, run.Status, run.Since, run.Progress));
        }
    }
}
