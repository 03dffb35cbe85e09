using System.Text;
using Microsoft.Data.Sqlite;

namespace RdBridge.Registry;

// What discovery read of each loop from RD-Agent's log, by loop rather than by folder: export lists every loop, and a
// loop without results (failed, still running) has no metadata files, only what discovery remembers.
public sealed partial class RegistryDatabase
{
    /// <summary>
    /// What discovery remembers of each loop (the loop's own hypothesis, the decision, the step it reached), asked for
    /// loop by loop in <see cref="ReadLoops"/>' order. Where a loop was read from more than one folder (a v0.3 log's
    /// slices), the latest reading wins. Nothing for a registry discovery never wrote.
    /// </summary>
    /// <remarks>
    /// Read beside the loops in the same order (a merge), so only the current loop's rows are held: a dictionary of
    /// every loop's memory grew with the number of loops (export at 10,000 loops held all 10,000).
    /// </remarks>
    /// <remarks>
    /// Read a page at a time (<see cref="Paged"/>) for the reason <see cref="ReadLoops"/> is: it is walked while the
    /// stage writes the registry.
    /// </remarks>
    public LoopMemoryCursor ReadLoopMemory() => new(PagedLoopMemory().GetEnumerator());

    private IEnumerable<DiscoveryMemory> PagedLoopMemory()
    {
        if (!TableExists(DiscoveryMemoryTable)) return [];
        return Paged(MemoryColumns("m"), DiscoveryMemoryTable, "m", "m.loop_id IS NOT NULL",
            ["task_run_id", "loop_id", "read_at_utc", "folder"], [], MemoryOf);
    }

    /// <summary>
    /// Discovery's memory, loop by loop in key order; <see cref="For"/> must be asked in ascending key order (task
    /// run in SQLite's own text order, then loop id), as <see cref="ReadLoops"/> gives them.
    /// </summary>
    public sealed class LoopMemoryCursor(IEnumerator<DiscoveryMemory> rows) : IDisposable
    {
        private bool _more = rows.MoveNext();

        public DiscoveryMemory? For(string taskRunId, long loopId)
        {
            var key = Encoding.UTF8.GetBytes(taskRunId);
            DiscoveryMemory? latest = null;
            while (_more)
            {
                var m = rows.Current;
                // SQLite orders text by its UTF-8 bytes (BINARY): the same comparison here keeps both in step.
                var order = Encoding.UTF8.GetBytes(m.TaskRunId).AsSpan().SequenceCompareTo(key);
                if (order == 0) order = m.LoopId!.Value.CompareTo(loopId);
                if (order > 0) break;
                if (order == 0) latest = m;
                _more = rows.MoveNext();
            }
            return latest;
        }

        public void Dispose() => rows.Dispose();
    }

    /// <summary>
    /// The discovery memory rows <paramref name="where"/> selects (with its parameters), in its order; none for a
    /// registry discovery never wrote. The step column is read where this registry has it (older ones do not).
    /// </summary>
    private IEnumerable<DiscoveryMemory> ReadMemory(string where, params (string Name, string Value)[] parameters)
    {
        if (!TableExists(DiscoveryMemoryTable)) yield break;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"SELECT {MemoryColumns(null)} FROM {DiscoveryMemoryTable} WHERE {where}";
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        using var r = cmd.ExecuteReader();
        while (r.Read()) yield return MemoryOf(r);
    }

    /// <summary>The columns <see cref="MemoryOf"/> reads; the step where this registry has it (older ones do not).
    /// </summary>
    private string MemoryColumns(string? alias)
    {
        var a = alias is null ? "" : alias + ".";
        var step = HasColumn(DiscoveryMemoryTable, DiscoveryStepColumn) ? a + DiscoveryStepColumn : "NULL";
        return $"{a}folder, {a}task_run_id, {a}loop_id, {a}folder_stamp, {a}files_stamp, {a}settled, {a}status, "
            + $"{a}hypothesis, {a}decision, {step}";
    }

    private static DiscoveryMemory MemoryOf(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1),
            r.IsDBNull(2) ? null : r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetInt64(5) != 0,
            r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7),
            r.IsDBNull(8) ? null : r.GetInt64(8) != 0) { Step = r.IsDBNull(9) ? null : r.GetString(9) };
}
