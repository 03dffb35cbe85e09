using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Registry;
using RdBridge.Setup;
using RdBridge.Store;

namespace RdBridge.Preflight;

/// <summary>One thing a run's writes depend on, checked before the first of them.</summary>
public sealed record PreflightCheck(string Item, bool Ok, string Detail, string? Fix = null);

/// <summary>The run cannot succeed: nothing was written, and the message lists what to fix. Exit code 2.</summary>
public sealed class PreflightFailedException(string message) : RdBridgeException(message, ExitCodes.UsageError);

/// <summary>
/// What <c>init</c> and <c>sync</c> check before they write anything: the folders, the registry (readable, in a
/// schema the run can bring up to date), the path map on a sample of stored paths, the AIstock store and the free
/// space. A wrong first guess — above all a wrong <c>pathMap</c>, under which discovery would take every task run for a
/// new one — stops here with the exact fix, and the registry keeps its bytes.
/// </summary>
public static class RunPreflight
{
    /// <summary>Bundles, their cached copies and the extracted files need room; this much is always asked for.
    /// </summary>
    public const long MinimumFreeBytes = 64L << 20;

    /// <summary>Throws <see cref="PreflightFailedException"/> naming every failed check and its fix.</summary>
    public static void Require(RdBridgeSettings settings)
    {
        var failed = Check(settings).Where(c => !c.Ok).ToList();
        if (failed.Count == 0) return;
        throw new PreflightFailedException("preflight: the run cannot succeed, so nothing was written:\n" +
            string.Join("\n", failed.Select(f =>
                $"  ✗ {f.Item}: {f.Detail}" + (f.Fix is null ? "" : $"\n    → {f.Fix}"))));
    }

    public static IReadOnlyList<PreflightCheck> Check(RdBridgeSettings s)
    {
        var checks = new List<PreflightCheck>();
        if (s.HasRdAgent) CheckRdAgent(s, checks);
        // Before the store: a read-only root is the reason its database cannot be written either.
        if (Directory.Exists(s.AistockRoot) && IO.AtomicFile.WhyNotWritable(s.AistockRoot) is { } why)
            checks.Add(new PreflightCheck("AIstock root", false, Runs.SyncLock.NotWritable(s.AistockRoot, why)));
        checks.Add(Store(s));
        return checks;
    }

    private static void CheckRdAgent(RdBridgeSettings s, List<PreflightCheck> checks)
    {
        if (!Directory.Exists(s.RdAgentRoot))
        {
            checks.Add(new PreflightCheck("RD-Agent root", false, $"'{s.RdAgentRoot}' does not exist",
                $"set rdagent.root in {s.ConfigPath} to the RD-Agent-main folder, or run 'rdbridge setup'"));
            return;
        }
        RdAgentSurvey survey;
        try { survey = RdAgentSurvey.Of(s.RdAgentRoot, s.RegistryPath, s.LogRoot); }
        catch (RegistryException e)
        {
            checks.Add(new PreflightCheck("registry", false, e.Message,
                $"point rdagent.registry in {s.ConfigPath} at the fork's RDagentDB/registry.sqlite"));
            return;
        }
        if (!survey.HasRegistry && !survey.HasLog)
        {
            checks.Add(new PreflightCheck("registry", false,
                $"neither a registry ('{s.RegistryPath}') nor an RD-Agent log ('{s.LogRoot}')",
                $"set rdagent.registry or rdagent.logRoot in {s.ConfigPath} (is rdagent.root RD-Agent's folder?)"));
            return;
        }
        checks.Add(new PreflightCheck("registry", true, survey.HasRegistry
            ? $"{s.RegistryPath}: {Counted.Of(survey.TaskRuns, "task run")}, {Counted.Of(survey.Loops, "loop")}"
            : $"none yet; created from the log ({Counted.Of(survey.TaskRuns, "task run")})"));
        checks.Add(PathMapping(s, survey));
        checks.Add(FreeSpace(s, survey));
    }

    /// <summary>
    /// The path map must put the sampled stored paths on this machine: with none of them resolving, or a task run's
    /// log folder present here under a path the map misses, discovery would add every loop again under a new id.
    /// </summary>
    private static PreflightCheck PathMapping(RdBridgeSettings s, RdAgentSurvey survey)
    {
        var workspaces = survey.StoredWorkspacePaths;
        var resolved = workspaces.Count(p => s.PathMap.Map(p).Local is { } l && Directory.Exists(l));
        var logFolders = LogFolderNames(s.LogRoot);
        var lostLogs = survey.StoredLogPaths
            .Where(l => !(s.PathMap.Map(l.Stored).Local is { } local && Directory.Exists(local))
                        && logFolders.Contains(LastSegment(l.Stored)))
            .ToList();
        // Discovery finds a task run by its log folder's name too, so a log path the map misses is harmless while the
        // workspaces resolve; with no workspace stored yet, the log paths are the only evidence.
        if (workspaces.Count > 0 ? resolved > 0 : lostLogs.Count == 0)
        {
            return new PreflightCheck("path map", true,
                $"{resolved} of {Counted.Of(workspaces.Count, "sampled workspace path")} "
                + (resolved == 1 ? "resolves" : "resolve"));
        }
        var example = workspaces.Count > 0 ? workspaces[0] : lostLogs[0].Stored;
        var mapped = s.PathMap.Map(example);
        var detail = (workspaces.Count == 0
                ? $"{Counted.Of(lostLogs.Count, "task run's log folder", "task runs' log folders")} "
                    + $"{(lostLogs.Count == 1 ? "is" : "are")} in {s.LogRoot} but the pathMap does not lead there"
                : $"none of the {Counted.Of(workspaces.Count, "sampled workspace path")} resolves with the pathMap")
            + $"; e.g. '{example}' → " + (mapped.Local is null ? mapped.Problem : $"'{mapped.Local}' (missing)");
        var inferred = PathMapInference.Infer(workspaces.Concat(survey.StoredLogPaths.Select(l => l.Stored)),
            s.RdAgentRoot);
        var fix = inferred.Entries.Count > 0 && !inferred.IsAmbiguous
            ? $"set \"pathMap\": {{ {string.Join(", ", inferred.Entries.Select(e =>
                $"{Quoted(e.StoredPrefix)}: {Quoted(e.LocalPrefix)}"))} }} in {s.ConfigPath} (inferred from the " +
                $"folders under {s.RdAgentRoot}), or let 'rdbridge setup' write it"
            : $"correct the pathMap in {s.ConfigPath}: its key is the prefix the registry stored (e.g. the start of " +
                $"'{example}'), its value the folder that holds it on this machine";
        return new PreflightCheck("path map", false, detail, fix);
    }

    private static string Quoted(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static HashSet<string> LogFolderNames(string logRoot) => Directory.Exists(logRoot)
        ? Directory.EnumerateDirectories(logRoot).Select(Path.GetFileName).OfType<string>().ToHashSet()
        : [];

    private static string LastSegment(string stored)
    {
        var p = stored.TrimEnd('/', '\\');
        return p[(p.LastIndexOfAny(['/', '\\']) + 1)..];
    }

    /// <summary>
    /// Room for the bundles (about the size of the workspaces they pack, judged from a sample) and at least
    /// <see cref="MinimumFreeBytes"/> on the bundle folder's disk and on AIstock's.
    /// </summary>
    private static PreflightCheck FreeSpace(RdBridgeSettings s, RdAgentSurvey survey)
    {
        var sampled = survey.StoredWorkspacePaths.Take(20)
            .Select(p => s.PathMap.Map(p).Local).Where(Directory.Exists).ToList();
        long sampleBytes = 0;
        foreach (var dir in sampled)
        {
            foreach (var f in new DirectoryInfo(dir!).EnumerateFiles("*", new EnumerationOptions
                     {
                         RecurseSubdirectories = true, IgnoreInaccessible = true,
                         AttributesToSkip = FileAttributes.ReparsePoint,
                     }).Take(10_000))
            {
                // An estimate: a file gone since it was listed (RD-Agent still writing), or whose name is not valid
                // UTF-8 and so cannot be asked for by name, counts as empty rather than stopping the run.
                try { sampleBytes += f.Length; }
                catch (IOException) { }
            }
        }
        var estimate = sampled.Count == 0 ? 0
            : sampleBytes / sampled.Count * Math.Max(survey.StoredWorkspacePaths.Count, survey.Loops);
        var need = Math.Max(estimate, MinimumFreeBytes);
        foreach (var (what, folder) in new[] { ("bundle folder", s.BundleDirectory), ("AIstock root", s.AistockRoot) })
        {
            if (FreeBytes(folder) is { } free && free < need)
            {
                return new PreflightCheck("free space", false,
                    $"{free >> 20} MB free for the {what} ({folder}); about {need >> 20} MB are needed",
                    "free some space on that disk, or point the folder at a disk with room in the configuration");
            }
        }
        return new PreflightCheck("free space", true, $"at least {need >> 20} MB free where bundles go");
    }

    private static long? FreeBytes(string folder)
    {
        var dir = new DirectoryInfo(Path.GetFullPath(folder));
        while (dir is not null && !dir.Exists) dir = dir.Parent;
        if (dir is null) return null;
        try { return new DriveInfo(dir.FullName).AvailableFreeSpace; }
        catch (Exception e) when (e is ArgumentException or IOException) { return null; }
    }

    /// <summary>The AIstock store answers: a PostgreSQL server that accepts the connection, or a SQLite file (or the
    /// folder it will be created in) that can be opened.</summary>
    private static PreflightCheck Store(RdBridgeSettings s)
    {
        try
        {
            if (s.AistockDatabaseIsPostgres)
            {
                using var store = new PostgresAistockStore(s.AistockDatabase);
                return new PreflightCheck("AIstock database", true, store.Describe);
            }
            if (File.Exists(s.AistockDatabase))
            {
                using var connection = new Microsoft.Data.Sqlite.SqliteConnection(
                    new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
                    {
                        DataSource = s.AistockDatabase, Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly,
                        Pooling = false,
                    }.ToString());
                connection.Open();
                using var cmd = connection.CreateCommand();
                cmd.CommandText = "SELECT count(*) FROM sqlite_master";
                cmd.ExecuteScalar();
                return new PreflightCheck("AIstock database", true, s.AistockDatabase);
            }
            var folder = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(s.AistockDatabase))!);
            while (folder is not null && !folder.Exists) folder = folder.Parent;
            return folder is not null
                ? new PreflightCheck("AIstock database", true, $"{s.AistockDatabase} (will be created)")
                : new PreflightCheck("AIstock database", false, $"no folder to create '{s.AistockDatabase}' in",
                    $"set aistock.root in {s.ConfigPath}");
        }
        catch (Exception e) when (e is System.Data.Common.DbException or StoreException or IOException
                                  or UnauthorizedAccessException or ArgumentException)
        {
            return new PreflightCheck("AIstock database", false, e.Message,
                s.AistockDatabaseIsPostgres
                    ? $"check aistock.database in {s.ConfigPath}; 'rdbridge doctor --fix' creates a missing database"
                    : $"check aistock.database in {s.ConfigPath} and that its folder is readable");
        }
    }
}
