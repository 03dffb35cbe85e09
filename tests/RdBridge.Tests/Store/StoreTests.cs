using RdBridge.Catalogs;
using RdBridge.Runs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// Both AIstock stores, real databases, the same assertions: what a user checks after importing catalogs.
/// </summary>
public class StoreTests
{
    private static string ForkCatalogs => Paths.Fixture("rdagent-aistock-fork/tmp");
    private static string Fork(string name) => Path.Combine(ForkCatalogs, name);

    /// <summary>What import says of a catalog cut off inside a value: the file, where it ends, what to do.</summary>
    private static string Truncated(string path) =>
        $"{path} ends at byte {new FileInfo(path).Length} in the middle of a value; the file is truncated — export it "
        + "again";

    /// <summary>
    /// The loops a catalog file names, read from the file itself: its distinct (task_run_id, loop_id) pairs (the
    /// fork's Python export lists a loop once per workspace).
    /// </summary>
    internal static long LoopsIn(string catalog) =>
        System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(catalog))!["loops"]!.AsArray()
            .Select(l => $"{l!["task_run_id"]}/{l["loop_id"]}").Distinct().LongCount();

    internal static ImportSummary Import(IAistockStore store, CatalogKind kind, string path, string? origin = null)
    {
        using var session = store.BeginImport();
        session.Savepoint();
        var s = CatalogImport.Run(session, kind, path, origin);
        session.ReleaseSavepoint();
        session.Commit();
        return s;
    }

    private static (TempDir Dir, TestStore Db, IAistockStore Store) Open(string kind, bool migrate = true)
    {
        var dir = new TempDir();
        var db = TestStore.Create(kind, dir);
        var store = db.Open();
        if (migrate) store.Migrate();
        return (dir, db, store);
    }

    [Fact]
    [RealData]
    public void Catalogs_written_by_the_python_tools_stream_without_loss()
    {
        Assert.Equal(28, CatalogReader.ReadRecords(Fork("factor_catalog.json"), CatalogKind.Factor).Count());
        Assert.Equal(30, CatalogReader.ReadRecords(Fork("loop_catalog.json"), CatalogKind.Loop).Count());
        Assert.Equal(2, CatalogReader.ReadRecords(Fork("strategy_catalog.json"), CatalogKind.Strategy).Count());
    }

    [Fact]
    [RealData]
    public void A_truncated_catalog_is_an_error_naming_the_file()
    {
        using var dir = new TempDir();
        var text = File.ReadAllText(Fork("factor_catalog.json"));
        File.WriteAllText(dir["factor_catalog.json"], text[..(text.Length / 2)]);
        var e = Assert.Throws<FormatException>(() =>
            CatalogReader.ReadRecords(dir["factor_catalog.json"], CatalogKind.Factor).ToList());
        Assert.Equal(Truncated(dir["factor_catalog.json"]), e.Message);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void Every_migration_applies_from_an_empty_database_and_from_the_previous_version(string kind)
    {
        var (dir, db, store) = Open(kind, migrate: false);
        using (dir) using (db) using (store)
        {
            Assert.Equal(StoreSchema.Migrations.Select(m => m.Version), store.Migrate());
            Assert.Empty(store.Migrate());
            Assert.Equal(StoreSchema.Migrations.Select(m => m.Version), store.AppliedMigrations());
        }
        // From each earlier version, with rows in it: the next versions apply and no row is lost.
        foreach (var previous in StoreSchema.Migrations.Select(m => m.Version).Where(v => v < StoreSchema.Latest))
        {
            var (d2, db2, old) = Open(kind, migrate: false);
            using (d2) using (db2) using (old)
            {
                Assert.Equal(Enumerable.Range(1, previous), old.Migrate(upTo: previous));
                var first = Import(old, CatalogKind.Loop, Fork("loop_catalog.json"));
                Assert.Equal(LoopsIn(Fork("loop_catalog.json")), first.Inserted);
                var rows =
                    db2.Rows("SELECT task_run_id, loop_id, content_hash FROM aistock_loop_catalog ORDER BY 1, 2");
                Assert.Equal(StoreSchema.Migrations.Select(m => m.Version).Where(v => v > previous), old.Migrate());
                Assert.Equal(rows.Select(r => string.Join("|", r)),
                    db2.Rows("SELECT task_run_id, loop_id, content_hash FROM aistock_loop_catalog ORDER BY 1, 2")
                        .Select(r => string.Join("|", r)));
                var again = Import(old, CatalogKind.Loop, Fork("loop_catalog.json"));
                Assert.Equal((0L, 0L, first.Inserted), (again.Inserted, again.Updated, again.Unchanged));
            }
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void Import_twice_reports_everything_unchanged_writes_nothing_and_keeps_one_row_per_loop(string kind)
    {
        var (dir, db, store) = Open(kind);
        using (dir) using (db) using (store)
        {
            var first = Import(store, CatalogKind.Loop, Fork("loop_catalog.json"));
            Assert.Equal(first.Inserted, db.Scalar("SELECT count(*) FROM aistock_loop_catalog"));
            // The Python export lists a loop once per workspace: 30 entries, 8 loops (counted with python3), each
            // one loop with its workspaces, nothing skipped.
            Assert.Equal((8L, 0L), (first.Inserted, first.Skipped));
            // The row kept for each loop is the one on its experiment workspace: in this export, the one with results.
            var withResults = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fork("loop_catalog.json")))!
                ["loops"]!.AsArray().Where(l => l!["metrics"] is System.Text.Json.Nodes.JsonObject { Count: > 0 })
                .Select(l => $"{l!["task_run_id"]}/{l["loop_id"]}/{l["workspace_id"]}").Order().ToList();
            Assert.Equal(withResults, db.Rows("SELECT task_run_id, loop_id, workspace_id FROM aistock_loop_catalog")
                .Select(r => $"{r[0]}/{r[1]}/{r[2]}").Order().ToList());
            var before = db
                .Rows("SELECT task_run_id, loop_id, updated_at, content_hash FROM aistock_loop_catalog ORDER BY 1, 2")
                .Select(r => string.Join("|", r)).ToList();
            var version =
                db.Scalar("SELECT version FROM rdbridge_table_versions WHERE table_name = 'aistock_loop_catalog'");

            var second = Import(store, CatalogKind.Loop, Fork("loop_catalog.json"));
            Assert.True(second.FileUnchanged);
            Assert.Equal((0L, 0L, first.Inserted, first.Skipped),
                (second.Inserted, second.Updated, second.Unchanged, second.Skipped));
            Assert.Equal(before, db
                .Rows("SELECT task_run_id, loop_id, updated_at, content_hash FROM aistock_loop_catalog ORDER BY 1, 2")
                .Select(r => string.Join("|", r)));
            Assert.Equal(version,
                db.Scalar("SELECT version FROM rdbridge_table_versions WHERE table_name = 'aistock_loop_catalog'"));

            // The same records in a file written differently are compared one by one, and still nothing is written.
            var text = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fork("loop_catalog.json")))!
                .ToJsonString();
            File.WriteAllText(dir["loop_catalog.json"], text);
            var third = Import(store, CatalogKind.Loop, dir["loop_catalog.json"]);
            Assert.False(third.FileUnchanged);
            Assert.Equal((0L, 0L, first.Inserted), (third.Inserted, third.Updated, third.Unchanged));
            Assert.Equal(version,
                db.Scalar("SELECT version FROM rdbridge_table_versions WHERE table_name = 'aistock_loop_catalog'"));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void Only_changed_records_are_written_and_a_row_changed_behind_rdbridges_back_is_restored(string kind)
    {
        var (dir, db, store) = Open(kind);
        using (dir) using (db) using (store)
        {
            var first = Import(store, CatalogKind.Factor, Fork("factor_catalog.json"));
            Assert.Equal(28, first.Inserted);
            var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fork("factor_catalog.json")))!;
            var factors = root["factors"]!.AsArray();
            factors[3]!["description_cn"] = "换手率因子（修订）";
            File.WriteAllText(dir["factor_catalog.json"], root.ToJsonString());
            var changed = Import(store, CatalogKind.Factor, dir["factor_catalog.json"]);
            Assert.Equal((0L, 1L, 27L), (changed.Inserted, changed.Updated, changed.Unchanged));
            var name = (string)factors[3]!["name"]!;
            Assert.Equal("换手率因子（修订）",
                (string)db.Rows($"SELECT description_cn FROM aistock_factor_catalog WHERE name = '{name}'")[0][0]!);

            // Somebody edits the table: the catalog file is the same, but the edit is noticed and undone.
            db.Exec("UPDATE aistock_factor_catalog SET description_cn = 'edited', content_hash = 'x' " +
                $"WHERE name = '{name}'");
            var repaired = Import(store, CatalogKind.Factor, dir["factor_catalog.json"]);
            Assert.False(repaired.FileUnchanged);
            Assert.Equal((0L, 1L, 27L), (repaired.Inserted, repaired.Updated, repaired.Unchanged));
            Assert.Equal("换手率因子（修订）",
                (string)db.Rows($"SELECT description_cn FROM aistock_factor_catalog WHERE name = '{name}'")[0][0]!);
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void Sideways_qlib_res_metrics_of_the_python_loop_catalog_are_read_by_metric_name(string kind)
    {
        var (dir, db, store) = Open(kind);
        using (dir) using (db) using (store)
        {
            Import(store, CatalogKind.Loop, Fork("loop_catalog.json"));
            var metrics =
                (string)db.Rows("SELECT metrics FROM aistock_loop_catalog " +
                    "WHERE task_run_id = '95fde9f8cec7490580a12a992457dfd7' AND loop_id = 0")[0][0]!;
            using var doc = System.Text.Json.JsonDocument.Parse(metrics);
            Assert.Equal(0.9220809085731948, doc.RootElement.GetProperty("annualized_return_without_cost").GetDouble());
            Assert.False(doc.RootElement.TryGetProperty("Unnamed: 0", out _));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void Python_factor_catalog_gets_stable_factor_ids(string kind)
    {
        var (dir, db, store) = Open(kind);
        using (dir) using (db) using (store)
        {
            Assert.Equal(28, Import(store, CatalogKind.Factor, Fork("factor_catalog.json")).Inserted);
            var names = db.Rows("SELECT name, source, factor_id FROM aistock_factor_catalog WHERE name = 'CORD10'");
            Assert.Single(names);
            Assert.Equal("qlib_alpha158", names[0][1]);
            var id = names[0][2];
            db.Exec("DELETE FROM aistock_factor_catalog");
            Import(store, CatalogKind.Factor, Fork("factor_catalog.json"));
            Assert.Equal(id, db.Rows("SELECT factor_id FROM aistock_factor_catalog WHERE name = 'CORD10'")[0][0]);
        }
    }

    private static void WriteModels(string path, params (string Id, string Ws)[] models) =>
        File.WriteAllText(path, new System.Text.Json.Nodes.JsonObject
        {
            ["models"] = new System.Text.Json.Nodes.JsonArray(models.Select(m =>
                (System.Text.Json.Nodes.JsonNode?)new System.Text.Json.Nodes.JsonObject
            {
                ["model_id"] = m.Id, ["task_run_id"] = "tr1", ["loop_id"] = 1, ["workspace_id"] = m.Ws,
                ["model_type"] = "LGBModel",
            }).ToArray()),
        }.ToJsonString());

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_record_that_breaks_a_unique_key_fails_by_name_and_the_rest_lands(string kind)
    {
        var (dir, db, store) = Open(kind);
        using (dir) using (db) using (store)
        {
            WriteModels(dir["model_catalog.json"], ("m1", "wsA"), ("m2", "wsA"), ("m3", "wsB"), ("m1", "wsC"));
            var s = Import(store, CatalogKind.Model, dir["model_catalog.json"]);
            Assert.Equal(2, s.Inserted);
            Assert.Equal(1, s.Skipped);
            // m1 is listed twice, on different workspaces (wsA, wsC): the first record is kept.
            Assert.Equal(["model m1 appears more than once in the catalog; the first record was kept"], s.SkipReasons);
            var failure = Assert.Single(s.Failures);
            // The record by its id; after the colon, the database's own words (SQLite's and PostgreSQL's differ).
            Assert.StartsWith("model m2: ", failure);
            Assert.Equal(["m1", "m3"],
                db.Rows("SELECT model_id FROM aistock_model_catalog ORDER BY 1").Select(r => (string)r[0]!));
            // A failed record is tried again next time: the file is not marked as imported.
            Assert.False(Import(store, CatalogKind.Model, dir["model_catalog.json"]).FileUnchanged);
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void Readers_see_all_catalogs_of_an_import_or_none_and_a_broken_catalog_rolls_back_alone(string kind)
    {
        var (dir, db, store) = Open(kind);
        using (dir) using (db) using (store)
        {
            var text = File.ReadAllText(Fork("factor_catalog.json"));
            File.WriteAllText(dir["factor_catalog.json"], text[..(text.Length * 2 / 3)]);
            using (var session = store.BeginImport())
            {
                session.Savepoint();
                var loops = CatalogImport.Run(session, CatalogKind.Loop, Fork("loop_catalog.json"));
                session.ReleaseSavepoint();
                Assert.Equal(LoopsIn(Fork("loop_catalog.json")), loops.Inserted);
                session.Savepoint();
                Assert.Equal(Truncated(dir["factor_catalog.json"]), Assert.Throws<FormatException>(() =>
                    CatalogImport.Run(session, CatalogKind.Factor, dir["factor_catalog.json"])).Message);
                session.RollbackToSavepoint();
                session.ReleaseSavepoint();
                // Another connection, as AIstock's own readers: nothing is visible before the commit.
                Assert.Equal(0, db.Scalar("SELECT count(*) FROM aistock_loop_catalog"));
                session.Commit();
            }
            Assert.Equal(LoopsIn(Fork("loop_catalog.json")), db.Scalar("SELECT count(*) FROM aistock_loop_catalog"));
            Assert.Equal(0, db.Scalar("SELECT count(*) FROM aistock_factor_catalog"));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_second_sync_waits_a_bounded_time_for_the_lock_then_refuses(string kind)
    {
        var (dir, db, store) = Open(kind);
        using (dir) using (db) using (store)
        using (var other = db.Open())
        {
            using (store.AcquireSyncLock(TimeSpan.FromSeconds(1)))
            {
                // The clock proves the wait, from below only, which load cannot break; the bound on it is the refusal
                // itself (its message below), which came instead of waiting forever.
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var e = Assert.Throws<SyncBusyException>(() => other.AcquireSyncLock(TimeSpan.FromSeconds(1)));
                // (The same lower bound: 1 s asked, 0.9 s allowing for the clock's and the lock poll's granularity.)
                Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.9));
                const string what = "; wait for it to finish, or check 'rdbridge sync-status'";
                Assert.Equal(db.IsPostgres
                    ? $"another init/sync holds the sync lock of PostgreSQL {db.Host}:{db.Port}/{db.DatabaseName} "
                        + $"(a PostgreSQL advisory lock) for more than 1 s{what}"
                    : $"another init/sync is running on this AIstock root (lock '{db.Setting}.sync.lock' held for more "
                        + $"than 1 s){what}", e.Message);
            }
            using (other.AcquireSyncLock(TimeSpan.FromSeconds(1))) { }
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void Records_of_two_sources_never_overwrite_each_other(string kind)
    {
        var (dir, db, store) = Open(kind);
        using (dir) using (db) using (store)
        {
            var first = Import(store, CatalogKind.Loop, Fork("loop_catalog.json"), origin: "gpu1");
            var before = db
                .Rows("SELECT task_run_id, loop_id, origin, content_hash FROM aistock_loop_catalog ORDER BY 1, 2")
                .Select(r => string.Join("|", r)).ToList();
            Assert.Equal(LoopsIn(Fork("loop_catalog.json")), before.Count);
            Assert.Equal(["gpu1"], db.Rows("SELECT DISTINCT origin FROM aistock_loop_catalog")
                .Select(r => (string?)r[0]));
            var second = Import(store, CatalogKind.Loop, Fork("loop_catalog.json"), origin: "gpu2");
            Assert.Equal((0L, 0L), (second.Inserted, second.Updated));
            Assert.Equal(first.Inserted, second.Failed);
            // One failure per loop of the catalog file, each naming the loop and the source that has it.
            var keys = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fork("loop_catalog.json")))!["loops"]!
                .AsArray()
                .Select(l => $"{l!["task_run_id"]}/{l["loop_id"]}").Distinct();
            Assert.Equal(keys.Select(k => $"loop {k}: the same key was already imported from source 'gpu1'; records of "
                    + "different sources never overwrite each other — rename or remove one of them at its source")
                .Order(StringComparer.Ordinal), second.Failures.Order(StringComparer.Ordinal));
            var local = Import(store, CatalogKind.Loop, Fork("loop_catalog.json"));
            Assert.Equal(first.Inserted, local.Failed);
            Assert.Equal(before, db
                .Rows("SELECT task_run_id, loop_id, origin, content_hash FROM aistock_loop_catalog ORDER BY 1, 2")
                .Select(r => string.Join("|", r)));
            // The same source again: nothing to do.
            var again = Import(store, CatalogKind.Loop, Fork("loop_catalog.json"), origin: "gpu1");
            Assert.Equal((0L, 0L, first.Inserted, 0L), (again.Inserted, again.Updated, again.Unchanged, again.Failed));
        }
    }

    [Fact]
    public void A_record_postgresql_cannot_hold_is_a_failure_naming_it_and_the_rest_lands()
    {
        var (dir, db, store) = Open("postgres");
        using (dir) using (db) using (store)
        {
            WriteModels(dir["model_catalog.json"], ("m1", "wsA"), ("bad\u0000id", "wsB"), ("m3", "wsC"));
            var s = Import(store, CatalogKind.Model, dir["model_catalog.json"]);
            Assert.Equal(2, s.Inserted);
            Assert.Equal("model bad\u0000id: contains a NUL character (\\u0000), which PostgreSQL cannot store; " +
                "remove it at the record's source", Assert.Single(s.Failures));
            Assert.Equal(["m1", "m3"], db.Rows("SELECT model_id FROM aistock_model_catalog ORDER BY 1")
                .Select(r => (string?)r[0]));
        }
    }

    [Fact]
    [RealData]
    public void A_bulk_first_import_builds_the_indexes_after_the_copy_and_a_failed_one_keeps_them()
    {
        var (dir, db, store) = Open("postgres");
        using (dir) using (db) using (store)
        using (var bulk = new PostgresAistockStore(db.Setting) { BulkLoadBytes = 0 })
        {
            const string indexes = "SELECT tablename || ' ' || indexdef FROM pg_indexes " +
                "WHERE tablename LIKE 'aistock_%' ORDER BY indexname";
            var before = db.Rows(indexes).Select(r => (string)r[0]!).ToList();
            Assert.Contains(before, i => i.Contains("gin_trgm_ops"));

            // A catalog that breaks half-way: the import rolls back and every index is still there.
            var text = File.ReadAllText(Fork("factor_catalog.json"));
            File.WriteAllText(dir["factor_catalog.json"], text[..(text.Length * 2 / 3)]);
            using (var session = bulk.BeginImport())
            {
                session.Savepoint();
                Assert.Equal(Truncated(dir["factor_catalog.json"]), Assert.Throws<FormatException>(() =>
                    CatalogImport.Run(session, CatalogKind.Factor, dir["factor_catalog.json"])).Message);
                session.RollbackToSavepoint();
                session.Commit();
            }
            Assert.Equal(before, db.Rows(indexes).Select(r => (string)r[0]!));
            Assert.Equal(0, db.Scalar("SELECT count(*) FROM aistock_factor_catalog"));

            // The whole catalog: the same rows as the row-by-row path writes, and the same indexes, all valid.
            var s = Import(bulk, CatalogKind.Factor, Fork("factor_catalog.json"));
            Assert.Equal(28, s.Inserted + s.Skipped);
            Assert.Equal(before, db.Rows(indexes).Select(r => (string)r[0]!));
            using (var plainDir = new TempDir())
            using (var plainDb = TestStore.Create("postgres", plainDir))
            using (var plain = plainDb.Open())
            {
                plain.Migrate();
                Assert.Equal(s.Inserted, Import(plain, CatalogKind.Factor, Fork("factor_catalog.json")).Inserted);
                const string rows = "SELECT factor_id, name, ic, payload::text, content_hash " +
                    "FROM aistock_factor_catalog ORDER BY factor_id";
                Assert.Equal(plainDb.Rows(rows).Select(r => string.Join("|", r)),
                    db.Rows(rows).Select(r => string.Join("|", r)));
            }
            Assert.Equal(0, db.Scalar("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid " +
                "WHERE c.relname LIKE 'aistock_%' AND NOT (i.indisvalid AND i.indisready)"));
        }
    }

    [Fact]
    public void A_missing_postgresql_database_is_named_with_its_fix_and_doctor_fix_creates_it()
    {
        var name = "rdb_missing_" + Guid.NewGuid().ToString("N")[..8];
        var conn = $"{TestStore.PostgresServer};Database={name}";
        var e = Assert.Throws<StoreException>(() => new PostgresAistockStore(conn));
        // The database, the server and both fixes, the createdb line with the server's own settings (read by Npgsql's
        // builder from the test server's connection string).
        var server = new Npgsql.NpgsqlConnectionStringBuilder(conn);
        Assert.Equal($"PostgreSQL database '{name}' does not exist on {server.Host}:{server.Port}; run 'rdbridge "
            + $"doctor --fix' to create it, or create it yourself (createdb -h {server.Host} -p {server.Port} -U "
            + $"{server.Username} {name})", e.Message);
        try
        {
            Assert.True(PostgresAistockStore.CreateDatabaseIfMissing(conn));
            Assert.False(PostgresAistockStore.CreateDatabaseIfMissing(conn));
            using var store = new PostgresAistockStore(conn);
            Assert.Equal(StoreSchema.Latest, store.Migrate().Max());
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            using var c = new Npgsql.NpgsqlConnection(TestStore.PostgresServer + ";Database=postgres");
            c.Open();
            using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", c);
            drop.ExecuteNonQuery();
        }
    }

    [Fact]
    public void A_postgresql_uri_is_read_like_psql_reads_it()
    {
        var b = PostgresAistockStore.Parse(
            "postgresql://ai%20user:p%40ss@db.example:6543/aistock_prod?sslmode=disable");
        Assert.Equal(("db.example", 6543, "ai user", "p@ss", "aistock_prod"),
            (b.Host, b.Port, b.Username, b.Password, b.Database));
        Assert.Equal("aistock", PostgresAistockStore.Parse("Host=127.0.0.1;Port=5432;Username=postgres").Database);
        // The setting and both ways to write it; in the parentheses, Npgsql's own words for the key it rejects.
        var bad = Assert.Throws<StoreException>(() => PostgresAistockStore.Parse("Host=x;Nonsense Key=1")).Message;
        Assert.StartsWith("aistock.database is not a usable PostgreSQL connection string (", bad);
        Assert.EndsWith("); write it as 'Host=127.0.0.1;Port=5432;Database=aistock;Username=postgres' or "
            + "'postgresql://postgres@127.0.0.1:5432/aistock'", bad);
    }
}
