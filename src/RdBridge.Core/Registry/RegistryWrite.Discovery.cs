using Microsoft.Data.Sqlite;

namespace RdBridge.Registry;

// Discovery's writes: the registry is only added to — a missing task run, loop or workspace is inserted, a loop
// recorded as running is finished once its log says so, and anything else that differs from the log comes back as a
// disagreement, left as it is.
public sealed partial class RegistryWrite
{
    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = _connection.CreateCommand();
        cmd.Transaction = _tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    /// <summary>Adds the task run when it is missing; returns whether it did.</summary>
    public bool AddDiscoveredTaskRun(TaskRunRecord run, string now) => Execute("""
        INSERT OR IGNORE INTO task_runs
          (task_run_id, scenario, status, created_at_utc, updated_at_utc, log_trace_path, params_json)
        VALUES ($id, $scenario, $status, $created, $now, $log, $params)
        """, ("$id", run.TaskRunId), ("$scenario", run.Scenario), ("$status", run.Status),
        ("$created", run.CreatedAtUtc), ("$now", now), ("$log", run.LogTracePath), ("$params", run.ParamsJson)) > 0;

    /// <summary>
    /// Marks a task run finished once none of its loops runs any more; only ever from <c>running</c>.
    /// </summary>
    public bool FinishTaskRun(string taskRunId, string status, string now) => Execute("""
        UPDATE task_runs SET status = $status, updated_at_utc = $now
        WHERE task_run_id = $id AND status = 'running' AND $status <> 'running'
        """, ("$status", status), ("$now", now), ("$id", taskRunId)) > 0;

    /// <summary>Adds what the registry lacks of one discovered loop.</summary>
    public LoopWriteResult WriteDiscoveredLoop(
        LoopRecord loop, IReadOnlyList<WorkspaceRecord> workspaces, string now)
    {
        var disagreements = new List<string>();
        var key = $"{loop.TaskRunId}/{loop.LoopId}";
        string? existingStatus = null;
        var exists = false;
        using (var read = Command("SELECT status FROM loops WHERE task_run_id = $tr AND loop_id = $loop",
                   ("$tr", loop.TaskRunId), ("$loop", loop.LoopId)))
        using (var r = read.ExecuteReader())
        {
            if (r.Read()) { exists = true; existingStatus = r.IsDBNull(0) ? null : r.GetString(0); }
        }
        var added = false;
        var updated = false;
        if (!exists)
        {
            using var insert = Command("""
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
                using var finish = Command("""
                    UPDATE loops SET status = $status, ended_at_utc = $ended, error_type = $etype,
                                     error_message = $emsg, updated_at_utc = $now
                    WHERE task_run_id = $tr AND loop_id = $loop
                    """, ("$status", loop.Status), ("$ended", loop.EndedAtUtc), ("$etype", loop.ErrorType),
                    ("$emsg", loop.ErrorMessage), ("$now", now), ("$tr", loop.TaskRunId), ("$loop", loop.LoopId));
                updated = finish.ExecuteNonQuery() > 0;
                // The workspaces its coder's result named while it ran end with the loop.
                using var ended = Command("""
                    UPDATE workspaces SET status = $status, updated_at_utc = $now
                    WHERE task_run_id = $tr AND loop_id = $loop AND status = 'running'
                    """, ("$status", loop.Status == "success" ? "success" : "failed"), ("$now", now),
                    ("$tr", loop.TaskRunId), ("$loop", loop.LoopId));
                ended.ExecuteNonQuery();
            }
            else if (existingStatus is not null && existingStatus != loop.Status && loop.Status != "running")
            {
                disagreements.Add(
                    $"loop {key}: the registry says status '{existingStatus}', the log says '{loop.Status}'");
            }

            using var fill = Command("""
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
        using (var read = Command("""
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
            using (var where = Command(
                       "SELECT task_run_id || '/' || COALESCE(loop_id, '?') FROM workspaces WHERE workspace_id = $id",
                       ("$id", ws.WorkspaceId)))
            {
                elsewhere = where.ExecuteScalar() as string;
            }

            if (elsewhere is not null)
            {
                if (!ws.IsBaseline)
                {
                    disagreements.Add($"loop {key}: the log names workspace {ws.WorkspaceId} ({ws.Role}), "
                        + $"which the registry gives to loop {elsewhere}");
                }

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
            using var insert = Command("""
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

    // Run in every write transaction that remembers: a retried transaction must create the table again.
    public void EnsureDiscoveryMemory()
    {
        Execute(RegistryDatabase.DiscoveryMemorySql);
        using var has = Command("SELECT count(*) FROM pragma_table_info($table) WHERE name = $column",
            ("$table", RegistryDatabase.DiscoveryMemoryTable), ("$column", RegistryDatabase.DiscoveryStepColumn));
        if ((long)has.ExecuteScalar()! == 0)
        {
            Execute($"ALTER TABLE {RegistryDatabase.DiscoveryMemoryTable} "
                + $"ADD COLUMN {RegistryDatabase.DiscoveryStepColumn} TEXT");
        }
    }

    /// <summary>Records what was read of a folder, so the next run reads it again only once it changed.</summary>
    public void RememberDiscovery(DiscoveryMemory m, string now)
    {
        using var cmd = Command($"""
            INSERT INTO {RegistryDatabase.DiscoveryMemoryTable}
                (folder, task_run_id, loop_id, folder_stamp, files_stamp, settled, status,
                 hypothesis, decision, read_at_utc, step)
            VALUES ($folder, $tr, $loop, $fs, $files, $settled, $status, $hyp, $decision, $now, $step)
            ON CONFLICT (folder) DO UPDATE SET task_run_id = excluded.task_run_id, loop_id = excluded.loop_id,
              folder_stamp = excluded.folder_stamp, files_stamp = excluded.files_stamp, settled = excluded.settled,
              status = excluded.status, hypothesis = excluded.hypothesis, decision = excluded.decision,
              read_at_utc = excluded.read_at_utc, step = excluded.step
            """, ("$folder", m.Folder), ("$tr", m.TaskRunId), ("$loop", m.LoopId), ("$fs", m.FolderStamp),
            ("$files", m.FilesStamp), ("$settled", m.Settled ? 1 : 0), ("$status", m.Status), ("$hyp", m.Hypothesis),
            ("$decision", m.Decision is null ? null : m.Decision.Value ? 1 : 0), ("$now", now),
            ("$step", m.Step));
        cmd.ExecuteNonQuery();
    }
}
