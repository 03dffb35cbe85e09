using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Metadata;
using RdBridge.Workspaces;
using static RdBridge.Catalogs.CatalogFields;
using static RdBridge.Verify.Record;

namespace RdBridge.Verify;

/// <summary>
/// The guide's "RD-Agent 侧验证": the registry, the workspaces' metadata files, the bundles and the catalogs.
/// </summary>
internal static class RdAgentChecks
{
    public static (bool, string) RegistryLoops(VerifyContext c)
    {
        var loops = c.Reg.Count("loops");
        if (loops == 0) return (false, "the loops table is empty");
        var orphans = new ProblemList();
        long withResults = 0;
        foreach (var e in c.Expected)
        {
            withResults++;
            if (e.Workspaces.Primary is null) orphans.Add(e.Loop.Key);
        }
        return (orphans.Count == 0, $"{Counted.Of(loops, "loop")}, {withResults} with results" + (orphans.Count > 0
            ? $"; {orphans.Count} without a workspace row: {string.Join(", ", orphans.Take(5))}"
            : ", each linked to its own workspace"));
    }

    public static (bool, string) WorkspaceMetadata(VerifyContext c)
    {
        var missing = new ProblemList();
        long loops = 0;
        foreach (var e in c.Expected)
        {
            loops++;
            if (!e.Workspaces.IsUsable) { missing.Add($"{e.Loop.Key}: workspace missing"); continue; }
            var dir = e.Workspaces.Primary!.Local!;
            foreach (var f in WorkspaceFiles.MetaFiles)
            {
                if (!File.Exists(Path.Combine(dir, f))
                    && (f != WorkspaceFiles.FactorPerf || File.Exists(Path.Combine(dir, WorkspaceFiles.QlibRes))))
                {
                    missing.Add($"{e.Loop.Key}: {f}");
                }
            }
        }
        return (missing.Count == 0 && loops > 0, missing.Count == 0
            ? $"{Counted.Of(loops, "workspace")} complete"
            : $"{missing.Count} missing, e.g. {string.Join("; ", missing.Take(4))}");
    }

    public static (bool, string) ModelMetaPreprocess(VerifyContext c) =>
        MetaField(c, ModelMetaFile.FileName, ModelMetaFile.Read, m => m.PreprocessConfig is not null);

    public static (bool, string) FactorMetaInputSchema(VerifyContext c) =>
        MetaField(c, FactorMetaFile.FileName, FactorMetaFile.Read,
            m => m.Factors.All(f => f.InputSchema is JsonObject));

    public static (bool, string) StrategyMetaPortfolio(VerifyContext c) =>
        MetaField(c, StrategyMetaFile.FileName, StrategyMetaFile.Read, m => m.PortfolioConfig is not null);

    /// <summary>Every usable workspace holds <paramref name="file"/>, its record reads and passes
    /// <paramref name="ok"/>.</summary>
    private static (bool, string) MetaField<T>(VerifyContext c, string file, Func<string, T> read, Func<T, bool> ok)
    {
        var bad = new ProblemList();
        var seen = 0;
        foreach (var e in c.Expected.Where(e => e.Workspaces.IsUsable))
        {
            var path = Path.Combine(e.Workspaces.Primary!.Local!, file);
            if (!RegularFile.Exists(path)) { bad.Add($"{e.Loop.Key}: no {file}"); continue; }
            seen++;
            try
            {
                if (!ok(read(path))) bad.Add(e.Loop.Key);
            }
            catch (Exception ex) when (ex is JsonException or IOException) { bad.Add($"{e.Loop.Key}: malformed"); }
        }
        return (bad.Count == 0 && seen > 0, bad.Count == 0
            ? $"{Counted.Of(seen, "file")} checked"
            : $"{bad.Count} failing, e.g. {string.Join("; ", bad.Take(4))}");
    }

    public static (bool, string) BundleFiles(VerifyContext c)
    {
        var bundles = c.Settings.Bundles;
        var missing = new ProblemList();
        long loops = 0;
        foreach (var e in c.Expected)
        {
            loops++;
            if (!BundleId.IsSafe(e.Loop.BundleId))
            {
                missing.Add($"{Visible.Text(e.Loop.BundleId)} (its task run id cannot be a file name; rename the " +
                    "task run in the registry)");
                continue;
            }
            if (!File.Exists(bundles.Archive(e.Loop.BundleId)) || !File.Exists(bundles.Sidecar(e.Loop.BundleId)))
                missing.Add(e.Loop.BundleId);
        }
        return (missing.Count == 0 && loops > 0, missing.Count == 0
            ? $"{Counted.Of(loops, "bundle")} with .sha256"
            : $"{missing.Count} missing: {string.Join(", ", missing.Take(5))}");
    }

    public static (bool, string) BundleRows(VerifyContext c)
    {
        var bad = new ProblemList();
        long loops = 0;
        foreach (var e in c.Expected)
        {
            loops++;
            var row = c.Reg.ReadBundle(e.Loop.TaskRunId, e.Loop.LoopId);
            if (row is null) bad.Add($"{e.Loop.Key}: no row");
            else if (row.BundleId != e.Loop.BundleId) bad.Add($"{e.Loop.Key}: row names {row.BundleId}");
            else if (e.Loop.AssetBundleId != e.Loop.BundleId)
                bad.Add($"{e.Loop.Key}: loops.asset_bundle_id is {e.Loop.AssetBundleId ?? "NULL"}");
        }
        return (bad.Count == 0 && loops > 0, bad.Count == 0
            ? $"{Counted.Of(loops, "row")}, loops.asset_bundle_id set"
            : $"{bad.Count} wrong: {string.Join("; ", bad.Take(4))}");
    }

    public static (bool, string) CatalogBundleIds(VerifyContext c)
    {
        if (c.Catalogs.Error is not null) return (false, c.Catalogs.Error);
        long missing = 0;
        var examples = new List<string>();
        foreach (var k in CatalogFile.All)
        {
            foreach (var r in c.Catalogs.Stream(k)
                         .Where(r => Bundled(r) && string.IsNullOrEmpty(Str(r, AssetBundleId))))
            {
                if (missing++ < 3) examples.Add($"{CatalogFile.ListName(k)} {Describe(r, k)}");
            }
        }

        return (missing == 0, missing == 0
            ? $"{Counted.Of(c.Catalogs.Counts.Values.Sum(), "record")} in 4 catalogs, all with asset_bundle_id"
            : $"{Counted.Of(missing, "record")} without asset_bundle_id, e.g. {string.Join(", ", examples)}");
    }
}
