using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// One catalog file through <see cref="CatalogImport"/> into the store of the pass: the counts it gives, the skip
/// reasons it lists (and where it stops listing), which entry of a loop listed once per workspace is kept, and what a
/// second import of the same or a changed file does. Written for the mutants Stryker left alive in
/// <c>CatalogImport</c> and <c>LoopEntries</c> (bench/mutation-survivors.md, StoreImport); every expected count,
/// key and workspace is read off the records written here, and what landed is read back with SQL.
/// </summary>
public sealed class CatalogImportTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TestStore _db;
    private readonly RdBridgeSettings _settings;

    public CatalogImportTests()
    {
        _db = TestStore.Create(TestStore.Default, _dir);
        File.WriteAllText(_dir["rdbridge.json"], new JsonObject
        {
            ["aistock"] = new JsonObject { ["root"] = "AIstock", ["database"] = _db.Setting },
        }.ToJsonString());
        _settings = SettingsLoader.Load(_dir["rdbridge.json"], rdAgentOptional: true);
    }

    public void Dispose()
    {
        _db.Dispose();
        _dir.Dispose();
    }

    private string Write(CatalogKind kind, IEnumerable<JsonObject> records)
    {
        var path = _dir[CatalogFile.FileName(kind)];
        File.WriteAllText(path, new JsonObject
        {
            [CatalogFile.ListName(kind)] = new JsonArray(records.Select(r => (JsonNode?)r).ToArray()),
        }.ToJsonString());
        return path;
    }

    private ImportSummary Import(CatalogKind kind, string path)
    {
        using var store = AistockStores.Open(_settings);
        using var session = store.BeginImport();
        var summary = CatalogImport.Run(session, kind, path);
        session.Commit();
        return summary;
    }

    private static JsonObject Loop(string? taskRun, long loopId, string? workspace = null) => new()
    {
        ["task_run_id"] = taskRun, ["loop_id"] = loopId, ["workspace_id"] = workspace, ["status"] = "success",
    };

    [Fact]
    public void Every_skipped_record_is_counted_and_the_first_fifty_are_listed_by_place_and_key()
    {
        var records = Enumerable.Range(0, 60).Select(i => Loop(null, i)).ToList();
        records.Add(Loop("tr1", 0));
        records.Add(Loop(new string('x', 100), 1).Also(r => r.Remove("loop_id")));
        records.Add(Loop("tr1", 1));
        var summary = Import(CatalogKind.Loop, Write(CatalogKind.Loop, records));

        Assert.Equal((2L, 0L, 0L, 61L), (summary.Inserted, summary.Updated, summary.Unchanged, summary.Skipped));
        Assert.Equal(CatalogImport.ListedReasons + 1, summary.SkipReasons.Count);
        Assert.Equal("loop record #1 (∅/0) skipped: record has no task_run_id", summary.SkipReasons[0]);
        Assert.Equal("loop record #50 (∅/49) skipped: record has no task_run_id", summary.SkipReasons[49]);
        Assert.Equal("… further skipped records are counted, not listed", summary.SkipReasons[^1]);
        Assert.Equal(["tr1/0", "tr1/1"], _db.Rows("SELECT task_run_id, loop_id FROM aistock_loop_catalog " +
            "ORDER BY task_run_id, loop_id").Select(r => $"{r[0]}/{r[1]}"));

        // The same file again: nothing is read, and the last import's skips are told again.
        var again = Import(CatalogKind.Loop, _dir[CatalogFile.FileName(CatalogKind.Loop)]);
        Assert.True(again.FileUnchanged);
        Assert.Equal((0L, 0L, 2L, 61L), (again.Inserted, again.Updated, again.Unchanged, again.Skipped));
        Assert.Equal(summary.SkipReasons, again.SkipReasons);
    }

    [Fact]
    public void A_long_key_is_quoted_to_eighty_characters_in_its_skip_reason()
    {
        var record = Loop(new string('x', 100), 0);
        record.Remove("loop_id");
        var summary = Import(CatalogKind.Loop, Write(CatalogKind.Loop, [record]));
        // The key is "<100 x>/∅": its first 80 characters are quoted.
        Assert.Equal($"loop record #1 ({new string('x', 80)}…) skipped: record has no loop_id",
            Assert.Single(summary.SkipReasons));
        // A key of exactly 80 characters is quoted whole.
        var exact = Loop(new string('y', 78), 0);
        exact.Remove("loop_id");
        Assert.Equal($"loop record #1 ({new string('y', 78)}/∅) skipped: record has no loop_id",
            Assert.Single(Import(CatalogKind.Loop, Write(CatalogKind.Loop, [exact])).SkipReasons));
    }

    [Fact]
    public void A_key_given_twice_keeps_the_first_record_and_says_so()
    {
        JsonObject Model(string type) => new()
        {
            ["model_id"] = "m1", ["task_run_id"] = "tr1", ["loop_id"] = 0, ["model_type"] = type,
        };
        var summary = Import(CatalogKind.Model, Write(CatalogKind.Model, [Model("LGBModel"), Model("Linear")]));
        Assert.Equal((1L, 1L), (summary.Inserted, summary.Skipped));
        Assert.Equal("model m1 appears more than once in the catalog; the first record was kept",
            Assert.Single(summary.SkipReasons));
        Assert.Equal("LGBModel", _db.Rows("SELECT model_type FROM aistock_model_catalog").Single()[0]);
    }

    [Fact]
    public void Past_the_ids_held_in_memory_a_repeated_key_and_a_changed_record_are_found_the_same_way()
    {
        // More models than IdSpool keeps in memory, so the keys seen and the stored fingerprints go to its scratch
        // file: a key repeated from before that point and one from after it are both skipped, first record kept.
        var n = IdSpool.DefaultInMemory + 300;
        JsonObject Model(int i, string type = "LGBModel") => new()
        {
            ["model_id"] = $"m{i}", ["task_run_id"] = "tr1", ["loop_id"] = i, ["model_type"] = type,
        };
        List<JsonObject> Models(string type) => [.. Enumerable.Range(0, n).Select(i => Model(i)),
            Model(0, type), Model(n - 1, type)];
        var path = Write(CatalogKind.Model, Models("Linear"));
        var first = Import(CatalogKind.Model, path);
        Assert.Equal((n, 0L, 0L, 2L), (first.Inserted, first.Updated, first.Unchanged, first.Skipped));
        Assert.Equal([$"model m0 appears more than once in the catalog; the first record was kept",
            $"model m{n - 1} appears more than once in the catalog; the first record was kept"], first.SkipReasons);
        Assert.Equal(0L, Convert.ToInt64(
            _db.Rows("SELECT count(*) FROM aistock_model_catalog WHERE model_type <> 'LGBModel'").Single()[0]));

        // The same records with the last one changed: it alone is updated, the rest found unchanged.
        var changed = Models("Linear");
        changed[n - 1]["model_type"] = "GRU";
        Write(CatalogKind.Model, changed);
        var again = Import(CatalogKind.Model, path);
        Assert.Equal((0L, 1L, n - 1L, 2L), (again.Inserted, again.Updated, again.Unchanged, again.Skipped));
        Assert.Equal("GRU", _db.Rows($"SELECT model_type FROM aistock_model_catalog WHERE model_id = 'm{n - 1}'")
            .Single()[0]);
    }

    [Fact]
    public void A_second_import_reads_nothing_of_an_unchanged_file_and_writes_only_the_changed_record()
    {
        List<JsonObject> Loops(string status1) => [Loop("tr1", 0), Loop("tr1", 1).Also(r => r["status"] = status1),
            Loop("tr1", 2)];
        var path = Write(CatalogKind.Loop, Loops("success"));
        Assert.Equal((3L, 0L, 0L), Counts(Import(CatalogKind.Loop, path)));

        var again = Import(CatalogKind.Loop, path);
        Assert.True(again.FileUnchanged);
        Assert.Equal((0L, 0L, 3L), Counts(again));

        Write(CatalogKind.Loop, Loops("failed"));
        var changed = Import(CatalogKind.Loop, path);
        Assert.False(changed.FileUnchanged);
        Assert.Equal((0L, 1L, 2L), Counts(changed));
        Assert.Equal("failed", _db.Rows("SELECT status FROM aistock_loop_catalog WHERE loop_id = 1").Single()[0]);
        // Recorded as 3 rows (1 updated + 2 unchanged), so the next read of the same file gives them all.
        var same = Import(CatalogKind.Loop, path);
        Assert.Equal((true, 0L, 0L, 3L), (same.FileUnchanged, same.Inserted, same.Updated, same.Unchanged));

        // The table changed since (another file's import, a hand edit): the same file is compared again.
        _db.Exec("DELETE FROM aistock_loop_catalog WHERE loop_id = 2");
        var refilled = Import(CatalogKind.Loop, path);
        Assert.False(refilled.FileUnchanged);
        Assert.Equal((1L, 0L, 2L), Counts(refilled));
    }

    private static (long, long, long) Counts(ImportSummary s) => (s.Inserted, s.Updated, s.Unchanged);

    [Fact]
    public void A_key_another_source_holds_is_a_failure_naming_the_owner_and_the_file_is_read_again_next_time()
    {
        JsonObject Model(string type) => new()
        {
            ["model_id"] = "m1", ["task_run_id"] = "tr1", ["loop_id"] = 0, ["model_type"] = type,
        };
        Assert.Equal(1L, Import(CatalogKind.Model, Write(CatalogKind.Model, [Model("LGBModel")])).Inserted);
        var path = Write(CatalogKind.Model, [Model("Linear")]);
        ImportSummary FromPublisher()
        {
            using var store = AistockStores.Open(_settings);
            using var session = store.BeginImport();
            var summary = CatalogImport.Run(session, CatalogKind.Model, path, origin: "pub1");
            session.Commit();
            return summary;
        }
        var first = FromPublisher();
        Assert.Equal("model m1: the same key was already imported from this machine's own RD-Agent; records of " +
            "different sources never overwrite each other — rename or remove one of them at its source",
            Assert.Single(first.Failures));
        Assert.Equal("LGBModel", _db.Rows("SELECT model_type FROM aistock_model_catalog").Single()[0]);
        // Nothing was recorded for a file whose records did not all land: it is compared again.
        var second = FromPublisher();
        Assert.False(second.FileUnchanged);
        Assert.Single(second.Failures);

        // The other way round: the publisher's record is there first.
        _db.Exec("DELETE FROM aistock_model_catalog");
        Assert.Empty(FromPublisher().Failures);
        var local = Import(CatalogKind.Model, Write(CatalogKind.Model, [Model("GRU")]));
        Assert.Equal("model m1: the same key was already imported from source 'pub1'; records of different " +
            "sources never overwrite each other — rename or remove one of them at its source",
            Assert.Single(local.Failures));
    }

    [Fact]
    public void Any_metadata_path_makes_an_entry_hold_results_and_an_empty_paths_object_does_not()
    {
        // Per loop: first an entry with a paths object that names nothing, then one naming a single file of a kind.
        (string Field, JsonNode Value)[] kinds =
        [
            ("factor_perf", "factor_perf.json"), ("feedback", "feedback.json"), ("model_meta", "model_meta.json"),
            ("strategy_meta", "strategy_meta.json"), ("mlruns", "mlruns"), ("model_files", new JsonArray("m.pkl")),
            ("a_path_of_a_later_version", "x.json"),
        ];
        var records = new List<JsonObject>();
        for (var i = 0; i < kinds.Length; i++)
        {
            records.Add(Loop("tr1", i, "empty").Also(e => e["paths"] = new JsonObject
            {
                ["model_files"] = new JsonArray(),
            }));
            records.Add(Loop("tr1", i, kinds[i].Field).Also(e => e["paths"] = new JsonObject
            {
                [kinds[i].Field] = kinds[i].Value.DeepClone(),
            }));
        }
        var summary = Import(CatalogKind.Loop, Write(CatalogKind.Loop, records));
        Assert.Equal((7L, 0L), (summary.Inserted, summary.Skipped));
        Assert.Equal(kinds.Select(k => k.Field), _db.Rows("SELECT workspace_id FROM aistock_loop_catalog " +
            "ORDER BY loop_id").Select(r => (string)r[0]!));
    }

    [Fact]
    public void A_refused_entry_of_a_loop_does_not_stand_for_the_loop_and_its_valid_entry_is_imported()
    {
        // The first entry gives a field twice (refused); the second, on another workspace, is the loop's record.
        var path = _dir[CatalogFile.FileName(CatalogKind.Loop)];
        File.WriteAllText(path, """
            { "loops": [
              {"task_run_id": "tr1", "loop_id": 0, "workspace_id": "a", "status": "success", "status": "failed"},
              42,
              {"task_run_id": "tr1", "loop_id": 0, "workspace_id": "b", "status": "success"} ] }
            """);
        var summary = Import(CatalogKind.Loop, path);
        Assert.Equal((1L, 2L), (summary.Inserted, summary.Skipped));
        Assert.Equal([
                "loop record #2: it is a number, not a record (a JSON object)",
                "loop record #1 (tr1/0) skipped: property 'status' is given twice; which value is meant is unclear " +
                "— write it once",
            ], summary.SkipReasons);
        Assert.Equal("b", _db.Rows("SELECT workspace_id FROM aistock_loop_catalog").Single()[0]);
    }

    [Fact]
    public void A_loop_listed_twice_without_a_workspace_is_a_repeat_kept_without_naming_one()
    {
        var summary = Import(CatalogKind.Loop, Write(CatalogKind.Loop, [Loop("tr1", 0), Loop("tr1", 0)]));
        Assert.Equal((1L, 1L), (summary.Inserted, summary.Skipped));
        Assert.Equal("loop tr1/0 appears more than once in the catalog with the same workspace; the record on its " +
            "experiment workspace was kept", Assert.Single(summary.SkipReasons));
    }

    [Fact]
    public void A_loop_listed_once_per_workspace_keeps_the_entry_that_says_experiment_else_results_else_the_first()
    {
        JsonObject Entry(long loop, string ws, string? role = null, bool metrics = false, bool paths = false)
        {
            var e = Loop("tr1", loop, ws);
            e["note"] = ws;
            if (role is not null) e["workspace_role"] = role;
            if (metrics) e["metrics"] = new JsonObject { ["IC"] = 0.04 };
            if (paths) e["paths"] = new JsonObject { ["factor_meta"] = "factor_meta.json" };
            return e;
        }
        var path = Write(CatalogKind.Loop, [
            // Loop 0: a role that is not the experiment's counts for nothing, even with metrics; paths beat nothing.
            Entry(0, "a", role: "sub_workspace", metrics: true), Entry(0, "b", paths: true), Entry(0, "c"),
            // Loop 1: the experiment role beats metrics; a later entry on a workspace already listed is a repeat.
            Entry(1, "d", metrics: true), Entry(1, "e", role: "experiment_workspace"), Entry(1, "d", metrics: true),
            // Loop 2: nothing tells them apart: the first.
            Entry(2, "f"), Entry(2, "g"),
            // Loop 3: metrics beat paths.
            Entry(3, "h", paths: true), Entry(3, "i", metrics: true),
            // Loop 4: an entry that lists its workspaces itself keeps its own list.
            Entry(4, "j", metrics: true).Also(e => e["workspaces"] = new JsonArray(
                new JsonObject { ["workspace_id"] = "j" }, new JsonObject { ["workspace_id"] = "own" })),
            Entry(4, "k"),
            // Loop 5: listed once: stored as written, no list added.
            Entry(5, "l"),
        ]);
        var summary = Import(CatalogKind.Loop, path);

        Assert.Equal((6L, 1L), (summary.Inserted, summary.Skipped));
        Assert.Equal("loop tr1/1 appears more than once in the catalog with the same workspace; the record on its " +
            "experiment workspace e was kept", Assert.Single(summary.SkipReasons));
        var stored = _db.Rows("SELECT loop_id, workspace_id, payload FROM aistock_loop_catalog ORDER BY loop_id")
            .ToDictionary(r => Convert.ToInt64(r[0], System.Globalization.CultureInfo.InvariantCulture),
                r => (Ws: (string)r[1]!, Payload: JsonNode.Parse((string)r[2]!)!));
        Assert.Equal(["b", "e", "f", "i", "j", "l"], stored.Values.Select(s => s.Ws));
        Assert.Equal(["b", "e", "f", "i", "j", "l"], stored.Values.Select(s => (string)s.Payload["note"]!));
        string[] Listed(long loop) => stored[loop].Payload["workspaces"]!.AsArray()
            .Select(w => (string)w!["workspace_id"]!).ToArray();
        Assert.Equal(["a", "b", "c"], Listed(0));
        Assert.Equal(["d", "e"], Listed(1));
        Assert.Equal(["f", "g"], Listed(2));
        Assert.Equal(["h", "i"], Listed(3));
        Assert.Equal(["j", "own"], Listed(4));
        Assert.Null(stored[5].Payload["workspaces"]);
    }
}

internal static class JsonObjectTestExtensions
{
    public static JsonObject Also(this JsonObject o, Action<JsonObject> change)
    {
        change(o);
        return o;
    }
}
