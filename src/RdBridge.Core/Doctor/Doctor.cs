using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Registry;
using RdBridge.Store;

namespace RdBridge.Doctor;

/// <summary>One thing doctor looked at: whether it is fine, what it saw, and how to fix it when it is not.</summary>
/// <param name="Warning">Fine to go on, but the user should read it (printed with "!").</param>
/// <param name="ToCreate">Missing, and init creates it (printed with "+", never with ✓).</param>
public sealed record Finding(string Item, bool Ok, string Detail, string? Fix = null, bool Warning = false,
    bool ToCreate = false);

/// <summary>The guide's 前置条件检查: directories, the registry and its schema, path mapping, the AIstock database.</summary>
public static class Doctor
{
    public static IReadOnlyList<Finding> Run(RdBridgeSettings s, bool fix)
    {
        var findings = new List<Finding>();
        // Scoped to the role the configuration describes: a consumer that only pulls from publishers has no RD-Agent
        // folder to check.
        if (s.HasRdAgent)
        {
            findings.Add(Dir("RD-Agent root", s.RdAgentRoot,
                $"set rdagent.root in {s.ConfigPath} to the RD-Agent-main folder"));
            findings.Add(Dir("log folder", s.LogRoot, "set rdagent.logRoot if RD-Agent logs elsewhere",
                required: false));
            findings.Add(Dir("workspace folder", s.WorkspaceRoot,
                "set rdagent.workspaceRoot if workspaces live elsewhere", required: false));
            // The guide's 前置条件 folders: init creates them.
            findings.Add(Dir("production_bundles", s.BundleDirectory, null, created: true));
            findings.Add(Dir("rdagent_data", s.CatalogDirectory, null, created: true));
        }
        findings.Add(Dir("AIstock root", s.AistockRoot, null, created: true));
        findings.Add(Dir("AIstock catalogs", s.AistockCatalogDirectory, null, created: true));
        findings.Add(Dir("rdagent_assets", s.AssetCacheDirectory, null, created: true));
        if (s.HasRdAgent && AcrossWsl(s.RegistryPath) is { } registryWarning) findings.Add(registryWarning);
        if (!s.AistockDatabaseIsPostgres && AcrossWsl(s.AistockDatabase) is { } storeWarning)
            findings.Add(storeWarning);
        if (s.HasRdAgent) RegistryChecks(s, fix, findings);
        AistockDatabase(s, fix, findings);
        return findings;
    }

    private static void RegistryChecks(RdBridgeSettings s, bool fix, List<Finding> findings)
    {
        if (!File.Exists(s.RegistryPath) && Directory.Exists(s.LogRoot))
        {
            findings.Add(new Finding("registry", true,
                $"'{s.RegistryPath}' will be created by init from RD-Agent's log ({s.LogRoot})", ToCreate: true));
        }
        else if (!File.Exists(s.RegistryPath))
        {
            findings.Add(new Finding("registry", false, $"'{s.RegistryPath}' does not exist",
                "set rdagent.registry in rdbridge.json"));
        }
        else
        {
            try
            {
                using var registry = RegistryDatabase.Open(s.RegistryPath, writable: fix);
                var gaps = registry.AuditSchema();
                if (gaps.Count > 0 && fix)
                {
                    var applied = registry.Migrate();
                    findings.Add(new Finding("registry schema", true,
                        $"migrated: {string.Join("; ", applied)} (nothing dropped)"));
                }
                else
                {
                    findings.Add(gaps.Count == 0
                        ? new Finding("registry schema", true,
                            $"{s.RegistryPath}: all {RegistrySchema.Tables.Count} tables and their columns present")
                        : new Finding("registry schema", false, string.Join("; ", gaps),
                            "run 'rdbridge doctor --fix' to add what is missing (nothing is dropped)"));
                }

                var rows = registry.CountRows("task_runs", "loops", "workspaces");
                var content = $"{Counted.Of(rows.GetValueOrDefault("task_runs"), "task run")}, "
                    + $"{Counted.Of(rows["loops"], "loop")}, {Counted.Of(rows["workspaces"], "workspace")}";
                findings.Add(new Finding("registry content", true, content));
                findings.AddRange(Duplicates(registry, s, fix));
                findings.Add(PathMapping(registry, s));
            }
            catch (RegistryException e) { findings.Add(new Finding("registry", false, e.Message)); }
        }
    }

    private static void AistockDatabase(RdBridgeSettings s, bool fix, List<Finding> findings)
    {
        try
        {
            var created = s.AistockDatabaseIsPostgres && fix
                && PostgresAistockStore.CreateDatabaseIfMissing(s.AistockDatabase);
            using var store = s.AistockDatabaseIsPostgres
                ? new PostgresAistockStore(s.AistockDatabase)
                : (IAistockStore)new SqliteAistockStore(s.AistockDatabase);
            var applied = store.Migrate();
            findings.Add(new Finding("AIstock database", true,
                $"{store.Describe}{(created ? " (database created)" : "")}" +
                (applied.Count > 0
                    ? $" (schema v{string.Join(",", applied)} applied)"
                    : $", schema v{StoreSchema.Latest} current")));
        }
        catch (Exception e) when (e is StoreException or System.Data.Common.DbException or IOException
                                  or UnauthorizedAccessException)
        {
            findings.Add(new Finding("AIstock database", false, e.Message,
                s.AistockDatabaseIsPostgres
                    ? "check aistock.database; 'rdbridge doctor --fix' creates a missing database"
                    : "check aistock.database and that its folder is writable"));
        }
    }

    /// <summary>
    /// A SQLite file reached across the WSL boundary: Windows reading WSL's disk through <c>\\wsl$</c>, or WSL
    /// reading a Windows drive through <c>/mnt/x</c>. SQLite's locks (and the shared memory of its WAL) do not hold
    /// there, so a reader can see a database RD-Agent is half-way through writing. The safe setup is HTTP between the
    /// two sides.
    /// </summary>
    internal static Finding? AcrossWsl(string path)
    {
        var p = path.Replace('\\', '/');
        var wslShare = p.StartsWith("//wsl$/", StringComparison.OrdinalIgnoreCase)
            || p.StartsWith("//wsl.localhost/", StringComparison.OrdinalIgnoreCase);
        var windowsDrive = p.Length >= 7 && p.StartsWith("/mnt/", StringComparison.Ordinal) && char.IsAsciiLetter(p[5])
            && p[6] == '/';
        string? where = wslShare ? "on WSL's disk, reached from Windows through \\\\wsl$"
            : windowsDrive ? $"on Windows drive {char.ToUpperInvariant(p[5])}:, reached from WSL through /mnt/{p[5]}"
            : null;
        return where is null ? null : new Finding("SQLite across WSL", true,
            $"'{path}' is {where}: SQLite's file locks are not reliable there, so reading it while RD-Agent " +
            "writes can see a half-written database. Run RdBridge on RD-Agent's side of WSL ('rdbridge serve " +
            "--role publisher' inside WSL) and the consumer on Windows over HTTP: README, \"Two machines\"",
            Warning: true);
    }

    /// <summary>
    /// Task runs discovery added a second time under a wrong path map (before preflight stopped such runs): reported,
    /// and with <c>--fix</c> removed after a backup — only loops that own no workspace go.
    /// </summary>
    private static List<Finding> Duplicates(RegistryDatabase registry, RdBridgeSettings s, bool fix)
    {
        var duplicates = registry.FindDuplicateTaskRuns();
        var findings = new List<Finding>();
        if (duplicates.Count == 0) return findings;
        if (!fix)
        {
            foreach (var d in duplicates)
            {
                findings.Add(new Finding("duplicate task run", false,
                    $"task run {d.TaskRunId} repeats {d.Original} (the same log folder, added by discovery under a " +
                    $"wrong pathMap): {Counted.Of(d.LoopsWithoutWorkspaces.Count, "loop")} without workspaces",
                    "run 'rdbridge doctor --fix' (it takes a backup first; 'rdbridge restore' undoes it)"));
            }
            return findings;
        }
        var backup = new Backup.BackupStage(s).Run();
        foreach (var d in duplicates)
        {
            var removed = registry.Write(w => w.RemoveDuplicate(d));
            findings.Add(new Finding("duplicate task run", true,
                $"removed {Counted.Of(removed, "loop")} without workspaces of task run {d.TaskRunId}, a second " +
                $"copy of {d.Original}"
                + (d.OtherLoops > 0 ? $" ({Counted.Of(d.OtherLoops, "loop")} with workspaces kept)" : "") +
                $"; {string.Join("; ", backup.Notes)}"));
        }
        return findings;
    }

    /// <param name="created">init creates the folder: its absence is no failure</param>
    private static Finding Dir(string item, string path, string? fix, bool required = true, bool created = false) =>
        Directory.Exists(path) ? new Finding(item, true, path)
            : created ? new Finding(item, true, $"'{path}' will be created by init", ToCreate: true)
            : required ? new Finding(item, false, $"'{path}' does not exist", fix)
            : new Finding(item, true, $"'{path}' does not exist ({fix})", Warning: true);

    private static Finding PathMapping(RegistryDatabase registry, RdBridgeSettings s)
    {
        int total = 0, missing = 0;
        string? firstProblem = null;
        foreach (var stored in registry.SampleWorkspacePaths(200))
        {
            total++;
            var mapped = s.PathMap.Map(stored);
            if (mapped.Local is null || !Directory.Exists(mapped.Local))
            {
                missing++;
                firstProblem ??= mapped.Problem ?? $"'{mapped.Stored}' maps to '{mapped.Local}', which does not exist";
            }
        }
        return missing == 0
            ? new Finding("path map", true, total == 1 ? "1 sampled workspace path resolves"
                : $"{Counted.Of(total, "sampled workspace path")} all resolve")
            : new Finding("path map", false,
                $"{missing} of {Counted.Of(total, "sampled workspace path")} {(missing == 1 ? "does" : "do")} not "
                + $"resolve; first: {firstProblem}",
                "add or correct a pathMap entry in rdbridge.json");
    }
}
