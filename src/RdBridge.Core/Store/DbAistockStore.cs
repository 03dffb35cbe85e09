using System.Data.Common;
using RdBridge.Catalogs;

namespace RdBridge.Store;

/// <summary>
/// What both stores do the same way through plain ADO.NET: migrations, queries, counts and the sync history.
/// Only importing and the sync lock differ (COPY and advisory locks on PostgreSQL).
/// </summary>
public abstract partial class DbAistockStore(DbConnection connection, SqlDialect dialect) : IAistockStore
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
        // A newer RdBridge's database: its later versions may change how rows are written (version 9 made columns
        // computed, which this build's import would then try to write), so it is left exactly as it is.
        if (done.Count > 0 && done.Max() > StoreSchema.Latest)
        {
            throw new StoreException($"the AIstock database ({Describe}) is at schema version {done.Max()}, written "
                + $"by a newer RdBridge; this one knows versions up to {StoreSchema.Latest} and changed nothing: "
                + "upgrade RdBridge on this machine");
        }
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
        if (applied.Contains(CatalogTable.PayloadColumnsVersion)) GiveBackFreedSpace();
        if (SchemaVersion == StoreSchema.Latest) MakeWhatVersionsCouldNot();
        return applied;
    }

    /// <summary>
    /// Makes what a version left out because the server lacked something when it ran (PostgreSQL's trigram indexes
    /// without pg_trgm), once the server has it.
    /// </summary>
    protected virtual void MakeWhatVersionsCouldNot() { }

    /// <summary>After a migration that took data out of the rows: the store may give the freed space back.</summary>
    protected virtual void GiveBackFreedSpace() { }

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
        var schema = SchemaVersion;
        return table.Columns.Where(c => c.Since <= schema && !Computed(table, c)).ToList();
    }

    /// <summary>Whether this database computes the column from the payload (SQLite, schema version 9 on): it is
    /// read like any column and never written.</summary>
    private bool Computed(CatalogTable table, CatalogColumn c) =>
        Dialect == SqlDialect.Sqlite && _schema >= CatalogTable.PayloadColumnsVersion && table.FromPayload(c);

    /// <summary>The schema version this database is on (read once per store).</summary>
    internal int SchemaVersion => _schema >= 0 ? _schema : _schema = AppliedMigrations().DefaultIfEmpty(0).Max();

    /// <summary>Reads the schema version once, before an import's transaction begins.</summary>
    protected void NoteSchemaVersion() => _schema = AppliedMigrations().DefaultIfEmpty(0).Max();

    public long Count(CatalogKind kind) => Scalar($"SELECT count(*) FROM {CatalogTable.For(kind).Name}");
    public long CountWithBundle(CatalogKind kind) =>
        Scalar($"SELECT count(asset_bundle_id) FROM {CatalogTable.For(kind).Name}");
    public long CountExpectingBundle(CatalogKind kind) =>
        Scalar($"SELECT count(*) FROM {CatalogTable.For(kind).Name} WHERE {CatalogTable.For(kind).Bundled}");

    /// <summary>
    /// Gives the command's parameters this row's values. Each command is always bound with the same names in the
    /// same order, so the parameters are made on its first row and only their values change after.
    /// </summary>
    protected static void Bind(DbCommand cmd, IEnumerable<(string Name, object? Value)> values)
    {
        var ps = cmd.Parameters;
        var i = 0;
        foreach (var (n, v) in values)
        {
            if (i == ps.Count)
            {
                var p = cmd.CreateParameter();
                p.ParameterName = n;
                ps.Add(p);
            }
            System.Diagnostics.Debug.Assert(ps[i].ParameterName == n);
            ps[i++].Value = v ?? DBNull.Value;
        }
    }

    /// <summary>
    /// Runs a query written in this folder and returns its rows. Parameters are written <c>@name</c>.
    /// </summary>
    internal IReadOnlyList<IReadOnlyList<object?>> Rows(string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, null, parameters);
        return ReadAll(cmd);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> (planner settings, then one query) in a transaction of its own, so that a
    /// <c>SET LOCAL</c> among them holds for that query alone, never for the connection's later statements.
    /// </summary>
    internal IReadOnlyList<IReadOnlyList<object?>> RowsAlone(string sql,
        params (string Name, object? Value)[] parameters)
    {
        using var tx = Connection.BeginTransaction();
        using var cmd = Command(sql, tx, parameters);
        var rows = ReadAll(cmd);
        tx.Commit();
        return rows;
    }

    private static List<IReadOnlyList<object?>> ReadAll(DbCommand cmd)
    {
        using var reader = cmd.ExecuteReader();
        var rows = new List<IReadOnlyList<object?>>();
        // A statement before the query (a SET) answers with no result, or an empty one: the rows are the query's.
        do
        {
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                    row[i] = reader.IsDBNull(i) ? null : Normalise(reader.GetValue(i));
                rows.Add(row);
            }
        }
        while (reader.NextResult());
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

    public IReadOnlyList<LoopFactor> FactorsOfLoop(string taskRunId, long loopId) => SchemaVersion
        >= ProvenanceTable.Version
        ? Rows($"SELECT f.name, f.source, f.factor_id, f.ic, f.annualized_return FROM {ProvenanceTable.Name} p "
            + "JOIN aistock_factor_catalog f ON f.factor_id = p.factor_id WHERE p.task_run_id = @t AND p.loop_id = @l "
            + "ORDER BY f.name, f.factor_id", ("@t", taskRunId), ("@l", loopId))
            .Select(f => new LoopFactor((string)f[0]!, f[1] as string, f[2] as string, f[3] as double?,
                f[4] as double?))
            .ToList()
        : FactorsOfLoopInline(taskRunId, loopId);

    // A database still below schema version 7 (a server that does not migrate) holds provenance in the factor rows.
    private List<LoopFactor> FactorsOfLoopInline(string taskRunId, long loopId) =>
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
}
