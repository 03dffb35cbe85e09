using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Runs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// PostgreSQL's write path as its catalogs show it: the sync lock in pg_locks, the secondary indexes a bulk first
/// import drops and builds again (their OIDs in pg_index), the staging table, the merge's counts and the failures
/// naming each refused record. Every expected value is read from the files the test writes or from the database.
/// </summary>
public class PostgresStoreWriteMutantTests
{
    private const string Held =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted " +
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

    private static void WriteModels(string path, params (string Id, string Ws, string Type)[] models) =>
        File.WriteAllText(path, new JsonObject
        {
            ["models"] = new JsonArray(models.Select(m => (JsonNode?)new JsonObject
            {
                ["model_id"] = m.Id, ["task_run_id"] = "tr1", ["loop_id"] = 1, ["workspace_id"] = m.Ws,
                ["model_type"] = m.Type,
            }).ToArray()),
        }.ToJsonString());

    /// <summary>The refusal of a sync that will not wait, naming the test's own server and database.</summary>
    private static string Busy(TestStore db) =>
        $"another init/sync holds the sync lock of PostgreSQL {db.Host}:{db.Port}/{db.DatabaseName} "
        + "(a PostgreSQL advisory lock) for more than 0 s; wait for it to finish, or check 'rdbridge sync-status'";

    private static ImportSummary Import(IAistockStore store, CatalogKind kind, string path, string? origin = null)
    {
        using var session = store.BeginImport();
        var s = CatalogImport.Run(session, kind, path, origin);
        session.Commit();
        return s;
    }

    [Theory, InlineData("postgres")]
    public void A_sync_that_will_not_wait_is_refused_at_once_naming_the_database(string store)
    {
        var (dir, db, first) = TestStore.OpenNew(store);
        using (dir) using (db) using (first)
        using (var other = db.Open())
        using (first.AcquireSyncLock(TimeSpan.Zero))
        {
            Assert.Equal(Busy(db),
                Assert.Throws<SyncBusyException>(() => other.AcquireSyncLock(TimeSpan.Zero)).Message);
        }
    }

    [Theory, InlineData("postgres")]
    public void A_sync_lock_released_twice_gives_back_only_its_own_hold(string store)
    {
        var (dir, db, first) = TestStore.OpenNew(store);
        using (dir) using (db) using (first)
        using (var other = db.Open())
        {
            // The same connection takes the advisory lock twice (PostgreSQL counts the holds); releasing the first
            // handle twice must leave the second hold in place.
            var outer = first.AcquireSyncLock(TimeSpan.Zero);
            var inner = first.AcquireSyncLock(TimeSpan.Zero);
            outer.Dispose();
            outer.Dispose();
            Assert.Equal(1, db.Scalar(Held));
            Assert.Equal(Busy(db),
                Assert.Throws<SyncBusyException>(() => other.AcquireSyncLock(TimeSpan.Zero).Dispose()).Message);
            inner.Dispose();
            Assert.Equal(0, db.Scalar(Held));
            using (other.AcquireSyncLock(TimeSpan.Zero))
            {
                Assert.Equal(1, db.Scalar(Held));
            }
        }
    }

    [Theory, InlineData("postgres")]
    public void A_bulk_load_at_exactly_the_threshold_rebuilds_the_secondary_indexes_and_keeps_the_keys(string store)
    {
        var (dir, db, plain) = TestStore.OpenNew(store);
        using (dir) using (db) using (plain)
        {
            File.WriteAllText(dir["factor_catalog.json"], new JsonObject
            {
                ["factors"] = new JsonArray(
                    new JsonObject { ["factor_id"] = "f1", ["name"] = "alpha" },
                    new JsonObject { ["factor_id"] = "f2", ["name"] = "beta" }),
            }.ToJsonString());
            const string indexes = "SELECT c.relname, c.oid::bigint, pg_get_indexdef(i.indexrelid), " +
                "i.indisprimary OR i.indisunique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid " +
                "WHERE i.indrelid = 'aistock_factor_catalog'::regclass ORDER BY c.relname";
            var before = db.Rows(indexes);
            // A catalog exactly as large as the threshold is a bulk load.
            using (var bulk = new PostgresAistockStore(db.Setting)
                   { BulkLoadBytes = new FileInfo(dir["factor_catalog.json"]).Length })
            {
                Assert.Equal(2, Import(bulk, CatalogKind.Factor, dir["factor_catalog.json"]).Inserted);
            }
            var after = db.Rows(indexes);
            // The same indexes, by name and definition ...
            Assert.Equal(before.Select(r => $"{r[0]} {r[2]}"), after.Select(r => $"{r[0]} {r[2]}"));
            // ... the secondary ones built again (new OIDs), the primary and unique ones untouched.
            var secondary = before.Where(r => !(bool)r[3]!).Select(r => (string)r[0]!).ToList();
            // Which secondary indexes the schema gives the factor table is the migrations' business; there must be
            // some, or the comparison below proves nothing.
            Assert.NotEmpty(secondary);
            Assert.Equal(before.Select(r => (bool)r[3]! ? $"{r[0]} {r[1]}" : $"{r[0]} new"),
                after.Select(r => (bool)r[3]! ? $"{r[0]} {r[1]}"
                    : before.Any(b => Equals(b[1], r[1])) ? $"{r[0]} {r[1]}" : $"{r[0]} new"));
            Assert.Equal(["f1|alpha", "f2|beta"], db.Rows("SELECT factor_id, name FROM aistock_factor_catalog " +
                "ORDER BY 1").Select(r => $"{r[0]}|{r[1]}"));
        }
    }

    [Theory, InlineData("postgres")]
    public void Two_catalogs_of_one_kind_in_one_import_each_stage_and_count_no_unchanged_rows(string store)
    {
        var (dir, db, pg) = TestStore.OpenNew(store);
        using (dir) using (db) using (pg)
        {
            WriteModels(dir["a.json"], ("m1", "wsA", "LGBModel"), ("m2", "wsB", "LGBModel"));
            WriteModels(dir["b.json"], ("m3", "wsC", "XGBModel"));
            using (var session = pg.BeginImport())
            {
                // Models always go through the staging table (a second unique key); the second write of the kind
                // in the same transaction finds the first one's staging table still there.
                var a = CatalogImport.Run(session, CatalogKind.Model, dir["a.json"]);
                var b = CatalogImport.Run(session, CatalogKind.Model, dir["b.json"]);
                session.Commit();
                Assert.Equal((2L, 0L, 0L, 0L), (a.Inserted, a.Updated, a.Unchanged, a.Failed));
                Assert.Equal((1L, 0L, 0L, 0L), (b.Inserted, b.Updated, b.Unchanged, b.Failed));
            }
            Assert.Equal(["m1|wsA|LGBModel", "m2|wsB|LGBModel", "m3|wsC|XGBModel"], db.Rows(
                "SELECT model_id, workspace_id, model_type FROM aistock_model_catalog ORDER BY 1")
                .Select(r => string.Join("|", r)));
            Assert.Equal(0, db.Scalar("SELECT count(*) FROM pg_class WHERE relname LIKE 'rdbridge_stage_%'"));
        }
    }

    [Theory, InlineData("postgres")]
    public void A_source_meeting_a_key_of_this_machine_names_this_machine_as_its_owner(string store)
    {
        var (dir, db, pg) = TestStore.OpenNew(store);
        using (dir) using (db) using (pg)
        {
            WriteModels(dir["model_catalog.json"], ("m1", "wsA", "LGBModel"), ("m2", "wsB", "LGBModel"));
            Assert.Equal(2, Import(pg, CatalogKind.Model, dir["model_catalog.json"]).Inserted);
            var s = Import(pg, CatalogKind.Model, dir["model_catalog.json"], origin: "gpu1");
            Assert.Equal((0L, 0L, 2L), (s.Inserted, s.Updated, s.Failed));
            Assert.Equal(new[] { "m1", "m2" }.Select(m => $"model {m}: the same key was already imported from this "
                + "machine's own RD-Agent; records of different sources never overwrite each other — rename or "
                + "remove one of them at its source"), s.Failures.Order(StringComparer.Ordinal));
            Assert.Equal(["m1|", "m2|"], db.Rows("SELECT model_id, origin FROM aistock_model_catalog ORDER BY 1")
                .Select(r => string.Join("|", r)));
        }
    }

    [Theory, InlineData("postgres")]
    public void A_record_taking_a_stored_or_earlier_workspace_is_refused_naming_the_three_values(string store)
    {
        var (dir, db, pg) = TestStore.OpenNew(store);
        using (dir) using (db) using (pg)
        {
            WriteModels(dir["a.json"], ("m1", "wsA", "LGBModel"));
            Assert.Equal(1, Import(pg, CatalogKind.Model, dir["a.json"]).Inserted);
            // m2 takes m1's stored workspace; m4 takes the workspace of m3, earlier in the same file.
            WriteModels(dir["b.json"], ("m2", "wsA", "LGBModel"), ("m3", "wsZ", "LGBModel"),
                ("m4", "wsZ", "LGBModel"));
            var s = Import(pg, CatalogKind.Model, dir["b.json"]);
            Assert.Equal((1L, 0L, 2L), (s.Inserted, s.Updated, s.Failed));
            Assert.Equal([
                "model m2: another model already has this task_run_id + loop_id + workspace_id (tr1/1/wsA); the "
                    + "record was not imported",
                "model m4: another model already has this task_run_id + loop_id + workspace_id (tr1/1/wsZ); the "
                    + "record was not imported",
            ], s.Failures.Order(StringComparer.Ordinal));
            Assert.Equal(["m1|wsA", "m3|wsZ"], db.Rows("SELECT model_id, workspace_id FROM aistock_model_catalog "
                + "ORDER BY 1").Select(r => string.Join("|", r)));
        }
    }

    [Theory, InlineData("postgres")]
    public void A_changed_record_keeps_the_time_it_was_first_imported(string store)
    {
        var (dir, db, pg) = TestStore.OpenNew(store);
        using (dir) using (db) using (pg)
        {
            WriteModels(dir["a.json"], ("m1", "wsA", "LGBModel"));
            Assert.Equal(1, Import(pg, CatalogKind.Model, dir["a.json"]).Inserted);
            // A first-import time no import writes, so only a kept value can still be there.
            const string first = "2001-02-03T04:05:06.007Z";
            db.Rows($"UPDATE aistock_model_catalog SET imported_at = '{first}', updated_at = '{first}'");
            WriteModels(dir["b.json"], ("m1", "wsA", "XGBModel"));
            var s = Import(pg, CatalogKind.Model, dir["b.json"]);
            Assert.Equal((0L, 1L, 0L), (s.Inserted, s.Updated, s.Unchanged));
            Assert.Equal(["m1|XGBModel|2001-02-03T04:05:06.007Z|True"], db.Rows(
                $"SELECT model_id, model_type, imported_at, updated_at <> '{first}' FROM aistock_model_catalog")
                .Select(r => string.Join("|", r)));
        }
    }

    [Theory, InlineData("postgres")]
    public void A_row_whose_origin_holds_a_nul_character_is_a_write_failure_naming_the_field(string store)
    {
        var (dir, db, pg) = TestStore.OpenNew(store);
        using (dir) using (db) using (pg)
        {
            // A catalog import asks for the source's import mark first, and PostgreSQL refuses that query; the
            // session's own check is reached by a row written directly. The record itself is clean: only the origin
            // column, which is not in the payload, holds the NUL.
            using var record = System.Text.Json.JsonDocument.Parse(
                """{"model_id":"m1","task_run_id":"tr1","loop_id":1,"workspace_id":"wsA"}""");
            using (var session = pg.BeginImport())
            {
                var w = session.Write(CatalogKind.Model, [CatalogTable.Model.Map(record.RootElement, "gpu\u00001")]);
                session.Commit();
                Assert.Equal((0L, 0L, 0L), (w.Inserted, w.Updated, w.Unchanged));
                // The field is named as the origin column's internal field name, "\u0000origin" (no record has it).
                Assert.Equal("model m1: field \u0000origin contains a NUL character, which PostgreSQL cannot store; "
                    + "remove it at the record's source", Assert.Single(w.Failures));
            }
            Assert.Equal(0, db.Scalar("SELECT count(*) FROM aistock_model_catalog"));
        }
    }
}
