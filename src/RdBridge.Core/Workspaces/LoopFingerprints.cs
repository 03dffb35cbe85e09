using System.Security.Cryptography;
using System.Text;
using RdBridge.Configuration;
using RdBridge.Registry;

namespace RdBridge.Workspaces;

/// <summary>
/// What a loop looks like now, in one digest: its <c>loops</c> row, its <c>workspaces</c> and <c>production_bundles</c>
/// rows, and a stat (size, mtime, ctime, inode) of every file of its workspaces and of its bundle. <c>sync</c> compares
/// these with what its last successful run recorded and examines exactly the loops that differ or were never recorded,
/// whatever their clocks say: a stat pass and registry reads, no file is opened.
/// </summary>
public static class LoopFingerprints
{
    /// <summary>The record <c>init</c> and <c>sync</c> keep (both are the sync pipeline).</summary>
    public const string SyncPipeline = "sync";

    private static readonly EnumerationOptions AllFiles = new()
    {
        RecurseSubdirectories = true,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.ReparsePoint, // links are never followed: their targets are not the loop's
        ReturnSpecialDirectories = false,
    };

    /// <summary>Every loop of the registry with its digest now, by <see cref="LoopRow.Key"/>.</summary>
    public static IReadOnlyDictionary<string, LoopState> Take(RegistryDatabase registry, RdBridgeSettings settings)
    {
        var workspaces = registry.ReadWorkspacesByLoop();
        var loops = registry.ReadLoops(LoopSelection.All).ToList();
        var states = new Dictionary<string, LoopState>(StringComparer.Ordinal);
        foreach (var loop in loops)
        {
            var rows = workspaces.GetValueOrDefault(loop.Key) ?? [];
            var bundle = registry.ReadBundle(loop.TaskRunId, loop.LoopId);
            states[loop.Key] = new LoopState(loop.TaskRunId, loop.LoopId, Of(loop, rows, bundle, settings));
        }
        return states;
    }

    /// <summary>The keys of the loops that differ from <paramref name="recorded"/> or that it does not hold.</summary>
    public static IReadOnlySet<string> Changed(
        IReadOnlyDictionary<string, LoopState> now, IReadOnlyDictionary<string, LoopState> recorded) =>
        now.Values.Where(s => !recorded.TryGetValue(s.Key, out var r) || r.Fingerprint != s.Fingerprint)
            .Select(s => s.Key).ToHashSet(StringComparer.Ordinal);

    private static string Of(LoopRow loop, IReadOnlyList<WorkspaceRow> rows, BundleRow? bundle, RdBridgeSettings settings)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(params object?[] parts)
        {
            foreach (var p in parts)
            {
                hash.AppendData(Encoding.UTF8.GetBytes(p switch
                {
                    null => "\u2400",
                    IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                    _ => p.ToString() ?? "",
                }));
                hash.AppendData("\u001f"u8);
            }
            hash.AppendData("\n"u8);
        }
        Add("loop", loop.TaskRunId, loop.LoopId, loop.Action, loop.Status, loop.HasResult, loop.LogDir, loop.StartedAtUtc,
            loop.EndedAtUtc, loop.ErrorType, loop.ErrorMessage, loop.AssetBundleId, loop.IsSolidified,
            loop.MaterializationStatus, loop.UpdatedAtUtc, loop.Scenario, loop.LogTracePath, loop.WorkspaceId, loop.WorkspacePath);
        if (bundle is not null)
            Add("bundle row", bundle.BundleId, bundle.BundlePath, bundle.ContentDigest, bundle.ArchiveSha256, bundle.SizeBytes,
                bundle.FileCount);
        foreach (var w in rows)
        {
            Add("workspace", w.WorkspaceId, w.LoopId, w.Role, w.ExperimentType, w.StepName, w.Status, w.WorkspacePath);
            if (settings.PathMap.Map(w.WorkspacePath).Local is not { } dir || !Directory.Exists(dir)) continue;
            var files = Directory.EnumerateFiles(dir, "*", AllFiles).ToList();
            files.Sort(StringComparer.Ordinal);
            foreach (var file in files) Add("file", Path.GetRelativePath(dir, file), FileStat.Of(file));
        }
        if (Layout.BundleId.IsSafe(loop.BundleId))
        {
            var archive = settings.Bundles.Archive(loop.BundleId);
            Add("bundle file", FileStat.Of(archive), FileStat.Of(settings.Bundles.Sidecar(loop.BundleId)));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// A stat of what a sync produces outside the loops' own folders: the exported catalogs and strategy library, the
    /// AIstock side's catalog copies and the asset cache's entries. A sync that finds no loop changed still does its work
    /// when one of these was changed or removed since its last successful run.
    /// </summary>
    public static string Products(RdBridgeSettings settings)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Folder(string dir, bool recurse)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"folder {dir}\n"));
            if (!Directory.Exists(dir)) return;
            var entries = Directory.EnumerateFileSystemEntries(dir, "*",
                new EnumerationOptions { RecurseSubdirectories = recurse, IgnoreInaccessible = true, AttributesToSkip = 0 }).ToList();
            entries.Sort(StringComparer.Ordinal);
            foreach (var e in entries)
                hash.AppendData(Encoding.UTF8.GetBytes($"{Path.GetRelativePath(dir, e)}\u001f{FileStat.Of(e)}\n"));
        }
        Folder(settings.CatalogDirectory, recurse: false);
        Folder(settings.AistockCatalogDirectory, recurse: false);
        Folder(Path.GetDirectoryName(settings.StrategiesLibFile)!, recurse: false);
        // The cache's top level: each archive, sidecar and extracted folder (a folder's stat changes when an entry in it
        // is added, removed or renamed).
        Folder(settings.AssetCacheDirectory, recurse: false);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
