using System.Text.Json;
using RdBridge.Bundles;
using RdBridge.IO;
using RdBridge.Layout;

namespace RdBridge.Compare;

/// <summary>
/// A loop's bundle as extracted in the AIstock asset cache, read through its manifest: only files the manifest lists
/// are opened, and every path comes from the manifest and the cache's own layout, never from a request.
/// </summary>
public sealed class CachedBundle
{
    private readonly AssetCache _cache;
    private readonly Dictionary<string, (long Size, string Sha256)> _files;

    public string Id { get; }
    public string PrimaryWorkspaceId { get; }
    public IReadOnlyList<string> WorkspaceIds { get; }
    public string? ConfigPath { get; }

    private CachedBundle(AssetCache cache, string id, ManifestSummary manifest)
    {
        _cache = cache;
        Id = id;
        PrimaryWorkspaceId = manifest.PrimaryWorkspaceId ?? "";
        WorkspaceIds = manifest.WorkspaceIds;
        ConfigPath = manifest.ConfigRelpath;
        _files = new(StringComparer.Ordinal);
        foreach (var (path, size, sha256) in manifest.Files) _files[path] = (size, sha256);
    }

    /// <summary>
    /// The extracted bundle, or null when the cache has no extracted copy of it (sync first). A manifest that is not
    /// JSON or not of a manifest's shape is a <see cref="CompareException"/> naming the bundle and the field: that
    /// bundle's problem, which the caller reports while it goes on with the rest.
    /// </summary>
    public static CachedBundle? Open(AssetCache cache, string? bundleId)
    {
        if (bundleId is null || !BundleId.IsSafe(bundleId)) return null;
        var manifest = cache.ExtractedManifest(bundleId);
        if (!RegularFile.Exists(manifest)) return null;
        try
        {
            var summary = BundleManifest.ReadSummary(RegularFile.ReadAllBytes(manifest, ReadLimits.BundleManifest));
            return new CachedBundle(cache, bundleId, summary);
        }
        catch (JsonException e)
        {
            throw new CompareException($"the manifest of bundle '{bundleId}' in the asset cache ({manifest}) " +
                $"cannot be read: {e.Message}; run sync-assets to extract it again");
        }
        catch (FileRefusedException e)
        {
            throw new CompareException($"the manifest of bundle '{bundleId}' in the asset cache is refused: " +
                $"{e.Message}; run sync-assets to extract it again");
        }
    }

    /// <summary>The files the manifest lists, in its order.</summary>
    public IEnumerable<string> Files => _files.Keys;

    public long Size(string path) => _files.TryGetValue(path, out var f) ? f.Size : 0;
    public string Sha256(string path) => _files.TryGetValue(path, out var f) ? f.Sha256 : "";

    /// <summary>Where the backtest report of the loop's experiment workspace is, when the bundle carries one.</summary>
    public string? BacktestReportPath
    {
        get
        {
            var path = $"workspaces/{PrimaryWorkspaceId}/{BacktestCurve.FileName}";
            return _files.ContainsKey(path) ? path : null;
        }
    }

    /// <summary>
    /// A listed file of the extracted copy on disk; null when the manifest does not list it or it is gone.
    /// </summary>
    public string? Local(string path)
    {
        if (!_files.ContainsKey(path)) return null;
        var folder = Path.GetFullPath(_cache.Extracted(Id));
        var full = Path.GetFullPath(_cache.ExtractedFile(Id, path));
        var inside = full.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return inside && File.Exists(full) ? full : null;
    }

    /// <summary>The loop's backtest curve, or null when the bundle carries none.</summary>
    public BacktestCurve? ReadBacktest() =>
        BacktestReportPath is { } p && Local(p) is { } local ? BacktestCurve.Read(local) : null;
}
