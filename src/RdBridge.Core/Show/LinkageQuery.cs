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
    public JsonObject? Loop(string taskRunId, long loopId)
    {
        var loopRow = Payload(CatalogKind.Loop, taskRunId, loopId);
        if (loopRow is null) return null;
        var expectedBundle = $"bundle_{taskRunId}_{loopId}";
        var bundleId = (string?)loopRow["asset_bundle_id"];
        var workspaceId = (string?)loopRow["workspace_id"];
        var model = Payload(CatalogKind.Model, taskRunId, loopId);
        var strategy = Payload(CatalogKind.Strategy, taskRunId, loopId);
        var factors = store.FactorsOfLoop(taskRunId, loopId)
            .Select(f => (JsonNode?)new JsonObject
            {
                ["name"] = f.Name, ["source"] = f.Source, ["factor_id"] = f.FactorId, ["ic"] = f.Ic,
                    ["annualized_return"] = f.AnnualizedReturn,
            })
            .ToArray();

        var bundle = BundleStatus(bundleId);
        var manifest = bundle["manifest"] as JsonObject;
        var manifestWorkspaces = (manifest?["workspaces"] as JsonArray)?.Select(w => (string?)w?["workspace_id"])
            .ToHashSet() ?? [];
        var links = new JsonArray
        {
            Link("task_run", "loop", true, $"{taskRunId} → loop {loopId}"),
            Link("loop", "workspace", workspaceId is { Length: > 0 }
                    && (string?)loopRow["workspace_path"] is { Length: > 0 } path
                    && path.TrimEnd('/', '\\').EndsWith(workspaceId, StringComparison.Ordinal),
                workspaceId is null ? "the loop names no workspace" : $"workspace {workspaceId}"),
            Link("loop", "bundle", bundleId == expectedBundle, bundleId == expectedBundle
                ? bundleId!
                : $"asset_bundle_id is {bundleId ?? "missing"}, expected {expectedBundle}"),
            Link("bundle", "cache", (bool?)bundle["cached"] == true && (bool?)bundle["extracted"] == true,
                (bool?)bundle["cached"] == true
                    ? ((bool?)bundle["extracted"] == true
                        ? "archive and extracted copy present"
                        : "archive present, not extracted")
                    : "not in the asset cache; run sync"),
            Link("workspace", "bundle", workspaceId is not null && manifestWorkspaces.Contains(workspaceId),
                manifest is null ? "no manifest to check"
                    : workspaceId is not null && manifestWorkspaces.Contains(workspaceId)
                        ? "the bundle holds the loop's workspace"
                        : "the bundle does not hold the loop's workspace"),
            Link("bundle", "manifest", manifest is not null && (string?)manifest["task_run_id"] == taskRunId
                    && (long?)manifest["loop_id"] == loopId,
                manifest is null ? "no manifest" : "the manifest names this loop"),
            Link("loop", "strategy",
                strategy is not null && (string?)strategy["strategy_id"] == (string?)loopRow["strategy_id"],
                strategy is null ? "no strategy row for this loop" : (string?)strategy["strategy_id"] ?? "?"),
            Link("loop", "model", model is not null || (string?)loopRow["action"] != "model",
                model is null
                    ? "no model row (a factor loop trains the baseline model)"
                    : (string?)model["model_id"] ?? "?"),
            Link("loop", "factors", factors.Length > 0 || (string?)loopRow["action"] == "model",
                $"{factors.Length} factors"),
        };
        return new JsonObject
        {
            ["task_run_id"] = taskRunId,
            ["loop_id"] = loopId,
            ["loop"] = loopRow,
            ["model"] = model,
            ["strategy"] = strategy,
            ["factors"] = new JsonArray(factors),
            ["bundle"] = bundle,
            ["links"] = links,
            ["verified"] = links.All(l => (bool?)l?["ok"] == true),
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
            return new JsonObject { ["asset_bundle_id"] = bundleId, ["cached"] = false, ["extracted"] = false };
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
            ["asset_bundle_id"] = bundleId,
            ["cached"] = File.Exists(archive),
            ["size_bytes"] = File.Exists(archive) ? new FileInfo(archive).Length : null,
            ["sha256"] = cache.Archives.ReadDigest(bundleId),
            ["extracted"] = manifest is not null,
            ["quarantined"] = cache.IsQuarantined(bundleId),
            ["manifest"] = manifest,
        };
    }

    private JsonObject? Payload(CatalogKind kind, string taskRunId, long loopId)
    {
        if (store.OfLoop(kind, taskRunId, loopId) is not { } row) return null;
        var o = JsonNode.Parse(row.Payload)!.AsObject();
        o["origin"] = row.Origin ?? "local";
        return o;
    }

    private static JsonObject Link(string from, string to, bool ok, string detail) =>
        new() { ["from"] = from, ["to"] = to, ["ok"] = ok, ["detail"] = detail };
}
