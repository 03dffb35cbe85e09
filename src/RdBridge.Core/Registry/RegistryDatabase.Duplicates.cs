namespace RdBridge.Registry;

/// <summary>
/// A task run discovery added a second time under its log folder's name, because the path map of the run that added
/// it did not lead from the registry's stored log path to that folder (the damage of a wrong first guess before
/// preflight existed); <paramref name="Original"/> is the task run the registry already had for the folder.
/// </summary>
public sealed record DuplicateTaskRun(string TaskRunId, string Original, IReadOnlyList<long> LoopsWithoutWorkspaces,
    long OtherLoops);

// Finding and removing that damage: only loops that own no workspace, artifact or bundle are ever removed.
public sealed partial class RegistryDatabase
{
    /// <summary>
    /// Task runs whose id is their log folder's name (discovery's own naming) while another task run stores a log path
    /// ending in the same folder: the same RD-Agent run twice.
    /// </summary>
    public IReadOnlyList<DuplicateTaskRun> FindDuplicateTaskRuns()
    {
        var runs = ReadTaskRunLogPaths();
        var found = new List<DuplicateTaskRun>();
        foreach (var (id, log) in runs)
        {
            if (FolderName(log) != id) continue;
            var original = runs.FirstOrDefault(r => r.TaskRunId != id && FolderName(r.LogTracePath) == id).TaskRunId;
            if (original is null) continue;
            var empty = new List<long>();
            long others = 0;
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = """
                SELECT l.loop_id,
                  (SELECT count(*) FROM workspaces w WHERE w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id)
                FROM loops l WHERE l.task_run_id = $id ORDER BY l.loop_id
                """;
            cmd.Parameters.AddWithValue("$id", id);
            using (var r = cmd.ExecuteReader())
            {
                while (r.Read())
                {
                    if (r.GetInt64(1) == 0) empty.Add(r.GetInt64(0));
                    else others++;
                }
            }
            found.Add(new DuplicateTaskRun(id, original, empty, others));
        }
        return found;
    }

    private static string FolderName(string stored)
    {
        var p = stored.Trim().TrimEnd('/', '\\');
        return p[(p.LastIndexOfAny(['/', '\\']) + 1)..];
    }
}

public sealed partial class RegistryWrite
{
    /// <summary>
    /// Removes a duplicate task run's loops that own nothing, what discovery remembered of its folders (so the next
    /// discovery reads them again, for the original task run), and the task run itself once no loop is left.
    /// Returns the loops removed.
    /// </summary>
    public int RemoveDuplicate(DuplicateTaskRun duplicate)
    {
        var removed = 0;
        foreach (var loop in duplicate.LoopsWithoutWorkspaces)
        {
            removed += Execute("""
                DELETE FROM loops WHERE task_run_id = $id AND loop_id = $loop
                  AND NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.task_run_id = $id AND w.loop_id = $loop)
                """, ("$id", duplicate.TaskRunId), ("$loop", loop));
            if (TableExists("rdbridge_loop_state"))
            {
                Execute("DELETE FROM rdbridge_loop_state WHERE task_run_id = $id AND loop_id = $loop",
                    ("$id", duplicate.TaskRunId), ("$loop", loop));
            }
        }
        if (TableExists(RegistryDatabase.DiscoveryMemoryTable))
        {
            Execute($"DELETE FROM {RegistryDatabase.DiscoveryMemoryTable} WHERE task_run_id = $id",
                ("$id", duplicate.TaskRunId));
        }
        Execute("""
            DELETE FROM task_runs WHERE task_run_id = $id
              AND NOT EXISTS (SELECT 1 FROM loops l WHERE l.task_run_id = $id)
            """, ("$id", duplicate.TaskRunId));
        return removed;
    }

    private bool TableExists(string table)
    {
        using var cmd = Command("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $t", ("$t", table));
        return (long)cmd.ExecuteScalar()! > 0;
    }
}
