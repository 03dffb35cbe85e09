using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Runs;

namespace RdBridge.Assets;

/// <summary>
/// What a killed run leaves behind, removed and said at the start of the next init/sync (which holds the sync lock, so
/// no other run of this AIstock root can still be using it): staging and retired extraction folders in the asset
/// cache, and temporary files of atomic writes whose process is gone (in RdBridge's folders and in the workspaces,
/// where backfill writes the metadata files). A partial download (<c>.part</c>) is kept: the
/// next pull resumes it, and one that cannot be resumed (longer than its bundle) is dropped by the download itself.
/// </summary>
public static class LeftoverSweep
{
    private static readonly Counter Removed = Counter.Change("leftovers removed", "leftover removed");

    public static StageReport Run(RdBridgeSettings settings)
    {
        var report = new StageReport("cleanup");
        var cache = settings.AssetCache;
        foreach (var folder in cache.Leftovers())
            Remove(folder, report, () => Directory.Delete(folder, recursive: true));
        string[] folders = settings.HasRdAgent
            ? [cache.Root, settings.BundleDirectory, settings.CatalogDirectory, settings.AistockCatalogDirectory,
               Path.GetDirectoryName(settings.StrategiesLibFile)!]
            : [cache.Root, settings.AistockCatalogDirectory];
        var workspaces = settings.HasRdAgent
            ? settings.WorkspaceRoots.Where(Directory.Exists).SelectMany(Directory.EnumerateDirectories)
            : [];
        foreach (var file in folders.Distinct(StringComparer.Ordinal).Concat(workspaces)
                     .SelectMany(AtomicFile.AbandonedTemporariesIn))
        {
            Remove(file, report, () => File.Delete(file));
        }

        return report;
    }

    private static void Remove(string path, StageReport report, Action delete)
    {
        try
        {
            delete();
            report.Add(Removed);
            report.Note($"removed '{path}', left by a run that was interrupted");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            report.Problem("leftover", path, $"left by an interrupted run and cannot be removed: {e.Message}");
        }
    }
}
