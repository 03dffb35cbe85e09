using RdBridge.Assets;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Registry;
using RdBridge.Store;

namespace RdBridge.Verify;

/// <summary>The guide's "功能验证": what a user does with the imported data works, from the AIstock
/// database.</summary>
internal static class FunctionChecks
{
    public static (bool, string) QueryByLoop(VerifyContext c)
    {
        var bad = new ProblemList();
        long loops = 0;
        // Most loops name the same factors (Alpha158's): each name is looked up once.
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var l in c.StoredLoops)
        {
            loops++;
            var key = $"{l.TaskRunId}/{l.LoopId}";
            if (l.StrategyId is null || !c.Db.HasStrategy(l.StrategyId))
                bad.Add($"{key}: strategy {l.StrategyId} not found");
            foreach (var name in l.FactorNames)
            {
                if (found.Contains(name)) continue;
                if (c.Db.HasFactorNamed(name)) found.Add(name);
                else bad.Add($"{key}: factor {name} not found");
            }
        }
        return (bad.Count == 0 && loops > 0, bad.Count == 0
            ? $"{Counted.Of(loops, "loop")} {(loops == 1 ? "resolves" : "resolve")} to their strategy, factors "
                + "and bundle"
            : $"{Counted.Of(bad.Count, "gap")}: {string.Join("; ", bad.Take(4))}");
    }

    public static (bool, string) BundleById(VerifyContext c)
    {
        var bad = new ProblemList();
        long loops = 0;
        foreach (var id in c.StoredLoops.Select(l => l.AssetBundleId))
        {
            loops++;
            if (id is null || !BundleId.IsSafe(id) || !File.Exists(c.Settings.AssetCache.ExtractedManifest(id)))
                bad.Add(id ?? "(none)");
        }
        return (bad.Count == 0 && loops > 0, bad.Count == 0
            ? $"{Counted.Of(loops, "bundle")} available extracted under {c.Settings.AssetCacheDirectory}"
            : $"{bad.Count} unavailable: {string.Join(", ", bad.Take(5))}");
    }

    /// <summary>
    /// Every file the loop's bundle lists for the loop's workspace is still in that workspace on disk. The bundle names
    /// a workspace's files under its workspace id, whatever the folder is called (RD-Agent's <c>&lt;32 hex&gt;</c>, the
    /// guide's <c>workspace_&lt;id&gt;</c>), so the id comes from the loop's row, never from the folder name.
    /// </summary>
    public static (bool, string) WorkspaceAccess(VerifyContext c)
    {
        var bad = new ProblemList();
        long loops = 0;
        foreach (var l in c.StoredLoops)
        {
            loops++;
            var key = $"{l.TaskRunId}/{l.LoopId}";
            var mapped = c.Settings.PathMap.Map(l.WorkspacePath);
            if (mapped.Local is null || !Directory.Exists(mapped.Local))
            {
                bad.Add($"{key}: workspace unreachable");
                continue;
            }
            if (l.WorkspaceId is not { Length: > 0 } workspaceId)
            {
                bad.Add($"{key}: the loop names no workspace_id");
                continue;
            }
            if (l.AssetBundleId is null || !BundleId.IsSafe(l.AssetBundleId))
            {
                // Not looked for: an unsafe id would lead out of the cache and production_bundles.
                bad.Add(l.AssetBundleId is null ? $"{key}: the loop names no asset_bundle_id"
                    : $"{key}: unsafe asset_bundle_id '{l.AssetBundleId}', not looked for");
                continue;
            }
            IReadOnlyList<string>? files;
            try { files = ListedFiles(c, l.AssetBundleId); }
            catch (Exception e) when (e is System.Text.Json.JsonException or IOException or UnsafeBundleException)
            {
                bad.Add($"{key}: the manifest of bundle {l.AssetBundleId} cannot be read: {e.Message}");
                continue;
            }
            if (files is null)
            {
                bad.Add($"{key}: no manifest of bundle {l.AssetBundleId}, extracted or archived");
                continue;
            }
            var prefix = new BundledWorkspace(workspaceId, null, "").Prefix + "/";
            var listed = files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            if (listed.Count == 0) { bad.Add($"{key}: the bundle lists no file of workspace {workspaceId}"); continue; }
            if (listed.FirstOrDefault(f => !File.Exists(Path.Combine(mapped.Local, f[prefix.Length..]))) is { } gone)
                bad.Add($"{key}: {gone[prefix.Length..]} gone from the workspace");
        }
        return (bad.Count == 0 && loops > 0, bad.Count == 0
            ? $"{Counted.Of(loops, "workspace")} {(loops == 1 ? "holds" : "hold")} the files their bundles list"
            : $"{Counted.Of(bad.Count, "gap")}: {string.Join("; ", bad.Take(4))}");
    }

    /// <summary>
    /// The file list of a bundle: from its extracted copy, else from its archive in the cache or in production_bundles.
    /// </summary>
    private static IReadOnlyList<string>? ListedFiles(VerifyContext c, string bundleId)
    {
        var extracted = c.Settings.AssetCache.ExtractedManifest(bundleId);
        var bytes = RegularFile.Exists(extracted)
            ? RegularFile.ReadAllBytes(extracted, ReadLimits.BundleManifest) : null;
        foreach (var archive in new[] { c.Settings.AssetCache.Archive(bundleId), c.Settings.Bundles.Archive(bundleId) })
            if (bytes is null && File.Exists(archive)) bytes = SafeExtractor.ReadManifest(archive);
        return bytes is null ? null : BundleManifest.ReadSummary(bytes).Files.Select(f => f.Path).ToList();
    }

    public static (bool, string) IncrementalSync(VerifyContext c)
    {
        var stale = new ProblemList();
        foreach (var kind in CatalogFile.All)
        {
            var table = CatalogTable.For(kind);
            foreach (var r in c.Catalogs.Stream(kind))
            {
                var row = table.Map(r);
                if (row.Error is not null) continue;
                if (c.Db.ContentHash(kind, row.Values) != row.ContentHash)
                    stale.Add($"{CatalogFile.ListName(kind)} {table.KeyOf(row.Values)}");
            }
        }
        // A loop with results that never reached the catalog is not caught above: the registry is asked too.
        var unsynced = new ProblemList();
        foreach (var loop in c.Registry?.ReadLoops(LoopSelection.All).Where(l => l.HasResult) ?? [])
        {
            var key = new Dictionary<string, object?> { ["task_run_id"] = loop.TaskRunId, ["loop_id"] = loop.LoopId };
            if (c.Db.ContentHash(CatalogKind.Loop, key) is null) unsynced.Add($"{loop.TaskRunId}/{loop.LoopId}");
        }
        var (lastText, runPassed) = LastSync(c);
        var findings = new List<string>();
        if (stale.Count > 0)
        {
            findings.Add($"{Counted.Of(stale.Count, "record")} missing or outdated, e.g. "
                + string.Join("; ", stale.Take(3)));
        }
        if (unsynced.Count > 0)
        {
            findings.Add($"{Counted.Of(unsynced.Count, "registry loop")} with results never synced, e.g. " +
                $"{string.Join("; ", unsynced.Take(3))} (run rdbridge sync)");
        }
        return (findings.Count == 0 && runPassed, findings.Count == 0
            ? $"every exported record is in the database, current; {lastText}"
            : $"{string.Join("; ", findings)}; {lastText}");
    }

    /// <summary>How many of the newest sync runs are looked through for the last finished one.</summary>
    private const int SyncRunsLooked = 64;

    /// <summary>
    /// The sync run the check judges, said in words, and whether it lets the check pass. The run this verify is the
    /// last stage of counts while it runs (the first init has no other); otherwise the newest finished run does, and
    /// only a success passes: a failed, interrupted or abandoned run did not show the sync adding data, and a run
    /// another process is still in the middle of has shown nothing yet.
    /// </summary>
    private static (string Text, bool Passed) LastSync(VerifyContext c)
    {
        var runs = c.History?.SyncRuns(SyncRunsLooked) ?? [];
        if (runs.FirstOrDefault(r => r.Id == c.SyncRun) is { } own)
            return ($"run #{own.Id} ({own.Mode}) in progress, this verify its last stage", true);
        if (runs.FirstOrDefault(r => r.Status != "running") is { } last)
        {
            return last.Status == "succeeded" ? ($"last run #{last.Id} ({last.Mode}) {last.Status}", true)
                : ($"last run #{last.Id} ({last.Mode}) {last.Status} (run rdbridge sync)", false);
        }
        return runs.Count == 0 ? ("no sync run recorded yet (run rdbridge init or sync)", false)
            : ($"run #{runs[0].Id} ({runs[0].Mode}) in progress and none finished yet (verify again when it ends)",
                false);
    }

    public static (bool, string) NoDuplicates(VerifyContext c)
    {
        var bad = new List<string>();
        if (c.Db.HasDuplicates(CatalogKind.Loop)) bad.Add("duplicate loops");
        if (c.Db.HasDuplicates(CatalogKind.Factor)) bad.Add("duplicate factors");
        if (c.Db.HasDuplicates(CatalogKind.Model)) bad.Add("duplicate models");
        if (c.Registry is { } registry)
        {
            if (registry.HasLoopWithTwoBundleRows()) bad.Add("a loop with two production_bundles rows");
            if (Directory.Exists(c.Settings.BundleDirectory))
            {
                var known = registry.ReadBundleIds();
                var orphans = c.Settings.Bundles.Ids().Where(id => !known.Contains(id)).ToList();
                if (orphans.Count > 0)
                {
                    bad.Add($"{Counted.Of(orphans.Count, "orphan bundle file")} "
                        + $"({string.Join(", ", orphans.Take(3))})");
                }
            }
        }
        return (bad.Count == 0, bad.Count == 0
            ? "no duplicate loops, factors, models or bundles; no orphan bundle files"
            : string.Join("; ", bad));
    }
}
