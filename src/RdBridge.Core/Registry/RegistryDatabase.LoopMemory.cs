namespace RdBridge.Registry;

// What discovery read of each loop from RD-Agent's log, by loop rather than by folder: export lists every loop, and a
// loop without results (failed, still running) has no metadata files, only what discovery remembers.
public sealed partial class RegistryDatabase
{
    /// <summary>
    /// What discovery remembers of every loop it read (the loop's own hypothesis, the decision, the step it reached),
    /// by task run and loop id; empty for a registry discovery never wrote. Where a loop was read from more than one
    /// folder (a v0.3 log's slices), the latest reading wins.
    /// </summary>
    public Dictionary<(string TaskRunId, long LoopId), DiscoveryMemory> ReadLoopMemory()
    {
        var memory = new Dictionary<(string, long), DiscoveryMemory>();
        foreach (var m in ReadMemory("loop_id IS NOT NULL ORDER BY read_at_utc, folder"))
            memory[(m.TaskRunId, m.LoopId!.Value)] = m;
        return memory;
    }

    /// <summary>
    /// The discovery memory rows <paramref name="where"/> selects (with its parameters), in its order; none for a
    /// registry discovery never wrote. The step column is read where this registry has it (older ones do not).
    /// </summary>
    private IEnumerable<DiscoveryMemory> ReadMemory(string where, params (string Name, string Value)[] parameters)
    {
        if (!TableExists(DiscoveryMemoryTable)) yield break;
        var step = HasColumn(DiscoveryMemoryTable, DiscoveryStepColumn) ? DiscoveryStepColumn : "NULL";
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"""
            SELECT folder, task_run_id, loop_id, folder_stamp, files_stamp, settled, status, hypothesis, decision,
                   {step}
            FROM {DiscoveryMemoryTable} WHERE {where}
            """;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            yield return new DiscoveryMemory(r.GetString(0), r.GetString(1),
                r.IsDBNull(2) ? null : r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetInt64(5) != 0,
                r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7),
                r.IsDBNull(8) ? null : r.GetInt64(8) != 0) { Step = r.IsDBNull(9) ? null : r.GetString(9) };
        }
    }
}
