using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdBridge.Bundles;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Show;
using static RdBridge.Server.ConsumerApi;

namespace RdBridge.Server;

/// <summary>Bundles in the asset cache (<c>/api/aistock/bundles</c>): where each stands, the archive, its file
/// list and each listed file.</summary>
internal static class BundleRoutes
{
    internal const int MaxCacheStateIds = 200;

    public static void Map(RouteGroupBuilder cache)
    {
        // The loops page shows where each row's bundle stands in the asset cache: one call per page, two file checks
        // per id.
        cache.MapGet("/cache-state", CacheState).WithName("bundleCacheState");
        cache.MapGet("/{id}", Archive).WithName("cachedBundle");
        cache.MapGet("/{id}/files", Files).WithName("cachedBundleFiles");
        cache.MapGet("/{id}/files/{**path}", ListedFile).WithName("cachedBundleFile");
    }

    private static IResult CacheState(string? ids, RdBridgeSettings s)
    {
        var list = (ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct().ToList();
        if (list.Count > MaxCacheStateIds)
        {
            return RdBridgeServer.Problem(400, "too many ids",
                $"ask for at most {MaxCacheStateIds} bundle ids at a time, not {list.Count}");
        }

        var states = new JsonObject();
        foreach (var id in list) states[id] = LinkageQuery.CacheState(s, id);
        return Json(new JsonObject { ["states"] = states });
    }

    private static IResult Archive(string id, RdBridgeSettings s)
    {
        if (!BundleId.IsSafe(id)) return PublisherApi.BadId(id);
        var archive = s.AssetCache.Archive(id);
        var sha = s.AssetCache.Archives.ReadDigest(id);
        if (!File.Exists(archive) || sha is null)
        {
            return RdBridgeServer.Problem(404, "not in the asset cache",
                $"bundle '{id}' is not in the asset cache; sync first");
        }

        return new FileDownload(archive, "application/gzip", BundleFolder.ArchiveFileName(id), sha);
    }

    private static IResult Files(string id, RdBridgeSettings s)
    {
        if (!BundleId.IsSafe(id)) return PublisherApi.BadId(id);
        var manifest = s.AssetCache.ExtractedManifest(id);
        return File.Exists(manifest)
            ? Results.File(manifest, "application/json; charset=utf-8")
            : RdBridgeServer.Problem(404, "not extracted",
                $"bundle '{id}' is not extracted in the asset cache; sync first");
    }

    private static IResult ListedFile(string id, string path, RdBridgeSettings s)
    {
        if (!BundleId.IsSafe(id)) return PublisherApi.BadId(id);
        var folder = s.AssetCache.Extracted(id);
        var manifest = s.AssetCache.ExtractedManifest(id);
        if (!File.Exists(manifest))
        {
            return RdBridgeServer.Problem(404, "not extracted",
                $"bundle '{id}' is not extracted in the asset cache; sync first");
        }
        // Only a file the manifest lists is served: no path from the request ever reaches the disk unchecked.
        ManifestSummary summary;
        try { summary = BundleManifest.ReadSummary(RegularFile.ReadAllBytes(manifest, ReadLimits.BundleManifest)); }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException)
        {
            return RdBridgeServer.Problem(422, "unreadable bundle manifest",
                $"the manifest of bundle '{id}' in the asset cache cannot be read: {e.Message}; " +
                "run sync-assets to extract it again");
        }
        var listed = summary.Files.FirstOrDefault(f => f.Path == path);
        if (listed.Path is null)
            return RdBridgeServer.Problem(404, "no such file", $"bundle '{id}' lists no file '{path}'");
        var full = Path.GetFullPath(Path.Combine(folder, listed.Path));
        if (!full.StartsWith(Path.GetFullPath(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || !File.Exists(full))
        {
            return RdBridgeServer.Problem(404, "no such file",
                $"bundle '{id}' lists '{path}' but it is not in the extracted copy");
        }

        return new FileDownload(full, "application/octet-stream", Path.GetFileName(full), listed.Sha256);
    }
}
