using System.Text.Json;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Registry;

namespace RdBridge.Feed;

/// <summary>One bundle a feed announces: what a consumer downloads and the digest it must end up with.</summary>
public sealed record FeedBundle(string AssetBundleId, string TaskRunId, long LoopId, string Sha256, long SizeBytes, string ChangedAt);

/// <summary>
/// The publisher's incremental feed: the loops whose bundle was built or rebuilt at or after <c>since</c>, with the
/// catalog records that belong to them (the loop, its model and strategy, and every factor one of them found), in one
/// JSON document of the four catalog lists plus a <c>bundles</c> list. A bundle is (re)built exactly when the loop's
/// files or metadata changed, so its build time is the loop's change time. <c>next_since</c> is what the consumer
/// asks with next time; asking again with the same value is harmless (everything comes back unchanged).
/// Only the changed loops' keys are held in memory; the catalogs are streamed.
/// </summary>
public sealed class FeedWriter(RdBridgeSettings settings)
{
    public const string FormatVersion = "rdbridge-feed/1";

    public void Write(Stream output, string? since)
    {
        var bundles = ChangedBundles(since);
        var loops = bundles.Select(b => (b.TaskRunId, b.LoopId)).ToHashSet();
        var exported = new HashSet<(string, long)>();
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = CanonicalJson.FileWriterOptions.Encoder });
        w.WriteStartObject();
        w.WriteString("format", FormatVersion);
        w.WriteString("generated_at_utc", UtcText.Now());
        if (since is null) w.WriteNull("since"); else w.WriteString("since", since);
        w.WriteStartArray("bundles");
        foreach (var b in bundles)
        {
            w.WriteStartObject();
            w.WriteString("asset_bundle_id", b.AssetBundleId);
            w.WriteString("task_run_id", b.TaskRunId);
            w.WriteNumber("loop_id", b.LoopId);
            w.WriteString("sha256", b.Sha256);
            w.WriteNumber("size_bytes", b.SizeBytes);
            w.WriteString("changed_at", b.ChangedAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        foreach (var kind in new[] { CatalogKind.Loop, CatalogKind.Model, CatalogKind.Strategy, CatalogKind.Factor })
        {
            w.WriteStartArray(CatalogFile.ListName(kind));
            var path = Path.Combine(settings.CatalogDirectory, CatalogFile.FileName(kind));
            if (loops.Count > 0 && File.Exists(path))
                foreach (var record in CatalogReader.ReadRecords(path, kind))
                    if (Belongs(kind, record, loops))
                    {
                        if (kind == CatalogKind.Loop && LoopOf(record) is { } key) exported.Add(key);
                        record.WriteTo(w);
                        if (w.BytesPending > 64 * 1024) w.Flush();
                    }
            w.WriteEndArray();
        }
        // A bundle already built whose loop is not exported yet (a publish in progress) holds the position back, so the
        // consumer asks for that loop again next time instead of passing it by.
        var pending = bundles.Where(b => !exported.Contains((b.TaskRunId, b.LoopId))).Select(b => b.ChangedAt).Min(StringComparer.Ordinal);
        var next = pending ?? (bundles.Count == 0 ? since : bundles.Select(b => b.ChangedAt).Max(StringComparer.Ordinal));
        if (next is null) w.WriteNull("next_since"); else w.WriteString("next_since", next);
        w.WriteNumber("pending_loops", bundles.Count(b => !exported.Contains((b.TaskRunId, b.LoopId))));
        w.WriteEndObject();
    }

    /// <summary>Bundles built at or after <paramref name="since"/> whose archive is present, oldest first.</summary>
    public IReadOnlyList<FeedBundle> ChangedBundles(string? since)
    {
        using var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false);
        return registry.ReadBuiltBundles(since)
            .Where(b => Layout.BundleId.IsSafe(b.BundleId))
            .Select(b => new FeedBundle(b.BundleId, b.TaskRunId, b.LoopId, b.ArchiveSha256, b.SizeBytes, b.ChangedAt))
            .ToList();
    }

    private static bool Belongs(CatalogKind kind, JsonElement record, HashSet<(string, long)> loops)
    {
        if (kind != CatalogKind.Factor) return LoopOf(record) is { } key && loops.Contains(key);
        // A factor belongs to every loop that found it.
        if (record.TryGetProperty("provenance", out var prov) && prov.ValueKind == JsonValueKind.Array)
            foreach (var p in prov.EnumerateArray())
                if (LoopOf(p) is { } key && loops.Contains(key)) return true;
        return LoopOf(record) is { } own && loops.Contains(own);
    }

    private static (string, long)? LoopOf(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("task_run_id", out var tr) && tr.ValueKind == JsonValueKind.String
        && e.TryGetProperty("loop_id", out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetInt64(out var loop)
            ? (tr.GetString()!, loop) : null;
}
