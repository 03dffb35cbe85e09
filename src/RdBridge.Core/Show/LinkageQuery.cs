using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Store;

namespace RdBridge.Show;

/// <summary>
/// One loop's lineage as AIstock holds it — task run → loop → workspace ↔ bundle → factors, model, strategy —
/// with every link marked verified or broken, from the AIstock database and the asset cache alone (it works on a
/// consumer that has no RD-Agent directory). This is what the loop detail page draws.
/// </summary>
public sealed class LinkageQuery(RdBridgeSettings settings, ICatalogReader store)
{
    /// <summary>The lineage as the API serves it (see <see cref="Lineage"/>).</summary>
    public JsonObject? Loop(string taskRunId, long loopId) =>
        Lineage(taskRunId, loopId) is { } lineage ? CatalogJson.ToNode(lineage) : null;

    public LoopLineage? Lineage(string taskRunId, long loopId)
    {
        var loop = Stored<LoopRecord>(CatalogKind.Loop, taskRunId, loopId);
        if (loop is null) return null;
        var expectedBundle = $"bundle_{taskRunId}_{loopId}";
        var bundleId = loop.AssetBundleId;
        var workspaceId = loop.WorkspaceId;
        var model = Stored<ModelRecord>(CatalogKind.Model, taskRunId, loopId);
        var strategy = Stored<StrategyRecord>(CatalogKind.Strategy, taskRunId, loopId);
        var factors = store.FactorsOfLoop(taskRunId, loopId)
            .Select(f => new LineageFactor
            {
                Name = f.Name, Source = f.Source, FactorId = f.FactorId, Ic = f.Ic,
                AnnualizedReturn = f.AnnualizedReturn,
            })
            .ToList();

        var bundle = BundleStatus(bundleId);
        var manifest = bundle["manifest"] as JsonObject;
        var manifestWorkspaces = (manifest?["workspaces"] as JsonArray)?.Select(w => (string?)w?["workspace_id"])
            .ToHashSet() ?? [];
        List<LineageLink> links =
        [
            new("task_run", "loop", true, $"{taskRunId} → loop {loopId}"),
            new("loop", "workspace", workspaceId is { Length: > 0 }
                    && loop.WorkspacePath is { Length: > 0 } path
                    && path.TrimEnd('/', '\\').EndsWith(workspaceId, StringComparison.Ordinal),
                workspaceId is null ? "the loop names no workspace" : $"workspace {workspaceId}"),
            new("loop", "bundle", bundleId == expectedBundle, bundleId == expectedBundle
                ? bundleId!
                : $"asset_bundle_id is {bundleId ?? "missing"}, expected {expectedBundle}"),
            new("bundle", "cache", (bool?)bundle["cached"] == true && (bool?)bundle["extracted"] == true,
                (bool?)bundle["cached"] == true
                    ? ((bool?)bundle["extracted"] == true
                        ? "archive and extracted copy present"
                        : "archive present, not extracted")
                    : "not in the asset cache; run sync"),
            new("workspace", "bundle", workspaceId is not null && manifestWorkspaces.Contains(workspaceId),
                manifest is null ? "no manifest to check"
                    : workspaceId is not null && manifestWorkspaces.Contains(workspaceId)
                        ? "the bundle holds the loop's workspace"
                        : "the bundle does not hold the loop's workspace"),
            new("bundle", "manifest", manifest is not null && (string?)manifest["task_run_id"] == taskRunId
                    && (long?)manifest["loop_id"] == loopId,
                manifest is null ? "no manifest" : "the manifest names this loop"),
            new("loop", "strategy", strategy is not null && strategy.StrategyId == loop.StrategyId,
                strategy is null ? "no strategy row for this loop" : strategy.StrategyId ?? "?"),
            new("loop", "model", model is not null || loop.Action != "model",
                model is null ? "no model row (a factor loop trains the baseline model)" : model.ModelId ?? "?"),
            new("loop", "factors", factors.Count > 0 || loop.Action == "model", Counted.Of(factors.Count, "factor")),
        ];
        return new LoopLineage
        {
            TaskRunId = taskRunId,
            LoopId = loopId,
            Loop = loop,
            Model = model,
            Strategy = strategy,
            Factors = factors,
            Bundle = bundle,
            Links = links,
            Verified = links.All(l => l.Ok),
        };
    }

    /// <summary>
    /// Where a bundle stands in the asset cache, from two file checks (no manifest read), cheap enough for every row
    /// of a loops page: <c>extracted</c>, <c>cached</c> (archive only), <c>missing</c>, or <c>none</c> (the loop names
    /// no bundle).
    /// </summary>
    public static string CacheState(RdBridgeSettings settings, string? bundleId)
    {
        if (string.IsNullOrEmpty(bundleId)) return "none";
        if (!BundleId.IsSafe(bundleId)) return "missing";
        var cache = settings.AssetCache;
        if (File.Exists(cache.ExtractedManifest(bundleId))) return "extracted";
        return File.Exists(cache.Archive(bundleId)) ? "cached" : "missing";
    }

    /// <summary>
    /// The cached archive, its recorded digest and the extracted manifest (file list with sizes and hashes).
    /// </summary>
    public JsonObject BundleStatus(string? bundleId)
    {
        if (bundleId is null || !BundleId.IsSafe(bundleId))
        {
            return new JsonObject
            {
                [CatalogFields.AssetBundleId] = bundleId, ["cached"] = false, ["extracted"] = false,
            };
        }
        var cache = settings.AssetCache;
        var archive = cache.Archive(bundleId);
        var manifestPath = cache.ExtractedManifest(bundleId);
        JsonObject? manifest = null;
        if (RegularFile.Exists(manifestPath))
        {
            try
            {
                manifest = JsonNode.Parse(RegularFile.ReadAllBytes(manifestPath, ReadLimits.BundleManifest))
                    as JsonObject;
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or IOException) { }
        }
        return new JsonObject
        {
            [CatalogFields.AssetBundleId] = bundleId,
            ["cached"] = File.Exists(archive),
            ["size_bytes"] = File.Exists(archive) ? new FileInfo(archive).Length : null,
            ["sha256"] = cache.Archives.ReadDigest(bundleId),
            ["extracted"] = manifest is not null,
            ["quarantined"] = cache.IsQuarantined(bundleId),
            ["manifest"] = manifest,
        };
    }

    private T? Stored<T>(CatalogKind kind, string taskRunId, long loopId) where T : CatalogRecord, new() =>
        store.OfLoop(kind, taskRunId, loopId) is { } row ? CatalogJson.ReadStored<T>(row.Payload, row.Origin) : null;
}
