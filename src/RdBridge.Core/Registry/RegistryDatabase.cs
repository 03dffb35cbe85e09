using Microsoft.Data.Sqlite;
using RdBridge.IO;

namespace RdBridge.Registry;

/// <summary>
/// The RD-Agent registry (<c>RDagentDB/registry.sqlite</c>). RD-Agent may be writing it while RdBridge runs, so:
/// WAL, a busy timeout, short write transactions with retries, and no write lock held while files are read or written.
/// </summary>
public sealed partial class RegistryDatabase : IDisposable
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

    /// <summary>Rows skipped as unusable since this registry was opened, each named once, in the order met.</summary>
    public IReadOnlyList<BadRow> BadRows { get { lock (_badRows) return _badRows.ToList(); } }

    private readonly List<BadRow> _badRows = [];
    private HashSet<string>? _workspaceColumns;
    private readonly HashSet<BadRow> _badRowsSeen = [];

    private void Bad(string table, string key, string reason)
    {
        var row = new BadRow(table, key, reason, Path);
        lock (_badRows)
            if (_badRowsSeen.Add(row)) _badRows.Add(row);
    }

    public static RegistryDatabase Open(string path, bool writable)
    {
        if (!File.Exists(path))
        {
            throw new RegistryException($"registry '{path}' does not exist; set rdagent.registry in rdbridge.json "
                + "to the RD-Agent registry (RDagentDB/registry.sqlite)");
        }

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
            SqliteCommands.RunEach(connection, "PRAGMA busy_timeout = 10000");
            if (writable)
            {
                SqliteCommands.RunEach(connection, "PRAGMA journal_mode = WAL");
                // As RD-Agent itself does: in WAL mode this keeps the database consistent without an fsync per commit.
                SqliteCommands.RunEach(connection, "PRAGMA synchronous = NORMAL");
            }
            SqliteCommands.RunEach(connection, "SELECT count(*) FROM sqlite_master");
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new RegistryException(
                $"registry '{path}' cannot be opened: {e.Message}; check that it is an SQLite database and readable");
        }
        var registry = new RegistryDatabase(path, connection, writable);
        registry.RequireTables();
        return registry;
    }

    /// <summary>
    /// The tables that hold RD-Agent's own record of its loops: without them there is nothing to read, and creating
    /// them empty would hide the damage, so every command stops here and says what to do.
    /// </summary>
    public static readonly IReadOnlyList<string> RequiredTables = ["loops", "workspaces"];

    /// <summary>The columns that link a loop to its workspaces; an old registry may lack any other.</summary>
    private static readonly IReadOnlyList<(string Table, string Column)> KeyColumns =
    [
        ("loops", "task_run_id"), ("loops", "loop_id"),
        ("workspaces", "workspace_id"), ("workspaces", "task_run_id"), ("workspaces", "loop_id"),
        ("workspaces", "workspace_path"),
    ];

    private void RequireTables()
    {
        const string Fix = "check that rdagent.registry in rdbridge.json names RD-Agent's RDagentDB/registry.sqlite, "
            + "or restore the registry from a backup (rdbridge keeps one in its backup folder)";
        var missing = RequiredTables.Where(t => !TableExists(t)).ToList();
        if (missing.Count > 0)
        {
            _connection.Dispose();
            var tables = string.Join(" or ", missing.Select(t => $"'{t}'"));
            throw new RegistryException(
                $"registry '{Path}' has no {tables} table, where RD-Agent records its loops; {Fix}");
        }
        var columns = RequiredTables.ToDictionary(t => t, ColumnsOf);
        var gone = KeyColumns.Where(k => !columns[k.Table].Contains(k.Column))
            .Select(k => $"{k.Table}.{k.Column}").ToList();
        if (gone.Count == 0) return;
        _connection.Dispose();
        throw new RegistryException(
            $"registry '{Path}' has no column {string.Join(", ", gone)}, which links loops to their workspaces; {Fix}");
    }

    /// <summary>Creates a new registry with the full schema (used by the sample generator and tests).</summary>
    public static RegistryDatabase Create(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false,
        };
        using (var c = new SqliteConnection(cs.ToString()))
        {
            c.Open();
            SqliteCommands.RunEach(c, "PRAGMA journal_mode = WAL");
            RegistrySchema.Create(c);
        }
        return Open(path, writable: true);
    }

    public IReadOnlyList<SchemaGap> AuditSchema() => RegistrySchema.Audit(_connection);

    /// <summary>Adds the tables and columns an older registry lacks (nothing is dropped); returns them.</summary>
    public IReadOnlyList<SchemaGap> Migrate()
    {
        if (!Writable) throw new InvalidOperationException("registry opened read-only");
        return RegistrySchema.Migrate(_connection);
    }

    /// <summary>Refuses to go on when the registry lacks what RdBridge writes, naming the fix.</summary>
    public void RequireWritableSchema()
    {
        var gaps = AuditSchema();
        if (gaps.Count > 0)
        {
            throw new RegistryException(
                $"registry '{Path}' has an older schema ({string.Join("; ", gaps.Take(4))}" +
                $"{(gaps.Count > 4 ? $"; and {gaps.Count - 4} more" : "")}); " +
                "run 'rdbridge doctor --fix' to add what is missing (nothing is dropped)");
        }
    }

    public LoopRow? ReadLoop(string taskRunId, long loopId) =>
        ReadLoops(new LoopSelection { TaskRunId = taskRunId, LoopId = loopId }).FirstOrDefault();

    public IReadOnlyList<WorkspaceRow> ReadWorkspaces(string taskRunId, long loopId) =>
        ReadWorkspaceRows("WHERE task_run_id = $tr AND loop_id = $loop", ("$tr", taskRunId), ("$loop", loopId));

    /// <summary>
    /// Reads the whole workspaces table once without keeping it, so that every damaged row is named in
    /// <see cref="BadRows"/>, even one of no loop; returns how many rows are usable. Each loop's rows are then read
    /// with <see cref="ReadWorkspaces"/> as it comes.
    /// </summary>
    public long NameDamagedWorkspaceRows()
    {
        long usable = 0;
        foreach (var _ in WorkspaceRows("")) usable++;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT workspace_id FROM workspaces WHERE workspace_id IS NOT NULL
            GROUP BY workspace_id HAVING count(*) > 1 ORDER BY workspace_id
            """;
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            Bad("workspaces", Shown(reader, 0), "a second row with the same workspace_id (the first one is used)");
        return usable;
    }

    private List<WorkspaceRow> ReadWorkspaceRows(string where, params (string Name, object Value)[] parameters)
    {
        var list = WorkspaceRows(where, parameters).ToList();
        // A workspace id is the table's key: a second row with it is a damaged registry, and the first one is used.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var w in list.Where(w => !seen.Add(w.WorkspaceId)).ToList())
        {
            Bad("workspaces", w.WorkspaceId, "a second row with the same workspace_id (the first one is used)");
            list.Remove(w);
        }
        return list;
    }

    /// <summary>The usable rows the filter selects, by workspace id; each damaged one is named and skipped.</summary>
    private IEnumerable<WorkspaceRow> WorkspaceRows(string where, params (string Name, object Value)[] parameters)
    {
        var columns = _workspaceColumns ??= ColumnsOf("workspaces");
        string Col(string name) => columns.Contains(name) ? name : "NULL";
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"""
            SELECT workspace_id, task_run_id, loop_id, {Col("workspace_role")}, {Col("experiment_type")},
                   {Col("step_name")}, {Col("status")}, workspace_path
            FROM workspaces {where} ORDER BY workspace_id
            """;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            var key = Shown(reader, 0);
            if (reader.IsDBNull(0) || reader.GetValue(0) is not string id || id.Length == 0)
            {
                Bad("workspaces", $"of loop {Shown(reader, 1)}/{Shown(reader, 2)}", "workspace_id is NULL or empty");
            }
            else if (reader.IsDBNull(1) || reader.GetValue(1) is not string taskRun)
            {
                Bad("workspaces", key, "task_run_id is NULL");
            }
            else if (!reader.IsDBNull(2) && reader.GetValue(2) is not long)
            {
                Bad("workspaces", key, $"loop_id is {Quoted(reader.GetValue(2))}, not an integer");
            }
            else if (reader.IsDBNull(7) || reader.GetValue(7) is not string path || path.Length == 0)
            {
                Bad("workspaces", key, "workspace_path is NULL or empty");
            }
            else
            {
                yield return new WorkspaceRow(id, taskRun, reader.IsDBNull(2) ? null : reader.GetInt64(2),
                    Text(reader, 3), Text(reader, 4), Text(reader, 5), Text(reader, 6), path);
            }
        }
    }

    /// <summary>How many rows each table holds (tables that do not exist are left out).</summary>
    public IReadOnlyDictionary<string, long> CountRows(params string[] tables)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables.Where(TableExists))
        {
            using var cmd = _connection.CreateCommand();
            // A table name cannot be a parameter; it is one the caller names and that exists, quoted as an identifier.
            cmd.CommandText = $"SELECT count(*) FROM \"{table.Replace("\"", "\"\"")}\"";
            counts[table] = (long)cmd.ExecuteScalar()!;
        }
        return counts;
    }

    public long Count(string table) => CountRows(table).GetValueOrDefault(table);

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

    /// <summary>Runs one short write transaction, retrying while another writer (RD-Agent) holds the lock.</summary>
    public T Write<T>(Func<RegistryWrite, T> work)
    {
        if (!Writable) throw new InvalidOperationException("registry opened read-only");
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var tx = _connection.BeginTransaction(deferred: false);
                var result = work(new RegistryWrite(_connection, tx));
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

    internal static string? Text(SqliteDataReader r, int i) => Text(r.GetValue(i));

    /// <summary>A column's value as read (<see cref="DBNull"/> for NULL) as text, or null.</summary>
    private static string? Text(object value) =>
        value is DBNull ? null : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A key column's value as a report names the row: NULL, or the text as stored.</summary>
    private static string Shown(SqliteDataReader r, int i) => Shown(r.GetValue(i));

    private static string Shown(object value) => value switch
    {
        DBNull => "NULL",
        string s => Visible.Cut(s, 80),
        var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    private static string Quoted(object value) => value is string s ? $"'{Visible.Cut(s, 40)}'"
        : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";

    /// <summary>False when the column holds something that is not an integer; NULL reads as null.</summary>
    private static bool Integer(SqliteDataReader r, int i, out long? value)
    {
        value = null;
        if (r.IsDBNull(i)) return true;
        if (r.GetValue(i) is not long l) return false;
        value = l;
        return true;
    }

    internal static bool Truthy(SqliteDataReader r, int i) => Truthy(r.GetValue(i));

    private static bool Truthy(object v)
    {
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
