using RdBridge.Catalogs;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Store;
using static RdBridge.Catalogs.CatalogFields;
using static RdBridge.Verify.Record;

namespace RdBridge.Verify;

/// <summary>The guide's "AIstock 侧验证": the imported catalog copies, the asset cache and the database tables.</summary>
internal static class AistockChecks
{
    public static (bool, string) CatalogFiles(VerifyContext c)
    {
        var bad = new List<string>();
        foreach (var kind in CatalogFile.All)
        {
            var name = CatalogFile.FileName(kind);
            var a = Path.Combine(c.Settings.AistockCatalogDirectory, name);
            var b = Path.Combine(c.Settings.CatalogDirectory, name);
            if (!File.Exists(a)) bad.Add($"{name} missing");
            else if (File.Exists(b) && FileDigest.Sha256OfFile(a) != FileDigest.Sha256OfFile(b))
                bad.Add($"{name} differs from the RD-Agent side (run import)");
        }
        return (bad.Count == 0, bad.Count == 0
            ? $"4 catalogs in {c.Settings.AistockCatalogDirectory}, same as exported"
            : string.Join("; ", bad));
    }

    public static (bool, string) BundleCache(VerifyContext c)
    {
        var bad = new ProblemList();
        long ids = 0;
        foreach (var id in c.LoopRecords.Select(r => Str(r, AssetBundleId)).OfType<string>().Distinct())
        {
            ids++;
            if (!BundleId.IsSafe(id)) { bad.Add($"{id}: unsafe id"); continue; }
            var cached = c.Settings.AssetCache.Archive(id);
            if (!File.Exists(cached)) { bad.Add($"{id}: not copied"); continue; }
            var want = c.Settings.Bundles.ReadDigest(id);
            var have = c.Settings.AssetCache.Archives.ReadDigest(id);
            if (want is not null && have != want) bad.Add($"{id}: cached copy is outdated");
            else if (c.Deep && FileDigest.Sha256OfFile(cached) != have)
                bad.Add($"{id}: cached archive does not match its .sha256");
        }
        return (bad.Count == 0 && ids > 0, bad.Count == 0
            ? $"{Counted.Of(ids, "bundle")} cached{(c.Deep ? ", every archive re-hashed" : "")}"
            : $"{bad.Count} bad: {string.Join("; ", bad.Take(5))}");
    }

    public static (bool, string) DbRecords(VerifyContext c)
    {
        var bad = new List<string>();
        var parts = new List<string>();
        foreach (var kind in CatalogFile.All)
        {
            var inFile = c.Catalogs.Counts[kind];
            var inDb = c.Db.Count(kind);
            parts.Add($"{CatalogFile.ListName(kind)} {inDb}/{inFile}");
            if (inDb < inFile || inFile == 0 && kind == CatalogKind.Loop)
                bad.Add($"{CatalogFile.ListName(kind)}: {Counted.Of(inDb, "row")} for {Counted.Of(inFile, "record")}");
        }
        // Foreign-key-like integrity: a factor, model or strategy row points at a loop that the loop catalog holds.
        foreach (var t in CatalogTable.All.Where(t => t.Kind != CatalogKind.Loop))
        {
            var orphans = c.Db.RowsWithoutLoop(t.Kind, 5);
            if (orphans.Count > 0)
            {
                bad.Add($"{t.Name}: rows whose loop is not in aistock_loop_catalog, e.g. "
                    + string.Join(", ", orphans.Select(o => $"{o.Key} → loop {o.TaskRunId}/{o.LoopId}")));
            }
        }
        return (bad.Count == 0, bad.Count == 0 ? string.Join(", ", parts) : string.Join("; ", bad));
    }

    public static (bool, string) DbBundleIds(VerifyContext c)
    {
        var bad = new List<string>();
        foreach (var t in CatalogTable.All)
        {
            var n = c.Db.RowsWithoutOwnBundle(t.Kind);
            if (n > 0) bad.Add($"{t.Name}: {Counted.Of(n, "row")} without their loop's asset_bundle_id");
        }
        return (bad.Count == 0, bad.Count == 0 ? "every row names the bundle of its own loop" : string.Join("; ", bad));
    }

    public static (bool, string) Coverage(VerifyContext c)
    {
        var parts = CatalogFile.All
            .Select(k => (k, total: c.Db.CountExpectingBundle(k), with: c.Db.CountWithBundle(k))).ToList();
        var ok = parts.All(p => p.total == p.with) && parts.First(p => p.k == CatalogKind.Loop).total > 0;
        return (ok, string.Join(", ", parts.Select(p => $"{CatalogFile.ListName(p.k)} {p.with}/{p.total}")));
    }
}
