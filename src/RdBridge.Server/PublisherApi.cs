using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RdBridge.Assets;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Feed;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Pipeline;
using RdBridge.Runs;

namespace RdBridge.Server;

/// <summary>
/// The RD-Agent side over HTTP, read-only: the exported catalogs, the incremental feed, bundle downloads (sha256 as
/// strong ETag, If-None-Match, Range so a cut download resumes) and bundle file lists.
/// </summary>
internal static class PublisherApi
{
    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api/rdagent").WithTags("publisher");

        api.MapGet("/catalogs/{kind}", (string kind, RdBridgeSettings s) =>
        {
            // factor_provenance.json is served beside the four catalogs (which loops found each factor).
            var name = kind == ProvenanceFile.List ? ProvenanceFile.FileName
                : KindOf(kind) is { } k ? CatalogFile.FileName(k) : null;
            if (name is null)
            {
                return RdBridgeServer.Problem(404, "unknown catalog",
                    $"'{kind}' is not a catalog; use factors, models, strategies, loops or provenance");
            }

            var path = Path.Combine(s.CatalogDirectory, name);
            return File.Exists(path)
                ? Results.File(path, "application/json; charset=utf-8", lastModified: File.GetLastWriteTimeUtc(path))
                : RdBridgeServer.Problem(404, "catalog not exported yet",
                    $"{name} does not exist on the publisher; run 'rdbridge publish' there");
        }).WithName("publishedCatalog");

        api.MapGet("/feed", async (string? since, RdBridgeSettings s, PublishGate gate, CancellationToken cancel) =>
        {
            // A time that cannot be read is the caller's mistake, not "nothing changed".
            if (!string.IsNullOrEmpty(since) && !UtcText.TryParse(since, out _))
            {
                return RdBridgeServer.Problem(400, "bad since",
                    $"'{since}' is not an ISO-8601 time; use e.g. 2026-01-01T00:00:00Z or 2026-01-01T08:00:00+08:00");
            }
            // Written to a temporary file under the gate (a publish never runs half-way through it), then streamed.
            var temp = new FileStream(Path.Combine(Path.GetTempPath(), $"rdbridge-feed-{Guid.NewGuid():N}.json"),
                FileMode.CreateNew,
                FileAccess.ReadWrite, FileShare.None, 128 * 1024, FileOptions.DeleteOnClose);
            try
            {
                await Task.Run(() => gate.Read(() =>
                    new FeedWriter(s).Write(temp, string.IsNullOrEmpty(since) ? null : since)), cancel);
                temp.Position = 0;
                return Results.Stream(temp, "application/json; charset=utf-8");
            }
            catch
            {
                await temp.DisposeAsync();
                throw;
            }
        }).WithName("feed");

        api.MapGet("/bundles/{id}", (string id, RdBridgeSettings s) =>
        {
            if (!BundleId.IsSafe(id)) return BadId(id);
            var archive = s.Bundles.Archive(id);
            if (!File.Exists(archive))
                return RdBridgeServer.Problem(404, "no such bundle", $"the publisher has no bundle '{id}'");
            var sha = s.Bundles.ReadDigest(id) ?? FileDigest.Sha256OfFile(archive);
            return new FileDownload(archive, "application/gzip", BundleFolder.ArchiveFileName(id), sha);
        }).WithName("publishedBundle");

        api.MapGet("/bundles/{id}/files", (string id, RdBridgeSettings s) =>
        {
            if (!BundleId.IsSafe(id)) return BadId(id);
            var archive = s.Bundles.Archive(id);
            if (!File.Exists(archive))
                return RdBridgeServer.Problem(404, "no such bundle", $"the publisher has no bundle '{id}'");
            var manifest = SafeExtractor.ReadManifest(archive);
            return manifest is null
                ? RdBridgeServer.Problem(422, "bundle without manifest",
                    $"bundle '{id}' has no manifest.json first; rebuild it with 'rdbridge bundle'")
                : Results.Text(System.Text.Encoding.UTF8.GetString(manifest), "application/json; charset=utf-8");
        }).WithName("publishedBundleFiles");

        api.MapGet("/published/loops/{taskRunId}/{loopId:long}", (string taskRunId, long loopId, RdBridgeSettings s) =>
        {
            try
            {
                return Results.Text(new Show.ShowQuery(s).Loop(taskRunId, loopId).ToJsonString(),
                    "application/json; charset=utf-8");
            }
            catch (KeyNotFoundException e) { return RdBridgeServer.Problem(404, "no such loop", e.Message); }
        }).WithName("publishedLoop");
    }

    internal static IResult BadId(string id) =>
        RdBridgeServer.Problem(400, "not a bundle id",
            $"'{id}' is not a bundle id (letters, digits, '_', '-' and '.' only, no path)");

    internal static CatalogKind? KindOf(string kind) => kind switch
    {
        "factors" => CatalogKind.Factor,
        "models" => CatalogKind.Model,
        "strategies" => CatalogKind.Strategy,
        "loops" => CatalogKind.Loop,
        _ => null,
    };
}

/// <summary>Feeds are read while no publish is half-way; a publish waits for the feeds being written.</summary>
public sealed class PublishGate
{
    private readonly ReaderWriterLockSlim _lock = new();

    public void Read(Action action)
    {
        _lock.EnterReadLock();
        try { action(); } finally { _lock.ExitReadLock(); }
    }

    public T Write<T>(Func<T> action)
    {
        _lock.EnterWriteLock();
        try { return action(); } finally { _lock.ExitWriteLock(); }
    }
}

/// <summary>
/// Keeps the publisher current: runs <see cref="PublishPipeline"/> at start and then every
/// <c>server.publishInterval</c> seconds (0 turns it off; <c>rdbridge publish</c> from cron does the same job).
/// </summary>
internal sealed class PublishRefresher(RdBridgeSettings settings, PublishGate gate, FeedSignal feed,
    ILogger<PublishRefresher> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.PublishInterval <= TimeSpan.Zero) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var stages = await Task.Run(
                    () => gate.Write(() =>
                        new PublishPipeline(new RunContext(settings) { Cancellation = stoppingToken }).Run()),
                    stoppingToken);
                foreach (var p in stages.SelectMany(s => s.Problems))
                    log.LogWarning("publish: {Problem}", p.ToString());
                // Consumers waiting on the feed's long poll learn of it now.
                if (stages.Any(s => s.Changed)) feed.Moved();
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e) when (e is IOException or RdBridgeException)
            {
                log.LogError("publish failed: {Message}", e.Message);
            }
            try { await Task.Delay(settings.PublishInterval, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
