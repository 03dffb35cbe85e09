using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Runs;

namespace RdBridge.Assets;

/// <summary>
/// <c>bundle verify</c> (step 2.3): each bundle re-hashed against its sidecar, then checked against its manifest.
/// </summary>
public static class BundleVerify
{
    private static readonly Counter Verified = Counter.Tally("verified");

    /// <param name="ids">The bundles to check; all of the folder's when empty.</param>
    public static StageReport Run(BundleFolder bundles, IReadOnlyList<string> ids)
    {
        var report = new StageReport("bundle verify");
        foreach (var id in ids.Count > 0 ? ids : bundles.Ids())
        {
            var archive = BundleId.IsSafe(id) ? bundles.Archive(id) : null;
            if (archive is null || !File.Exists(archive)) { report.Problem(id, archive, "no such bundle"); continue; }
            if (FileDigest.Sha256OfFile(archive) != bundles.ReadDigest(id))
            {
                report.Problem(id, archive, "archive does not match its .sha256");
                continue;
            }
            // Streamed: each entry is hashed against the manifest as it is decompressed; nothing reaches the disk.
            try { SafeExtractor.Verify(archive); report.Add(Verified); }
            catch (UnsafeBundleException e) { report.Problem(id, archive, e.Message); }
        }
        return report;
    }
}
