using Microsoft.Data.Sqlite;

namespace RdBridge.Registry;

/// <summary>
/// The RD-Agent registry (<c>RDagentDB/registry.sqlite</c>). RD-Agent may be writing it while RdBridge runs, so:
/// WAL, a busy timeout, short write transactions with retries, and no write lock held while files are read or written.
/// </summary>
public sealed class RegistryDatabase : IDisposable
{
    private readonly SqliteConnection _connection;
    public string Path { get; }
    public bool Writable { get; }

    private RegistryDatabase(string path, SqliteConnection connection, bool writable)
    {
        Path = path;
        _connection = connection;
        Writable = writable;
    }

    public SqliteConnection Connection => _connection;

    public static RegistryDatabase Open(string path, bool writable)
    {
        if (!File.Exists(path))
            throw new RegistryException($"registry '{path}' does not exist; set rdagent.registry in rdbridge.json to the RD-Agent registry (RDagentDB/registry.sqlite)");
        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = writable ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        var connection = new SqliteConnection(cs);
        try
        {
            connection.Open();
            Pragma(connection, "PRAGMA busy_timeout = 10000");
            if (writable)
                Pragma(connection, "PRAGMA journal_mode = WAL");
                // As RD-Agent itself does: in WAL mode this keeps the database consistent without an fsync per commit.
                Pragma(connection, "PRAGMA synchronous = NORMAL");
            Pragma(connection, "SELECT count(*) FROM sqlite_master");
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new RegistryException($"registry '{path}' cannot be opened: {e.Message}; check that it is an SQLite database and readable");
        }
        return new RegistryDatabase(path, connection, writable);
    }

    /// <summary>Creates a new registry with the full schema (used by the sample generator and tests).</summary>
    public static RegistryDatabase Create(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        using (var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString()))
        {
            c.Open();
            Pragma(c, "PRAGMA journal_mode = WAL");
            RegistrySchema.Create(c);
        }
        return Open(path, writable: true);
    }

    private static void Pragma(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteScalar();
    }

    public IReadOnlyList<SchemaGap> AuditSchema() => RegistrySchema.Audit(_connection);

    /// <summary>Refuses to go on when the registry lacks what RdBridge writes, naming the fix.</summary>
    public void RequireWritableSchema()
    {
        var gaps = AuditSchema();
        if (gaps.Count > 0)
            throw new RegistryException($"registry '{Path}' has an older schema ({string.Join("; ", gaps.Take(4))}{(gaps.Count > 4 ? $"; and {gaps.Count - 4} more" : "")}); run 'rdbridge doctor --fix' to add what is missing (nothing is dropped)");
    }

    public IEnumerable<LoopRow> ReadLoops(LoopSelection selection)
    {
        var hasTaskRuns = TableExists("task_runs");
        var columns = ColumnsOf("loops");
        string Col(string name, string fallback = "NULL") => columns.Contains(name) ? $"l.{name}" : fallback;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"""
            SELECT l.task_run_id, l.loop_id, {Col("action")}, {Col("status")}, {Col("has_result", "0")}, {Col("log_dir")},
                   {Col("started_at_utc")}, {Col("ended_at_utc")}, {Col("error_type")}, {Col("error_message")},
                   {Col("asset_bundle_id")}, {Col("is_solidified", "0")}, {Col("materialization_status")}, {Col("updated_at_utc")},
                   {(hasTaskRuns ? "t.scenario, t.log_trace_path" : "NULL, NULL")}
            FROM loops l {(hasTaskRuns ? "LEFT JOIN task_runs t ON t.task_run_id = l.task_run_id" : "")}
            WHERE ($tr IS NULL OR l.task_run_id = $tr) AND ($loop IS NULL OR l.loop_id = $loop)
            ORDER BY l.task_run_id, l.loop_id
            """;
        cmd.Parameters.AddWithValue("$tr", (object?)selection.TaskRunId ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$loop", (object?)selection.LoopId ?? DBNull.Value);
        using var reader = cmd.ExecuteReader();
        var count = 0;
        while (reader.Read())
        {
            var row = new LoopRow(
                reader.GetString(0), reader.GetInt64(1), Text(reader, 2), Text(reader, 3), Truthy(reader, 4), Text(reader, 5),
                Text(reader, 6), Text(reader, 7), Text(reader, 8), Text(reader, 9), Text(reader, 10), Truthy(reader, 11),
                Text(reader, 12), Text(reader, 13), Text(reader, 14), Text(reader, 15));
            if (!selection.Matches(row)) continue;
            if (selection.MaxLoops is { } max && count >= max) yield break;
            count++;
            yield return row;
        }
    }

    public LoopRow? ReadLoop(string taskRunId, long loopId) =>
        ReadLoops(new LoopSelection { TaskRunId = taskRunId, LoopId = loopId }).FirstOrDefault();

    public IReadOnlyList<WorkspaceRow> ReadWorkspaces(string taskRunId, long loopId)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT workspace_id, task_run_id, loop_id, workspace_role, experiment_type, step_name, status, workspace_path
            FROM workspaces WHERE task_run_id = $tr AND loop_id = $loop ORDER BY workspace_id
            """;
        cmd.Parameters.AddWithValue("$tr", taskRunId);
        cmd.Parameters.AddWithValue("$loop", loopId);
        using var reader = cmd.ExecuteReader();
        var list = new List<WorkspaceRow>();
        while (reader.Read())
            list.Add(new WorkspaceRow(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2),
                Text(reader, 3), Text(reader, 4), Text(reader, 5), Text(reader, 6), Text(reader, 7) ?? ""));
        return list;
    }

    public long Count(string table)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM \"{table.Replace("\"", "\"\"")}\"";
        return (long)cmd.ExecuteScalar()!;
    }

    public bool TableExists(string table)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $n";
        cmd.Parameters.AddWithValue("$n", table);
        return (long)cmd.ExecuteScalar()! > 0;
    }

    private HashSet<string> ColumnsOf(string table)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT name FROM pragma_table_info($t)";
        cmd.Parameters.AddWithValue("$t", table);
        using var reader = cmd.ExecuteReader();
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.Read()) set.Add(reader.GetString(0));
        return set;
    }

    public BundleRow? ReadBundle(string taskRunId, long loopId)
    {
        if (!TableExists("production_bundles")) return null;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT task_run_id, loop_id, bundle_id, bundle_path, content_digest, archive_sha256, size_bytes, file_count
            FROM production_bundles WHERE task_run_id = $tr AND loop_id = $loop
            """;
        cmd.Parameters.AddWithValue("$tr", taskRunId);
        cmd.Parameters.AddWithValue("$loop", loopId);
        using var reader = cmd.ExecuteReader();
        if (!reader.Read()) return null;
        return new BundleRow(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
            Text(reader, 4), Text(reader, 5), reader.IsDBNull(6) ? null : reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetInt64(7));
    }

    /// <summary>Runs one short write transaction, retrying while another writer (RD-Agent) holds the lock.</summary>
    public T Write<T>(Func<SqliteTransaction, T> work)
    {
        if (!Writable) throw new InvalidOperationException("registry opened read-only");
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var tx = _connection.BeginTransaction(deferred: false);
                var result = work(tx);
                tx.Commit();
                return result;
            }
            catch (SqliteException e) when ((e.SqliteErrorCode == 5 || e.SqliteErrorCode == 6) && attempt < 10)
            {
                Thread.Sleep(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }

    public SqliteCommand Command(SqliteTransaction tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = _connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);

    private static bool Truthy(SqliteDataReader r, int i)
    {
        if (r.IsDBNull(i)) return false;
        var v = r.GetValue(i);
        return v switch
        {
            long l => l != 0,
            double d => d != 0,
            string s => s.Trim() is "1" or "true" or "True" or "TRUE" or "yes",
            _ => false,
        };
    }

    public void Dispose() => _connection.Dispose();
}

/// <summary>The registry is missing, unreadable or needs migrating; the message names the fix. Exit code 2.</summary>
public sealed class RegistryException(string message) : RdBridgeException(message, ExitCodes.UsageError);
