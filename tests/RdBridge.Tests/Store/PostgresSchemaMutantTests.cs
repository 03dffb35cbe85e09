using System.Text.Json.Nodes;
using Npgsql;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The AIstock schema as <see cref="StoreSchema"/> makes it on PostgreSQL, written for the PostgreSQL-only mutants
/// <c>bench/mutation.sh StoreSchema</c> left unreached (that plan runs SQLite cases only): each column's type and the
/// sync history's identity key (information_schema.columns), the sort indexes' missing-last order and the trigram
/// indexes (pg_indexes, pg_extension), the table-version trigger (pg_trigger, pg_proc) and the migrations of rows
/// already in the database (versions 3 and 4). Everything is read from PostgreSQL's own catalogs or with plain SQL;
/// the expected values are what the schema says each object is for and the rows the test wrote. Every name holds
/// "postgres", so a plan filtering on DisplayName~postgres runs them.
/// </summary>
public sealed class PostgresSchemaMutantTests
{
    private static (TempDir Dir, TestStore Db, IAistockStore Store) OpenNew(int? upTo = null) =>
        TestStore.OpenNew("postgres", upTo);

    /// <summary>The type PostgreSQL reports for each kind of catalog column: 64-bit integers (loop numbers,
    /// counts), double-precision metrics and JSON as jsonb (queried by -&gt;&gt;).</summary>
    private static string PostgresType(ColumnType t) => t switch
    {
        ColumnType.Integer => "bigint",
        ColumnType.Real => "double precision",
        ColumnType.Boolean => "boolean",
        ColumnType.Json => "jsonb",
        _ => "text",
    };

    [Fact]
    public void A_new_postgres_store_declares_each_catalog_column_with_its_PostgreSQL_type_and_computes_none()
    {
        var (dir, db, store) = OpenNew();
        using (dir) using (db) using (store)
        {
            foreach (var t in CatalogTable.All)
            {
                var declared = db.Rows("SELECT column_name, data_type, is_generated FROM information_schema.columns " +
                        $"WHERE table_schema = 'public' AND table_name = '{t.Name}'")
                    .ToDictionary(r => (string)r[0]!, r => ((string)r[1]!, (string)r[2]!));
                // Version 9 turned SQLite's JSON columns into computed ones; PostgreSQL keeps every column stored.
                var expected = t.Columns.Select(c => (c.Name, PostgresType(c.Type)))
                    .Append(("payload", "jsonb")).Append(("content_hash", "text"))
                    .Append(("imported_at", "text")).Append(("updated_at", "text"))
                    .ToDictionary(c => c.Item1, c => (c.Item2, "NEVER"));
                Assert.Equal(expected.OrderBy(c => c.Key), declared.OrderBy(c => c.Key));
            }
            // The sync history numbers its runs itself: a 64-bit identity nobody may write.
            Assert.Equal(["bigint", "YES", "ALWAYS", "NO"], db.Rows(
                "SELECT data_type, is_identity, identity_generation, is_nullable FROM information_schema.columns " +
                "WHERE table_name = 'rdbridge_sync_runs' AND column_name = 'id'").Single());
        }
    }

    private static string IndexDef(TestStore db, string index) => (string)db.Rows(
        $"SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = '{index}'").Single()[0]!;

    [Fact]
    public void A_new_postgres_store_sorts_by_indexes_that_put_the_best_first_and_missing_values_last()
    {
        var (dir, db, store) = OpenNew();
        using (dir) using (db) using (store)
        {
            // PostgreSQL's DESC alone puts NULLs first: the UI asks for the best first and the missing last.
            const string factors = "ON public.aistock_factor_catalog USING btree";
            Assert.Equal($"CREATE INDEX idx_aistock_factor_catalog_ic {factors} (ic DESC NULLS LAST, factor_id DESC)",
                IndexDef(db, "idx_aistock_factor_catalog_ic"));
            Assert.Equal("CREATE INDEX idx_aistock_loop_catalog_information_ratio ON public.aistock_loop_catalog " +
                "USING btree (information_ratio DESC NULLS LAST, task_run_id DESC, loop_id DESC)",
                IndexDef(db, "idx_aistock_loop_catalog_information_ratio"));
            // Version 5's sorts.
            Assert.Equal("CREATE INDEX idx_aistock_strategy_catalog_by_updated_at ON public.aistock_strategy_catalog " +
                "USING btree (updated_at DESC NULLS LAST, strategy_id DESC)",
                IndexDef(db, "idx_aistock_strategy_catalog_by_updated_at"));
            Assert.Equal($"CREATE INDEX idx_aistock_factor_catalog_by_icir {factors} (icir DESC NULLS LAST, " +
                "factor_id DESC)", IndexDef(db, "idx_aistock_factor_catalog_by_icir"));
        }
    }

    /// <summary>Every column a PostgreSQL search reads (an OR of ILIKEs), by table: versions 3 and 4 index the
    /// factors' texts and the loops' hypothesis, version 8 the rest. Each index is named after its column, but for
    /// "column name" (version 3 named the description's index without "_cn").</summary>
    private static readonly (string Table, string[] Columns)[] Searched =
    [
        ("aistock_factor_catalog", ["name", "expression", "description_cn description", "formula_hint"]),
        ("aistock_loop_catalog", ["task_run_id", "action", "status", "model_type", "hypothesis"]),
        ("aistock_model_catalog", ["model_id", "model_type", "network_class"]),
        ("aistock_strategy_catalog", ["strategy_id", "model_type", "config_fingerprint"]),
    ];

    private static List<object?[]> TrigramIndexes(TestStore db) => db.Rows(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '%gin_trgm_ops%' " +
        "ORDER BY indexname COLLATE \"C\"");

    /// <summary>Each searched column's trigram index as pg_indexes shows it, in name order.</summary>
    private static IEnumerable<object?[]> ExpectedTrigramIndexes => Searched
        .SelectMany(s => s.Columns.Select(c => c.Split(' ')).Select(c => new object?[]
        {
            $"idx_{s.Table}_{c[^1]}_trgm",
            $"CREATE INDEX idx_{s.Table}_{c[^1]}_trgm ON public.{s.Table} USING gin ({c[0]} gin_trgm_ops)",
        }))
        .OrderBy(r => (string)r[0]!, StringComparer.Ordinal);

    [Fact]
    public void A_new_postgres_store_has_pg_trgm_and_a_trigram_index_on_every_searched_column()
    {
        var (dir, db, store) = OpenNew();
        using (dir) using (db) using (store)
        {
            // This machine's PostgreSQL 15 ships pg_trgm (postgresql-contrib), and the test server's user may
            // create it: the store must have made it.
            Assert.Equal(1, db.Scalar("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"));
            Assert.Equal(ExpectedTrigramIndexes, TrigramIndexes(db));
        }
    }

    /// <summary>
    /// A store whose migration stopped between versions (a later one failed, or an older RdBridge made it) keeps what
    /// each version it reached made: version 3 creates pg_trgm and indexes the factors' name, expression and
    /// description; version 4 adds the loops' hypothesis and the factors' formulation. The repair that runs at the
    /// latest version would make them anyway, so only a store short of it shows what each version does.
    /// </summary>
    [Theory, InlineData(3), InlineData(4)]
    public void A_postgres_store_stopped_at_version_3_or_4_has_pg_trgm_and_the_trigram_indexes_of_its_versions(
        int version)
    {
        var made = new List<string>
        {
            "idx_aistock_factor_catalog_name_trgm", "idx_aistock_factor_catalog_expression_trgm",
            "idx_aistock_factor_catalog_description_trgm",
        };
        if (version >= 4)
        {
            made.AddRange(["idx_aistock_loop_catalog_hypothesis_trgm", "idx_aistock_factor_catalog_formula_hint_trgm"]);
        }
        var (dir, db, store) = OpenNew(version);
        using (dir) using (db) using (store)
        {
            Assert.Equal(version, db.Scalar("SELECT max(version) FROM schema_migrations"));
            Assert.Equal(1, db.Scalar("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"));
            Assert.Equal(ExpectedTrigramIndexes.Where(r => made.Contains((string)r[0]!)), TrigramIndexes(db));
        }
    }

    private static void AdminExec(string sql)
    {
        using var c = new NpgsqlConnection(TestStore.PostgresServer + ";Database=postgres");
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// A fresh database and a role that may create tables in it but has no CREATE on the database, which a trusted
    /// extension such as pg_trgm needs; <paramref name="test"/> gets the database and the role's connection setting.
    /// </summary>
    private static void WithRoleThatMayNotCreateExtensions(Action<TestStore, string> test)
    {
        var role = "rdb_user_" + Guid.NewGuid().ToString("N")[..12];
        AdminExec($"CREATE ROLE {role} LOGIN");
        try
        {
            using var dir = new TempDir();
            using var db = TestStore.Create("postgres", dir);
            db.Exec($"GRANT CREATE ON SCHEMA public TO {role}");
            test(db, new NpgsqlConnectionStringBuilder(db.Setting) { Username = role }.ConnectionString);
        }
        finally
        {
            // After the database (dropped by its TestStore above): a role owning nothing can be dropped.
            AdminExec($"DROP ROLE {role}");
        }
    }

    /// <summary>
    /// The other side of the extension: a store whose user may not create pg_trgm is still made whole, every version
    /// applied, without the extension and without a trigram index, and its search still finds a factor (by scanning).
    /// </summary>
    [Fact]
    public void A_postgres_store_whose_user_may_not_create_pg_trgm_is_made_without_trigram_indexes_and_still_searches()
    {
        WithRoleThatMayNotCreateExtensions((db, setting) =>
        {
            using var store = new PostgresAistockStore(setting);
            store.Migrate();
            Assert.Equal(StoreSchema.Migrations.Select(m => (object?)(long)m.Version),
                db.Rows("SELECT version FROM schema_migrations ORDER BY version").Select(r => r[0]));
            Assert.Equal(0, db.Scalar("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"));
            Assert.Empty(TrigramIndexes(db));
            db.Exec("INSERT INTO aistock_factor_catalog (factor_id, name, payload, content_hash, imported_at, " +
                "updated_at) VALUES ('f1', 'Qwertz_mom', '{\"factor_id\":\"f1\"}', 'h', 'a', 'a'), " +
                "('f2', 'Other', '{\"factor_id\":\"f2\"}', 'h', 'a', 'a')");
            var page = CatalogQuery.Run(store, new CatalogPageRequest(CatalogKind.Factor, Search: "qwertz"), null);
            Assert.Equal(["f1"], page.Items.Select(i => (string?)JsonNode.Parse(i.Payload)!["factor_id"]));
        });
    }

    /// <summary>
    /// pg_trgm installed by an administrator after the store was made without it (the notice of version 3 says
    /// searches scan): the next open that migrates makes every trigram index the versions would have made, though
    /// no version is left to apply; an open after that changes nothing.
    /// </summary>
    [Fact]
    public void A_postgres_store_made_without_pg_trgm_gets_every_trigram_index_once_an_administrator_installs_it()
    {
        WithRoleThatMayNotCreateExtensions((db, setting) =>
        {
            using (var first = new PostgresAistockStore(setting)) first.Migrate();
            Assert.Empty(TrigramIndexes(db));
            db.Exec("CREATE EXTENSION pg_trgm");

            using (var second = new PostgresAistockStore(setting)) Assert.Empty(second.Migrate());

            Assert.Equal(ExpectedTrigramIndexes, TrigramIndexes(db));
            var oids = db.Rows("SELECT indexrelid::bigint FROM pg_index ORDER BY 1");
            using (var third = new PostgresAistockStore(setting)) Assert.Empty(third.Migrate());
            Assert.Equal(oids, db.Rows("SELECT indexrelid::bigint FROM pg_index ORDER BY 1"));
        });
    }

    [Fact]
    public void A_postgres_catalog_table_s_version_moves_once_a_statement_by_its_trigger_whoever_writes()
    {
        var (dir, db, store) = OpenNew();
        using (dir) using (db) using (store)
        {
            Assert.Equal(["plpgsql", "trigger"], db.Rows(
                "SELECT l.lanname, pg_get_function_result(p.oid) FROM pg_proc p JOIN pg_language l " +
                "ON l.oid = p.prolang WHERE p.proname = 'rdbridge_bump_table_version'").Single());
            var expected = CatalogTable.All.Select(t => t.Name).Order(StringComparer.Ordinal)
                .Select(t => new object?[]
                {
                    t, $"CREATE TRIGGER trg_{t}_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.{t} " +
                        "FOR EACH STATEMENT EXECUTE FUNCTION rdbridge_bump_table_version()",
                });
            Assert.Equal(expected, db.Rows("SELECT c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t " +
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal ORDER BY c.relname COLLATE \"C\""));

            const string version =
                "SELECT version FROM rdbridge_table_versions WHERE table_name = 'aistock_strategy_catalog'";
            var before = db.Scalar(version);
            // Two rows in one statement, as somebody else's tool would write them: one step.
            db.Exec("INSERT INTO aistock_strategy_catalog (strategy_id, payload, content_hash, imported_at, " +
                "updated_at) VALUES ('s1', '{\"strategy_id\":\"s1\"}', 'h1', 'a', 'a'), " +
                "('s2', '{\"strategy_id\":\"s2\"}', 'h2', 'a', 'a')");
            Assert.Equal(before + 1, db.Scalar(version));
            db.Exec("DELETE FROM aistock_strategy_catalog WHERE strategy_id = 's1'");
            Assert.Equal(before + 2, db.Scalar(version));
            db.Exec("TRUNCATE aistock_strategy_catalog");
            Assert.Equal(before + 3, db.Scalar(version));
        }
    }

    [Fact]
    public void A_postgres_factor_imported_before_version_3_gets_its_metric_columns_from_its_metrics_JSON()
    {
        var (dir, db, store) = OpenNew(2);
        using (dir) using (db) using (store)
        {
            const string metrics = "{\"ic\":0.0625,\"rank_ic\":-0.125,\"max_drawdown\":-0.5}";
            db.Exec("INSERT INTO aistock_factor_catalog (factor_id, performance_metrics, payload, content_hash, " +
                $"imported_at, updated_at) VALUES ('f1', '{metrics}', " +
                $"'{{\"factor_id\":\"f1\",\"performance_metrics\":{metrics}}}', 'h', 'a', 'a'), " +
                "('f2', NULL, '{\"factor_id\":\"f2\"}', 'h', 'a', 'a')");
            store.Migrate();
            Assert.Equal([[0.0625, -0.125, -0.5, null], [null, null, null, null]], db.Rows(
                "SELECT ic, rank_ic, max_drawdown, annualized_return FROM aistock_factor_catalog ORDER BY factor_id"));
        }
    }

    [Fact]
    public void A_postgres_row_imported_before_version_4_gets_its_research_texts_from_its_payload()
    {
        var (dir, db, store) = OpenNew(3);
        using (dir) using (db) using (store)
        {
            db.Exec("INSERT INTO aistock_factor_catalog (factor_id, payload, content_hash, imported_at, updated_at) " +
                "VALUES ('f1', '{\"factor_id\":\"f1\",\"formula_hint\":\"mean of close over 5 days\"}', " +
                "'h', 'a', 'a')");
            // The model's task name sits one object down (model_task.name).
            db.Exec("INSERT INTO aistock_model_catalog (model_id, payload, content_hash, imported_at, updated_at) " +
                "VALUES ('m1', '{\"model_id\":\"m1\",\"rdagent_model_type\":\"TimeSeries\"," +
                "\"model_task\":{\"name\":\"GRU_ret5\"}}', 'h', 'a', 'a')");
            store.Migrate();
            Assert.Equal("mean of close over 5 days",
                db.Rows("SELECT formula_hint FROM aistock_factor_catalog").Single()[0]);
            Assert.Equal(["TimeSeries", "GRU_ret5"],
                db.Rows("SELECT rdagent_model_type, model_name FROM aistock_model_catalog").Single());
        }
    }
}
