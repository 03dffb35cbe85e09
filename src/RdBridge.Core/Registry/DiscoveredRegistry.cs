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
    string? Status, string? Hypothesis, bool? Decision)
{
    /// <summary>The last step of the loop RD-Agent logged anything in (<c>direct_exp_gen</c>, <c>coding</c>,
    /// <c>running</c>, <c>feedback</c>, <c>record</c>): where a running loop is, where a failed one stopped.</summary>
    public string? Step { get; init; }
}

/// <summary>One discovered loop to write, with what discovery remembers of its folder.</summary>
public sealed record LoopWrite(LoopRecord Loop, IReadOnlyList<WorkspaceRecord> Workspaces, DiscoveryMemory Memory);

/// <summary>What writing one discovered loop did to the registry.</summary>
public sealed record LoopWriteResult(
    bool LoopAdded, bool LoopUpdated, int WorkspacesAdded, IReadOnlyList<string> Disagreements);

/// <summary>
/// The registry as discovery writes it: created in the fork's schema when there is none, then only added to (the SQL is
/// <see cref="RegistryWrite"/>'s and <see cref="RegistryDatabase"/>'s, like every other registry access).
/// </summary>
public sealed class DiscoveredRegistry : IDisposable
{
    private readonly RegistryDatabase _db;

    private DiscoveredRegistry(RegistryDatabase db, bool created)
    {
        _db = db;
        Created = created;
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
        foreach (var (id, log) in _db.ReadTaskRunLogPaths())
        {
            if (map.Map(log).Local is { } local)
                byFolder.TryAdd(System.IO.Path.TrimEndingDirectorySeparator(local), id);
        }

        return byFolder;
    }

    /// <summary>
    /// Every task run's id by the name of its log folder, where only one task run has that name: a registry whose
    /// paths are spelt in a way the path map misses (another drive, <c>\\wsl$\…</c>) still names the same folder, and
    /// taking it for a new task run would add every loop a second time.
    /// </summary>
    public Dictionary<string, string> TaskRunsByLogFolderName()
    {
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, log) in _db.ReadTaskRunLogPaths())
        {
            var trimmed = log.Trim().TrimEnd('/', '\\');
            var name = trimmed[(trimmed.LastIndexOfAny(['/', '\\']) + 1)..];
            if (name.Length == 0) continue;
            if (!seen.Add(name)) byName.Remove(name);
            else byName[name] = id;
        }
        return byName;
    }

    public bool TaskRunExists(string taskRunId) => _db.TaskRunExists(taskRunId);

    /// <summary>Adds the task run when it is missing; returns whether it did.</summary>
    public bool AddTaskRun(TaskRunRecord run, string now) => _db.Write(w => w.AddDiscoveredTaskRun(run, now));

    /// <summary>
    /// Marks a task run finished once none of its loops runs any more; only ever from <c>running</c>.
    /// </summary>
    public bool FinishTaskRun(string taskRunId, string status, string now) =>
        _db.Write(w => w.FinishTaskRun(taskRunId, status, now));

    /// <summary>
    /// Adds what the registry lacks of a few loops and remembers what was read of their folders, in one short
    /// transaction (a batch, so a large log is not thousands of commits, and RD-Agent never waits long).
    /// </summary>
    public IReadOnlyList<LoopWriteResult> WriteLoops(IReadOnlyList<LoopWrite> batch, string now) => _db.Write(w =>
    {
        // In every transaction that remembers: a retried transaction must create the table again.
        w.EnsureDiscoveryMemory();
        var results = new List<LoopWriteResult>(batch.Count);
        foreach (var item in batch)
        {
            results.Add(w.WriteDiscoveredLoop(item.Loop, item.Workspaces, now));
            w.RememberDiscovery(item.Memory, now);
        }
        return results;
    });

    /// <summary>What discovery remembers of a task run's folders, by folder (relative to the log root).</summary>
    public Dictionary<string, DiscoveryMemory> Memory(string runFolder) => _db.ReadDiscoveryMemory(runFolder);

    /// <summary>Records what was read of a folder, so the next run reads it again only once it changed.</summary>
    public void Remember(DiscoveryMemory m, string now) => _db.Write(w =>
    {
        w.EnsureDiscoveryMemory();
        w.RememberDiscovery(m, now);
        return 0;
    });

    public void Dispose() => _db.Dispose();
}
