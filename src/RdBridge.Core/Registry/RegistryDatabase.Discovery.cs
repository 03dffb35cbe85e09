namespace RdBridge.Registry;

// What discovery reads of the registry: the task runs it knows by log folder, and its own memory of what it read of
// the log, kept in a table of its own beside the fork's.
public sealed partial class RegistryDatabase
{
    public const string DiscoveryMemoryTable = "rdbridge_discovery";

    internal const string DiscoveryMemorySql = $"""
        CREATE TABLE IF NOT EXISTS {DiscoveryMemoryTable} (
          folder TEXT PRIMARY KEY,
          task_run_id TEXT NOT NULL,
          loop_id INTEGER,
          folder_stamp TEXT NOT NULL,
          files_stamp TEXT NOT NULL,
          settled INTEGER NOT NULL DEFAULT 0,
          status TEXT,
          hypothesis TEXT,
          decision INTEGER,
          read_at_utc TEXT NOT NULL,
          step TEXT
        )
        """;

    /// <summary>The column later added to the table (a registry discovery wrote before lacks it).</summary>
    internal const string DiscoveryStepColumn = "step";

    /// <summary>Every task run's id with the <c>log_trace_path</c> it stored, in id order.</summary>
    public IReadOnlyList<(string TaskRunId, string LogTracePath)> ReadTaskRunLogPaths()
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText =
            "SELECT task_run_id, log_trace_path FROM task_runs WHERE log_trace_path IS NOT NULL ORDER BY task_run_id";
        using var reader = cmd.ExecuteReader();
        var list = new List<(string, string)>();
        while (reader.Read())
            if (reader.GetValue(0) is string id && reader.GetValue(1) is string log) list.Add((id, log));
        return list;
    }

    public bool TaskRunExists(string taskRunId)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM task_runs WHERE task_run_id = $id";
        cmd.Parameters.AddWithValue("$id", taskRunId);
        return (long)cmd.ExecuteScalar()! > 0;
    }

    /// <summary>What discovery remembers of a task run's folders, by folder (relative to the log root).</summary>
    public Dictionary<string, DiscoveryMemory> ReadDiscoveryMemory(string runFolder)
    {
        var escaped = runFolder.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
        var memory = new Dictionary<string, DiscoveryMemory>(StringComparer.Ordinal);
        foreach (var m in ReadMemory(@"folder = $run OR folder LIKE $prefix ESCAPE '\'", ("$run", runFolder),
                     ("$prefix", escaped + "/%")))
        {
            memory[m.Folder] = m;
        }
        return memory;
    }

    private bool HasColumn(string table, string column)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM pragma_table_info($table) WHERE name = $column";
        cmd.Parameters.AddWithValue("$table", table);
        cmd.Parameters.AddWithValue("$column", column);
        return (long)cmd.ExecuteScalar()! > 0;
    }
}
