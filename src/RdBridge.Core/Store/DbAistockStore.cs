using System.Data.Common;
using RdBridge.Catalogs;

namespace RdBridge.Store;

/// <summary>
/// What both stores do the same way through plain ADO.NET: migrations, queries, counts and the sync history.
/// Only importing and the sync lock differ (COPY and advisory locks on PostgreSQL).
/// </summary>
public abstract class DbAistockStore(DbConnection connection, SqlDialect dialect) : IAistockStore
{
    protected DbConnection Connection { get; } = connection;
    public SqlDialect Dialect { get; } = dialect;
    public abstract string Describe { get; }
    public abstract IImportSession BeginImport();
    public abstract IDisposable AcquireSyncLock(TimeSpan wait);

    public IReadOnlyList<int> Migrate(int? upTo = null)
    {
        Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
        var applied = new List<int>();
        var done = AppliedMigrations().ToHashSet();
        foreach (var m in StoreSchema.Migrations
            .Where(m => m.Version <= (upTo ?? int.MaxValue) && !done.Contains(m.Version)))
        {
            using var tx = Connection.BeginTransaction();
            foreach (var sql in m.Statements(Dialect)) Exec(sql, tx);
            // A second process migrating at the same moment fails here on the primary key and rolls back whole.
            Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (@v, @t)", tx,
                ("@v", m.Version), ("@t", IO.UtcText.Now()));
            tx.Commit();
            applied.Add(m.Version);
        }
        _schema = -1;
        return applied;
    }

    public IReadOnlyList<int> AppliedMigrations()
    {
        if (!TableExists("schema_migrations")) return [];
        return Rows("SELECT version FROM schema_migrations ORDER BY version")
            .Select(r => Convert.ToInt32(r[0])).ToList();
    }

    protected abstract bool TableExists(string name);

    /// <summary>Whether the catalog tables have the <c>origin</c> column (schema version 3).</summary>
    internal bool HasOriginColumn => _schema >= 3;
    private int _schema = -1;

    /// <summary>
    /// The columns this database's tables have: a database still on an older schema version is written without the
    /// newer ones.
    /// </summary>
    internal IReadOnlyList<CatalogColumn> ColumnsOf(CatalogTable table)
    {
        if (_schema < 0) _schema = AppliedMigrations().DefaultIfEmpty(0).Max();
        return table.Columns.Where(c => c.Since <= _schema).ToList();
    }

    /// <summary>Reads the schema version once, before an import's transaction begins.</summary>
    protected void NoteSchemaVersion() => _schema = AppliedMigrations().DefaultIfEmpty(0).Max();

    public long Count(CatalogKind kind) => Scalar($"SELECT count(*) FROM {CatalogTable.For(kind).Name}");
    public long CountWithBundle(CatalogKind kind) =>
        Scalar($"SELECT count(asset_bundle_id) FROM {CatalogTable.For(kind).Name}");
    public long CountExpectingBundle(CatalogKind kind) =>
        Scalar($"SELECT count(*) FROM {CatalogTable.For(kind).Name} WHERE {CatalogTable.For(kind).Bundled}");

    /// <summary>
    /// Runs a query written in this folder and returns its rows. Parameters are written <c>@name</c>.
    /// </summary>
    internal IReadOnlyList<IReadOnlyList<object?>> Rows(string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, null, parameters);
        using var reader = cmd.ExecuteReader();
        var rows = new List<IReadOnlyList<object?>>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : Normalise(reader.GetValue(i));
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// Both stores answer with the same CLR types: integers as long, reals as double, booleans as bool.
    /// </summary>
    private static object Normalise(object v) => v switch
    {
        int i => (long)i,
        short s => (long)s,
        decimal m => (double)m,
        float f => (double)f,
        _ => v,
    };

    // ---- reading records (ICatalogReader) and the checks verify makes (IStoreChecks) ----

    public CatalogPage Page(CatalogPageRequest request, MatchCounts? counts = null) =>
        CatalogQuery.Run(this, request, counts);

    public IReadOnlyList<LoopSummary> LoopSummaries(string? taskRunIdPrefix) =>
        TaskRunQuery.Run(this, taskRunIdPrefix);

    public StoredRecord? OfLoop(CatalogKind kind, string taskRunId, long loopId)
    {
        var table = CatalogTable.For(kind);
        return Records($"SELECT payload, origin, updated_at, task_run_id, loop_id FROM {table.Name} "
            + $"WHERE task_run_id = @t AND loop_id = @l ORDER BY {string.Join(", ", table.Key)} LIMIT 1",
            ("@t", taskRunId), ("@l", loopId)).FirstOrDefault();
    }

    public IReadOnlyList<LoopFactor> FactorsOfLoop(string taskRunId, long loopId) =>
        // The LIKE narrows the rows by text; the provenance is then read to keep only the loop's own factors.
        Rows("SELECT name, source, factor_id, provenance, ic, annualized_return FROM aistock_factor_catalog "
            + "WHERE CAST(provenance AS TEXT) LIKE @p ORDER BY name", ("@p", $"%{taskRunId}%"))
            .Where(f => f[3] is string text && NamesLoop(text, taskRunId, loopId))
            .Select(f => new LoopFactor((string)f[0]!, f[1] as string, f[2] as string, f[4] as double?,
                f[5] as double?))
            .ToList();

    private static bool NamesLoop(string provenance, string taskRunId, long loopId) =>
        CatalogJson.Read<IReadOnlyList<FactorOccurrence>>(provenance) is { } occurrences
        && occurrences.Any(o => o.TaskRunId == taskRunId && o.LoopId == loopId);

    public IReadOnlyList<StoredRecord> Find(RecordKey by, string key)
    {
        var (table, where) = by switch
        {
            RecordKey.Factor => ("aistock_factor_catalog", "name = @k OR factor_id = @k"),
            RecordKey.Model => ("aistock_model_catalog", "model_id = @k"),
            RecordKey.Strategy => ("aistock_strategy_catalog", "strategy_id = @k"),
            _ => ("aistock_loop_catalog", "asset_bundle_id = @k"),
        };
        return Records($"SELECT payload, origin, updated_at, task_run_id, loop_id FROM {table} WHERE {where} "
            + "ORDER BY task_run_id, loop_id", ("@k", key));
    }

    private List<StoredRecord> Records(string sql, params (string Name, object? Value)[] parameters) =>
        Rows(sql, parameters).Select(r => new StoredRecord((string)r[0]!, r[1] as string, r[2] as string,
            r[3] as string, r[4] as long?))
            .ToList();

    public IReadOnlyList<OrphanRow> RowsWithoutLoop(CatalogKind kind, int limit)
    {
        var t = CatalogTable.For(kind);
        return Rows($"""
            SELECT {string.Join(", ", t.Key)}, task_run_id, loop_id FROM {t.Name} x
            WHERE x.task_run_id IS NOT NULL AND NOT EXISTS (
              SELECT 1 FROM aistock_loop_catalog l WHERE l.task_run_id = x.task_run_id AND l.loop_id = x.loop_id)
            ORDER BY 1 LIMIT {Math.Max(1, limit)}
            """).Select(o => new OrphanRow(
                Convert.ToString(o[0], System.Globalization.CultureInfo.InvariantCulture) ?? "",
                (string)o[^2]!, o[^1] as long?)).ToList();
    }

    public long RowsWithoutOwnBundle(CatalogKind kind) => Scalar($"SELECT count(*) FROM {CatalogTable.For(kind).Name} "
        + "WHERE (asset_bundle_id IS NULL OR asset_bundle_id = '' "
        + $"OR asset_bundle_id <> ('bundle_' || task_run_id || '_' || loop_id)) AND {CatalogTable.For(kind).Bundled}");

    public IEnumerable<StoredLoop> Loops()
    {
        // Keyset pages rather than one open reader: PostgreSQL runs one command at a time per connection, and the
        // checks that walk the loops look each one up as they go.
        const int page = 256;
        var select = "SELECT task_run_id, loop_id, asset_bundle_id, strategy_id, workspace_id, "
            + $"workspace_path, factor_names FROM aistock_loop_catalog WHERE {CatalogTable.Loop.Bundled} ";
        var order = $" ORDER BY task_run_id, loop_id LIMIT {page}";
        (string TaskRunId, long LoopId)? after = null;
        while (true)
        {
            var rows = after is { } a
                ? Rows(select + "AND (task_run_id > @t OR (task_run_id = @t AND loop_id > @l))" + order,
                    ("@t", a.TaskRunId), ("@l", a.LoopId))
                : Rows(select + order);
            foreach (var l in rows)
            {
                var id = Convert.ToInt64(l[1], System.Globalization.CultureInfo.InvariantCulture);
                var loop = new StoredLoop((string)l[0]!, id,
                    l[2] as string, l[3] as string, l[4] as string, l[5] as string,
                    System.Text.Json.JsonSerializer.Deserialize<string[]>(l[6] as string ?? "[]") ?? []);
                after = (loop.TaskRunId, loop.LoopId);
                yield return loop;
            }
            if (rows.Count < page) yield break;
        }
    }

    public bool HasStrategy(string strategyId) =>
        Scalar("SELECT count(*) FROM aistock_strategy_catalog WHERE strategy_id = @s", null, ("@s", strategyId)) > 0;

    public bool HasFactorNamed(string name) =>
        Scalar("SELECT count(*) FROM aistock_factor_catalog WHERE name = @n", null, ("@n", name)) > 0;

    public string? ContentHash(CatalogKind kind, IReadOnlyDictionary<string, object?> keyValues)
    {
        var table = CatalogTable.For(kind);
        var where = string.Join(" AND ", table.Key.Select(k => $"{k} = @{k}"));
        var rows = Rows($"SELECT content_hash FROM {table.Name} WHERE {where}",
            table.Key.Select(k => ("@" + k, keyValues.TryGetValue(k, out var v) ? v : null)).ToArray());
        return rows.Count == 0 ? null : rows[0][0] as string;
    }

    public bool HasDuplicates(CatalogKind kind)
    {
        // What one thing is to a user: a factor is its name, source and definition, a model its loop's workspace.
        var (table, columns) = kind switch
        {
            CatalogKind.Loop => ("aistock_loop_catalog", "task_run_id, loop_id"),
            CatalogKind.Factor => ("aistock_factor_catalog", "name, source, fingerprint"),
            CatalogKind.Model => ("aistock_model_catalog", "task_run_id, loop_id, workspace_id"),
            _ => ("aistock_strategy_catalog", "strategy_id"),
        };
        return Rows($"SELECT {columns} FROM {table} GROUP BY {columns} HAVING count(*) > 1").Count > 0;
    }

    // ---- the sync history (ISyncHistory) ----

    public long StartSyncRun(string mode, string? since) =>
        Convert.ToInt64(Rows("INSERT INTO rdbridge_sync_runs (mode, status, stage, started_at, since) "
            + "VALUES (@m, 'running', 'starting', @t, @s) RETURNING id",
            ("@m", mode), ("@t", IO.UtcText.Now()), ("@s", since))[0][0]);

    public IReadOnlyList<long> AbandonUnfinishedSyncRuns()
    {
        var ids = Rows("SELECT id FROM rdbridge_sync_runs WHERE status = 'running' ORDER BY id")
            .Select(r => Convert.ToInt64(r[0])).ToList();
        if (ids.Count > 0)
        {
            Exec("""
                UPDATE rdbridge_sync_runs SET status = 'abandoned', stage = 'finished', finished_at = @t
                WHERE status = 'running'
                """, null, ("@t", IO.UtcText.Now()));
        }

        return ids;
    }

    public void UpdateSyncRun(long id, string stage, double? progress = null)
    {
        if (HasSchema(3))
        {
            Exec("UPDATE rdbridge_sync_runs SET stage = @s, progress = coalesce(@p, progress) WHERE id = @id", null,
                ("@s", stage), ("@p", progress), ("@id", id));
        }
        else
        {
            Exec("UPDATE rdbridge_sync_runs SET stage = @s WHERE id = @id", null, ("@s", stage), ("@id", id));
        }
    }

    public void FinishSyncRun(long id, string status, string countsJson, string errorsJson) =>
        Exec("UPDATE rdbridge_sync_runs SET status = @st, stage = 'finished', finished_at = @t, counts = @c, "
            + $"errors = @e{(HasSchema(3) ? ", progress = 1" : "")} WHERE id = @id", null,
            ("@st", status), ("@t", IO.UtcText.Now()), ("@c", countsJson), ("@e", errorsJson), ("@id", id));

    public SyncRun? LastSyncRun(bool successfulOnly) =>
        ReadRuns(successfulOnly ? "WHERE status = 'succeeded'" : "", 1).FirstOrDefault();

    public IReadOnlyList<SyncRun> SyncRuns(int limit) => ReadRuns("", limit);

    private List<SyncRun> ReadRuns(string where, int limit) =>
        Rows("SELECT id, mode, status, stage, started_at, finished_at, since, counts, "
            + $"errors{(HasSchema(3) ? ", progress" : ", NULL")} FROM rdbridge_sync_runs {where} "
            + $"ORDER BY id DESC LIMIT {Math.Max(1, limit)}")
            .Select(r => new SyncRun(Convert.ToInt64(r[0]), (string)r[1]!, (string)r[2]!, r[3] as string,
                (string)r[4]!, r[5] as string, r[6] as string, r[7] as string, r[8] as string)
            { Progress = r[9] is null ? null : Convert.ToDouble(r[9]) }).ToList();

    public SourceState? Source(string name) => ReadSources("WHERE name = @n", ("@n", name)).FirstOrDefault();
    public IReadOnlyList<SourceState> Sources() => ReadSources("");

    private List<SourceState> ReadSources(string where, params (string, object?)[] p) =>
        !HasSchema(3) ? []
            : Rows("SELECT name, url, watermark, last_sync_at, last_status, last_error "
                + $"FROM rdbridge_sources {where} ORDER BY name", p)
            .Select(r => new SourceState((string)r[0]!, (string)r[1]!, r[2] as string, r[3] as string,
                r[4] as string, r[5] as string)).ToList();

    public void RecordSource(SourceState s) => Exec("""
        INSERT INTO rdbridge_sources (name, url, watermark, last_sync_at, last_status, last_error)
        VALUES (@n, @u, @w, @t, @s, @e)
        ON CONFLICT (name) DO UPDATE SET url = excluded.url, watermark = excluded.watermark,
          last_sync_at = excluded.last_sync_at,
          last_status = excluded.last_status, last_error = excluded.last_error
        """, null, ("@n", s.Name), ("@u", s.Url), ("@w", s.Watermark), ("@t", s.LastSyncAt), ("@s", s.LastStatus),
        ("@e", s.LastError));

    private bool HasSchema(int version)
    {
        if (_schema < 0) _schema = AppliedMigrations().DefaultIfEmpty(0).Max();
        return _schema >= version;
    }

    protected DbCommand Command(string sql, DbTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var cmd = Connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (n, v) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = n;
            p.Value = v ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    protected long Scalar(string sql, DbTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    protected int Exec(string sql, DbTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        return cmd.ExecuteNonQuery();
    }

    public virtual void Dispose()
    {
        Connection.Dispose();
        GC.SuppressFinalize(this);
    }

    // ---- shared import bookkeeping (rdbridge_catalog_imports, rdbridge_table_versions) ----

    /// <summary>
    /// What every store's import session does alike: one transaction, a savepoint per catalog, the import marks and the
    /// stored fingerprints. A store adds only how it writes rows.
    /// </summary>
    protected abstract class ImportSession<TStore> : IImportSession where TStore : DbAistockStore
    {
        private readonly bool _marks;
        protected TStore Store { get; }
        protected DbTransaction Tx { get; }

        protected ImportSession(TStore store, Func<DbConnection, DbTransaction> begin)
        {
            Store = store;
            _marks = store.HasImportMarks();
            store.NoteSchemaVersion();
            Tx = begin(store.Connection);
        }

        public CatalogImportMark? LastImport(CatalogKind kind, string? origin) =>
            _marks ? Store.ReadImportMark(Tx, kind, origin) : null;
        public long TableVersion(CatalogKind kind) => _marks ? Store.ReadTableVersion(Tx, kind) : -1;
        public IEnumerable<(string Key, string ContentHash)> StoredFingerprints(CatalogKind kind) =>
            Store.ReadFingerprints(Tx, kind);
        public void RecordImport(CatalogKind kind, string? origin, CatalogImportMark? mark)
        {
            if (_marks) Store.WriteImportMark(Tx, kind, origin, mark);
        }
        public void Savepoint() => Tx.Save("catalog");
        public void RollbackToSavepoint() => Tx.Rollback("catalog");
        public void ReleaseSavepoint() => Tx.Release("catalog");
        public void Commit() => Tx.Commit();
        public void Dispose() => Tx.Dispose();
        public abstract WriteResult Write(CatalogKind kind, IEnumerable<CatalogRow> rows, long sourceBytes = 0);
    }

    /// <summary>
    /// Whether the import bookkeeping tables exist (schema version 2); asked before an import's transaction starts.
    /// </summary>
    protected bool HasImportMarks() => AppliedMigrations().Contains(2);

    // One mark per catalog and source: the same file from two sources is two imports.
    private static string MarkName(CatalogKind kind, string? origin) =>
        CatalogTable.For(kind).Name + (origin is null ? "" : "@" + origin);

    protected CatalogImportMark? ReadImportMark(DbTransaction tx, CatalogKind kind, string? origin)
    {
        using var cmd = Command("SELECT file_sha256, table_version, rows_imported, rows_skipped, skip_reasons "
            + "FROM rdbridge_catalog_imports WHERE catalog = @c", tx, ("@c", MarkName(kind, origin)));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        var reasons = System.Text.Json.JsonSerializer.Deserialize<string[]>(r.GetString(4)) ?? [];
        return new CatalogImportMark(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), reasons);
    }

    public string? CatalogVersion(CatalogKind kind)
    {
        try
        {
            var row = Rows("""
                SELECT m.applied_at, v.version FROM rdbridge_table_versions v, schema_migrations m
                WHERE v.table_name = @t AND m.version = 2
                """, ("@t", CatalogTable.For(kind).Name));
            return row.Count == 0 ? null : $"{row[0][0]}#{row[0][1]}";
        }
        catch (DbException) { return null; } // no rdbridge_table_versions yet: the caller just cannot cache
    }

    protected long ReadTableVersion(DbTransaction tx, CatalogKind kind) =>
        Scalar("SELECT coalesce(max(version), -1) FROM rdbridge_table_versions WHERE table_name = @t", tx,
            ("@t", CatalogTable.For(kind).Name));

    protected void WriteImportMark(DbTransaction tx, CatalogKind kind, string? origin, CatalogImportMark? mark)
    {
        var name = MarkName(kind, origin);
        if (mark is null) { Exec("DELETE FROM rdbridge_catalog_imports WHERE catalog = @c", tx, ("@c", name)); return; }
        Exec("""
            INSERT INTO rdbridge_catalog_imports
              (catalog, file_sha256, table_version, rows_imported, rows_skipped, skip_reasons, imported_at)
            VALUES (@c, @f, @v, @r, @s, @why, @t)
            ON CONFLICT (catalog) DO UPDATE SET file_sha256 = excluded.file_sha256,
              table_version = excluded.table_version,
              rows_imported = excluded.rows_imported, rows_skipped = excluded.rows_skipped,
              skip_reasons = excluded.skip_reasons, imported_at = excluded.imported_at
            """, tx, ("@c", name), ("@f", mark.FileSha256), ("@v", mark.TableVersion), ("@r", mark.Rows),
            ("@s", mark.Skipped),
            ("@why", System.Text.Json.JsonSerializer.Serialize(mark.SkipReasons)), ("@t", IO.UtcText.Now()));
    }

    protected IEnumerable<(string Key, string ContentHash)> ReadFingerprints(DbTransaction tx, CatalogKind kind)
    {
        var table = CatalogTable.For(kind);
        using var cmd = Command($"SELECT {string.Join(", ", table.Key)}, content_hash FROM {table.Name}", tx);
        using var r = cmd.ExecuteReader();
        var n = table.Key.Count;
        while (r.Read())
        {
            var key = n == 1
                ? r.GetValue(0).ToString()!
                : string.Join("/", Enumerable.Range(0, n)
                    .Select(i => r.IsDBNull(i) ? "∅" : r.GetValue(i).ToString()));
            yield return (key, r.GetString(n));
        }
    }
}
