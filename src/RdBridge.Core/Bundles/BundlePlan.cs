using System.IO.Enumeration;
using RdBridge.IO;
using RdBridge.Workspaces;

namespace RdBridge.Bundles;

/// <summary>
/// What goes into one loop's bundle: every file of its experiment workspace and its sub-workspaces, by relative
/// path, hashed. Links are never followed (factor sub-workspaces link to the shared market data) and shared data is
/// left out.
/// </summary>
public static class BundlePlan
{
    private static readonly HashSet<string> SkippedDirectories =
        new(StringComparer.Ordinal) { "__pycache__", ".git", ".ipynb_checkpoints" };
    private static readonly Dictionary<string, string> SkippedFiles = new(StringComparer.Ordinal)
    {
        ["daily_pv.h5"] = "shared market data, not part of the loop",
        ["execution.lock"] = "a lock file",
    };

    /// <summary>
    /// Lists and hashes the loop's files; <paramref name="spool"/> reads each one and may keep it for packing.
    /// </summary>
    public static BundleManifest Build(LoopWorkspaces lw, BundleSpool spool)
    {
        var loop = lw.Loop;
        var primary = lw.Primary!;
        var workspaces = new List<(BundledWorkspace Meta, string Local)>
        {
            (new(primary.Row.WorkspaceId, primary.Row.Role, primary.Row.WorkspacePath), primary.Local!),
        };
        workspaces.AddRange(lw.SubWorkspaces.OrderBy(s => s.Row.WorkspaceId, StringComparer.Ordinal)
            .Select(s => (new BundledWorkspace(s.Row.WorkspaceId, s.Row.Role, s.Row.WorkspacePath), s.Local!)));

        var files = new List<BundleFile>();
        var skipped = new List<SkippedFile>();
        foreach (var (meta, local) in workspaces)
            Walk(local, meta.Prefix, files, skipped, spool);
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        skipped.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));

        var primaryPrefix = workspaces[0].Meta.Prefix;
        var run = MlflowRun.Chosen(primary.Local!); // read once: choosing it reads every run's files
        var config = WorkspaceFiles.ChooseConfig(primary.Local!, lw.Kind, run).Name;
        var weights = WorkspaceFiles.ModelWeights(primary.Local!, run);
        var factorCode = files.Where(f => f.Path.EndsWith("/factor.py", StringComparison.Ordinal)
                && !f.Path.StartsWith(primaryPrefix + "/mlruns/", StringComparison.Ordinal))
            .Select(f => f.Path).ToList();
        var metrics = RegularFile.Exists(Path.Combine(primary.Local!, WorkspaceFiles.QlibRes))
            ? $"{primaryPrefix}/{WorkspaceFiles.QlibRes}"
            : null;

        return new BundleManifest(loop.BundleId, loop.TaskRunId, loop.LoopId, lw.Kind, primary.Row.WorkspaceId,
            workspaces.Select(w => w.Meta).ToList(), files, skipped,
            config is null ? null : $"{primaryPrefix}/{config}", weights is null ? null : $"{primaryPrefix}/{weights}",
            factorCode, metrics);
    }

    /// <summary>One directory entry, as the listing gives it.</summary>
    private readonly record struct Entry(
        string Name, string FullPath, bool IsDirectory, FileAttributes Attributes, long Length);

    private static readonly EnumerationOptions ListEverything = new()
    {
        RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false,
        ReturnSpecialDirectories = false,
    };

    private static void Walk(
        string dir, string prefix, List<BundleFile> files, List<SkippedFile> skipped, BundleSpool spool)
    {
        // The listing's own entries rather than FileSystemInfo objects: attributes and length come from one lstat
        // per entry, which the packing then trusts instead of asking again.
        var entries = new FileSystemEnumerable<Entry>(dir, (ref FileSystemEntry e) =>
        {
            var attributes = e.Attributes;
            return new Entry(e.FileName.ToString(), e.ToFullPath(), e.IsDirectory, attributes,
                e.IsDirectory || (attributes & FileAttributes.ReparsePoint) != 0 ? 0 : e.Length);
        }, ListEverything).ToList();
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var entry in entries)
        {
            var bundlePath = $"{prefix}/{entry.Name}";
            if (PortablePath.NameLost(entry.Name, entry.FullPath))
            {
                // Left out and named, instead of failing the whole loop's bundle.
                skipped.Add(new SkippedFile(bundlePath + (entry.IsDirectory ? "/" : ""), PortablePath.NameNotUtf8));
                continue;
            }
            // Only entries marked as reparse points are asked for a link target (a system call each).
            if ((entry.Attributes & FileAttributes.ReparsePoint) != 0 && IsLink(entry))
            {
                // The target is machine-specific (absolute), so it stays out of the manifest to keep bundles
                // reproducible.
                skipped.Add(new SkippedFile(bundlePath, "symbolic link, not followed"));
                continue;
            }
            if (entry.IsDirectory)
            {
                if (SkippedDirectories.Contains(entry.Name))
                    skipped.Add(new SkippedFile(bundlePath + "/", "cache or version-control folder"));
                else Walk(entry.FullPath, bundlePath, files, skipped, spool);
                continue;
            }
            if (entry.Name.StartsWith('.') && entry.Name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                // A write in progress or one a killed run left: not the loop's, and its name is random, so listing it
                // as skipped would make the bundle differ from one built without the interruption.
                continue;
            }
            if (SkippedFiles.TryGetValue(entry.Name, out var reason))
            {
                skipped.Add(new SkippedFile(bundlePath, reason));
                continue;
            }
            if ((entry.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) != 0)
            {
                skipped.Add(new SkippedFile(bundlePath, "not a regular file"));
                continue;
            }
            try
            {
                // Size and digest come from the same read, so they agree even if the file changed since it was listed.
                // The read checks the entry first: a FIFO or device is recorded as skipped, never opened.
                var (sha, size) = spool.Read(entry.FullPath, entry.Length);
                files.Add(new BundleFile(bundlePath, size, sha, entry.FullPath));
            }
            catch (FileRefusedException e)
            {
                skipped.Add(new SkippedFile(bundlePath, e.Reason));
            }
        }
    }

    private static bool IsLink(Entry entry) =>
        (entry.IsDirectory ? (FileSystemInfo)new DirectoryInfo(entry.FullPath) : new FileInfo(entry.FullPath))
            .LinkTarget is not null;
}
