using Microsoft.Data.Sqlite;

namespace RdBridge.Registry;

/// <summary>
/// The writes RdBridge makes to the registry, inside one short transaction opened by
/// <see cref="RegistryDatabase.Write{T}"/>. Every value is a bound parameter; each method returns the rows it changed.
/// </summary>
public sealed partial class RegistryWrite
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _tx;

    internal RegistryWrite(SqliteConnection connection, SqliteTransaction tx)
    {
        _connection = connection;
        _tx = tx;
    }

    private int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = _connection.CreateCommand();
        cmd.Transaction = _tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd.ExecuteNonQuery();
    }

    /// <summary>Marks a loop as having results (its <c>qlib_res.csv</c> is on disk).</summary>
    public int MarkHasResult(string taskRunId, long loopId, string nowUtc) => Execute(
        "UPDATE loops SET has_result = 1, updated_at_utc = $now WHERE task_run_id = $tr AND loop_id = $loop",
        ("$now", nowUtc), ("$tr", taskRunId), ("$loop", loopId));

    /// <summary>
    /// Names the loop's experiment workspace in <c>loops.workspace_id</c> / <c>workspace_path</c> (the guide's
    /// columns), when they differ. <c>updated_at_utc</c> is left alone: this copies what the registry already says.
    /// </summary>
    public int SetLoopWorkspace(string taskRunId, long loopId, string workspaceId, string workspacePath) => Execute("""
        UPDATE loops SET workspace_id = $ws, workspace_path = $path
        WHERE task_run_id = $tr AND loop_id = $loop AND (workspace_id IS NOT $ws OR workspace_path IS NOT $path)
        """, ("$ws", workspaceId), ("$path", workspacePath), ("$tr", taskRunId), ("$loop", loopId));

    public int SetMaterialization(string taskRunId, long loopId, string status, string? error, string nowUtc) =>
        Execute("""
        UPDATE loops SET materialization_status = $s, materialization_error = $e, materialization_updated_at_utc = $now
        WHERE task_run_id = $tr AND loop_id = $loop
        """, ("$s", status), ("$e", error), ("$now", nowUtc), ("$tr", taskRunId), ("$loop", loopId));

    /// <summary>Inserts the artifact or updates it where it differs; 1 when a row changed.</summary>
    public int UpsertArtifact(ArtifactRow a, string nowUtc) => Execute("""
        INSERT INTO artifacts (artifact_id, task_run_id, loop_id, workspace_id, artifact_type, name, version, status,
                               primary_flag, entry_path, created_at_utc, updated_at_utc)
        VALUES ($id, $tr, $loop, $ws, $type, $name, 'v1', 'present', $primary, $entry, $now, $now)
        ON CONFLICT (artifact_id) DO UPDATE SET status = 'present', primary_flag = excluded.primary_flag,
            entry_path = excluded.entry_path, updated_at_utc = excluded.updated_at_utc
        WHERE artifacts.status IS NOT 'present' OR artifacts.primary_flag IS NOT excluded.primary_flag
           OR artifacts.entry_path IS NOT excluded.entry_path
        """, ("$id", a.ArtifactId), ("$tr", a.TaskRunId), ("$loop", a.LoopId), ("$ws", a.WorkspaceId),
        ("$type", a.Type), ("$name", a.Name), ("$primary", a.Primary ? 1 : 0), ("$entry", a.EntryPath),
        ("$now", nowUtc));

    /// <summary>Inserts the file row or updates it where it differs; 1 when a row changed.</summary>
    public int UpsertArtifactFile(ArtifactFileRow f) => Execute("""
        INSERT INTO artifact_files (file_id, artifact_id, workspace_id, path, sha256, size_bytes, mtime_utc, kind)
        VALUES ($id, $artifact, $ws, $path, $sha, $size, $mtime, $kind)
        ON CONFLICT (file_id) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256,
            size_bytes = excluded.size_bytes, mtime_utc = excluded.mtime_utc, kind = excluded.kind
        WHERE artifact_files.sha256 IS NOT excluded.sha256 OR artifact_files.size_bytes IS NOT excluded.size_bytes
           OR artifact_files.mtime_utc IS NOT excluded.mtime_utc OR artifact_files.path IS NOT excluded.path
        """, ("$id", f.FileId), ("$artifact", f.ArtifactId), ("$ws", f.WorkspaceId), ("$path", f.Path),
        ("$sha", f.Sha256), ("$size", f.Size), ("$mtime", f.MtimeUtc), ("$kind", f.Kind));

    /// <summary>
    /// Records a loop's bundle: its <c>production_bundles</c> row (updated only where it differs), the loop's
    /// <c>asset_bundle_id</c> and <c>is_solidified</c>, and the bundle's <c>factor_registry</c> rows.
    /// </summary>
    public void RecordBundle(BundleRecord b, string nowUtc)
    {
        // A stale row from another loop must not hold this bundle id (it is unique).
        Execute("DELETE FROM production_bundles WHERE bundle_id = $b AND NOT (task_run_id = $tr AND loop_id = $loop)",
            ("$b", b.BundleId), ("$tr", b.TaskRunId), ("$loop", b.LoopId));
        Execute("""
            INSERT INTO production_bundles (task_run_id, loop_id, bundle_id, bundle_path, created_at, updated_at,
                                            content_digest, archive_sha256, size_bytes, file_count)
            VALUES ($tr, $loop, $b, $path, $now, $now, $digest, $sha, $size, $count)
            ON CONFLICT (task_run_id, loop_id) DO UPDATE SET bundle_id = excluded.bundle_id,
                bundle_path = excluded.bundle_path, updated_at = excluded.updated_at,
                content_digest = excluded.content_digest, archive_sha256 = excluded.archive_sha256,
                size_bytes = excluded.size_bytes, file_count = excluded.file_count
            WHERE production_bundles.bundle_id IS NOT excluded.bundle_id
               OR production_bundles.bundle_path IS NOT excluded.bundle_path
               OR production_bundles.content_digest IS NOT excluded.content_digest
               OR production_bundles.archive_sha256 IS NOT excluded.archive_sha256
               OR production_bundles.size_bytes IS NOT excluded.size_bytes
               OR production_bundles.file_count IS NOT excluded.file_count
            """, ("$tr", b.TaskRunId), ("$loop", b.LoopId), ("$b", b.BundleId), ("$path", b.BundlePath),
            ("$now", nowUtc), ("$digest", b.ContentDigest), ("$sha", b.ArchiveSha256), ("$size", b.SizeBytes),
            ("$count", b.FileCount));
        Execute("""
            UPDATE loops SET asset_bundle_id = $b, is_solidified = 1, updated_at_utc = $now
            WHERE task_run_id = $tr AND loop_id = $loop AND (asset_bundle_id IS NOT $b OR is_solidified IS NOT 1)
            """, ("$b", b.BundleId), ("$now", nowUtc), ("$tr", b.TaskRunId), ("$loop", b.LoopId));
        Execute("DELETE FROM factor_registry WHERE asset_bundle_id = $b", ("$b", b.BundleId));
        foreach (var f in b.Factors)
        {
            Execute("""
                INSERT INTO factor_registry (factor_name, expression, performance_json, asset_bundle_id, workspace_id,
                                             task_run_id, loop_id, updated_at_utc)
                VALUES ($n, $e, $p, $b, $ws, $tr, $loop, $now)
                """, ("$n", f.Name), ("$e", f.Expression), ("$p", f.PerformanceJson), ("$b", b.BundleId),
                ("$ws", f.WorkspaceId), ("$tr", b.TaskRunId), ("$loop", b.LoopId), ("$now", nowUtc));
        }
    }

    /// <summary>
    /// Replaces what <paramref name="pipeline"/> recorded of every loop and of its products: written once,
    /// at the end of a successful run, so a failed run leaves the previous record and its loops are examined again.
    /// </summary>
    public int RecordRun(string pipeline, IEnumerable<LoopState> states, string productsFingerprint, string nowUtc)
    {
        Execute("""
            INSERT INTO rdbridge_run_state (pipeline, products_fingerprint, recorded_at_utc) VALUES ($p, $f, $now)
            ON CONFLICT (pipeline) DO UPDATE SET products_fingerprint = excluded.products_fingerprint,
                recorded_at_utc = excluded.recorded_at_utc
            """, ("$p", pipeline), ("$f", productsFingerprint), ("$now", nowUtc));
        Execute("DELETE FROM rdbridge_loop_state WHERE pipeline = $p", ("$p", pipeline));
        using var cmd = _connection.CreateCommand();
        cmd.Transaction = _tx;
        cmd.CommandText = """
            INSERT INTO rdbridge_loop_state (pipeline, task_run_id, loop_id, fingerprint, recorded_at_utc)
            VALUES ($p, $tr, $loop, $f, $now)
            """;
        var p = cmd.Parameters.AddWithValue("$p", pipeline);
        var tr = cmd.Parameters.Add("$tr", SqliteType.Text);
        var loop = cmd.Parameters.Add("$loop", SqliteType.Integer);
        var f = cmd.Parameters.Add("$f", SqliteType.Text);
        cmd.Parameters.AddWithValue("$now", nowUtc);
        var n = 0;
        foreach (var s in states)
        {
            tr.Value = s.TaskRunId;
            loop.Value = s.LoopId;
            f.Value = s.Fingerprint.ToString();
            n += cmd.ExecuteNonQuery();
        }
        return n;
    }

    // The sample generator plays RD-Agent: these write rows as RD-Agent does.

    public int AddTaskRun(NewTaskRun t) => Execute("""
        INSERT INTO task_runs (task_run_id, scenario, status, created_at_utc, updated_at_utc, rdagent_version,
                               log_trace_path)
        VALUES ($id, $scenario, $status, $created, $created, $version, $trace)
        """, ("$id", t.TaskRunId), ("$scenario", t.Scenario), ("$status", t.Status), ("$created", t.CreatedAtUtc),
        ("$version", t.RdAgentVersion), ("$trace", t.LogTracePath));

    public int AddWorkspace(NewWorkspace w) => Execute("""
        INSERT INTO workspaces (workspace_id, task_run_id, loop_id, workspace_role, experiment_type, step_name, status,
                                workspace_path, created_at_utc, updated_at_utc)
        VALUES ($id, $tr, $loop, $role, $type, $step, $status, $path, $created, $created)
        """, ("$id", w.Row.WorkspaceId), ("$tr", w.Row.TaskRunId), ("$loop", w.Row.LoopId), ("$role", w.Row.Role),
        ("$type", w.Row.ExperimentType), ("$step", w.Row.StepName), ("$status", w.Row.Status),
        ("$path", w.Row.WorkspacePath), ("$created", w.CreatedAtUtc));

    /// <summary>Adds a loop as RD-Agent records it when the loop ends (its end time is its update time).</summary>
    public int AddLoop(LoopRow l) => Execute("""
        INSERT INTO loops (task_run_id, loop_id, action, status, has_result, started_at_utc, ended_at_utc, error_type,
                           error_message, log_dir, updated_at_utc)
        VALUES ($tr, $loop, $action, $status, $result, $started, $ended, $etype, $emessage, $log, $ended)
        """, ("$tr", l.TaskRunId), ("$loop", l.LoopId), ("$action", l.Action), ("$status", l.Status),
        ("$result", l.HasResult ? 1 : 0), ("$started", l.StartedAtUtc), ("$ended", l.EndedAtUtc),
        ("$etype", l.ErrorType), ("$emessage", l.ErrorMessage), ("$log", l.LogDir));
}
