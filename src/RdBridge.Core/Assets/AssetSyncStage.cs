using System.Text.Json;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.IO;
using RdBridge.Pipeline;

namespace RdBridge.Assets;

/// <summary>
/// Step 5 of the guide: every bundle the loop catalog names is copied to <c>AIstock/rdagent_assets/bundles/&lt;id&gt;.tar.gz</c>
/// (only when its digest differs, checked after copying) and extracted to <c>&lt;id&gt;/</c> through a temporary folder and a
/// rename. A bad bundle is quarantined and reported; the others go on.
/// </summary>
public sealed class AssetSyncStage(RunContext context)
{
    public const string QuarantineFolder = ".quarantine";

    public StageReport Run()
    {
        var report = new StageReport("sync-assets");
        var settings = context.Settings;
        var catalog = Path.Combine(settings.AistockCatalogDirectory, CatalogFile.FileName(CatalogKind.Loop));
        if (!File.Exists(catalog))
        {
            report.Aborted = $"'{catalog}' does not exist; run 'rdbridge import' first";
            report.Problem("loop catalog", catalog, report.Aborted);
            return report;
        }
        Directory.CreateDirectory(settings.AssetCacheDirectory);
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var loop in CatalogReader.ReadRecords(catalog, CatalogKind.Loop))
                if (loop.TryGetProperty("asset_bundle_id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } s)
                    ids.Add(s);
        }
        catch (FormatException e)
        {
            report.Problem("loop catalog", catalog, e.Message);
        }
        foreach (var id in ids)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            report.Add("bundles");
            try { SyncOne(id, report); }
            catch (IOException e) { report.Problem(id, null, $"bundle not synced: {e.Message}"); }
        }
        return report;
    }

    private void SyncOne(string id, StageReport report)
    {
        var settings = context.Settings;
        if (!BundleNames.IsSafeId(id))
        {
            report.Problem(id, null, "the asset_bundle_id holds path characters; it is not used as a file name");
            return;
        }
        var source = Path.Combine(settings.BundleDirectory, id + BundleStage.ArchiveSuffix);
        var cached = Path.Combine(settings.AssetCacheDirectory, id + BundleStage.ArchiveSuffix);
        var cachedSidecar = Path.Combine(settings.AssetCacheDirectory, id + BundleStage.DigestSuffix);
        var folder = Path.Combine(settings.AssetCacheDirectory, id);
        if (!File.Exists(source))
        {
            report.Problem(id, source, "the bundle file is missing on the RD-Agent side; run 'rdbridge bundle'");
            return;
        }
        var expected = BundleStage.ReadSidecar(Path.Combine(settings.BundleDirectory, id + BundleStage.DigestSuffix)) ?? FileDigest.Sha256OfFile(source);

        if (File.Exists(cached) && BundleStage.ReadSidecar(cachedSidecar) == expected && new FileInfo(cached).Length == new FileInfo(source).Length)
            report.Add("copies unchanged");
        else
        {
            var temp = AtomicFile.TempPathFor(cached);
            try
            {
                string got;
                using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 128 * 1024, FileOptions.SequentialScan))
                using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                {
                    var hashing = new HashingWriteStream(output);
                    input.CopyTo(hashing);
                    hashing.Flush();
                    output.Flush(flushToDisk: true);
                    got = hashing.HexDigest();
                }
                if (got != expected)
                {
                    AtomicFile.TryDelete(temp);
                    report.Problem(id, source, $"the bundle does not match its .sha256 (got {got[..12]}…, expected {expected[..12]}…); it was not copied — rebuild it with 'rdbridge bundle'");
                    return;
                }
                File.Move(temp, cached, overwrite: true);
                BundleStage.WriteSidecar(cachedSidecar, expected, id);
                report.Add("copied");
            }
            finally { AtomicFile.TryDelete(temp); }
        }

        Install(settings, id, report);
    }

    /// <summary>
    /// Extracts a cached, digest-checked archive to <c>&lt;id&gt;/</c> through a temporary folder and a rename, unless the
    /// extraction is already current; an archive that is unsafe or broken is quarantined and reported.
    /// Shared by the local copy above and the HTTP pull.
    /// </summary>
    public static void Install(Configuration.RdBridgeSettings settings, string id, StageReport report)
    {
        var cached = Path.Combine(settings.AssetCacheDirectory, id + BundleStage.ArchiveSuffix);
        var cachedSidecar = Path.Combine(settings.AssetCacheDirectory, id + BundleStage.DigestSuffix);
        var folder = Path.Combine(settings.AssetCacheDirectory, id);
        // Extraction is current when the extracted manifest is byte-identical to the archive's.
        var manifestPath = Path.Combine(folder, BundleManifest.FileName);
        try
        {
            var archived = SafeExtractor.ReadManifest(cached) ?? throw new UnsafeBundleException($"it has no {BundleManifest.FileName} first");
            if (FileContent.Holds(manifestPath, archived))
            {
                report.Add("extractions unchanged");
                return;
            }
            var staging = Path.Combine(settings.AssetCacheDirectory, $".{id}.extracting-{Guid.NewGuid():N}");
            try
            {
                SafeExtractor.Extract(cached, staging);
                var old = Path.Combine(settings.AssetCacheDirectory, $".{id}.old-{Guid.NewGuid():N}");
                if (Directory.Exists(folder)) Directory.Move(folder, old);
                Directory.Move(staging, folder);
                if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
                report.Add("extracted");
            }
            finally
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            }
        }
        catch (Exception e) when (e is UnsafeBundleException or InvalidDataException or EndOfStreamException or FormatException)
        {
            var q = Quarantine(settings, cached, cachedSidecar, id);
            report.Problem(id, cached, $"bundle refused: {e.Message}; moved to {q}");
        }
    }

    /// <summary>Moves a bad archive out of the cache (kept for inspection, never served); returns where it went.</summary>
    public static string Quarantine(Configuration.RdBridgeSettings settings, string cached, string sidecar, string id)
    {
        var dir = Path.Combine(settings.AssetCacheDirectory, QuarantineFolder);
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, $"{id}.{DateTimeOffset.UtcNow:yyyyMMddHHmmss}{BundleStage.ArchiveSuffix}");
        File.Move(cached, target, overwrite: true);
        AtomicFile.TryDelete(sidecar);
        return target;
    }
}
