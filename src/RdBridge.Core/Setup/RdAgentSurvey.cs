using RdBridge.Discovery;
using RdBridge.Registry;

namespace RdBridge.Setup;

/// <summary>
/// What an RD-Agent folder holds, looked at without writing: a registry (the fork) or only a log (upstream), how many
/// task runs and loops, and the workspace paths stored in it with their spellings. Setup infers the path map from it
/// and preflight checks the configured one against it.
/// </summary>
public sealed record RdAgentSurvey(
    string Root, string RegistryPath, bool HasRegistry, string LogRoot, bool HasLog, long TaskRuns, long Loops,
    IReadOnlyList<string> StoredWorkspacePaths, IReadOnlyList<(string TaskRunId, string Stored)> StoredLogPaths)
{
    /// <summary>How many stored workspace paths are sampled: enough to see every prefix, cheap on any registry.
    /// </summary>
    public const int SampleSize = 200;

    /// <summary>How many log loops are read for their workspace paths when there is no registry.</summary>
    public const int LogLoopsRead = 12;

    public string Source => HasRegistry ? "registry" : HasLog ? "log only" : "neither registry nor log";

    /// <summary>Stored workspace and log paths by spelling, with one example each.</summary>
    public IReadOnlyList<(StoredSpelling Spelling, int Count, string Example)> Spellings =>
        StoredWorkspacePaths.Concat(StoredLogPaths.Select(l => l.Stored))
            .GroupBy(StoredSpellings.Of).OrderBy(g => g.Key)
            .Select(g => (g.Key, g.Count(), g.First())).ToList();

    public static RdAgentSurvey Of(string root, string registryPath, string logRoot)
    {
        var hasLog = Directory.Exists(logRoot) && LogTree.RunFolders(logRoot).Any(LogTree.IsRunFolder);
        if (File.Exists(registryPath))
        {
            // Read-only: the file's bytes stay as they are (no journal mode change, no schema added).
            using var registry = RegistryDatabase.Open(registryPath, writable: false);
            var rows = registry.CountRows("task_runs", "loops");
            var workspaces = registry.SampleWorkspacePaths(SampleSize).OfType<string>().ToList();
            var logs = registry.TableExists("task_runs") ? registry.ReadTaskRunLogPaths() : [];
            return new RdAgentSurvey(root, registryPath, true, logRoot, hasLog, rows.GetValueOrDefault("task_runs"),
                rows.GetValueOrDefault("loops"), workspaces, logs);
        }
        if (!hasLog) return new RdAgentSurvey(root, registryPath, false, logRoot, false, 0, 0, [], []);
        long taskRuns = 0, loops = 0;
        var paths = new List<string>();
        var read = 0;
        foreach (var run in LogTree.RunFolders(logRoot).Where(LogTree.IsRunFolder))
        {
            taskRuns++;
            var folders = LogTree.Loops(run);
            loops += folders.Count;
            for (var i = 0; i < folders.Count && read < LogLoopsRead; i++, read++)
            {
                var reading = LoopReader.Read(folders[i], folders[i].Files(), null, i < folders.Count - 1,
                    DateTime.UtcNow);
                if (reading.Loop is { } loop) paths.AddRange(loop.Workspaces.Select(w => w.StoredPath));
            }
        }
        return new RdAgentSurvey(root, registryPath, false, logRoot, true, taskRuns, loops,
            paths.Distinct(StringComparer.Ordinal).Take(SampleSize).ToList(), []);
    }
}
