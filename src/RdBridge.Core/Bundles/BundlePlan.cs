using RdBridge.IO;
using RdBridge.Workspaces;

namespace RdBridge.Bundles;

/// <summary>
/// What goes into one loop's bundle: every file of its experiment workspace and its sub-workspaces, by relative path,
/// hashed. Links are never followed (factor sub-workspaces link to the shared market data) and shared data is left out.
/// </summary>
public static class BundlePlan
{
    private static readonly HashSet<string> SkippedDirectories = new(StringComparer.Ordinal) { "__pycache__", ".git", ".ipynb_checkpoints" };
    private static readonly Dictionary<string, string> SkippedFiles = new(StringComparer.Ordinal)
    {
        ["daily_pv.h5"] = "shared market data, not part of the loop",
        ["execution.lock"] = "a lock file",
    };

    public static BundleManifest Build(LoopWorkspaces lw)
    {
        var loop = lw.Loop;
        var primary = lw.Primary!;
        var workspaces = new List<(BundledWorkspace Meta, string Local)> { (new(primary.Row.WorkspaceId, primary.Row.Role, primary.Row.WorkspacePath), primary.Local!) };
        workspaces.AddRange(lw.SubWorkspaces.OrderBy(s => s.Row.WorkspaceId, StringComparer.Ordinal)
            .Select(s => (new BundledWorkspace(s.Row.WorkspaceId, s.Row.Role, s.Row.WorkspacePath), s.Local!)));

        var files = new List<BundleFile>();
        var skipped = new List<SkippedFile>();
        foreach (var (meta, local) in workspaces)
            Walk(new DirectoryInfo(local), local, meta.Prefix, files, skipped);
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        skipped.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));

        var primaryPrefix = workspaces[0].Meta.Prefix;
        var config = WorkspaceFiles.RunnerConfig(primary.Local!, lw.Kind);
        var weights = WorkspaceFiles.ModelWeights(primary.Local!);
        var factorCode = files.Where(f => f.Path.EndsWith("/factor.py", StringComparison.Ordinal) && !f.Path.StartsWith(primaryPrefix + "/mlruns/", StringComparison.Ordinal))
            .Select(f => f.Path).ToList();
        var metrics = File.Exists(Path.Combine(primary.Local!, WorkspaceFiles.QlibRes)) ? $"{primaryPrefix}/{WorkspaceFiles.QlibRes}" : null;

        return new BundleManifest(loop.BundleId, loop.TaskRunId, loop.LoopId, lw.Kind, primary.Row.WorkspaceId,
            workspaces.Select(w => w.Meta).ToList(), files, skipped,
            config is null ? null : $"{primaryPrefix}/{config}", weights is null ? null : $"{primaryPrefix}/{weights}", factorCode, metrics);
    }

    private static void Walk(DirectoryInfo dir, string root, string prefix, List<BundleFile> files, List<SkippedFile> skipped)
    {
        foreach (var entry in dir.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var rel = Path.GetRelativePath(root, entry.FullName).Replace('\\', '/');
            var bundlePath = $"{prefix}/{rel}";
            if (entry.LinkTarget is not null)
            {
                // The target is machine-specific (absolute), so it stays out of the manifest to keep bundles reproducible.
                skipped.Add(new SkippedFile(bundlePath, "symbolic link, not followed"));
                continue;
            }
            if (entry is DirectoryInfo sub)
            {
                if (SkippedDirectories.Contains(sub.Name)) skipped.Add(new SkippedFile(bundlePath + "/", "cache or version-control folder"));
                else Walk(sub, root, prefix, files, skipped);
                continue;
            }
            if (SkippedFiles.TryGetValue(entry.Name, out var reason) || (entry.Name.StartsWith('.') && entry.Name.EndsWith(".tmp", StringComparison.Ordinal)))
            {
                skipped.Add(new SkippedFile(bundlePath, reason ?? "a temporary file"));
                continue;
            }
            if (entry is FileInfo file && (file.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) == 0)
                files.Add(new BundleFile(bundlePath, file.Length, FileDigest.Sha256OfFile(file.FullName), file.FullName));
            else
                skipped.Add(new SkippedFile(bundlePath, "not a regular file"));
        }
    }
}
