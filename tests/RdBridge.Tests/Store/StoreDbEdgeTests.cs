using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// What the survivors' review of <c>bench/mutation.sh StoreDb</c> left without a test: the schema version a store
/// keeps, the origin check on exactly schema 3, records found through both of a factor's keys at once, a session's
/// own count of unchanged rows, a small first import, a file SQLite cannot read, and the stores
/// <see cref="AistockStores.Open"/> makes from the settings. Expected values come from the catalog records written
/// here, from SQL on the database and from the files on disk.
/// </summary>
public sealed class StoreDbEdgeTests
{
    private static JsonObject Loop(string run, long id, string status) => new()
    {
        ["task_run_id"] = run, ["loop_id"] = id, ["status"] = status, ["has_result"] = true,
        ["workspace_id"] = $"ws-{run}-{id}",
    };

    private static JsonObject Factor(string id, string name, string run, long loop) => new()
    {
        ["factor_id"] = id, ["name"] = name, ["source"] = "rdagent_generated", ["expression"] = $"$close/{id}",
        ["task_run_id"] = run, ["loop_id"] = loop,
    };

    /// <summary>The settings a user writes: an AIstock root and its database (a file or a connection string).</summary>
    private static RdBridgeSettings Settings(TempDir dir, string database)
    {
        File.WriteAllText(dir["rdbridge.json"], new JsonObject
        {
            ["aistock"] = new JsonObject { ["root"] = "AIstock", ["database"] = database },
        }.ToJsonString());
        return SettingsLoader.Load(dir["rdbridge.json"], rdAgentOptional: true);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void On_schema_version_3_a_publishers_changed_copy_of_its_own_loop_updates_its_row(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate(upTo: 3);
        var loop = Loop("tr-a", 1, "success");
        StoreTests.Import(store, CatalogKind.Loop,
            StoreReadsTests.WriteCatalog(dir, "a", CatalogKind.Loop, [loop]), "lab-a");
        var changed = (JsonObject)loop.DeepClone();
        changed["status"] = "failed";
        var second = StoreTests.Import(store, CatalogKind.Loop,
            StoreReadsTests.WriteCatalog(dir, "b", CatalogKind.Loop, [changed]), "lab-a");
        // Version 3 has the origin column: the row is lab-a's own, so its copy is an update, not a collision.
        Assert.Equal((0L, 1L, 0L), (second.Inserted, second.Updated, second.Failed));
        var row = Assert.Single(db.Rows("SELECT origin, status FROM aistock_loop_catalog"));
        Assert.Equal(("lab-a", "failed"), ((string)row[0]!, (string)row[1]!));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_store_keeps_the_schema_version_it_read_until_an_import_reads_it_again(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var reader = (DbAistockStore)db.Open();
        // A new database: no migration applied yet.
        Assert.Equal(0, reader.SchemaVersion);
        using (var other = db.Open()) other.Migrate();
        var latest = (int)db.Scalar("SELECT max(version) FROM schema_migrations");
        // Read once per store: another store's migration since does not change what this one writes by.
        Assert.Equal(0, reader.SchemaVersion);
        using (reader.BeginImport())
        {
            Assert.Equal(latest, reader.SchemaVersion);
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Records_found_by_one_factors_name_and_another_factors_id_come_in_loop_order(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate();
        // Each key is one factor's name and another factor's id; tr-b's rows are written first. Whichever of the
        // two matches the database looks up first, one of the keys finds them out of loop order.
        StoreTests.Import(store, CatalogKind.Factor, StoreReadsTests.WriteCatalog(dir, "in", CatalogKind.Factor,
        [
            Factor("k1", "n1", "tr-b", 2), Factor("i2", "k2", "tr-b", 3),
            Factor("i1", "k1", "tr-a", 9), Factor("k2", "n2", "tr-a", 8),
        ]));
        Assert.Equal([("tr-a", 9L), ("tr-b", 2L)],
            store.Find(RecordKey.Factor, "k1").Select(r => (r.TaskRunId!, r.LoopId!.Value)));
        Assert.Equal([("tr-a", 8L), ("tr-b", 3L)],
            store.Find(RecordKey.Factor, "k2").Select(r => (r.TaskRunId!, r.LoopId!.Value)));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_session_given_rows_already_stored_counts_each_unchanged_and_writes_none(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate();
        var catalog = StoreReadsTests.WriteCatalog(dir, "in", CatalogKind.Loop,
            [Loop("tr-a", 1, "success"), Loop("tr-a", 2, "failed"), Loop("tr-b", 1, "success")]);
        StoreTests.Import(store, CatalogKind.Loop, catalog);
        var stamps = db.Rows("SELECT task_run_id, loop_id, updated_at FROM aistock_loop_catalog ORDER BY 1, 2")
            .Select(r => $"{r[0]}/{r[1]}/{r[2]}").ToList();
        var records = JsonNode.Parse(File.ReadAllText(catalog))!["loops"]!.AsArray().Count;

        // The import's own check of stored fingerprints is passed by: the session alone sees the rows unchanged.
        var table = CatalogTable.For(CatalogKind.Loop);
        using (var session = store.BeginImport())
        {
            var written = session.Write(CatalogKind.Loop,
                CatalogReader.ReadRecords(catalog, CatalogKind.Loop).Select(r => table.Map(r)).ToList());
            session.Commit();
            Assert.Equal((0L, 0L, (long)records), (written.Inserted, written.Updated, written.Unchanged));
            Assert.Empty(written.Failures);
        }
        Assert.Equal(stamps, db.Rows("SELECT task_run_id, loop_id, updated_at FROM aistock_loop_catalog ORDER BY 1, 2")
            .Select(r => $"{r[0]}/{r[1]}/{r[2]}"));
    }

    /// <summary>
    /// A store opened on a file already at the latest version, without migrating (as <c>serve</c> and <c>verify</c>
    /// open it): its first call is a sync run's progress, so the schema version is read there, and the progress column
    /// (version 3) is written, not left out as on an older file.
    /// </summary>
    [Fact]
    public void A_store_opened_without_migrating_writes_a_sync_run_s_progress_on_a_file_at_the_latest_version()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        using (var first = new SqliteAistockStore(path)) first.Migrate();
        Db.Rows(path, "INSERT INTO rdbridge_sync_runs (mode, status, stage, started_at) "
            + "VALUES ('sync', 'running', 'starting', '2026-12-07T00:00:00Z')");
        var id = Db.Scalar(path, "SELECT max(id) FROM rdbridge_sync_runs");
        using var store = new SqliteAistockStore(path);

        store.UpdateSyncRun(id, "bundle", 0.25);

        var row = Db.Rows(path, $"SELECT stage, progress FROM rdbridge_sync_runs WHERE id = {id}").Single();
        Assert.Equal(new object?[] { "bundle", 0.25 }, row);
    }

    [Fact]
    public void A_factor_whose_id_is_the_null_mark_is_stored_beside_a_row_another_program_left_without_an_id()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        using var store = new SqliteAistockStore(path);
        store.Migrate();
        // "∅" is how a missing key part is written in messages; here it is a real id. The row with no factor_id
        // (SQLite lets a TEXT primary key be NULL) was written by another program with this record's fingerprint:
        // the SHA-256 of the record as the catalog holds it, compact.
        var record = Factor("∅", "null_mark", "tr-a", 1);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(record.ToJsonString())));
        Db.Rows(path, "INSERT INTO aistock_factor_catalog (factor_id, name, payload, content_hash, imported_at, "
            + $"updated_at) VALUES (NULL, 'other', '{{}}', '{hash}', 'x', 'x')");
        var summary = StoreTests.Import(store, CatalogKind.Factor,
            StoreReadsTests.WriteCatalog(dir, "in", CatalogKind.Factor, [record]));
        Assert.Equal((1L, 0L), (summary.Inserted, summary.Unchanged));
        Assert.Equal(["∅ null_mark", "NULL other"], Db.Rows(path, "SELECT coalesce(factor_id, 'NULL') || ' ' || name "
            + "FROM aistock_factor_catalog ORDER BY name").Select(r => (string)r[0]!));
    }

    [Fact]
    public void A_small_first_import_into_sqlite_leaves_the_indexes_and_triggers_in_place()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        using var store = new SqliteAistockStore(path);
        store.Migrate();
        var catalog = StoreReadsTests.WriteCatalog(dir, "in", CatalogKind.Factor,
            [Factor("f1", "n1", "tr-a", 1), Factor("f2", "n2", "tr-a", 2)]);
        // A few hundred bytes, far below the store's default bulk size: row by row, nothing set aside and put back.
        // The registry views are made by the first import at the newest schema: only the rest is compared.
        const string Order = "SELECT type || ' ' || name FROM sqlite_master WHERE type <> 'view' ORDER BY rowid";
        var before = Db.Rows(path, Order).Select(r => (string)r[0]!).ToList();
        Assert.Equal(2, StoreTests.Import(store, CatalogKind.Factor, catalog).Inserted);
        // A dropped and remade index or trigger would be at the end of sqlite_master now.
        Assert.Equal(before, Db.Rows(path, Order).Select(r => (string)r[0]!));
    }

    [Fact]
    public void Migrating_a_version_8_file_whose_rows_hold_their_json_twice_gives_the_space_back()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        // 200 factors, each with 120 metrics (about 3 KB of JSON): version 8 keeps that in the payload and again in
        // the performance_metrics column, so taking the column's copy out leaves most pages half empty.
        var factors = Enumerable.Range(0, 200).Select(i =>
        {
            var f = Factor($"f{i:D3}", $"n{i:D3}", "tr-a", i);
            f["performance_metrics"] = new JsonObject(Enumerable.Range(0, 120)
                .Select(m => KeyValuePair.Create($"metric_{m:D3}", (JsonNode?)(i + m / 1000.0))));
            return f;
        }).ToList();
        using (var old = new SqliteAistockStore(path))
        {
            old.Migrate(upTo: CatalogTable.PayloadColumnsVersion - 1);
            StoreTests.Import(old, CatalogKind.Factor, StoreReadsTests.WriteCatalog(dir, "in", CatalogKind.Factor,
                factors));
        }
        var pages = Db.Scalar(path, "PRAGMA page_count");
        using var store = new SqliteAistockStore(path);
        Assert.Equal([CatalogTable.PayloadColumnsVersion], store.Migrate());
        Assert.Equal(0L, Db.Scalar(path, "PRAGMA freelist_count"));
        // How many pages the rows fill depends on SQLite's packing: only that the file shrank is known.
        Assert.True(Db.Scalar(path, "PRAGMA page_count") < pages, $"{pages} pages before");
        Assert.Equal(factors.Count, store.Count(CatalogKind.Factor));
    }

    [Fact]
    public void The_settings_store_is_mapped_only_when_opened_without_migrating()
    {
        using var dir = new TempDir();
        var settings = Settings(dir, "aistock.db");
        using (var writer = AistockStores.Open(settings))
        {
            Assert.Equal($"SQLite {settings.AistockDatabase}", ((DbAistockStore)writer).Describe);
            Assert.Equal(0L, Assert.Single(Assert.Single(((DbAistockStore)writer).Rows("PRAGMA mmap_size"))));
        }
        using var reader = AistockStores.Open(settings, migrate: false);
        Assert.Equal(1073741824L, Assert.Single(Assert.Single(((DbAistockStore)reader).Rows("PRAGMA mmap_size"))));
    }

    [Fact]
    public void A_settings_store_that_fails_to_migrate_is_closed_before_the_error()
    {
        using var dir = new TempDir();
        var settings = Settings(dir, "aistock.db");
        using (var first = AistockStores.Open(settings)) { }
        // A version from a newer RdBridge: Migrate refuses the database after the store opened it.
        Db.Rows(settings.AistockDatabase,
            "INSERT INTO schema_migrations (version, applied_at) VALUES (999, '2026-12-07T00:00:00Z')");
        var e = Assert.Throws<StoreException>(() => AistockStores.Open(settings));
        Assert.Equal($"the AIstock database (SQLite {settings.AistockDatabase}) is at schema version 999, written by a "
            + $"newer RdBridge; this one knows versions up to {StoreSchema.Latest} and changed nothing: upgrade "
            + "RdBridge on this machine", e.Message);
        Assert.Empty(SqliteStoreMutantTests.OpenFiles(settings.AistockDatabase));
    }

    [Fact]
    public void A_connection_string_in_the_settings_is_opened_as_a_server_and_an_unreachable_one_is_named()
    {
        using var dir = new TempDir();
        // A port bound and not listening: a connection to it is refused, on any machine.
        using var closed = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        closed.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)closed.LocalEndPoint!).Port;
        var settings = Settings(dir, $"Host=127.0.0.1;Port={port};Username=rdbridge;Database=aistock");
        var e = Assert.Throws<StoreException>(() => AistockStores.Open(settings, migrate: false));
        // In the brackets: the system's words for a refused connection.
        var refused = new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused);
        Assert.Equal($"cannot reach PostgreSQL at 127.0.0.1:{port} ({refused.Message}); check that the server runs "
            + "and that aistock.database names it", e.Message);
    }
}
