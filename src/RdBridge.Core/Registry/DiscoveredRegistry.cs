using Microsoft.Data.Sqlite;
using RdBridge.Configuration;

namespace RdBridge.Registry;

/// <summary>A task run as discovery found it in the log.</summary>
public sealed record TaskRunRecord(
    string TaskRunId, string? Scenario, string Status, string? CreatedAtUtc, string LogTracePath, string? ParamsJson);

/// <summary>A loop as discovery found it in the log, in the registry's columns.</summary>
public sealed record LoopRecord(
    string TaskRunId, long LoopId, string? Action, string Status, string? StartedAtUtc, string? EndedAtUtc,
    string? ErrorType, string? ErrorMessage, string LogDir);

/// <summary>A workspace a loop's experiment names, in the registry's columns (the path as RD-Agent stored it).
/// </summary>
public sealed record WorkspaceRecord(
    string WorkspaceId, long LoopId, string Role, string? ExperimentType, string StepName, string Status,
    string StoredPath)
{
    /// <summary>fin_factor's Alpha20 baseline: later loops name it again, which is no disagreement.</summary>
    public bool IsBaseline => Role == "baseline_workspace";
}

/// <summary>What discovery remembers of one loop folder (or, with no loop id, a task run's own settings).</summary>
public sealed record DiscoveryMemory(
    string Folder, string TaskRunId, long? LoopId, string FolderStamp, string FilesStamp, bool Settled,
    string? Status, string? Hypothesis, bool? Decision);

/// <summary>One discovered loop to write, with what discovery remembers of its folder.</summary>
public sealed record LoopWrite(LoopRecord Loop, IReadOnlyList<WorkspaceRecord> Workspaces, DiscoveryMemory Memory);

/// <summary>What writing one discovered loop did to the registry.</summary>
public sealed record LoopWriteResult(
    bool LoopAdded, bool LoopUpdated, int WorkspacesAdded, IReadOnlyList<string> Disagreements);

/// <summary>
/// The registry as discovery writes it: created in the fork's schema when there is none, then only added to — a
/// missing task run, loop or workspace is inserted; a loop recorded as running is finished once its log says so;
/// anything else that differs from the log is returned as a disagreement and left as it is. Discovery's memory of
/// what it read lives in its own table, <c>rdbridge_discovery</c>, beside the fork's.
/// </summary>
public sealed class DiscoveredRegistry : IDisposable
{
    public const string MemoryTable = "rdbridge_discovery";

    private const string MemorySql = $"""
        CREATE TABLE IF NOT EXISTS {MemoryTable} (
          folder TEXT PRIMARY KEY,
          task_run_id TEXT NOT NULL,
          loop_id INTEGER,
          folder_stamp TEXT NOT NULL,
          files_stamp TEXT NOT NULL,
          settled INTEGER NOT NULL DEFAULT 0,
          status TEXT,
          hypothesis TEXT,
          decision INTEGER,
          read_at_utc TEXT NOT NULL
        )
        """;

    private readonly RegistryDatabase _db;
    private bool _hasMemory;

    private DiscoveredRegistry(RegistryDatabase db, bool created)
    {
        _db = db;
        Created = created;
        _hasMemory = db.TableExists(MemoryTable);
    }

    /// <summary>Whether this run created the registry.</summary>
    public bool Created { get; }

    public string Path => _db.Path;

    /// <summary>Opens the registry for writing, or says that there is none yet (nothing is created until needed).
    /// </summary>
    public static DiscoveredRegistry? OpenExisting(string path)
    {
        if (!File.Exists(path)) return null;
        var db = RegistryDatabase.Open(path, writable: true);
        try
        {
            db.RequireWritableSchema();
            return new DiscoveredRegistry(db, created: false);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Creates a registry in the fork's schema (the one every later stage and the Python tools read).
    /// </summary>
    public static DiscoveredRegistry Create(string path) => new(RegistryDatabase.Create(path), created: true);

    /// <summary>Every task run's id by the local folder its <c>log_trace_path</c> names.</summary>
    public Dictionary<string, string> TaskRunsByLogFolder(PathMap map)
    {
        var byFolder = new Dictionary<string, string>(StringComparer.Ordinal);
        using var cmd = _db.Connection.CreateCommand();
        cmd.CommandText =
            "SELECT task_run_id, log_trace_path FROM task_runs WHERE log_trace_path IS NOT NULL ORDER BY task_run_id";
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            if (map.Map(reader.GetString(1)).Local is { } local)
                byFolder.TryAdd(System.IO.Path.TrimEndingDirectorySeparator(local), reader.GetString(0));
        }
        return byFolder;
    }

    public bool TaskRunExists(string taskRunId)
    {
        using var cmd = _db.Connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM task_runs WHERE task_run_id = $id";
        cmd.Parameters.AddWithValue("$id", taskRunId);
        return (long)cmd.ExecuteScalar()! > 0;
    }

    /// <summary>Adds the task run when it is missing; returns whether it did.</summary>
    public bool AddTaskRun(TaskRunRecord run, string now) => _db.Write(tx =>
    {
        using var cmd = _db.Command(tx, """
            INSERT OR IGNORE INTO task_runs
              (task_run_id, scenario, status, created_at_utc, updated_at_utc, log_trace_path, params_json)
            VALUES ($id, $scenario, $status, $created, $now, $log, $params)
            """, ("$id", run.TaskRunId), ("$scenario", run.Scenario), ("$status", run.Status),
            ("$created", run.CreatedAtUtc), ("$now", now), ("$log", run.LogTracePath), ("$params", run.ParamsJson));
        return cmd.ExecuteNonQuery() > 0;
    });

    /// <summary>Marks a task run finished once none of its loops runs any more; only ever from <c>running</c>.
    /// </summary>
    public bool FinishTaskRun(string taskRunId, string status, string now) => _db.Write(tx =>
    {
        using var cmd = _db.Command(tx, """
            UPDATE task_runs SET status = $status, updated_at_utc = $now
            WHERE task_run_id = $id AND status = 'running' AND $status <> 'running'
            """, ("$status", status), ("$now", now), ("$id", taskRunId));
        return cmd.ExecuteNonQuery() > 0;
    });

    /// <summary>
    /// Adds what the registry lacks of a few loops and remembers what was read of their folders, in one short
    /// transaction (a batch, so a large log is not thousands of commits, and RD-Agent never waits long).
    /// </summary>
    public IReadOnlyList<LoopWriteResult> WriteLoops(IReadOnlyList<LoopWrite> batch, string now) => _db.Write(tx =>
    {
        EnsureMemory(tx);
        var results = new List<LoopWriteResult>(batch.Count);
        foreach (var item in batch)
        {
            results.Add(WriteLoop(tx, item.Loop, item.Workspaces, now));
            Remember(tx, item.Memory, now);
        }
        return results;
    });

    private LoopWriteResult WriteLoop(
        SqliteTransaction tx, LoopRecord loop, IReadOnlyList<WorkspaceRecord> workspaces, string now)
    {
        var disagreements = new List<string>();
        var key = $"{loop.TaskRunId}/{loop.LoopId}";
        string? existingStatus = null;
        var exists = false;
        using (var read = _db.Command(tx, "SELECT status FROM loops WHERE task_run_id = $tr AND loop_id = $loop",
                   ("$tr", loop.TaskRunId), ("$loop", loop.LoopId)))
        using (var r = read.ExecuteReader())
        {
            if (r.Read()) { exists = true; existingStatus = r.IsDBNull(0) ? null : r.GetString(0); }
        }
        var added = false;
        var updated = false;
        if (!exists)
        {
            using var insert = _db.Command(tx, """
                INSERT INTO loops (task_run_id, loop_id, action, status, has_result, started_at_utc, ended_at_utc,
                                   error_type, error_message, log_dir, updated_at_utc)
                VALUES ($tr, $loop, $action, $status, 0, $started, $ended, $etype, $emsg, $log, $now)
                """, ("$tr", loop.TaskRunId), ("$loop", loop.LoopId), ("$action", loop.Action),
                ("$status", loop.Status), ("$started", loop.StartedAtUtc), ("$ended", loop.EndedAtUtc),
                ("$etype", loop.ErrorType), ("$emsg", loop.ErrorMessage), ("$log", loop.LogDir), ("$now", now));
            added = insert.ExecuteNonQuery() > 0;
        }
        else
        {
            if (existingStatus == "running" && loop.Status != "running")
            {
                // The loop RD-Agent was running when last read has finished: the one change discovery makes to a row.
                using var finish = _db.Command(tx, """
                    UPDATE loops SET status = $status, ended_at_utc = $ended, error_type = $etype,
                                     error_message = $emsg, updated_at_utc = $now
                    WHERE task_run_id = $tr AND loop_id = $loop
                    """, ("$status", loop.Status), ("$ended", loop.EndedAtUtc), ("$etype", loop.ErrorType),
                    ("$emsg", loop.ErrorMessage), ("$now", now), ("$tr", loop.TaskRunId), ("$loop", loop.LoopId));
                updated = finish.ExecuteNonQuery() > 0;
            }
            else if (existingStatus is not null && existingStatus != loop.Status && loop.Status != "running")
                disagreements.Add(
                    $"loop {key}: the registry says status '{existingStatus}', the log says '{loop.Status}'");
            using var fill = _db.Command(tx, """
                UPDATE loops SET action = COALESCE(action, $action),
                                 started_at_utc = COALESCE(started_at_utc, $started),
                                 ended_at_utc = COALESCE(ended_at_utc, $ended), log_dir = COALESCE(log_dir, $log),
                                 updated_at_utc = $now
                WHERE task_run_id = $tr AND loop_id = $loop
                  AND ((action IS NULL AND $action IS NOT NULL) OR (started_at_utc IS NULL AND $started IS NOT NULL)
                       OR (ended_at_utc IS NULL AND $ended IS NOT NULL) OR log_dir IS NULL)
                """, ("$action", loop.Action), ("$started", loop.StartedAtUtc), ("$ended", loop.EndedAtUtc),
                ("$log", loop.LogDir), ("$now", now), ("$tr", loop.TaskRunId), ("$loop", loop.LoopId));
            updated |= fill.ExecuteNonQuery() > 0;
        }

        var own = new List<(string Id, string? Role)>();
        using (var read = _db.Command(tx, """
                   SELECT workspace_id, workspace_role FROM workspaces
                   WHERE task_run_id = $tr AND loop_id = $loop ORDER BY workspace_id
                   """, ("$tr", loop.TaskRunId), ("$loop", loop.LoopId)))
        using (var r = read.ExecuteReader())
            while (r.Read()) own.Add((r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)));
        var workspacesAdded = 0;
        foreach (var ws in workspaces)
        {
            if (own.Any(o => o.Id == ws.WorkspaceId)) continue;
            string? elsewhere = null;
            using (var where = _db.Command(tx,
                       "SELECT task_run_id || '/' || COALESCE(loop_id, '?') FROM workspaces WHERE workspace_id = $id",
                       ("$id", ws.WorkspaceId)))
                elsewhere = where.ExecuteScalar() as string;
            if (elsewhere is not null)
            {
                if (!ws.IsBaseline)
                    disagreements.Add($"loop {key}: the log names workspace {ws.WorkspaceId} ({ws.Role}), "
                        + $"which the registry gives to loop {elsewhere}");
                continue;
            }
            var registered = own.Where(o => o.Role == ws.Role).Select(o => o.Id).ToList();
            if (ws.Role == "experiment_workspace" && registered.Count > 0)
            {
                var theirs = string.Join(", ", registered);
                disagreements.Add($"loop {key}: the registry's experiment workspace is {theirs}, "
                    + $"the log names {ws.WorkspaceId} ({ws.StoredPath})");
                continue;
            }
            using var insert = _db.Command(tx, """
                INSERT INTO workspaces (workspace_id, task_run_id, loop_id, workspace_role, experiment_type, step_name,
                                        status, workspace_path, created_at_utc, updated_at_utc)
                VALUES ($id, $tr, $loop, $role, $type, $step, $status, $path, $now, $now)
                """, ("$id", ws.WorkspaceId), ("$tr", loop.TaskRunId), ("$loop", ws.LoopId), ("$role", ws.Role),
                ("$type", ws.ExperimentType), ("$step", ws.StepName), ("$status", ws.Status), ("$path", ws.StoredPath),
                ("$now", now));
            workspacesAdded += insert.ExecuteNonQuery();
        }
        return new LoopWriteResult(added, updated, workspacesAdded, disagreements);
    }

    /// <summary>What discovery remembers of a task run's folders, by folder (relative to the log root).</summary>
    public Dictionary<string, DiscoveryMemory> Memory(string runFolder)
    {
        var memory = new Dictionary<string, DiscoveryMemory>(StringComparer.Ordinal);
        if (!_hasMemory) return memory;
        using var cmd = _db.Connection.CreateCommand();
        cmd.CommandText = $"""
            SELECT folder, task_run_id, loop_id, folder_stamp, files_stamp, settled, status, hypothesis, decision
            FROM {MemoryTable} WHERE folder = $run OR folder LIKE $prefix ESCAPE '\'
            """;
        cmd.Parameters.AddWithValue("$run", runFolder);
        var escaped = runFolder.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
        cmd.Parameters.AddWithValue("$prefix", escaped + "/%");
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            memory[r.GetString(0)] = new DiscoveryMemory(r.GetString(0), r.GetString(1),
                r.IsDBNull(2) ? null : r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetInt64(5) != 0,
                r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7),
                r.IsDBNull(8) ? null : r.GetInt64(8) != 0);
        }
        return memory;
    }

    /// <summary>Records what was read of a folder, so the next run reads it again only once it changed.</summary>
    public void Remember(DiscoveryMemory m, string now) => _db.Write(tx =>
    {
        EnsureMemory(tx);
        Remember(tx, m, now);
        return 0;
    });

    // Run in every write transaction that remembers: a retried transaction must create the table again.
    private void EnsureMemory(SqliteTransaction tx)
    {
        using var create = _db.Command(tx, MemorySql);
        create.ExecuteNonQuery();
        _hasMemory = true;
    }

    private void Remember(SqliteTransaction tx, DiscoveryMemory m, string now)
    {
        using var cmd = _db.Command(tx, $"""
            INSERT INTO {MemoryTable} (folder, task_run_id, loop_id, folder_stamp, files_stamp, settled, status,
                                       hypothesis, decision, read_at_utc)
            VALUES ($folder, $tr, $loop, $fs, $files, $settled, $status, $hyp, $decision, $now)
            ON CONFLICT (folder) DO UPDATE SET task_run_id = excluded.task_run_id, loop_id = excluded.loop_id,
              folder_stamp = excluded.folder_stamp, files_stamp = excluded.files_stamp, settled = excluded.settled,
              status = excluded.status, hypothesis = excluded.hypothesis, decision = excluded.decision,
              read_at_utc = excluded.read_at_utc
            """, ("$folder", m.Folder), ("$tr", m.TaskRunId), ("$loop", m.LoopId), ("$fs", m.FolderStamp),
            ("$files", m.FilesStamp), ("$settled", m.Settled ? 1 : 0), ("$status", m.Status), ("$hyp", m.Hypothesis),
            ("$decision", m.Decision is null ? null : m.Decision.Value ? 1 : 0), ("$now", now));
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _db.Dispose();
}
