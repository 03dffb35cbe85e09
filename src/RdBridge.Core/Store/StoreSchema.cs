namespace RdBridge.Store;

public enum SqlDialect { Sqlite, Postgres }

/// <summary>One schema version: the statements that take a database from the previous version to this one.</summary>
public sealed record Migration(int Version, string Description, Func<SqlDialect, IEnumerable<string>> Statements);

/// <summary>
/// The AIstock schema, in versions, for both stores. A version is never edited once released: a change is a new
/// version, so a database made by any earlier RdBridge is brought forward in place without losing rows.
/// </summary>
public static partial class StoreSchema
{
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "the four catalog tables and the sync history", V1),
        new(2, "catalog import marks and table versions (an unchanged catalog file is not read again)", V2),
        new(3, "record origin (the publisher a record came from), factor metric columns, sync progress, sources", V3),
        new(CatalogTable.ResearchTextsVersion,
            "RD-Agent's texts, loops without results: loop hypothesis, step and error, factor formulation, model task",
            ResearchTexts),
        new(5, "an index for every column the API sorts by", V5),
        new(SearchIndexVersion,
            "SQLite: factor and loop search by trigram full-text indexes (FTS5) kept by triggers", SearchIndexes),
        new(ProvenanceTable.Version,
            "factor provenance in a table of its own (one row per factor and loop), moved out of the factor rows",
            ProvenanceTable.Migration),
        new(ModelSearchIndexVersion,
            "model and strategy search by trigram full-text indexes (SQLite); trigram indexes on every column a " +
            "model, strategy or loop search reads (PostgreSQL)",
            ModelSearchIndexes),
        new(CatalogTable.PayloadColumnsVersion,
            "SQLite: the catalog tables' JSON columns computed from the payload when read (virtual generated " +
            "columns) instead of stored beside it; PostgreSQL unchanged (see the README)",
            PayloadColumns),
    ];

    /// <summary>
    /// The version that gave SQLite's factor and loop tables their trigram search indexes; a database still below it
    /// is searched by scanning.
    /// </summary>
    public const int SearchIndexVersion = 6;

    /// <summary>A catalog table's search index on SQLite: the FTS5 table and the columns it holds.</summary>
    public sealed record SearchIndex(string Table, string Index, IReadOnlyList<string> Columns);

    /// <summary>The search indexes of version 6, as that version created them (never edited: a change is a new
    /// version).</summary>
    public static readonly IReadOnlyList<SearchIndex> SearchIndexesOf6 =
    [
        new("aistock_factor_catalog", "aistock_factor_search",
            ["name", "expression", "description_cn", "formula_hint"]),
        new("aistock_loop_catalog", "aistock_loop_search",
            ["task_run_id", "action", "status", "model_type", "hypothesis"]),
    ];

    /// <summary>
    /// The version that gave SQLite's model and strategy tables their search indexes (a model search scanned every
    /// model: 10,000 rows at 200,000 factors).
    /// </summary>
    public const int ModelSearchIndexVersion = 8;

    /// <summary>The search indexes of version 8 (never edited: a change is a new version).</summary>
    public static readonly IReadOnlyList<SearchIndex> SearchIndexesOf8 =
    [
        new("aistock_model_catalog", "aistock_model_search", ["model_id", "model_type", "network_class"]),
        new("aistock_strategy_catalog", "aistock_strategy_search",
            ["strategy_id", "model_type", "config_fingerprint"]),
    ];

    /// <summary>Every search index, with the version that made it.</summary>
    public static IEnumerable<(SearchIndex Index, int Version)> SearchIndexesByVersion =>
        SearchIndexesOf6.Select(i => (i, SearchIndexVersion)).Concat(
            SearchIndexesOf8.Select(i => (i, ModelSearchIndexVersion)));

    public static int Latest => Migrations[^1].Version;

    public static string TypeOf(ColumnType t, SqlDialect d) => (t, d) switch
    {
        (ColumnType.Integer, _) => d == SqlDialect.Postgres ? "BIGINT" : "INTEGER",
        (ColumnType.Real, SqlDialect.Postgres) => "DOUBLE PRECISION",
        (ColumnType.Real, _) => "REAL",
        (ColumnType.Boolean, _) => "BOOLEAN",
        (ColumnType.Json, SqlDialect.Postgres) => "JSONB",
        _ => "TEXT",
    };

    private static IEnumerable<string> V1(SqlDialect d)
    {
        foreach (var t in CatalogTable.All)
        {
            var cols = t.Columns.Where(c => c.Since == 1).Select(c => $"{c.Name} {TypeOf(c.Type, d)}")
                .Concat([$"payload {(d == SqlDialect.Postgres ? "JSONB" : "TEXT")} NOT NULL",
                    "content_hash TEXT NOT NULL", "imported_at TEXT NOT NULL", "updated_at TEXT NOT NULL",
                    $"PRIMARY KEY ({string.Join(", ", t.Key)})"]);
            yield return $"CREATE TABLE IF NOT EXISTS {t.Name} (\n  {string.Join(",\n  ", cols)}\n)";
            yield return $"CREATE INDEX IF NOT EXISTS idx_{t.Name}_loop ON {t.Name}(task_run_id, loop_id)";
            yield return $"CREATE INDEX IF NOT EXISTS idx_{t.Name}_bundle ON {t.Name}(asset_bundle_id)";
            if (t.AlsoUnique.Count > 0)
            {
                yield return $"CREATE UNIQUE INDEX IF NOT EXISTS ux_{t.Name}_workspace " +
                    $"ON {t.Name}({string.Join(", ", t.AlsoUnique)})";
            }

            if (t.Kind == Catalogs.CatalogKind.Factor)
                yield return $"CREATE INDEX IF NOT EXISTS idx_{t.Name}_name ON {t.Name}(name, source)";
        }
        var id = d == SqlDialect.Postgres
            ? "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            : "id INTEGER PRIMARY KEY AUTOINCREMENT";
        yield return $"""
            CREATE TABLE IF NOT EXISTS rdbridge_sync_runs (
              {id}, mode TEXT NOT NULL, status TEXT NOT NULL, stage TEXT,
              started_at TEXT NOT NULL, finished_at TEXT, since TEXT, counts TEXT, errors TEXT)
            """;
    }

    private static IEnumerable<string> V3(SqlDialect d)
    {
        foreach (var t in CatalogTable.All)
        {
            foreach (var c in t.Columns.Where(c => c.Since == 3))
                yield return $"ALTER TABLE {t.Name} ADD COLUMN {c.Name} {TypeOf(c.Type, d)}";
        }
        // Rows imported before this version get their metric columns from the JSON they already hold.
        var metric = (string m) => d == SqlDialect.Postgres
            ? $"(performance_metrics->>'{m}')::double precision"
            : $"json_extract(performance_metrics, '$.{m}')";
        yield return "UPDATE aistock_factor_catalog SET " +
            $"{string.Join(", ", CatalogTable.FactorMetrics.Select(m => $"{m} = {metric(m)}"))} " +
            "WHERE performance_metrics IS NOT NULL";
        // In the order the UI asks for (best first, missing last), with the key as tie-breaker, so a sorted page is
        // read straight off the index; scanned backwards the same index serves the ascending order.
        var desc = d == SqlDialect.Postgres ? "DESC NULLS LAST" : "DESC";
        foreach (var m in new[] { "ic", "rank_ic", "annualized_return", "information_ratio", "max_drawdown" })
        {
            yield return $"CREATE INDEX idx_aistock_factor_catalog_{m} " +
                $"ON aistock_factor_catalog({m} {desc}, factor_id DESC)";
        }

        foreach (var m in new[] { "annualized_return", "ic", "information_ratio" })
        {
            yield return $"CREATE INDEX idx_aistock_loop_catalog_{m} " +
                $"ON aistock_loop_catalog({m} {desc}, task_run_id DESC, loop_id DESC)";
        }

        yield return "CREATE INDEX idx_aistock_factor_catalog_origin ON aistock_factor_catalog(origin)";
        if (d == SqlDialect.Postgres)
        {
            // Substring search by name, expression or Chinese description, from trigram indexes: pg_trgm is a trusted
            // extension (any database owner may create it); where it is not installed the search still works, by
            // scanning.
            yield return """
                DO $do$
                BEGIN
                  CREATE EXTENSION IF NOT EXISTS pg_trgm;
                EXCEPTION WHEN OTHERS THEN
                  RAISE NOTICE 'pg_trgm is not available (%); factor search will scan the table', SQLERRM;
                END
                $do$
                """;
            yield return """
                DO $do$
                BEGIN
                  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                    CREATE INDEX idx_aistock_factor_catalog_name_trgm ON aistock_factor_catalog
                      USING gin (name gin_trgm_ops);
                    CREATE INDEX idx_aistock_factor_catalog_expression_trgm ON aistock_factor_catalog
                      USING gin (expression gin_trgm_ops);
                    CREATE INDEX idx_aistock_factor_catalog_description_trgm ON aistock_factor_catalog
                      USING gin (description_cn gin_trgm_ops);
                  END IF;
                END
                $do$
                """;
        }
        yield return "CREATE INDEX idx_aistock_loop_catalog_origin ON aistock_loop_catalog(origin)";
        yield return "ALTER TABLE rdbridge_sync_runs ADD COLUMN progress DOUBLE PRECISION";
        yield return """
            CREATE TABLE rdbridge_sources (
              name TEXT PRIMARY KEY, url TEXT NOT NULL, watermark TEXT, last_sync_at TEXT, last_status TEXT,
              last_error TEXT)
            """;
    }

    private static IEnumerable<string> ResearchTexts(SqlDialect d)
    {
        foreach (var t in CatalogTable.All)
        {
            var added = t.Columns.Where(c => c.Since == CatalogTable.ResearchTextsVersion).ToList();
            foreach (var c in added) yield return $"ALTER TABLE {t.Name} ADD COLUMN {c.Name} {TypeOf(c.Type, d)}";
            if (added.Count == 0) continue;
            // Rows imported before this version (the fork's factor catalog has formula_hint) get the columns from the
            // payload they already hold.
            string FromPayload(CatalogColumn c) => d == SqlDialect.Postgres
                ? $"payload #>> '{{{c.JsonField.Replace('.', ',')}}}'"
                : $"json_extract(payload, '$.{c.JsonField}')";
            yield return $"UPDATE {t.Name} SET " +
                string.Join(", ", added.Select(c => $"{c.Name} = {FromPayload(c)}"));
        }
        // Loops are filtered by status and the step they reached (where running loops are, where failed ones stopped).
        yield return "CREATE INDEX idx_aistock_loop_catalog_step ON aistock_loop_catalog(status, step_name)";
        if (d == SqlDialect.Postgres)
        {
            // Substring search of a loop's hypothesis and a factor's formulation, as for the factor texts (version 3).
            yield return """
                DO $do$
                BEGIN
                  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                    CREATE INDEX idx_aistock_loop_catalog_hypothesis_trgm ON aistock_loop_catalog
                      USING gin (hypothesis gin_trgm_ops);
                    CREATE INDEX idx_aistock_factor_catalog_formula_hint_trgm ON aistock_factor_catalog
                      USING gin (formula_hint gin_trgm_ops);
                  END IF;
                END
                $do$
                """;
        }
    }

    private static IEnumerable<string> V5(SqlDialect d)
    {
        // Every column a page can be sorted by, in the order the API asks (value, then the key as tie-breaker), so
        // that no sort reads the whole table: at 200,000 factors sorting by icir read 1 GB of rows for 50 (0.9 s).
        // Columns version 3 indexed, and keys (their primary key serves them), are not repeated.
        var desc = d == SqlDialect.Postgres ? "DESC NULLS LAST" : "DESC";
        var sorts = new (string Table, string[] Key, string[] Columns)[]
        {
            ("aistock_factor_catalog", ["factor_id"],
                ["icir", "rank_icir", "loop_id", "occurrences", "source", "task_run_id", "updated_at", "name"]),
            ("aistock_loop_catalog", ["task_run_id", "loop_id"],
                ["max_drawdown", "ic_ir", "rank_ic", "loop_id", "started_at_utc", "ended_at_utc", "status",
                    "updated_at"]),
            ("aistock_model_catalog", ["model_id"], ["loop_id", "model_type", "task_run_id", "updated_at"]),
            ("aistock_strategy_catalog", ["strategy_id"], ["loop_id", "task_run_id", "updated_at"]),
        };
        foreach (var (table, key, columns) in sorts)
        {
            foreach (var c in columns)
            {
                var then = string.Join(", ", key.Where(k => k != c).Select(k => $"{k} DESC"));
                yield return $"CREATE INDEX idx_{table}_by_{c} ON {table}({c} {desc}, {then})";
            }
        }
    }

    private static IEnumerable<string> V2(SqlDialect d)
    {
        yield return """
            CREATE TABLE rdbridge_catalog_imports (
              catalog TEXT PRIMARY KEY, file_sha256 TEXT NOT NULL, table_version BIGINT NOT NULL,
              rows_imported BIGINT NOT NULL, rows_skipped BIGINT NOT NULL, skip_reasons TEXT NOT NULL,
              imported_at TEXT NOT NULL)
            """;
        // Every write to a catalog table, by RdBridge or by anybody else, moves its version on; a catalog file is only
        // skipped when its table is exactly as the last import left it.
        yield return "CREATE TABLE rdbridge_table_versions (table_name TEXT PRIMARY KEY, version BIGINT NOT NULL)";
        foreach (var t in CatalogTable.All)
            yield return $"INSERT INTO rdbridge_table_versions (table_name, version) VALUES ('{t.Name}', 0)";
        if (d == SqlDialect.Postgres)
        {
            yield return """
                CREATE FUNCTION rdbridge_bump_table_version() RETURNS trigger LANGUAGE plpgsql AS $fn$
                BEGIN
                  UPDATE rdbridge_table_versions SET version = version + 1 WHERE table_name = TG_TABLE_NAME;
                  RETURN NULL;
                END
                $fn$
                """;
            // Statement-level, so a bulk import pays once per statement, not once per row.
            foreach (var t in CatalogTable.All)
            {
                yield return $"CREATE TRIGGER trg_{t.Name}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE " +
                    $"ON {t.Name} FOR EACH STATEMENT EXECUTE FUNCTION rdbridge_bump_table_version()";
            }
        }
        else
        {
            foreach (var t in CatalogTable.All)
            {
                foreach (var op in new[] { "INSERT", "UPDATE", "DELETE" })
                {
                    yield return $"CREATE TRIGGER trg_{t.Name}_{op.ToLowerInvariant()}_version AFTER {op} " +
                        $"ON {t.Name} BEGIN UPDATE rdbridge_table_versions SET version = version + 1 " +
                        $"WHERE table_name = '{t.Name}'; END";
                }
            }
        }
    }

    private static IEnumerable<string> PayloadColumns(SqlDialect d)
    {
        // PostgreSQL 15 has only STORED generated columns, which would save nothing; its TOAST compresses the rows
        // instead (the README gives the measured sizes).
        if (d != SqlDialect.Sqlite) yield break;
        // No index, trigger or view reads these columns, so each is dropped and added again as a virtual column: the
        // same name and text, computed from the payload on every read and stored nowhere. A database made new runs
        // this too, so old and new databases have the same tables. The freed pages are given back by the VACUUM after
        // the migration (SqliteAistockStore).
        foreach (var t in CatalogTable.All)
        {
            foreach (var c in t.Columns.Where(c => c.Since < CatalogTable.PayloadColumnsVersion && t.FromPayload(c)))
            {
                yield return $"ALTER TABLE {t.Name} DROP COLUMN {c.Name}";
                yield return $"ALTER TABLE {t.Name} ADD COLUMN {c.Name} TEXT " +
                    $"GENERATED ALWAYS AS ({CatalogTable.PayloadExpression(c)}) VIRTUAL";
            }
        }
    }

    private static IEnumerable<string> SearchIndexes(SqlDialect d) => SearchIndexTables(d, SearchIndexesOf6);

    private static IEnumerable<string> ModelSearchIndexes(SqlDialect d)
    {
        if (d == SqlDialect.Sqlite) return SearchIndexTables(d, SearchIndexesOf8);
        // PostgreSQL: a search is an OR of ILIKEs, which a trigram index answers only when every column in it has one;
        // versions 3 and 4 indexed the factors' texts and the loops' hypothesis only, so a model, strategy or loop
        // search read the whole table (10,000 rows at 200,000 factors), whatever it found. Every searched column is
        // named, the loops' hypothesis too: where version 4 made its index, IF NOT EXISTS leaves it; where it could
        // not (no pg_trgm then), it is made now.
        var columns = SearchIndexesOf8.Append(SearchIndexesOf6[1])
            .SelectMany(i => i.Columns.Select(c => (i.Table, Column: c)));
        var creates = string.Join("\n", columns.Select(x =>
            $"    CREATE INDEX IF NOT EXISTS idx_{x.Table}_{x.Column}_trgm " +
            $"ON {x.Table} USING gin ({x.Column} gin_trgm_ops);"));
        return [$"""
            DO $do$
            BEGIN
              IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
            {creates}
              END IF;
            END
            $do$
            """];
    }

    private static IEnumerable<string> SearchIndexTables(SqlDialect d, IReadOnlyList<SearchIndex> indexes)
    {
        // PostgreSQL searches the same columns through pg_trgm's indexes (versions 3 and 4), or for models and
        // strategies (at most one a loop) by scanning.
        if (d != SqlDialect.Sqlite) yield break;
        // Substring search (q=) was LIKE '%…%' over every row: seconds at 200,000 factors. FTS5's trigram tokenizer
        // indexes every three-character run, so any substring of three characters or more — a Chinese word, part of
        // an identifier — is found from the index. The index keeps no copy of the texts (external content: it reads
        // them from the catalog table by rowid, which VACUUM keeps for a table with rows), and triggers keep it in
        // step with every write, RdBridge's or anybody else's. Case-insensitive, like SQLite's LIKE.
        foreach (var (t, s, cols) in indexes)
        {
            string Values(string row) => string.Join(", ", cols.Select(c => $"{row}.{c}"));
            yield return $"CREATE VIRTUAL TABLE {s} USING fts5({string.Join(", ", cols)}, " +
                $"content='{t}', content_rowid='rowid', tokenize='trigram case_sensitive 0')";
            yield return $"INSERT INTO {s}({s}) VALUES ('rebuild')";
            var add = $"INSERT INTO {s}(rowid, {string.Join(", ", cols)}) VALUES (new.rowid, {Values("new")});";
            var remove = $"INSERT INTO {s}({s}, rowid, {string.Join(", ", cols)}) " +
                $"VALUES ('delete', old.rowid, {Values("old")});";
            yield return $"CREATE TRIGGER trg_{s}_insert AFTER INSERT ON {t} BEGIN {add} END";
            yield return $"CREATE TRIGGER trg_{s}_delete AFTER DELETE ON {t} BEGIN {remove} END";
            // An import rewrites every column of a changed row; the index is touched only when a searched text
            // changed.
            var changed = string.Join(" OR ", cols.Select(c => $"old.{c} IS NOT new.{c}"));
            yield return $"CREATE TRIGGER trg_{s}_update AFTER UPDATE ON {t} " +
                $"WHEN {changed} OR old.rowid IS NOT new.rowid BEGIN {remove} {add} END";
        }
    }
}
