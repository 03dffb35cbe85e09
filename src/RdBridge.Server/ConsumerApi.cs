using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.Compare;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Pipeline;
using RdBridge.Runs;
using RdBridge.Show;
using RdBridge.Store;

namespace RdBridge.Server;

/// <summary>
/// The AIstock side over HTTP: the guide's sync API (<c>POST /api/rdagent/catalog/sync</c>, <c>GET …/sync-status</c>),
/// catalog queries with filters, sorting and paging done by the database, one loop's lineage, the sync history,
/// verification, and bundles and their files from the asset cache.
/// </summary>
internal static class ConsumerApi
{
    private static readonly System.Text.UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api/rdagent").WithTags("consumer");

        api.MapPost("/catalog/sync",
            (HttpContext http, string? last_sync_time, string? mode, RdBridgeSettings s, SyncRunner runner) =>
        {
            if (RdBridgeServer.Authorize(http, s) is { } denied) return denied;
            DateTimeOffset? since = null;
            if (!string.IsNullOrEmpty(last_sync_time))
            {
                if (!UtcText.TryParse(last_sync_time, out var t))
                {
                    return RdBridgeServer.Problem(400, "bad last_sync_time",
                        $"'{last_sync_time}' is not a time; use ISO 8601, e.g. 2026-01-01T00:00:00Z");
                }

                since = t;
            }
            var runMode = mode switch
            {
                null or "" or "incremental" => "sync",
                "full" => "init",
                _ => null,
            };
            if (runMode is null)
            {
                return RdBridgeServer.Problem(400, "bad mode",
                    $"mode '{mode}' is not known; use incremental (the default) or full");
            }

            var started = runner.Start(runMode, since);
            return started.Outcome switch
            {
                SyncStart.Started => Results.Json(new JsonObject
                {
                    ["id"] = started.RunId, ["status"] = "running", ["mode"] = runMode,
                    ["status_url"] = "/api/rdagent/catalog/sync-status",
                }, statusCode: 202),
                SyncStart.Busy => RdBridgeServer.Problem(409, "a sync is already running", started.Detail!),
                _ => RdBridgeServer.Problem(500, "the sync could not start", started.Detail!),
            };
        }).WithName("startSync");

        api.MapGet("/catalog/sync-status", (RdBridgeSettings s) =>
        {
            using var store = AistockStores.Open(s, migrate: false);
            return Json(SyncRunView.ToJson(store.LastSyncRun(successfulOnly: false), store.Sources()));
        }).WithName("syncStatus");

        api.MapGet("/sync-runs", (int? limit, RdBridgeSettings s) =>
        {
            using var store = AistockStores.Open(s, migrate: false);
            var runs = store.SyncRuns(Math.Clamp(limit ?? 20, 1, 200));
            return Json(new JsonObject
            {
                ["runs"] = new JsonArray(runs.Select(r => (JsonNode?)SyncRunView.ToJson(r)).ToArray()),
            });
        }).WithName("syncRuns");

        api.MapPost("/verify", (HttpContext http, RdBridgeSettings s) =>
        {
            if (RdBridgeServer.Authorize(http, s) is { } denied) return denied;
            if (!s.HasRdAgent)
            {
                return RdBridgeServer.Problem(409, "nothing to verify here",
                    "the checklist compares the RD-Agent side with AIstock; this consumer has no rdagent.root");
            }

            return Json(new Verify.Checklist(s, deep: false).Run().ToJson());
        }).WithName("verify");

        foreach (var kind in new[] { "factors", "models", "strategies", "loops" })
        {
            var k = PublisherApi.KindOf(kind)!.Value;
            api.MapGet("/" + kind, (HttpContext http, RdBridgeSettings s, MatchCounts counts) =>
            {
                CatalogPageRequest request;
                try { request = ReadQuery(k, http.Request.Query); }
                catch (QueryException e) { return RdBridgeServer.Problem(400, "bad query", e.Message); }
                using var store = AistockStores.Open(s, migrate: false);
                try
                {
                    var page = CatalogQuery.Run(store, request, counts);
                    // The records go out as stored: spliced into the envelope, not parsed and re-serialised, and
                    // written straight into the response rather than assembled in memory first.
                    return Results.Stream(async body =>
                    {
                        await using var w = new StreamWriter(body, Utf8NoBom, 8 * 1024);
                        await page.WriteJsonAsync(w, kind);
                    }, "application/json; charset=utf-8");
                }
                catch (QueryException e) { return RdBridgeServer.Problem(400, "bad query", e.Message); }
            }).WithName("query_" + kind);
        }

        api.MapGet("/loops/{taskRunId}/{loopId:long}", (string taskRunId, long loopId, RdBridgeSettings s) =>
        {
            using var store = AistockStores.Open(s, migrate: false);
            var linkage = new LinkageQuery(s, store).Loop(taskRunId, loopId);
            return linkage is null
                ? RdBridgeServer.Problem(404, "no such loop",
                    $"AIstock has no loop {taskRunId}/{loopId}; sync, or check the ids")
                : Json(linkage);
        }).WithName("loopLinkage");

        // The loop's backtest curve from its bundle in the asset cache, thinned for a chart unless full=1 asks for
        // every day.
        api.MapGet("/loops/{taskRunId}/{loopId:long}/backtest",
            (string taskRunId, long loopId, string? full, RdBridgeSettings s) =>
        {
            using var store = AistockStores.Open(s, migrate: false);
            var loop = new LinkageQuery(s, store).Loop(taskRunId, loopId);
            if (loop is null)
            {
                return RdBridgeServer.Problem(404, "no such loop",
                    $"AIstock has no loop {taskRunId}/{loopId}; sync, or check the ids");
            }

            var bundleId = (string?)loop["loop"]?["asset_bundle_id"];
            var bundle = CachedBundle.Open(s.AssetCache, bundleId);
            if (bundle is null)
            {
                return RdBridgeServer.Problem(404, "not extracted",
                    $"bundle '{bundleId}' of loop {taskRunId}/{loopId} is not extracted in the asset cache; " +
                    "sync first");
            }

            BacktestCurve? curve;
            try { curve = bundle.ReadBacktest(); }
            catch (CompareException e) { return RdBridgeServer.Problem(422, "unreadable backtest report", e.Message); }
            if (curve is null)
            {
                return RdBridgeServer.Problem(404, "no backtest report",
                    $"bundle '{bundleId}' carries no {BacktestCurve.FileName} for loop {taskRunId}/{loopId}; " +
                    "backfill writes it from the loop's ret.pkl");
            }

            var json = curve.ToJson(full: full is "1" or "true");
            json["task_run_id"] = taskRunId;
            json["loop_id"] = loopId;
            json["asset_bundle_id"] = bundleId;
            json["file"] = bundle.BacktestReportPath;
            return Json(json);
        }).WithName("loopBacktest");

        api.MapGet("/compare", (string? a, string? b, string? full, RdBridgeSettings s) =>
        {
            try
            {
                var (ra, rb) = (LoopRef.Parse(a ?? ""), LoopRef.Parse(b ?? ""));
                using var store = AistockStores.Open(s, migrate: false);
                return Json(new LoopComparison(s, store).Compare(ra, rb, fullCurves: full is "1" or "true"));
            }
            catch (CompareUsageException e) { return RdBridgeServer.Problem(400, "bad loop", e.Message); }
            catch (CompareException e) { return RdBridgeServer.Problem(404, "cannot compare", e.Message); }
        }).WithName("compareLoops");

        var cache = app.MapGroup("/api/aistock/bundles").WithTags("consumer");
        // The loops page shows where each row's bundle stands in the asset cache: one call per page, two file checks
        // per id.
        cache.MapGet("/cache-state", (string? ids, RdBridgeSettings s) =>
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
        }).WithName("bundleCacheState");

        cache.MapGet("/{id}", (string id, RdBridgeSettings s) =>
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
        }).WithName("cachedBundle");

        cache.MapGet("/{id}/files", (string id, RdBridgeSettings s) =>
        {
            if (!BundleId.IsSafe(id)) return PublisherApi.BadId(id);
            var manifest = s.AssetCache.ExtractedManifest(id);
            return File.Exists(manifest)
                ? Results.File(manifest, "application/json; charset=utf-8")
                : RdBridgeServer.Problem(404, "not extracted",
                    $"bundle '{id}' is not extracted in the asset cache; sync first");
        }).WithName("cachedBundleFiles");

        cache.MapGet("/{id}/files/{**path}", (string id, string path, RdBridgeSettings s) =>
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
            var listed = BundleManifest.ReadSummary(File.ReadAllBytes(manifest)).Files
                .FirstOrDefault(f => f.Path == path);
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
        }).WithName("cachedBundleFile");
    }

    internal const int MaxCacheStateIds = 200;

    // Readable Chinese and '+' in the JSON; the UI inserts values as text, never as markup, so no HTML escaping is
    // needed here.
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static IResult Json(JsonNode node) =>
        Results.Text(node.ToJsonString(Relaxed), "application/json; charset=utf-8");

    internal static CatalogPageRequest ReadQuery(CatalogKind kind, IQueryCollection q)
    {
        string? S(string name) =>
            q.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v.ToString()) ? v.ToString() : null;
        long? L(string name) => S(name) is { } v
            ? long.TryParse(v, CultureInfo.InvariantCulture, out var l)
                ? l
                : throw new QueryException($"{name} must be a whole number, not '{v}'")
            : null;
        int I(string name, int fallback) => S(name) is { } v
            ? int.TryParse(v, CultureInfo.InvariantCulture, out var i)
                ? i
                : throw new QueryException($"{name} must be a whole number, not '{v}'")
            : fallback;
        var ranges = new Dictionary<string, (double?, double?)>();
        foreach (var (key, value) in q)
        {
            var isMin = key.StartsWith("min_", StringComparison.Ordinal);
            if (!isMin && !key.StartsWith("max_", StringComparison.Ordinal)) continue;
            if (!double.TryParse(value.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                throw new QueryException($"{key} must be a number, not '{value}'");
            var column = key[4..];
            var (min, max) = ranges.GetValueOrDefault(column);
            ranges[column] = isMin ? (d, max) : (min, d);
        }
        var order = S("order") ?? "desc";
        if (order is not ("asc" or "desc")) throw new QueryException($"order must be asc or desc, not '{order}'");
        return new CatalogPageRequest(kind, S("q"), S("task_run_id"), L("loop_id"), S("source"), S("origin"), S("tag"),
            ranges, S("sort"), order == "desc", I("page", 1), I("page_size", 50));
    }
}

public enum SyncStart { Started, Busy, Failed }

public sealed record SyncStartResult(SyncStart Outcome, long? RunId, string? Detail);

/// <summary>
/// Runs init/sync in the background for the API, one at a time in this process (a second request gets 409 at once);
/// across processes the sync locks decide, and a sync that finds one running elsewhere is refused the same way. It
/// says in the server's log what it does: the run's start, each stage with its counts, every problem (a warning
/// naming the item), and the end.
/// </summary>
public sealed class SyncRunner(RdBridgeSettings settings, ILogger<SyncRunner> log)
{
    private void LogStage(long? runId, StageReport stage)
    {
        var counts = string.Join(", ", stage.Counts.Where(c => c.Value != 0).Select(c => $"{c.Key.Name} {c.Value}"));
        if (stage.Aborted is not null)
        {
            log.LogWarning("Sync {RunId} stage {Stage} aborted: {Reason}", runId, stage.Stage, stage.Aborted);
        }
        else
        {
            log.LogInformation("Sync {RunId} stage {Stage}: {Counts}", runId, stage.Stage,
                counts.Length == 0 ? "nothing to do" : counts);
        }

        foreach (var p in stage.Problems)
        {
            log.LogWarning("Sync {RunId} stage {Stage} problem: {Item}: {Problem} {Path}", runId, stage.Stage, p.Item,
                p.Message, p.Path ?? "");
        }
    }

    private int _running;
    private long? _current;

    public SyncStartResult Start(string mode, DateTimeOffset? since)
    {
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            return new(SyncStart.Busy, _current,
                $"sync run {_current?.ToString(CultureInfo.InvariantCulture) ?? "(starting)"} is still running; " +
                "follow it at /api/rdagent/catalog/sync-status");
        }

        var started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(() =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                var pipeline = new SyncPipeline(new RunContext(settings), lockWait: TimeSpan.Zero)
                {
                    RunStarted = id =>
                    {
                        _current = id;
                        log.LogInformation("Sync {RunId} started: {Mode}, since {Since}", id, mode,
                            mode == "init" ? "the beginning"
                                : since is { } t ? UtcText.Format(t)
                                : "the last successful sync");
                        started.TrySetResult(id);
                    },
                };
                var result = pipeline.Run(mode, since, stage => LogStage(_current, stage));
                var level = result.Failed ? LogLevel.Warning : LogLevel.Information;
                var problems = result.Stages.Sum(s => s.Problems.Count);
                log.Log(level, "Sync {RunId} finished: {Outcome} in {Seconds:0.0} s, {Problems} problems{Change}",
                    result.SyncRunId, result.Failed ? "failed" : "succeeded", clock.Elapsed.TotalSeconds, problems,
                    result.ChangedAnything ? "" : ", nothing changed");
            }
            catch (Exception e)
            {
                if (!started.TrySetException(e)) log.LogError(e, "Sync {RunId} failed: {Message}", _current, e.Message);
            }
            finally
            {
                _current = null;
                Volatile.Write(ref _running, 0);
            }
        });
        try
        {
            return new(SyncStart.Started, started.Task.GetAwaiter().GetResult(), null);
        }
        catch (SyncBusyException e)
        {
            return new(SyncStart.Busy, null, e.Message);
        }
        catch (Exception e) when (e is RdBridgeException or IOException or System.Data.Common.DbException)
        {
            return new(SyncStart.Failed, null, e.Message);
        }
    }
}
