using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The AIstock schema as <see cref="StoreSchema"/> makes it on SQLite, written for the mutants
/// <c>bench/mutation.sh StoreSchema</c> left alive: the declared column types, the indexes (their columns and
/// order), the search index's triggers and the version 3 migration of rows already in the database. Rows are written
/// here with plain SQL; the expected values are those rows and the schema as SQLite's PRAGMAs report it (and, for
/// the model and strategy searches, SQLite's EXPLAIN QUERY PLAN of the statements the page ran).
/// </summary>
public class StoreSchemaMutantTests
{
    /// <summary>An index's key columns in order, each with " DESC" when it descends; "" when there is no such
    /// index.</summary>
    private static string IndexColumns(TestStore db, string index) => string.Join(", ", db.Rows(
            $"SELECT name, \"desc\" FROM pragma_index_xinfo('{index}') WHERE key = 1 ORDER BY seqno")
        .Select(r => (string)r[0]! + (Convert.ToInt64(r[1]) == 1 ? " DESC" : "")));

    private static string ColumnType(TestStore db, string table, string column) => (string)db.Rows(
        $"SELECT type FROM pragma_table_info('{table}') WHERE name = '{column}'").Single()[0]!;

    [Fact]
    public void A_new_SQLite_store_declares_each_column_with_its_SQLite_type()
    {
        var (dir, db, store) = TestStore.OpenNew("sqlite");
        using (dir) using (db) using (store)
        {
            Assert.Equal("INTEGER", ColumnType(db, "aistock_loop_catalog", "loop_id"));
            Assert.Equal("REAL", ColumnType(db, "aistock_loop_catalog", "annualized_return"));
            Assert.Equal("BOOLEAN", ColumnType(db, "aistock_loop_catalog", "has_result"));
            Assert.Equal("TEXT", ColumnType(db, "aistock_loop_catalog", "task_run_id"));
            // The loop's metrics are JSON kept as a stored column (not computed from the payload at version 9).
            Assert.Equal("TEXT", ColumnType(db, "aistock_loop_catalog", "metrics"));
            Assert.Equal("TEXT", ColumnType(db, "aistock_loop_catalog", "payload"));
        }
    }

    [Fact]
    public void A_new_SQLite_store_has_every_lookup_and_sort_index_with_its_columns_in_order()
    {
        var (dir, db, store) = TestStore.OpenNew("sqlite");
        using (dir) using (db) using (store)
        {
            // Version 1: by loop, by bundle, factors by name.
            Assert.Equal("task_run_id, loop_id", IndexColumns(db, "idx_aistock_model_catalog_loop"));
            Assert.Equal("asset_bundle_id", IndexColumns(db, "idx_aistock_model_catalog_bundle"));
            Assert.Equal("name, source", IndexColumns(db, "idx_aistock_factor_catalog_name"));
            // Version 3: metric sorts (best first, the key as tie-breaker) and the origin.
            Assert.Equal("ic DESC, factor_id DESC", IndexColumns(db, "idx_aistock_factor_catalog_ic"));
            Assert.Equal("information_ratio DESC, task_run_id DESC, loop_id DESC",
                IndexColumns(db, "idx_aistock_loop_catalog_information_ratio"));
            Assert.Equal("origin", IndexColumns(db, "idx_aistock_factor_catalog_origin"));
            Assert.Equal("origin", IndexColumns(db, "idx_aistock_loop_catalog_origin"));
            // Version 4: loops by status and step.
            Assert.Equal("status, step_name", IndexColumns(db, "idx_aistock_loop_catalog_step"));
            // Version 5: every other sorted column.
            Assert.Equal("updated_at DESC, strategy_id DESC",
                IndexColumns(db, "idx_aistock_strategy_catalog_by_updated_at"));
            Assert.Equal("loop_id DESC, task_run_id DESC", IndexColumns(db, "idx_aistock_loop_catalog_by_loop_id"));
        }
    }

    private static long Found(TestStore db, string text) => db.Scalar(
        $"SELECT count(*) FROM aistock_factor_search WHERE aistock_factor_search MATCH '\"{text}\"'");

    [Fact]
    public void A_factor_deleted_with_plain_SQL_is_no_longer_in_the_SQLite_search_index()
    {
        var (dir, db, store) = TestStore.OpenNew("sqlite");
        using (dir) using (db) using (store)
        {
            db.Exec("INSERT INTO aistock_factor_catalog (factor_id, name, payload, content_hash, imported_at, " +
                "updated_at) VALUES ('f1', 'Qwertz_mom', '{\"factor_id\":\"f1\",\"name\":\"Qwertz_mom\"}', 'h', " +
                "'2026-12-07T00:00:00Z', '2026-12-07T00:00:00Z')");
            Assert.Equal(1, Found(db, "qwertz"));
            db.Exec("DELETE FROM aistock_factor_catalog WHERE factor_id = 'f1'");
            Assert.Equal(0, Found(db, "qwertz"));
        }
    }

    [Fact]
    public void A_factor_imported_before_version_3_gets_its_metric_columns_from_its_metrics_JSON()
    {
        var (dir, db, store) = TestStore.OpenNew("sqlite", 2);
        using (dir) using (db) using (store)
        {
            const string metrics = "{\"ic\":0.0625,\"rank_ic\":-0.125,\"max_drawdown\":-0.5}";
            db.Exec("INSERT INTO aistock_factor_catalog (factor_id, performance_metrics, payload, content_hash, " +
                $"imported_at, updated_at) VALUES ('f1', '{metrics}', " +
                $"'{{\"factor_id\":\"f1\",\"performance_metrics\":{metrics}}}', 'h', '2026-12-07T00:00:00Z', " +
                "'2026-12-07T00:00:00Z')");
            store.Migrate();
            var row = db.Rows("SELECT ic, rank_ic, max_drawdown, annualized_return FROM aistock_factor_catalog")
                .Single();
            Assert.Equal([0.0625, -0.125, -0.5, null], row);
        }
    }

    /// <summary>
    /// Models and strategies written with plain SQL, 20 of each, two of which hold "needle" in a searched text (a
    /// model's network class, a strategy's configuration fingerprint): a search finds those two, and the count and the
    /// page find them through the table's trigram index (version 8), not by testing every row's LIKE.
    /// </summary>
    [Fact]
    public void A_SQLite_model_or_strategy_search_finds_its_rows_through_the_full_text_index()
    {
        var (dir, db, store) = TestStore.OpenNew("sqlite");
        using (dir) using (db) using (store)
        {
            for (var i = 1; i <= 20; i++)
            {
                var needle = i is 4 or 17 ? "_Needle" : "";
                db.Exec("INSERT INTO aistock_model_catalog (model_id, model_type, network_class, payload, " +
                    $"content_hash, imported_at, updated_at) VALUES ('m{i:D2}', 'GRU', 'Net{i}{needle}', " +
                    $"'{{\"model_id\":\"m{i:D2}\"}}', 'h', 'a', 'a')");
                db.Exec("INSERT INTO aistock_strategy_catalog (strategy_id, model_type, config_fingerprint, payload, " +
                    $"content_hash, imported_at, updated_at) VALUES ('s{i:D2}', 'GRU', 'fp{i}{needle}', " +
                    $"'{{\"strategy_id\":\"s{i:D2}\"}}', 'h', 'a', 'a')");
            }
            foreach (var (kind, key, index) in new[]
            {
                (CatalogKind.Model, "model_id", "aistock_model_search"),
                (CatalogKind.Strategy, "strategy_id", "aistock_strategy_search"),
            })
            {
                var ran = new List<(string Sql, (string, object?)[] Args)>();
                var page = CatalogQuery.Run((DbAistockStore)store, new CatalogPageRequest(kind, Search: "needle"),
                    null, (sql, args) => ran.Add((sql, [.. args])));
                var prefix = key[0];
                Assert.Equal([$"{prefix}04", $"{prefix}17"], page.Items
                    .Select(i => (string)JsonNode.Parse(i.Payload)![key]!).Order());
                // The count of the matches and the page (the table's total is counted apart and reads no text).
                var searches = new[]
                {
                    ran.Single(s => s.Sql.Contains(") AS matches", StringComparison.Ordinal)),
                    ran.Single(s => s.Sql.StartsWith("SELECT payload", StringComparison.Ordinal)),
                };
                foreach (var (sql, args) in searches)
                {
                    var plan = ((DbAistockStore)store).Rows("EXPLAIN QUERY PLAN " + sql, args)
                        .Select(r => (string)r[3]!).ToList();
                    // The FTS5 table's MATCH (its hidden column, numbered after the three searched ones).
                    Assert.True(plan.Contains($"SCAN {index} VIRTUAL TABLE INDEX 0:M3"),
                        $"{sql}\n{string.Join("\n", plan)}");
                }
            }
        }
    }
}
