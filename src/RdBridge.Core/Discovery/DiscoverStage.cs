using RdBridge.IO;
using RdBridge.Registry;
using RdBridge.Runs;

namespace RdBridge.Discovery;

/// <summary>
/// <c>discover</c>, and the first stage of <c>init</c>, <c>sync</c> and <c>publish</c>: brings the registry up to date
/// from RD-Agent's own log, so an upstream RD-Agent directory (which has no registry) works like the fork's, and a
/// fork registry that lost live writes gets its missing loops back. One task run per log folder, one loop per
/// <c>Loop_N</c> with the workspaces its experiment names; a loop folder is read again only when it changed.
/// </summary>
public sealed class DiscoverStage(RunContext context)
{
    private RunContext Context => context;

    /// <summary>Loops written in one registry transaction: few commits for a large log, short ones for RD-Agent.
    /// </summary>
    private const int BatchSize = 32;

    private static readonly Counter TaskRuns = Counter.Tally("task runs", "task run");
    private static readonly Counter Loops = Counter.Tally("loops", "loop");
    private static readonly Counter RegistryCreated = Counter.Change("registry created");
    private static readonly Counter TaskRunsAdded = Counter.Change("task runs added", "task run added");
    private static readonly Counter TaskRunsFinished = Counter.Change("task runs finished", "task run finished");
    private static readonly Counter LoopsAdded = Counter.Change("loops added", "loop added");
    private static readonly Counter LoopsUpdated = Counter.Change("loops updated", "loop updated");
    private static readonly Counter WorkspacesAdded = Counter.Change("workspaces added", "workspace added");
    private static readonly Counter LoopsUnchanged = Counter.Tally("loops unchanged", "loop unchanged");
    private static readonly Counter LoopsRead = Counter.Tally("loop folders read", "loop folder read");
    private static readonly Counter LoopsRunning = Counter.Tally("loops still running", "loop still running");
    private static readonly Counter LoopsBeingWritten = Counter.Tally("loops being written (read next time)",
        "loop being written (read next time)");
    private static readonly Counter Disagreements = Counter.Tally("disagreements with the registry",
        "disagreement with the registry");
    private static readonly Counter WorkspacesElsewhere = Counter.Tally("workspaces not on this machine",
        "workspace not on this machine");

    public StageReport Run()
    {
        var report = new StageReport("discover");
        var settings = context.Settings;
        if (!Directory.Exists(settings.LogRoot))
        {
            report.Note($"no RD-Agent log at '{settings.LogRoot}' (rdagent.logRoot); the registry is used as it is");
            return report;
        }
        var registry = DiscoveredRegistry.OpenExisting(settings.RegistryPath);
        try
        {
            var byFolder = registry?.TaskRunsByLogFolder(settings.PathMap) ?? [];
            var byName = registry?.TaskRunsByLogFolderName() ?? [];
            var walk = new LogWalk();
            foreach (var dir in LogTree.RunFolders(settings.LogRoot, walk))
            {
                context.Cancellation.ThrowIfCancellationRequested();
                if (!LogTree.IsRunFolder(dir)) continue;
                report.Add(TaskRuns);
                new RunDiscovery(this, report, dir, byFolder, byName).Discover(ref registry);
            }
            NotWalked(report, "log", walk);
        }
        finally
        {
            registry?.Dispose();
        }
        return report;
    }

    /// <summary>Names what a walk left out: links, names that cannot be opened, loop folders misnamed, the limit.
    /// </summary>
    private static void NotWalked(StageReport report, string item, LogWalk walk)
    {
        foreach (var n in walk.TakeNew()) report.Problem(item, n.Path, $"not read: {n.Why}");
    }

    /// <summary>One task run's log folder.</summary>
    private sealed class RunDiscovery(
        DiscoverStage stage, StageReport report, string dir, Dictionary<string, string> byFolder,
        Dictionary<string, string> byName)
    {
        private readonly Configuration.RdBridgeSettings _settings = stage.Context.Settings;
        private readonly string _relative =
            PortablePath.Relative(stage.Context.Settings.LogRoot, dir);
        private readonly string _local = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        private RunSettings? _runSettings;

        public void Discover(ref DiscoveredRegistry? registry)
        {
            // By the mapped path, else by the folder's name (another spelling of the same folder), else a new task run.
            var taskRunId = byFolder.TryGetValue(_local, out var known) ? known
                : byName.TryGetValue(Path.GetFileName(_local), out var named) ? named
                : Path.GetFileName(_local);
            var memory = registry?.Memory(_relative) ?? [];
            var taskRunKnown = registry?.TaskRunExists(taskRunId) ?? false;
            var walk = new LogWalk();
            var loops = LogTree.Loops(dir, walk);
            NotWalked(report, taskRunId, walk);
            string? lastStatus = null;
            var pending = new List<(DiscoveredLoop Loop, LoopWrite Write)>();
            for (var i = 0; i < loops.Count; i++)
            {
                stage.Context.Cancellation.ThrowIfCancellationRequested();
                var folder = loops[i];
                report.Add(Loops);
                stage.Context.Tick("discover", report.Get(Loops), null, LoopsAdded.Of(report.Get(LoopsAdded)));
                var key = $"{_relative}/Loop_{folder.LoopId}";
                var laterLoop = i < loops.Count - 1;
                memory.TryGetValue(key, out var remembered);
                string folderStamp;
                IReadOnlyList<LogFile> files;
                try
                {
                    folderStamp = folder.FolderStamp();
                    files = folder.Files();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // One unreadable loop folder is that loop's problem; the run's other loops are still read.
                    report.Problem($"{taskRunId}/{folder.LoopId}", folder.Path,
                        $"the loop's log folder cannot be listed ({e.Message}); the loop is left out");
                    continue;
                }
                finally
                {
                    NotWalked(report, $"{taskRunId}/{folder.LoopId}", walk);
                }

                if (remembered is { Settled: true } && remembered.FolderStamp == folderStamp)
                {
                    report.Add(LoopsUnchanged);
                    lastStatus = remembered.Status;
                    continue;
                }
                var filesStamp = LogTree.FilesStamp(files);
                if (remembered is not null && remembered.FilesStamp == filesStamp
                    && (remembered.Settled || !laterLoop))
                {
                    // Nothing discovery reads has changed (RD-Agent added only LLM traffic, or nothing).
                    report.Add(remembered.Settled ? LoopsUnchanged : LoopsRunning);
                    lastStatus = remembered.Status;
                    if (remembered.Settled)
                        registry!.Remember(remembered with { FolderStamp = folderStamp }, UtcText.Now());
                    continue;
                }
                report.Add(LoopsRead);
                var settings = Settings();
                var reading = LoopReader.Read(folder, files, settings.Action, laterLoop, DateTime.UtcNow);
                foreach (var b in reading.Broken)
                {
                    report.Problem($"{taskRunId}/{folder.LoopId}", b.Path,
                        $"log pickle {b.Message}; the loop is left out until its log can be read");
                }

                if (reading.BeingWritten)
                {
                    report.Add(LoopsBeingWritten);
                    report.Note(
                        $"{taskRunId}/{folder.LoopId}: RD-Agent is writing its log right now; read on the next sync");
                    continue;
                }
                if (!reading.Usable) continue;
                var loop = reading.Loop!;
                // init's backup is taken before the registry is first written (created, or a row added).
                stage.Context.BeforeChange();
                if (registry is null)
                {
                    registry = DiscoveredRegistry.Create(_settings.RegistryPath);
                    report.Add(RegistryCreated);
                    report.Note($"created the registry {registry.Path} in the fork's schema from the log");
                }
                var now = UtcText.Now();
                if (!taskRunKnown)
                {
                    var run = new TaskRunRecord(taskRunId, settings.Scenario, DiscoveredLoop.Running, CreatedAt(),
                        _local, settings.ParamsJson);
                    if (registry.AddTaskRun(run, now))
                    {
                        report.Add(TaskRunsAdded);
                        report.Note(
                            $"added task run {taskRunId} ({settings.Scenario ?? "scenario unknown"}) from {_local}");
                    }
                    taskRunKnown = true;
                }
                var read = new DiscoveryMemory(key, taskRunId, loop.LoopId, folderStamp, filesStamp, loop.IsFinished,
                    loop.Status, loop.Hypothesis, loop.Decision) { Step = loop.Step };
                pending.Add((loop, ToWrite(taskRunId, loop, read)));
                if (pending.Count >= BatchSize) Flush(registry, taskRunId, pending);
                lastStatus = loop.Status;
            }
            if (registry is not null) Flush(registry, taskRunId, pending);
            if (registry is not null && taskRunKnown && lastStatus is not null && lastStatus != DiscoveredLoop.Running
                && registry.FinishTaskRun(taskRunId, DiscoveredLoop.Success, UtcText.Now()))
            {
                report.Add(TaskRunsFinished);
            }
        }

        private LoopWrite ToWrite(string taskRunId, DiscoveredLoop loop, DiscoveryMemory memory)
        {
            var record = new LoopRecord(taskRunId, loop.LoopId, loop.Action, loop.Status, Stamp(loop.Started),
                Stamp(loop.Ended), loop.ErrorType, loop.ErrorMessage, _local);
            var workspaceStatus = loop.Status switch
            {
                DiscoveredLoop.Success => "success", DiscoveredLoop.Running => "running", _ => "failed",
            };
            var workspaces = loop.Workspaces.Select(w => new WorkspaceRecord(w.WorkspaceId, loop.LoopId, w.Role,
                loop.Action, w.StepName, workspaceStatus, w.StoredPath)).ToList();
            return new LoopWrite(record, workspaces, memory);
        }

        private void Flush(
            DiscoveredRegistry registry, string taskRunId, List<(DiscoveredLoop Loop, LoopWrite Write)> pending)
        {
            if (pending.Count == 0) return;
            var results = registry.WriteLoops(pending.Select(p => p.Write).ToList(), UtcText.Now());
            for (var i = 0; i < pending.Count; i++) Report(taskRunId, pending[i].Loop, results[i]);
            pending.Clear();
        }

        private void Report(string taskRunId, DiscoveredLoop loop, LoopWriteResult result)
        {
            var key = $"{taskRunId}/{loop.LoopId}";
            if (result.LoopAdded)
            {
                report.Add(LoopsAdded);
                report.Note($"added loop {key}: {loop.Status}, {loop.Action ?? "action unknown"}, "
                    + Counted.Of(result.WorkspacesAdded, "workspace"));
            }
            else if (result.LoopUpdated)
            {
                report.Add(LoopsUpdated);
                report.Note($"loop {key}: completed from the log "
                    + $"({loop.Status}, {WorkspacesAdded.Of(result.WorkspacesAdded)})");
            }
            else if (result.WorkspacesAdded > 0)
            {
                report.Note($"loop {key}: {WorkspacesAdded.Of(result.WorkspacesAdded)} from the log");
            }

            report.Add(WorkspacesAdded, result.WorkspacesAdded);
            foreach (var d in result.Disagreements)
            {
                report.Add(Disagreements);
                report.Note($"{d} — left as the registry has it");
            }
            foreach (var w in loop.Workspaces)
            {
                var mapped = _settings.PathMap.Map(w.StoredPath);
                if (mapped.Local is not null && Directory.Exists(mapped.Local)) continue;
                report.Add(WorkspacesElsewhere);
                var why = mapped.Problem ?? $"'{mapped.Local}' does not exist";
                report.Note($"loop {key}: workspace {w.WorkspaceId} is not on this machine ({why})");
            }
        }

        /// <summary>The run's scenario and settings, read once and only when a loop of the run is read.</summary>
        private RunSettings Settings()
        {
            if (_runSettings is not null) return _runSettings;
            var now = DateTime.UtcNow;
            object? loopSettings = null;
            if (LogTree.RunFile(dir, LogTree.LoopSettings) is { } settingsFile)
                loopSettings = ReadRunPickle(settingsFile, now);
            var scen = LogValues.Text(LogValues.Get(loopSettings, "scen"));
            if (scen is null && LogTree.RunFile(dir, LogTree.Scenario) is { } scenarioFile)
                scen = LogValues.ClassName(ReadRunPickle(scenarioFile, now));
            var name = scen?[(scen.LastIndexOf('.') + 1)..];
            var (loopClass, action) = name switch
            {
                null => ((string?)null, (string?)null),
                _ when name.Contains("Quant", StringComparison.Ordinal) => ("QuantRDLoop", null),
                _ when name.Contains("Factor", StringComparison.Ordinal) => ("FactorRDLoop", "factor"),
                _ when name.Contains("Model", StringComparison.Ordinal) => ("ModelRDLoop", "model"),
                _ => (name, null),
            };
            var json = loopSettings is Dictionary<object, object?>
                ? LogValues.Json(loopSettings)?.ToJsonString() : null;
            return _runSettings = new RunSettings(loopClass, action, json);
        }

        private object? ReadRunPickle(string path, DateTime now)
        {
            var read = LogPickle.Read(path, now);
            if (read.Ok) return read.Value;
            if (read.Trouble != PickleTrouble.BeingWritten)
            {
                report.Problem(Path.GetFileName(_local), path,
                    $"log pickle {read.Message}; the run's scenario is taken from its loops");
            }

            return null;
        }

        // RD-Agent names the folder by its UTC start, %Y-%m-%d_%H-%M-%S-%f.
        private string? CreatedAt() =>
            UtcText.ParseRdAgentStamp(Path.GetFileName(_local)) is { } t ? UtcText.FormatSeconds(t) : null;

        private static string? Stamp(DateTimeOffset? t) => t is null ? null : UtcText.FormatSeconds(t.Value);
    }

    private sealed record RunSettings(string? Scenario, string? Action, string? ParamsJson);
}
