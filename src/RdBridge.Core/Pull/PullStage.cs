using System.Text.Json;
using RdBridge.Assets;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Feed;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Runs;
using RdBridge.Store;

namespace RdBridge.Pull;

/// <summary>
/// 增量补充 over HTTP, for one publisher: fetch its feed from the last position, import the records (tagged with
/// the source, all four lists in one transaction), download the bundles whose digest differs from the cache (resuming
/// a cut download, verifying the digest), extract them, and only then move the source's position on. A failure leaves
/// the position where it was, so the next sync asks again; asking again is idempotent.
/// </summary>
public sealed class PullStage(RunContext context, IAistockStore store, IPublisher publisher, SourceSettings source)
{
    private static readonly Counter BundlesAnnounced = Counter.Tally("bundles announced", "bundle announced");
    private static readonly Counter CopiesUnchanged = Counter.Tally("copies unchanged", "copy unchanged");
    private static readonly Counter DownloadsResumed = Counter.Tally("downloads resumed", "download resumed");
    private static readonly Counter BytesDownloaded = Counter.Change("bytes downloaded", "byte downloaded");
    private static readonly Counter Downloaded = Counter.Change("downloaded");

    /// <summary>Asks for the whole feed, whatever the source's position.</summary>
    public const string Everything = "";

    /// <summary>Where to read the feed from: null for the source's recorded position, <see cref="Everything"/> for
    /// all of it.</summary>
    public string? Since { get; init; }

    public StageReport Run(Action<string, double>? progress = null)
    {
        var settings = context.Settings;
        var report = new StageReport($"pull {source.Name}");
        var state = store.Source(source.Name);
        // A source whose URL changed is another publisher: start from the beginning.
        var since = Since == Everything
            ? null
            : Since ?? (state?.Url == source.Url.ToString() ? state.Watermark : null);
        var work = Path.Combine(settings.AistockRoot, ".rdbridge", "feeds");
        Directory.CreateDirectory(work);
        var feed = Path.Combine(work, $"{source.Name.Replace(':', '_')}.json");
        string? nextSince = since;
        try
        {
            progress?.Invoke("fetching the feed", 0.05);
            publisher.FetchFeed(since, feed, context.Cancellation);
            var header = new Dictionary<string, string>();
            var bundles = ReadBundles(feed, header);
            RefuseUnknownFormat(header.GetValueOrDefault("format"));
            nextSince = header.GetValueOrDefault("next_since") is { Length: > 0 } n ? n : since;
            report.Add(BundlesAnnounced, bundles.Count);

            progress?.Invoke("importing", 0.15);
            using (var session = store.BeginImport())
            {
                foreach (var kind in CatalogFile.All)
                {
                    session.Savepoint();
                    try
                    {
                        var s = CatalogImport.Run(session, kind, feed, origin: source.Name, strictList: true);
                        session.ReleaseSavepoint();
                        s.AddTo(report);
                        foreach (var f in s.Failures) report.Problem(source.Name, null, f);
                    }
                    catch (Exception e) when (e is FormatException or System.Data.Common.DbException)
                    {
                        session.RollbackToSavepoint();
                        session.ReleaseSavepoint();
                        report.Problem(source.Name, feed,
                            $"{CatalogFile.ListName(kind)} of the feed not imported: {e.Message}");
                    }
                }
                ProvenanceImport.FromFeed(session, feed, source.Name, report);
                session.Commit();
            }

            Directory.CreateDirectory(settings.AssetCacheDirectory);
            for (var i = 0; i < bundles.Count; i++)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                progress?.Invoke($"bundles {i + 1}/{bundles.Count}", 0.2 + 0.8 * i / Math.Max(1, bundles.Count));
                try { Fetch(bundles[i], report); }
                catch (PublisherException e) { report.Problem(bundles[i].Id, null, e.Message); }
            }
        }
        catch (PublisherException e)
        {
            report.Aborted = e.Message;
            report.Problem(source.Name, source.Url.ToString(), e.Message);
        }
        catch (FormatException e)
        {
            report.Aborted = $"the feed of {publisher.Describe} is not valid: {e.Message}";
            report.Problem(source.Name, feed, report.Aborted);
        }
        var ok = !report.Failed && report.Aborted is null;
        store.RecordSource(new SourceState(source.Name, source.Url.ToString(), ok ? nextSince : since, UtcText.Now(),
            ok ? "succeeded" : "failed",
            ok ? null : report.Aborted ?? string.Join("; ", report.Problems.Take(3).Select(p => p.ToString()))));
        return report;
    }

    /// <summary>
    /// A feed of another format is refused before anything of it is imported: a newer publisher's feed may hold its
    /// records in a shape this build would read wrongly or in part (as an older consumer read the factors of a feed
    /// whose provenance had moved to a list of its own), and a missing format means the peer is not a publisher.
    /// </summary>
    private static void RefuseUnknownFormat(string? format)
    {
        if (format == FeedWriter.FormatVersion) return;
        throw new FormatException(format is null
            ? $"it names no format (an RdBridge publisher's feed starts with \"format\": "
                + $"\"{FeedWriter.FormatVersion}\"); check that the source's URL is an RdBridge publisher"
            : $"its format is '{format}' and this RdBridge reads '{FeedWriter.FormatVersion}'; run the same "
                + "RdBridge release on the publisher and on this machine");
    }

    private sealed record Announced(string Id, string Sha256, long Size);

    private static List<Announced> ReadBundles(string feed, Dictionary<string, string> header)
    {
        var list = new List<Announced>();
        using var stream = RegularFile.OpenRead(feed);
        foreach (var b in CatalogReader.ReadRecords(stream, "bundles", header, feed, strictList: true))
        {
            var id = b.TryGetProperty(CatalogFields.AssetBundleId, out var i) && i.ValueKind == JsonValueKind.String
                ? i.GetString()!
                : "";
            var sha = b.TryGetProperty("sha256", out var h) && h.ValueKind == JsonValueKind.String
                ? h.GetString()!
                : "";
            var size = b.TryGetProperty("size_bytes", out var z) && z.TryGetInt64(out var zz) ? zz : -1;
            list.Add(new Announced(id, sha, size));
        }
        return list;
    }

    private void Fetch(Announced b, StageReport report)
    {
        var cache = context.Settings.AssetCache;
        if (!BundleId.IsSafe(b.Id) || b.Sha256.Length != 64 || !b.Sha256.All(char.IsAsciiHexDigitLower))
        {
            report.Problem(b.Id, null,
                "the feed announces a bundle with an unusable id or digest; it was not downloaded");
            return;
        }
        var cached = cache.Archive(b.Id);
        if (File.Exists(cached) && cache.Archives.ReadDigest(b.Id) == b.Sha256
            && (b.Size < 0 || new FileInfo(cached).Length == b.Size))
        {
            report.Add(CopiesUnchanged);
        }
        else
        {
            // The partial download survives a failed run, so the next one resumes it.
            var partial = cached + ".part";
            var resumedFrom = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            var received = publisher.DownloadBundle(b.Id, b.Sha256, partial, context.Cancellation, b.Size);
            if (resumedFrom > 0) report.Add(DownloadsResumed);
            report.Add(BytesDownloaded, received);
            var got = FileDigest.Sha256OfFile(partial);
            if (got != b.Sha256)
            {
                var target = cache.Quarantine(partial, b.Id, ".download");
                report.Problem(b.Id, target, $"the downloaded bundle does not match the digest its publisher "
                    + $"announced (got {got[..12]}…, expected {b.Sha256[..12]}…); it was quarantined and will be "
                    + $"downloaded again next sync");
                return;
            }
            AtomicFile.Commit(new AtomicFile.Pending(partial, cached));
            cache.Archives.WriteDigest(b.Id, b.Sha256);
            report.Add(Downloaded);
        }
        BundleInstall.Extract(cache, b.Id, report);
    }
}
