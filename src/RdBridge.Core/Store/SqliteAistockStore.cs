using System.Text.Json;
using Microsoft.Data.Sqlite;
using RdBridge.Catalogs;

namespace RdBridge.Store;

/// <summary>The embedded AIstock store: one SQLite file under the AIstock root, so a first run needs no server.</summary>
public sealed class SqliteAistockStore : IAistockStore
{
    private readonly SqliteConnection _connection;
    private readonly string _path;

    public SqliteAistockStore(string path)
    {
        _path = path;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false, DefaultTimeout = 30 }.ToString());
        try
        {
            _connection.Open();
            Exec("PRAGMA busy_timeout = 10000");
            Exec("PRAGMA journal_mode = WAL");
        }
        catch (SqliteException e)
        {
            _connection.Dispose();
            throw new StoreException($"AIstock database '{path}' cannot be opened: {e.Message}; check aistock.database in rdbridge.json");
        }
    }

    public string Describe => $"SQLite {_path}";

    /// <summary>The schema in versions; each is applied once, in order, and recorded in <c>schema_migrations</c>.</summary>
    internal static IReadOnlyList<(int Version, string[] Statements)> Migrations =>
    [
        (1, [.. CatalogTable.All.SelectMany(CreateTable),
            """
            CREATE TABLE IF NOT EXISTS rdbridge_sync_runs (
              id INTEGER PRIMARY KEY AUTOINCREMENT, mode TEXT NOT NULL, status TEXT NOT NULL, stage TEXT,
              started_at TEXT NOT NULL, finished_at TEXT, since TEXT, counts TEXT, errors TEXT)
            """]),
    ];

    private static IEnumerable<string> CreateTable(CatalogTable t)
    {
        var cols = t.Columns.Select(c => $"{c.Name} {SqlType(c.Type)}")
            .Concat(["payload TEXT NOT NULL", "content_hash TEXT NOT NULL", "imported_at TEXT NOT NULL", "updated_at TEXT NOT NULL", $"PRIMARY KEY ({string.Join(", ", t.Key)})"]);
        yield return $"CREATE TABLE IF NOT EXISTS {t.Name} (\n  {string.Join(",\n  ", cols)}\n)";
        yield return $"CREATE INDEX IF NOT EXISTS idx_{t.Name}_loop ON {t.Name}(task_run_id, loop_id)";
        yield return $"CREATE INDEX IF NOT EXISTS idx_{t.Name}_bundle ON {t.Name}(asset_bundle_id)";
        if (t.Kind == CatalogKind.Model)
            yield return $"CREATE UNIQUE INDEX IF NOT EXISTS ux_{t.Name}_workspace ON {t.Name}(task_run_id, loop_id, workspace_id)";
        if (t.Kind == CatalogKind.Factor)
            yield return $"CREATE INDEX IF NOT EXISTS idx_{t.Name}_name ON {t.Name}(name, source)";
    }

    private static string SqlType(ColumnType t) => t switch
    {
        ColumnType.Integer => "INTEGER",
        ColumnType.Real => "REAL",
        ColumnType.Boolean => "BOOLEAN",
        _ => "TEXT",
    };

    public IReadOnlyList<int> Migrate()
    {
        Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
        var applied = new List<int>();
        foreach (var (version, statements) in Migrations)
        {
            using var check = _connection.CreateCommand();
            check.CommandText = "SELECT count(*) FROM schema_migrations WHERE version = $v";
            check.Parameters.AddWithValue("$v", version);
            if ((long)check.ExecuteScalar()! > 0) continue;
            using var tx = _connection.BeginTransaction();
            foreach (var sql in statements)
            {
                using var cmd = _connection.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = sql;
                cmd.ExecuteNonQuery();
            }
            using (var mark = _connection.CreateCommand())
            {
                mark.Transaction = tx;
                mark.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES ($v, $t)";
                mark.Parameters.AddWithValue("$v", version);
                mark.Parameters.AddWithValue("$t", IO.UtcText.Now());
                mark.ExecuteNonQuery();
            }
            tx.Commit();
            applied.Add(version);
        }
        return applied;
    }

    public IImportSession BeginImport() => new Session(this);

    private sealed class Session : IImportSession
    {
        private readonly SqliteAistockStore _store;
        private readonly SqliteTransaction _tx;

        public Session(SqliteAistockStore store)
        {
            _store = store;
            _tx = store._connection.BeginTransaction(deferred: false);
        }

        public ImportSummary Import(CatalogKind kind, IEnumerable<JsonElement> records)
        {
            // A catalog that turns out to be malformed half-way is rolled back alone; the others still land.
            _tx.Save("catalog");
            try
            {
                var summary = ImportRecords(kind, records);
                _tx.Release("catalog");
                return summary;
            }
            catch
            {
                _tx.Rollback("catalog");
                _tx.Release("catalog");
                throw;
            }
        }

        private ImportSummary ImportRecords(CatalogKind kind, IEnumerable<JsonElement> records)
        {
            var table = CatalogTable.For(kind);
            var conn = _store._connection;
            var keyWhere = string.Join(" AND ", table.Key.Select(k => $"{k} = ${k}"));
            using var select = conn.CreateCommand();
            select.Transaction = _tx;
            select.CommandText = $"SELECT content_hash FROM {table.Name} WHERE {keyWhere}";
            var allColumns = table.Columns.Select(c => c.Name).Concat(["payload", "content_hash", "imported_at", "updated_at"]).ToList();
            using var insert = conn.CreateCommand();
            insert.Transaction = _tx;
            insert.CommandText = $"INSERT INTO {table.Name} ({string.Join(", ", allColumns)}) VALUES ({string.Join(", ", allColumns.Select(c => "$" + c))})";
            using var update = conn.CreateCommand();
            update.Transaction = _tx;
            update.CommandText = $"UPDATE {table.Name} SET {string.Join(", ", allColumns.Where(c => c != "imported_at" && !table.Key.Contains(c)).Select(c => $"{c} = ${c}"))} WHERE {keyWhere}";

            long inserted = 0, updated = 0, unchanged = 0, skipped = 0;
            var skipReasons = new List<string>();
            var failures = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var now = IO.UtcText.Now();
            foreach (var record in records)
            {
                var (values, hash, error) = table.Map(record);
                if (error is not null)
                {
                    skipped++;
                    skipReasons.Add($"{kind.ToString().ToLowerInvariant()} record skipped: {error}");
                    continue;
                }
                var key = table.KeyOf(values);
                if (!seen.Add(key))
                {
                    // First occurrence wins, so the same payload always lands the same way.
                    skipped++;
                    skipReasons.Add($"{kind.ToString().ToLowerInvariant()} {key} appears more than once in the catalog; the first record was kept");
                    continue;
                }
                select.Parameters.Clear();
                foreach (var k in table.Key) select.Parameters.AddWithValue("$" + k, values[k] ?? DBNull.Value);
                var existing = select.ExecuteScalar() as string;
                if (existing == hash) { unchanged++; continue; }
                var cmd = existing is null ? insert : update;
                cmd.Parameters.Clear();
                foreach (var c in table.Columns) cmd.Parameters.AddWithValue("$" + c.Name, values[c.Name] ?? DBNull.Value);
                cmd.Parameters.AddWithValue("$payload", record.GetRawText());
                cmd.Parameters.AddWithValue("$content_hash", hash);
                cmd.Parameters.AddWithValue("$updated_at", now);
                if (existing is null) cmd.Parameters.AddWithValue("$imported_at", now);
                try
                {
                    cmd.ExecuteNonQuery();
                    if (existing is null) inserted++; else updated++;
                }
                catch (SqliteException e) when (e.SqliteErrorCode == 19)
                {
                    failures.Add($"{kind.ToString().ToLowerInvariant()} {key}: {e.Message}");
                }
            }
            return new ImportSummary(kind, inserted, updated, unchanged, skipped, skipReasons, failures);
        }

        public void Commit() => _tx.Commit();
        public void Dispose() => _tx.Dispose();
    }

    public long Count(CatalogKind kind) => Scalar($"SELECT count(*) FROM {CatalogTable.For(kind).Name}");
    public long CountWithBundle(CatalogKind kind) => Scalar($"SELECT count(asset_bundle_id) FROM {CatalogTable.For(kind).Name}");

    public IReadOnlyList<IReadOnlyList<object?>> Query(string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in parameters) cmd.Parameters.AddWithValue(n, v ?? DBNull.Value);
        using var reader = cmd.ExecuteReader();
        var rows = new List<IReadOnlyList<object?>>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public long StartSyncRun(string mode, string? since)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "INSERT INTO rdbridge_sync_runs (mode, status, stage, started_at, since) VALUES ($m, 'running', 'starting', $t, $s) RETURNING id";
        cmd.Parameters.AddWithValue("$m", mode);
        cmd.Parameters.AddWithValue("$t", IO.UtcText.Now());
        cmd.Parameters.AddWithValue("$s", (object?)since ?? DBNull.Value);
        return (long)cmd.ExecuteScalar()!;
    }

    public void UpdateSyncRun(long id, string stage)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "UPDATE rdbridge_sync_runs SET stage = $s WHERE id = $id";
        cmd.Parameters.AddWithValue("$s", stage);
        cmd.Parameters.AddWithValue("$id", id);
        cmd.ExecuteNonQuery();
    }

    public void FinishSyncRun(long id, string status, string countsJson, string errorsJson)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "UPDATE rdbridge_sync_runs SET status = $st, stage = 'finished', finished_at = $t, counts = $c, errors = $e WHERE id = $id";
        cmd.Parameters.AddWithValue("$st", status);
        cmd.Parameters.AddWithValue("$t", IO.UtcText.Now());
        cmd.Parameters.AddWithValue("$c", countsJson);
        cmd.Parameters.AddWithValue("$e", errorsJson);
        cmd.Parameters.AddWithValue("$id", id);
        cmd.ExecuteNonQuery();
    }

    public SyncRun? LastSyncRun(bool successfulOnly)
    {
        var rows = Query($"SELECT id, mode, status, stage, started_at, finished_at, since, counts, errors FROM rdbridge_sync_runs {(successfulOnly ? "WHERE status = 'succeeded'" : "")} ORDER BY id DESC LIMIT 1");
        if (rows.Count == 0) return null;
        var r = rows[0];
        return new SyncRun((long)r[0]!, (string)r[1]!, (string)r[2]!, r[3] as string, (string)r[4]!, r[5] as string, r[6] as string, r[7] as string, r[8] as string);
    }

    private long Scalar(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private void Exec(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();
}

/// <summary>The AIstock database cannot be used; the message names the fix. Exit code 2.</summary>
public sealed class StoreException(string message) : Exception(message);

public static class AistockStores
{
    public static IAistockStore Open(Configuration.RdBridgeSettings settings)
    {
        if (settings.AistockDatabaseIsPostgres)
            throw new StoreException("aistock.database is a PostgreSQL connection string; PostgreSQL support is not in this build yet — use a SQLite file path (the default is aistock.db under aistock.root)");
        var store = new SqliteAistockStore(settings.AistockDatabase);
        store.Migrate();
        return store;
    }
}
