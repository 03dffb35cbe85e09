namespace RdBridge.Registry;

// The loops, read a page at a time (see Paged): every stage walks them while writing the registry per loop.
public sealed partial class RegistryDatabase
{
    /// <summary>
    /// The loops the selection names, ordered by task run and loop id. A row without a usable key (NULL, text where an
    /// integer belongs) or a second row with a key already read is skipped and listed in <see cref="BadRows"/>.
    /// </summary>
    /// <remarks>
    /// Read in pages (<see cref="Paged"/>), each its own short read: the stages write the registry loop by loop while
    /// they walk this, and one SELECT open for the whole walk kept SQLite from ever checkpointing the WAL past it
    /// (2 GB of WAL beside a 12 MB registry at 10,000 loops). The rowid, after the key, orders the second row of a
    /// key that an old or hand-made registry without the primary key may hold, so no row is skipped or read twice.
    /// A loop RD-Agent adds meanwhile with a key after the current page is now read in this walk rather than the next
    /// run's: the same work, only sooner; a progress total counted beforehand could already miss a loop added between
    /// the count and the walk.
    /// </remarks>
    public IEnumerable<LoopRow> ReadLoops(LoopSelection selection)
    {
        var hasTaskRuns = TableExists("task_runs")
            && ColumnsOf("task_runs").IsSupersetOf(["task_run_id", "scenario", "log_trace_path"]);
        var columns = ColumnsOf("loops");
        string Col(string name, string fallback = "NULL") => columns.Contains(name) ? $"l.{name}" : fallback;
        // The task run is joined by a subquery, so a task_runs table holding one id twice cannot double a loop.
        string OfTaskRun(string column) => hasTaskRuns
            ? $"(SELECT t.{column} FROM task_runs t WHERE t.task_run_id = l.task_run_id LIMIT 1)"
            : "NULL";
        var scenario = OfTaskRun("scenario");
        var trace = OfTaskRun("log_trace_path");
        var select = $"""
            l.task_run_id, l.loop_id, {Col("action")}, {Col("status")}, {Col("has_result", "0")},
                   {Col("log_dir")},
                   {Col("started_at_utc")}, {Col("ended_at_utc")}, {Col("error_type")}, {Col("error_message")},
                   {Col("asset_bundle_id")}, {Col("is_solidified", "0")}, {Col("materialization_status")},
                   {Col("updated_at_utc")},
                   {scenario}, {trace}, {Col("workspace_id")}, {Col("workspace_path")}
            """;
        // Raw values per row, turned into loops only as each is reached, so rows are named in BadRows in the order
        // the walk meets them, between what the caller names of the loops before.
        var rows = Paged(select, "loops", "l",
            "($tr IS NULL OR l.task_run_id = $tr) AND ($loop IS NULL OR l.loop_id = $loop)",
            ["task_run_id", "loop_id"],
            [
                ("$tr", (object?)selection.TaskRunId ?? DBNull.Value),
                ("$loop", (object?)selection.LoopId ?? DBNull.Value),
            ],
            r =>
            {
                var values = new object[r.FieldCount];
                r.GetValues(values);
                return values;
            });
        var count = 0;
        string? previous = null;
        foreach (var v in rows)
        {
            if (LoopKey(v) is not { } key) continue;
            var row = new LoopRow(
                key.TaskRunId, key.LoopId, Text(v[2]), Text(v[3]), Truthy(v[4]), Text(v[5]),
                Text(v[6]), Text(v[7]), Text(v[8]), Text(v[9]), Text(v[10]),
                Truthy(v[11]),
                Text(v[12]), Text(v[13]), Text(v[14]), Text(v[15]),
                Text(v[16]), Text(v[17]));
            if (row.Key == previous)
            {
                Bad("loops", row.Key, "a second row with the same task_run_id and loop_id (the first one is used)");
                continue;
            }
            previous = row.Key;
            if (!selection.Matches(row)) continue;
            if (selection.MaxLoops is { } max && count >= max) yield break;
            count++;
            yield return row;
        }
    }

    private (string TaskRunId, long LoopId)? LoopKey(object[] v)
    {
        var taskRun = v[0] as string;
        var key = $"{Shown(v[0])}/{Shown(v[1])}";
        if (string.IsNullOrEmpty(taskRun)) Bad("loops", key, "task_run_id is NULL or empty");
        else if (v[1] is not long id)
            Bad("loops", key, v[1] is DBNull ? "loop_id is NULL" : $"loop_id is {Quoted(v[1])}, not an integer");
        else return (taskRun, id);
        return null;
    }
}
