using RdBridge.Workspaces;

namespace RdBridge.Tests.Registry;

/// <summary>
/// The products' fingerprint (the catalogs, their AIstock copies, the strategy library and the asset cache's top
/// level), which tells a sync whose loops are all unchanged that it still has work: it is the same when nothing
/// changed and differs after any one entry of those folders is added, removed or rewritten.
/// </summary>
public class ProductsFingerprintTests
{
    [Fact]
    public void The_products_fingerprint_changes_with_each_entry_of_the_asset_cache_and_the_catalog_folders()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        var s = sample.Settings;
        var cache = Directory.EnumerateFiles(s.AssetCacheDirectory, "*.sha256").Order(StringComparer.Ordinal).ToList();
        // A guard on the sample: the cache holds sidecars to change.
        Assert.Equal(Db.Scalar(s.RegistryPath, "SELECT count(*) FROM production_bundles"), cache.Count);

        var first = LoopFingerprints.Products(s);
        var again = LoopFingerprints.Products(s);
        File.Delete(cache[0]);
        var sidecarRemoved = LoopFingerprints.Products(s);
        Directory.CreateDirectory(Path.Combine(s.AssetCacheDirectory, "bundle_added_by_hand"));
        var folderAdded = LoopFingerprints.Products(s);
        // One byte more in a catalog copy: its size, and so its line, differs.
        File.AppendAllText(Path.Combine(s.AistockCatalogDirectory, "loop_catalog.json"), " ");
        var copyGrown = LoopFingerprints.Products(s);

        Assert.Equal(first, again);
        Assert.Equal(4, new[] { first, sidecarRemoved, folderAdded, copyGrown }.Distinct().Count());
    }
}
