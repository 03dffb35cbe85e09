using Microsoft.Data.Sqlite;
using RdBridge.Catalogs;
using RdBridge.IO;

namespace RdBridge.Store;

/// <summary>
/// The embedded AIstock store: one SQLite file under the AIstock root, so a first run needs no server.
/// </summary>
public sealed class SqliteAistockStore : DbAistockStore
{
    private readonly string _path;

    /// <param name="mapped">map the file into memory: for the short-lived stores that answer queries (see
    /// <see cref="OpenConnection"/>), not for the verbs that walk whole tables</param>
    public SqliteAistockStore(string path, bool mapped = false) : base(OpenConnection(path, mapped), SqlDialect.Sqlite)
    {
        _path = path;
    }

    private static SqliteConnection OpenConnection(string path, bool mapped)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        // Both SQLite's own busy handler and the driver's retry loop wait the same bounded time for another program's
        // lock, so a held write transaction costs that wait and then a named refusal, never the catch-all error.
        var busy = IO.ReadLimits.DatabaseBusySeconds;
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false, DefaultTimeout = busy,
        }.ToString());
        try
        {
            connection.Open();
            SqliteCommands.RunEach(connection, $"PRAGMA busy_timeout = {busy * 1000L}", "PRAGMA journal_mode = WAL");
            // Every store opens a fresh connection (no pool), so its page cache starts empty and each page a query
            // reads was a read call and a copy; mapped, it is a memory access into the system's file cache. A page of
            // one task run's 2,000 factors sorted by name, on a fresh connection: fastest of 20 59 → 4.8 ms. Only for
            // those: every mapped page a process touches counts in its resident memory, and init, export and verify
            // read whole tables (with every store mapped, verify peaked at 236 MB at 10,000 loops).
            if (mapped) SqliteCommands.RunEach(connection, "PRAGMA mmap_size = 1073741824");
            return connection;
        }
        catch (SqliteException e) when (DatabaseLockedException.IsBusy(e.SqliteErrorCode))
        {
            connection.Dispose();
            throw Locked(path);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new StoreException(
                $"AIstock database '{path}' cannot be opened: {e.Message}; check aistock.database in rdbridge.json");
        }
    }

    public override string Describe => $"SQLite {_path}";

    /// <summary>
    /// From this catalog size on, a first import into an empty table builds the table's secondary indexes and its
    /// search index once after the rows are in (see the import session). Row by row, each insert fires the search
    /// index's trigger, which makes SQLite flush the search index's pending terms at every statement and keep a
    /// statement journal that the catalog's savepoint lets grow (1,000 model records: about 70 MB written to a
    /// temporary file), and the indexes outgrow the 2 MB page cache from about 2,000 factors. About 100 records: below
    /// that both ways take milliseconds, and a small first import (a sync's first loops) keeps the search index laid
    /// out as it always was.
    /// </summary>
    public long BulkLoadBytes { get; init; } = 256L << 10;

    private static DatabaseLockedException Locked(string path) =>
        new("the AIstock database", path, IO.ReadLimits.DatabaseBusySeconds);

    /// <summary>
    /// Waits (bounded) until this connection could write, and gives the lock back at once: a verb that writes learns
    /// at its start, by name, that another program holds the database, instead of failing half-way.
    /// </summary>
    public void WaitUntilWritable()
    {
        try
        {
            Exec("BEGIN IMMEDIATE");
            Exec("ROLLBACK");
        }
        catch (SqliteException e) when (DatabaseLockedException.IsBusy(e.SqliteErrorCode))
        {
            throw Locked(_path);
        }
    }

    /// <summary>
    /// Version 9 took the second copy of the JSON out of every row, and SQLite keeps freed pages inside the file for
    /// later rows: only a VACUUM makes the file smaller (50,000 factors: see the README). It runs once, right after
    /// that migration, on a database that had rows to shrink; the write-ahead log it filled is emptied at once. One
    /// that cannot run (another program busy in it, or too little disk for the copy it writes) leaves the database
    /// correct and migrated: its free pages are filled by the next imports instead.
    /// </summary>
    protected override void GiveBackFreedSpace()
    {
        // Rows made smaller stay on their pages (a page is freed only when emptied): whether the file would shrink
        // is not known from its free pages, only whether there were rows at all.
        if (CatalogTable.All.All(t => Scalar($"SELECT count(*) FROM (SELECT 1 FROM {t.Name} LIMIT 1)") == 0)) return;
        try
        {
            Exec("VACUUM");
            Exec("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6 or 13)
        {
            // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL: see above.
        }
    }

    protected override bool TableExists(string name) =>
        Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = @n", null, ("@n", name)) > 0;

    /// <summary>
    /// A lock file beside the database, so two AIstock roots sharing one database still sync one at a time.
    /// </summary>
    public override IDisposable AcquireSyncLock(TimeSpan wait) => Runs.SyncLock.Acquire(_path + ".sync.lock", wait);

    public override IImportSession BeginImport() => new Session(this);

    /// <summary>
    /// Drops the table's indexes other than its unique ones (those must check every row as it arrives), the trigger
    /// that feeds its search index and the one that counts its inserts into the table's version, and returns what puts
    /// them back: the search index rebuilt from the table's rows, the version counted up by the rows inserted (the
    /// table was empty: one step per row, as the trigger would have), then each statement exactly as
    /// <c>sqlite_master</c> held it.
    /// </summary>
    /// <remarks>
    /// Why the version trigger too: a statement that fires a trigger writes more than one row, so SQLite keeps a
    /// statement journal for it, and inside the catalog's savepoint that journal is not emptied after each statement
    /// but grows with every page each insert touched. For 20,000 factors that was about 85,000 pages (350 MB) written
    /// to a temporary file. A single-row insert without a trigger needs no statement journal (its constraints are
    /// checked before it writes anything).
    /// </remarks>
    private Action SetIndexesAside(CatalogTable table, System.Data.Common.DbTransaction tx)
    {
        // The search index (from schema version 6 on) follows the table through its insert trigger.
        var search = StoreSchema.SearchIndexesOf6.FirstOrDefault(s => s.Table == table.Name)?.Index;
        var feed = $"trg_{search}_insert";
        var counter = $"trg_{table.Name}_insert_version";
        var triggers = new Dictionary<string, string>();
        var indexes = new List<(string Name, string Create)>();
        using (var cmd = Command("""
            SELECT type, name, sql FROM sqlite_master WHERE tbl_name = @t AND sql IS NOT NULL
              AND (type = 'index' AND sql NOT LIKE 'CREATE UNIQUE %' OR type = 'trigger' AND name IN (@feed, @counter))
            ORDER BY name
            """, tx, ("@t", table.Name), ("@feed", feed), ("@counter", counter)))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                if (r.GetString(0) == "index") indexes.Add((r.GetString(1), r.GetString(2)));
                else triggers[r.GetString(1)] = r.GetString(2);
            }
        }
        foreach (var name in triggers.Keys) Exec($"DROP TRIGGER {name}", tx);
        foreach (var (name, _) in indexes) Exec($"DROP INDEX \"{name}\"", tx);
        return () =>
        {
            if (triggers.TryGetValue(counter, out var countInserts))
            {
                Exec($"UPDATE rdbridge_table_versions SET version = version + (SELECT count(*) FROM {table.Name}) "
                    + "WHERE table_name = @t", tx, ("@t", table.Name));
                Exec(countInserts, tx);
            }
            if (triggers.TryGetValue(feed, out var feedSearch))
            {
                Exec($"INSERT INTO {search}({search}) VALUES ('rebuild')", tx);
                Exec(feedSearch, tx);
            }
            foreach (var (_, create) in indexes) Exec(create, tx);
        };
    }

    private sealed class Session(SqliteAistockStore store)
        : ImportSession<SqliteAistockStore>(store, c => Begin(store, (SqliteConnection)c))
    {
        private static SqliteTransaction Begin(SqliteAistockStore store, SqliteConnection c)
        {
            try { return c.BeginTransaction(deferred: false); }
            catch (SqliteException e) when (DatabaseLockedException.IsBusy(e.SqliteErrorCode))
            {
                throw Locked(store._path);
            }
        }

        /// <summary>Row by row with prepared statements: SQLite in one transaction does this at disk speed.</summary>
        public override WriteResult Write(CatalogKind kind, IEnumerable<CatalogRow> rows, long sourceBytes = 0)
        {
            var table = CatalogTable.For(kind);
            var keyWhere = string.Join(" AND ", table.Key.Select(k => $"{k} = @{k}"));
            var columns = Store.ColumnsOf(table);
            var allColumns = columns.Select(c => c.Name)
                .Concat(["payload", "content_hash", "imported_at", "updated_at"]).ToList();
            var hasOrigin = Store.HasOriginColumn;
            using var exists = Store.Command(
                $"SELECT content_hash{(hasOrigin ? ", origin" : "")} FROM {table.Name} WHERE {keyWhere}", Tx);
            using var insert = Store.Command(
                $"INSERT INTO {table.Name} ({string.Join(", ", allColumns)}) " +
                $"VALUES ({string.Join(", ", allColumns.Select(c => "@" + c))})", Tx);
            using var update = Store.Command(
                $"UPDATE {table.Name} SET " + string.Join(", ", allColumns
                    .Where(c => c != "imported_at" && !table.Key.Contains(c)).Select(c => $"{c} = @{c}")) +
                $" WHERE {keyWhere}", Tx);

            long inserted = 0, updated = 0, unchanged = 0;
            var failures = new List<string>();
            var now = IO.UtcText.Now();
            var name = kind.ToString().ToLowerInvariant();
            // Filling an empty table from a large catalog (a first import), its secondary indexes (a dozen metric
            // sorts on factors) and its search index are built once from the rows instead of updated row by row,
            // which spilled pages to the log many times over and doubled the import's time. Into an empty table every
            // record is an insert (the caller passes each key once), so no row is looked up first. It all happens in
            // the import's transaction: a failed import puts the indexes back with the empty table, and a reader sees
            // the table as it was until the commit.
            var empty = sourceBytes >= Store.BulkLoadBytes
                && Store.Scalar($"SELECT count(*) FROM (SELECT 1 FROM {table.Name} LIMIT 1)", Tx) == 0;
            var putBack = empty ? Store.SetIndexesAside(table, Tx) : null;
            foreach (var row in rows)
            {
                string? before = null, owner = null;
                if (!empty)
                {
                    Bind(exists, table.Key.Select(k => ("@" + k, row.Values[k])));
                    using var r = exists.ExecuteReader();
                    if (r.Read())
                        (before, owner) = (r.GetString(0), hasOrigin && !r.IsDBNull(1) ? r.GetString(1) : null);
                }

                if (before == row.ContentHash) { unchanged++; continue; }
                if (before is not null && owner != (string?)row.Values[CatalogTable.Origin.Name])
                {
                    failures.Add($"{name} {row.Key}: {CatalogImport.Collision(owner)}");
                    continue;
                }
                var cmd = before is null ? insert : update;
                Bind(cmd, columns.Select(c => ("@" + c.Name, row.Values[c.Name]))
                    .Concat([("@payload", row.Payload), ("@content_hash", row.ContentHash), ("@updated_at", now)])
                    .Concat(before is null ? [("@imported_at", (object?)now)] : []));
                try
                {
                    cmd.ExecuteNonQuery();
                    if (before is null) inserted++; else updated++;
                }
                catch (SqliteException e) when (e.SqliteErrorCode == 19)
                {
                    failures.Add($"{name} {row.Key}: {e.Message}");
                }
            }
            putBack?.Invoke();
            return new WriteResult(inserted, updated, unchanged, failures);
        }
    }
}

/// <summary>The AIstock database cannot be used; the message names the fix. Exit code 2.</summary>
public sealed class StoreException(string message) : RdBridgeException(message, ExitCodes.UsageError);

public static class AistockStores
{
    /// <summary>Opens the configured store and brings its schema to the latest version.</summary>
    /// <param name="migrate">False for a server that migrated once at start and opens a store per request.</param>
    public static IAistockStore Open(Configuration.RdBridgeSettings settings, bool migrate = true)
    {
        IAistockStore store = settings.AistockDatabaseIsPostgres
            ? new PostgresAistockStore(settings.AistockDatabase)
            : new SqliteAistockStore(settings.AistockDatabase, mapped: !migrate);
        if (store is DbAistockStore db)
            db.BundlePrefix = DbAistockStore.BundlePrefixOf(settings.AistockRoot, settings.AssetCacheDirectory);
        try
        {
            if (migrate && store is SqliteAistockStore sqlite) sqlite.WaitUntilWritable();
            if (migrate) store.Migrate();
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }
}
