using RdBridge.Bundles;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Runs;

namespace RdBridge.Assets;

/// <summary>
/// Turns a cached, digest-checked archive into its extracted folder in the asset cache: shared by the local copy
/// (<see cref="AssetSyncStage"/>) and the HTTP pull, so both leave the cache in the same state.
/// </summary>
public static class BundleInstall
{
    private static readonly Counter ExtractionsUnchanged = Counter.Tally("extractions unchanged",
        "extraction unchanged");
    private static readonly Counter Extracted = Counter.Change("extracted");

    /// <summary>
    /// Extracts through a staging folder and a rename, unless the extraction is already current (its manifest is
    /// byte-identical to the archive's); an archive that is unsafe or broken is quarantined and reported.
    /// </summary>
    public static void Extract(AssetCache cache, string id, StageReport report)
    {
        var cached = cache.Archive(id);
        var folder = cache.Extracted(id);
        var manifestPath = Path.Combine(folder, BundleManifest.FileName);
        try
        {
            var archived = SafeExtractor.ReadManifest(cached)
                ?? throw new UnsafeBundleException($"it has no {BundleManifest.FileName} first");
            if (FileContent.Holds(manifestPath, archived))
            {
                report.Add(ExtractionsUnchanged);
                return;
            }
            var staging = cache.NewStaging(id);
            try
            {
                SafeExtractor.Extract(cached, staging);
                var old = cache.NewRetired(id);
                if (Directory.Exists(folder)) Directory.Move(folder, old);
                Directory.Move(staging, folder);
                if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
                report.Add(Extracted);
            }
            finally
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            }
        }
        catch (Exception e) when (
            e is UnsafeBundleException or InvalidDataException or EndOfStreamException or FormatException)
        {
            var q = cache.Quarantine(cached, id);
            report.Problem(id, cached, $"bundle refused: {e.Message}; moved to {q}");
        }
    }
}
