using System.Text.Json;
using RdBridge.Catalogs;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Runs;

namespace RdBridge.Assets;

/// <summary>
/// Step 5 of the guide: every bundle the loop catalog names is copied to
/// <c>AIstock/rdagent_assets/bundles/&lt;id&gt;.tar.gz</c> (only when its digest differs, checked after copying) and
/// extracted to <c>&lt;id&gt;/</c> through a temporary folder and a rename. A bad bundle is quarantined and reported;
/// the others go on.
/// </summary>
public sealed class AssetSyncStage(RunContext context)
{
    private static readonly Counter Bundles = Counter.Tally("bundles", "bundle");
    private static readonly Counter CopiesUnchanged = Counter.Tally("copies unchanged", "copy unchanged");
    private static readonly Counter Copied = Counter.Change("copied");

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
            {
                if (loop.TryGetProperty(CatalogFields.AssetBundleId, out var id) && id.ValueKind == JsonValueKind.String
                    && id.GetString() is { Length: > 0 } s)
                {
                    ids.Add(s);
                }
            }
        }
        catch (FormatException e)
        {
            report.Problem("loop catalog", catalog, e.Message);
        }
        foreach (var id in ids)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            report.Add(Bundles);
            try { SyncOne(id, report); }
            catch (IOException e) { report.Problem(id, null, $"bundle not synced: {e.Message}"); }
        }
        return report;
    }

    private void SyncOne(string id, StageReport report)
    {
        var settings = context.Settings;
        if (!BundleId.IsSafe(id))
        {
            report.Problem(id, null, "the asset_bundle_id holds path characters; it is not used as a file name");
            return;
        }
        var bundles = settings.Bundles;
        var cache = settings.AssetCache;
        var source = bundles.Archive(id);
        var cached = cache.Archive(id);
        if (!File.Exists(source))
        {
            report.Problem(id, source, "the bundle file is missing on the RD-Agent side; run 'rdbridge bundle'");
            return;
        }
        var expected = bundles.ReadDigest(id) ?? FileDigest.Sha256OfFile(source);

        if (File.Exists(cached) && cache.Archives.ReadDigest(id) == expected
            && new FileInfo(cached).Length == new FileInfo(source).Length)
        {
            report.Add(CopiesUnchanged);
        }
        else
        {
            string? got = null;
            var pending = AtomicFile.WriteTemporary(cached, output =>
            {
                using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 128 * 1024,
                    FileOptions.SequentialScan);
                var hashing = new HashingWriteStream(output);
                input.CopyTo(hashing);
                hashing.Flush();
                got = hashing.HexDigest();
            });
            if (got != expected)
            {
                AtomicFile.TryDelete(pending.Temp);
                report.Problem(id, source,
                    $"the bundle does not match its .sha256 (got {got![..12]}…, expected {expected[..12]}…); " +
                    "it was not copied — rebuild it with 'rdbridge bundle'");
                return;
            }
            AtomicFile.Commit(pending);
            cache.Archives.WriteDigest(id, expected);
            report.Add(Copied);
        }

        BundleInstall.Extract(cache, id, report);
    }
}
