using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using RdBridge.Catalogs;

namespace RdBridge.Store;

/// <summary>
/// AIstock's production store. Imports stream the new and changed records through binary COPY into a temporary
/// staging table and merge them into the catalog table with one set-based statement, inside the import's single
/// transaction. Syncs take a session-level advisory lock, so two syncs never interleave whatever machine runs them.
/// </summary>
public sealed class PostgresAistockStore : DbAistockStore
{
    /// <summary>The advisory lock key every RdBridge sync takes ("RDBridge" in ASCII).</summary>
    public const long SyncLockKey = 0x5244_4272_6964_6765;

    private readonly NpgsqlConnectionStringBuilder _target;

    public PostgresAistockStore(string connectionString) : this(Parse(connectionString)) { }

    private PostgresAistockStore(NpgsqlConnectionStringBuilder target)
        : base(OpenConnection(target), SqlDialect.Postgres)
    {
        _target = target;
    }

    /// <summary>
    /// From this catalog size on, a first import into an empty table drops the table's secondary indexes and builds
    /// them after the COPY (see the import session). About 10,000 factor records.
    /// </summary>
    public long BulkLoadBytes { get; init; } = 16L << 20;

    public override string Describe => $"PostgreSQL {_target.Host}:{_target.Port}/{_target.Database}";

    /// <summary>
    /// Accepts Npgsql's <c>Host=…;Database=…</c> form and the <c>postgresql://user:password@host:port/database</c> URI
    /// that <c>psql</c> users write. The database defaults to <c>aistock</c>, as in the guide.
    /// </summary>
    public static NpgsqlConnectionStringBuilder Parse(string text)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder();
            if (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
                || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            {
                var uri = new Uri(text);
                b.Host = uri.Host;
                if (uri.Port > 0) b.Port = uri.Port;
                var user = uri.UserInfo.Split(':', 2);
                if (user[0].Length > 0) b.Username = Uri.UnescapeDataString(user[0]);
                if (user.Length > 1) b.Password = Uri.UnescapeDataString(user[1]);
                var db = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
                if (db.Length > 0) b.Database = db;
                foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
                {
                    var kv = pair.Split('=', 2);
                    b[kv[0] == "sslmode" ? "SSL Mode" : Uri.UnescapeDataString(kv[0])] =
                        kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
                }
            }
            else
            {
                b.ConnectionString = text;
            }

            if (string.IsNullOrEmpty(b.Database)) b.Database = "aistock";
            b.ApplicationName ??= "rdbridge";
            // The API asks the same few catalog queries over and over; planning them each time cost as much as running
            // them. Statements seen a few times are prepared (unless the user chose, in a URI too: a space is %20).
            var written = Uri.UnescapeDataString(text).Replace(" ", "");
            if (!written.Contains("maxautoprepare", StringComparison.OrdinalIgnoreCase))
                b.MaxAutoPrepare = 64;
            return b;
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException or FormatException
                                      or KeyNotFoundException)
        {
            throw new StoreException($"aistock.database is not a usable PostgreSQL connection string ({e.Message}); " +
                "write it as 'Host=127.0.0.1;Port=5432;Database=aistock;Username=postgres' or " +
                "'postgresql://postgres@127.0.0.1:5432/aistock'");
        }
    }

    private static NpgsqlConnection OpenConnection(NpgsqlConnectionStringBuilder target)
    {
        var connection = new NpgsqlConnection(target.ConnectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            connection.Dispose();
            throw Explain(target, e);
        }
    }

    private static StoreException Explain(NpgsqlConnectionStringBuilder t, Exception e) => e switch
    {
        PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } =>
            new($"PostgreSQL database '{t.Database}' does not exist on {t.Host}:{t.Port}; " +
                "run 'rdbridge doctor --fix' to create it, or create it yourself " +
                $"(createdb -h {t.Host} -p {t.Port} -U {t.Username} {t.Database})"),
        PostgresException
        {
            SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification
        } p =>
            new($"PostgreSQL at {t.Host}:{t.Port} refused user '{t.Username}': {p.MessageText}; " +
                "check the user and password in aistock.database"),
        PostgresException p => new($"PostgreSQL at {t.Host}:{t.Port}: {p.MessageText}"),
        _ => new($"cannot reach PostgreSQL at {t.Host}:{t.Port} ({e.InnerException?.Message ?? e.Message}); " +
            "check that the server runs and that aistock.database names it"),
    };

    /// <summary>
    /// Creates the configured database when it does not exist (what <c>doctor --fix</c> does); true when it did.
    /// </summary>
    public static bool CreateDatabaseIfMissing(string connectionString)
    {
        var target = Parse(connectionString);
        var admin = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Database = "postgres" };
        using var connection = new NpgsqlConnection(admin.ConnectionString);
        try
        {
            connection.Open();
            using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @d", connection);
            exists.Parameters.AddWithValue("d", target.Database!);
            if ((long)exists.ExecuteScalar()! > 0) return false;
            using var create = new NpgsqlCommand(
                $"CREATE DATABASE \"{target.Database!.Replace("\"", "\"\"")}\" ENCODING 'UTF8' TEMPLATE template0",
                connection);
            create.ExecuteNonQuery();
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw Explain(admin, e);
        }
    }

    protected override void MakeWhatVersionsCouldNot() => Exec(StoreSchema.MissingTrigramIndexes);

    protected override bool TableExists(string name) =>
        Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = @n",
            null, ("@n", name)) > 0;

    /// <summary>
    /// Takes the session-level advisory lock. Without a wait it only tries. With one, the server waits for the lock
    /// (lock_timeout, for this transaction alone), so a waiting sync starts the moment the other lets go, where
    /// polling started it up to a poll later. The lock outlives the transaction that took it (session level); the
    /// timeout does not (set_config's is_local, as SET LOCAL), so the connection's later statements never meet it.
    /// </summary>
    public override IDisposable AcquireSyncLock(TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero)
        {
            var taken = Scalar("SELECT CASE WHEN pg_try_advisory_lock(@k) THEN 1 ELSE 0 END", null,
                ("@k", SyncLockKey));
            return taken == 1 ? new Unlock(this) : throw Busy(wait);
        }

        // Whole milliseconds, rounded up (0 would mean no limit), at most lock_timeout's largest value (24.8 days).
        var ms = (long)Math.Min(int.MaxValue, Math.Ceiling(wait.TotalMilliseconds));
        using var tx = Connection.BeginTransaction();
        Exec("SELECT set_config('lock_timeout', @ms, true)", tx, ("@ms", ms.ToString(CultureInfo.InvariantCulture)));
        using var take = Command("SELECT pg_advisory_lock(@k)", tx, ("@k", SyncLockKey));
        // The server bounds the wait; the client's command timeout (30 s unless set) would cut a longer one short.
        take.CommandTimeout = 0;
        try
        {
            take.ExecuteNonQuery();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw Busy(wait);
        }
        tx.Commit();
        return new Unlock(this);
    }

    private Runs.SyncBusyException Busy(TimeSpan wait) => new(
        $"another init/sync holds the sync lock of {Describe} (a PostgreSQL advisory lock) " +
        $"for more than {wait.TotalSeconds:0} s; wait for it to finish, or check 'rdbridge sync-status'");

    private sealed class Unlock(PostgresAistockStore store) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            store.Exec("SELECT pg_advisory_unlock(@k)", null, ("@k", SyncLockKey));
        }
    }

    public override IImportSession BeginImport() => new Session(this);

    /// <summary>
    /// Drops the table's indexes other than its primary key and unique ones (those must check every row as it arrives)
    /// and returns the statements that create them again, in a fixed order.
    /// </summary>
    private List<string> DropSecondaryIndexes(CatalogTable table, System.Data.Common.DbTransaction tx)
    {
        var indexes = new List<(string Name, string Create)>();
        using (var cmd = Command("""
            SELECT c.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = to_regclass(@t) AND NOT i.indisprimary AND NOT i.indisunique
            ORDER BY c.relname
            """, tx, ("@t", table.Name)))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) indexes.Add((r.GetString(0), r.GetString(1)));
        foreach (var (name, _) in indexes) Exec($"DROP INDEX \"{name}\"", tx);
        return [.. indexes.Select(i => i.Create)];
    }

    private sealed class Session(PostgresAistockStore store)
        : ImportSession<PostgresAistockStore>(store, c => c.BeginTransaction())
    {
        private NpgsqlConnection Connection => (NpgsqlConnection)Store.Connection;

        public override WriteResult Write(CatalogKind kind, IEnumerable<CatalogRow> rows, long sourceBytes = 0)
        {
            var table = CatalogTable.For(kind);
            var stage = $"rdbridge_stage_{kind.ToString().ToLowerInvariant()}";
            var name = kind.ToString().ToLowerInvariant();
            var failures = new List<string>();
            // Into an empty table every record is an insert, so the rows go straight in: one COPY, the physical limit.
            // (A table with a second unique key keeps the staging path, which reports those conflicts record by
            // record.)
            var direct = table.AlsoUnique.Count == 0
                && Store.Scalar($"SELECT count(*) FROM (SELECT 1 FROM {table.Name} LIMIT 1) AS any_row", Tx) == 0;
            if (!direct)
            {
                Store.Exec($"DROP TABLE IF EXISTS {stage}", Tx);
                Store.Exec($"CREATE TEMP TABLE {stage} (LIKE {table.Name} INCLUDING DEFAULTS, " +
                    "rdbridge_ord BIGINT NOT NULL) ON COMMIT DROP", Tx);
            }

            var tableColumns = Store.ColumnsOf(table);
            var columns = tableColumns.Select(c => c.Name)
                .Concat(["payload", "content_hash", "imported_at", "updated_at"]).ToList();
            var now = IO.UtcText.Now();
            long staged = 0;
            var into = direct
                ? $"{table.Name} ({string.Join(", ", columns)})"
                : $"{stage} ({string.Join(", ", columns)}, rdbridge_ord)";
            // Filling an empty table from a large catalog, its secondary indexes (metric sorts, trigram search: a
            // dozen on factors) are built once from the loaded rows instead of being updated row by row, which made
            // the COPY several times slower. It happens in the import's transaction: a failed import puts the indexes
            // back with the empty table, and a reader of this table waits for the commit (then sees it whole) instead
            // of seeing it empty, so small catalogs, which load in moments anyway, keep their indexes and never make a
            // reader wait.
            var rebuild = direct && sourceBytes >= Store.BulkLoadBytes ? Store.DropSecondaryIndexes(table, Tx) : [];
            using (var copy = Connection.BeginBinaryImport($"COPY {into} FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var row in rows)
                {
                    if (Unstorable(table, row) is { } why) { failures.Add($"{name} {row.Key}: {why}"); continue; }
                    copy.StartRow();
                    foreach (var c in tableColumns) WriteValue(copy, row.Values[c.Name], c.Type);
                    copy.Write(row.Payload, NpgsqlDbType.Jsonb);
                    copy.Write(row.ContentHash, NpgsqlDbType.Text);
                    copy.Write(now, NpgsqlDbType.Text);
                    copy.Write(now, NpgsqlDbType.Text);
                    if (direct) staged++;
                    else copy.Write(staged++, NpgsqlDbType.Bigint);
                }
                copy.Complete();
            }
            if (direct)
            {
                foreach (var create in rebuild) Store.Exec(create, Tx);
                return new WriteResult(staged, 0, 0, failures);
            }
            if (staged == 0) return new WriteResult(0, 0, 0, failures);

            var keyMatch = string.Join(" AND ", table.Key.Select(k => $"t.{k} = s.{k}"));
            if (Store.HasOriginColumn)
            {
                // A key another source already holds stays theirs.
                using var cmd = Store.Command(
                    $"DELETE FROM {stage} s USING {table.Name} t WHERE {keyMatch} " +
                    "AND t.origin IS DISTINCT FROM s.origin " +
                    $"RETURNING {string.Join(", ", table.Key.Select(k => "s." + k))}, t.origin", Tx);
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    failures.Add(
                        $"{name} " +
                        $"{string.Join("/", Enumerable.Range(0, table.Key.Count).Select(i => r.GetValue(i)))}: " +
                        CatalogImport.Collision(r.IsDBNull(table.Key.Count) ? null : r.GetString(table.Key.Count)));
                }
            }
            if (table.AlsoUnique.Count > 0)
            {
                var what = $"another {name} already has this {string.Join(" + ", table.AlsoUnique)}";
                foreach (var sql in new[]
                {
                    // Taken by a stored row under another key …
                    $"DELETE FROM {stage} s USING {table.Name} t " +
                    $"WHERE ({string.Join(", ", table.AlsoUnique.Select(a => "t." + a))}) " +
                    $"= ({string.Join(", ", table.AlsoUnique.Select(a => "s." + a))}) " +
                    $"AND ({string.Join(", ", table.Key.Select(k => "t." + k))}) " +
                    $"<> ({string.Join(", ", table.Key.Select(k => "s." + k))}) " +
                    $"RETURNING {string.Join(", ", table.Key.Select(k => "s." + k))}, " +
                    $"{string.Join(", ", table.AlsoUnique.Select(a => "s." + a))}",
                    // … or by an earlier record of this same catalog.
                    $"DELETE FROM {stage} s USING {stage} o " +
                    $"WHERE ({string.Join(", ", table.AlsoUnique.Select(a => "o." + a))}) " +
                    $"= ({string.Join(", ", table.AlsoUnique.Select(a => "s." + a))}) " +
                    "AND o.rdbridge_ord < s.rdbridge_ord " +
                    $"RETURNING {string.Join(", ", table.Key.Select(k => "s." + k))}, " +
                    $"{string.Join(", ", table.AlsoUnique.Select(a => "s." + a))}",
                })
                {
                    using var cmd = Store.Command(sql, Tx);
                    using var r = cmd.ExecuteReader();
                    while (r.Read())
                    {
                        var keyText = string.Join("/", Enumerable.Range(0, table.Key.Count).Select(i => r.GetValue(i)));
                        var altText = string.Join("/", Enumerable.Range(table.Key.Count, table.AlsoUnique.Count)
                            .Select(i => r.IsDBNull(i) ? "∅" : r.GetValue(i)));
                        failures.Add($"{name} {keyText}: {what} ({altText}); the record was not imported");
                    }
                }
            }

            var set = string.Join(", ", columns.Where(c => c != "imported_at" && !table.Key.Contains(c))
                .Select(c => $"{c} = excluded.{c}"));
            using var merge = Store.Command($"""
                WITH merged AS (
                  INSERT INTO {table.Name} AS t ({string.Join(", ", columns)})
                  SELECT {string.Join(", ", columns)} FROM {stage} ORDER BY rdbridge_ord
                  ON CONFLICT ({string.Join(", ", table.Key)}) DO UPDATE SET {set}
                  WHERE t.content_hash IS DISTINCT FROM excluded.content_hash
                  RETURNING (xmax = 0) AS inserted)
                SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                  (SELECT count(*) FROM {stage}) FROM merged
                """, Tx);
            using var result = merge.ExecuteReader();
            result.Read();
            var (inserted, updated, remaining) = (result.GetInt64(0), result.GetInt64(1), result.GetInt64(2));
            // Rows that were staged but matched the stored content (someone else wrote the same record meanwhile).
            return new WriteResult(inserted, updated, remaining - inserted - updated, failures);
        }

        /// <summary>
        /// PostgreSQL cannot hold a NUL character in text or JSONB; such a record is reported, not sent.
        /// </summary>
        private static string? Unstorable(CatalogTable table, CatalogRow row)
        {
            if (row.Payload.Contains("\\u0000", StringComparison.Ordinal))
            {
                return "contains a NUL character (\\u0000), which PostgreSQL cannot store; " +
                    "remove it at the record's source";
            }

            foreach (var c in table.Columns)
            {
                if (row.Values[c.Name] is string s && s.Contains('\0'))
                {
                    return $"field {c.JsonField} contains a NUL character, which PostgreSQL cannot store; " +
                        "remove it at the record's source";
                }
            }

            return null;
        }

        private static void WriteValue(NpgsqlBinaryImporter copy, object? value, ColumnType type)
        {
            if (value is null) { copy.WriteNull(); return; }
            switch (type)
            {
                case ColumnType.Integer: copy.Write(Convert.ToInt64(value), NpgsqlDbType.Bigint); break;
                case ColumnType.Real: copy.Write(Convert.ToDouble(value), NpgsqlDbType.Double); break;
                case ColumnType.Boolean: copy.Write((bool)value, NpgsqlDbType.Boolean); break;
                case ColumnType.Json: copy.Write((string)value, NpgsqlDbType.Jsonb); break;
                default: copy.Write(value.ToString()!, NpgsqlDbType.Text); break;
            }
        }
    }
}
