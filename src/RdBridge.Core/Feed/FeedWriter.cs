using System.Text.Json;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Registry;

namespace RdBridge.Feed;

/// <summary>One bundle a feed announces: what a consumer downloads and the digest it must end up with.</summary>
public sealed record FeedBundle(string AssetBundleId, string TaskRunId, long LoopId, string Sha256, long SizeBytes,
    string ChangedAt);

/// <summary>
/// The publisher's incremental feed: the loops whose bundle was built or rebuilt at or after <c>since</c>, with the
/// catalog records that belong to them (the loop, its model and strategy, and every factor one of them found), in one
/// JSON document of the four catalog lists, a <c>provenance</c> list (the changed loops' entries of
/// <c>factor_provenance.json</c>) and a <c>bundles</c> list. A bundle is (re)built exactly when the loop's
/// files or metadata changed, so its build time is the loop's change time. <c>next_since</c> is what the consumer
/// asks with next time; asking again with the same value is harmless (everything comes back unchanged).
/// Only the changed loops' keys are held in memory; the catalogs are streamed.
/// </summary>
public sealed class FeedWriter(RdBridgeSettings settings)
{
    /// <summary>Raise it whenever a consumer of the previous version would read a feed wrongly or in part:
    /// consumers refuse every format but their own (<c>PullStage</c>).</summary>
    public const string FormatVersion = "rdbridge-feed/1";

    /// <param name="since">An ISO-8601 time (any offset); a text that is not one is a <see
    /// cref="TimeFormatException"/>.</param>
    public void Write(Stream output, string? since)
    {
        var bundles = ChangedBundles(since);
        var loops = bundles.Select(b => (b.TaskRunId, b.LoopId)).ToHashSet();
        var exported = new HashSet<(string, long)>();
        using var w = new Utf8JsonWriter(output,
            new JsonWriterOptions { Encoder = CanonicalJson.FileWriterOptions.Encoder });
        w.WriteStartObject();
        w.WriteString("format", FormatVersion);
        w.WriteString(CatalogHeader.GeneratedAtField, UtcText.Now());
        if (since is null) w.WriteNull("since"); else w.WriteString("since", since);
        w.WriteStartArray("bundles");
        foreach (var b in bundles)
        {
            w.WriteStartObject();
            w.WriteString(CatalogFields.AssetBundleId, b.AssetBundleId);
            w.WriteString(CatalogFields.TaskRunId, b.TaskRunId);
            w.WriteNumber(CatalogFields.LoopId, b.LoopId);
            w.WriteString("sha256", b.Sha256);
            w.WriteNumber("size_bytes", b.SizeBytes);
            w.WriteString("changed_at", b.ChangedAt);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        // The factors the changed loops found, from the provenance file (an old factor catalog carries them inline).
        var provenance = Path.Combine(settings.CatalogDirectory, ProvenanceFile.FileName);
        var found = loops.Count > 0 && File.Exists(provenance)
            ? ProvenanceFile.Read(provenance).Where(p => loops.Contains((p.TaskRunId!, p.LoopId!.Value)))
                .Select(p => p.FactorId!).ToHashSet(StringComparer.Ordinal)
            : [];
        foreach (var kind in new[] { CatalogKind.Loop, CatalogKind.Model, CatalogKind.Strategy, CatalogKind.Factor })
        {
            w.WriteStartArray(CatalogFile.ListName(kind));
            var path = Path.Combine(settings.CatalogDirectory, CatalogFile.FileName(kind));
            if (loops.Count > 0 && File.Exists(path))
            {
                foreach (var record in CatalogReader.ReadRecords(path, kind))
                {
                    if (Belongs(kind, record, loops, found))
                    {
                        if (kind == CatalogKind.Loop && LoopOf(record) is { } key) exported.Add(key);
                        record.WriteTo(w);
                        if (w.BytesPending > 64 * 1024) w.Flush();
                    }
                }
            }

            w.WriteEndArray();
        }
        // Which changed loop found which factor, as factor_provenance.json has it (the consumer's provenance table).
        w.WriteStartArray(ProvenanceFile.List);
        if (loops.Count > 0 && File.Exists(provenance))
        {
            foreach (var p in ProvenanceFile.Read(provenance))
            {
                if (!loops.Contains((p.TaskRunId!, p.LoopId!.Value))) continue;
                CatalogJson.Write(w, p);
                if (w.BytesPending > 64 * 1024) w.Flush();
            }
        }
        w.WriteEndArray();
        // A bundle already built whose loop is not exported yet (a publish in progress) holds the position back, so the
        // consumer asks for that loop again next time instead of passing it by.
        // The bundles are in time order, so the first pending one is the earliest and the last one the latest.
        var pending = bundles.FirstOrDefault(b => !exported.Contains((b.TaskRunId, b.LoopId)))?.ChangedAt;
        var next = pending ?? (bundles.Count == 0 ? since : bundles[^1].ChangedAt);
        if (next is null) w.WriteNull("next_since"); else w.WriteString("next_since", next);
        w.WriteNumber("pending_loops", bundles.Count(b => !exported.Contains((b.TaskRunId, b.LoopId))));
        w.WriteEndObject();
    }

    /// <summary>
    /// Bundles built at or after <paramref name="since"/> whose archive is present, oldest first. Times are compared as
    /// instants: the registry holds them as its writers wrote them (with Z, an offset, or none), and a consumer in
    /// UTC+8
    /// asks with its own offset. A bundle whose time cannot be read is always listed (sent again rather than missed).
    /// </summary>
    public IReadOnlyList<FeedBundle> ChangedBundles(string? since)
    {
        DateTimeOffset? from = since is null ? null : UtcText.Parse(since, "since");
        using var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false);
        var list = new List<(FeedBundle Bundle, DateTimeOffset At)>();
        foreach (var b in registry.ReadBuiltBundles())
        {
            if (!Layout.BundleId.IsSafe(b.BundleId)) continue;
            var at = UtcText.TryParse(b.ChangedAt, out var t) ? t : DateTimeOffset.MinValue;
            if (from is null || at == DateTimeOffset.MinValue || at >= from)
            {
                list.Add((new FeedBundle(b.BundleId, b.TaskRunId, b.LoopId, b.ArchiveSha256, b.SizeBytes, b.ChangedAt),
                    at));
            }
        }
        return list.OrderBy(x => x.At).ThenBy(x => x.Bundle.AssetBundleId, StringComparer.Ordinal)
            .Select(x => x.Bundle).ToList();
    }

    private static bool Belongs(CatalogKind kind, JsonElement record, HashSet<(string, long)> loops,
        HashSet<string> found)
    {
        if (kind != CatalogKind.Factor) return LoopOf(record) is { } key && loops.Contains(key);
        // A factor belongs to every loop that found it.
        var factor = CatalogJson.Read<FactorRecord>(record);
        if (factor?.FactorId is { } id && found.Contains(id)) return true;
        foreach (var p in factor?.Provenance ?? [])
            if (LoopOf(p) is { } key && loops.Contains(key)) return true;
        return factor is not null && LoopOf(factor) is { } own && loops.Contains(own);
    }

    private static (string, long)? LoopOf(JsonElement e) => CatalogJson.Read<RecordLinks>(e) is { } links
        ? LoopOf(links)
        : null;

    private static (string, long)? LoopOf(LoopLinks links) =>
        links is { TaskRunId: { } taskRunId, LoopId: { } loop } ? (taskRunId, loop) : null;
}
