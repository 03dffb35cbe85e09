namespace RdBridge.Registry;

/// <summary>
/// What discovery read of one loop from RD-Agent's log, for the researcher's view: the hypothesis, the decision, the
/// status, and any further text discovery keeps (the error, the step the loop reached) under its column's name.
/// </summary>
public sealed record LoopTexts(string TaskRunId, long LoopId, string? Hypothesis, bool? Decision, string? Status,
    IReadOnlyDictionary<string, string> More);

// The researcher's view reads discovery's memory of the log: every loop it found, results or not.
public sealed partial class RegistryDatabase
{
    /// <summary>Columns of discovery's memory that are its own bookkeeping, not a loop's text.</summary>
    private static readonly HashSet<string> DiscoveryBookkeeping = new(StringComparer.OrdinalIgnoreCase)
    {
        "folder", "task_run_id", "loop_id", "folder_stamp", "files_stamp", "settled", "read_at_utc", "hypothesis",
        "decision", "status",
    };

    /// <summary>
    /// Discovery's texts of every loop of the task run (of all task runs when null), by loop. Empty when discovery
    /// never ran on this registry (the fork wrote it itself). Text columns added to discovery's table later are read
    /// by name, so a newer discovery's texts appear without a change here.
    /// </summary>
    public IReadOnlyList<LoopTexts> ReadLoopTexts(string? taskRunId)
    {
        if (!TableExists(DiscoveryMemoryTable)) return [];
        var more = ColumnsOf(DiscoveryMemoryTable).Where(c => !DiscoveryBookkeeping.Contains(c)).Order().ToList();
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"""
            SELECT task_run_id, loop_id, hypothesis, decision, status{string.Concat(more.Select(c => $", \"{c}\""))}
            FROM {DiscoveryMemoryTable}
            WHERE loop_id IS NOT NULL AND ($tr IS NULL OR task_run_id = $tr)
            ORDER BY task_run_id, loop_id
            """;
        cmd.Parameters.AddWithValue("$tr", (object?)taskRunId ?? DBNull.Value);
        using var r = cmd.ExecuteReader();
        var list = new List<LoopTexts>();
        while (r.Read())
        {
            if (r.GetValue(1) is not long loopId) continue;
            var texts = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < more.Count; i++)
                if (!r.IsDBNull(5 + i) && Convert.ToString(r.GetValue(5 + i)) is { Length: > 0 } t) texts[more[i]] = t;
            list.Add(new LoopTexts(r.GetString(0), loopId, r.IsDBNull(2) ? null : r.GetString(2),
                r.IsDBNull(3) ? null : Convert.ToInt64(r.GetValue(3)) != 0, r.IsDBNull(4) ? null : r.GetString(4),
                texts));
        }
        return list;
    }
}
