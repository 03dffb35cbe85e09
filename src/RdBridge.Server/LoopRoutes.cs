using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdBridge.Catalogs;
using RdBridge.Compare;
using RdBridge.Configuration;
using RdBridge.Listing;
using RdBridge.Show;
using RdBridge.Store;
using static RdBridge.Server.ConsumerApi;

namespace RdBridge.Server;

/// <summary>One loop: its lineage (<c>GET /loops/{taskRunId}/{loopId}</c>), its backtest curve (<c>…/backtest</c>)
/// and what changed between two loops (<c>GET /compare</c>).</summary>
internal static class LoopRoutes
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/loops/{taskRunId}/{loopId:long}", Lineage).WithName("loopLinkage");
        api.MapGet("/loops/{taskRunId}/{loopId:long}/backtest", Backtest).WithName("loopBacktest");
        api.MapGet("/compare", Compare).WithName("compareLoops");
    }

    private static IResult Lineage(string taskRunId, long loopId, RdBridgeSettings s)
    {
        using var store = AistockStores.Open(s, migrate: false);
        if (!TryComplete(store, ref taskRunId, out var ambiguous)) return ambiguous;
        var lineage = new LinkageQuery(s, store).Lineage(taskRunId, loopId);
        return lineage is null
            ? RdBridgeServer.Problem(404, "no such loop",
                $"AIstock has no loop {taskRunId}/{loopId}; sync, or check the ids")
            : Results.Text(CatalogJson.ToReadableText(lineage), "application/json; charset=utf-8");
    }

    // The loop's backtest curve from its bundle in the asset cache, thinned for a chart unless full=1 asks for
    // every day.
    private static IResult Backtest(string taskRunId, long loopId, string? full, RdBridgeSettings s)
    {
        if (LoopBundle(s, ref taskRunId, loopId, out var bundle) is { } problem) return problem;
        var bundleId = bundle.Id;
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
        json[CatalogFields.TaskRunId] = taskRunId;
        json[CatalogFields.LoopId] = loopId;
        json[CatalogFields.AssetBundleId] = bundleId;
        json["file"] = bundle.BacktestReportPath;
        return Json(json);
    }

    private static IResult Compare(string? a, string? b, string? full, RdBridgeSettings s)
    {
        try
        {
            var (ra, rb) = (LoopRef.Parse(a ?? ""), LoopRef.Parse(b ?? ""));
            using var store = AistockStores.Open(s, migrate: false);
            (ra, rb) = (ra with { TaskRunId = TaskRunIds.Complete(store, ra.TaskRunId) },
                rb with { TaskRunId = TaskRunIds.Complete(store, rb.TaskRunId) });
            return Json(new LoopComparison(s, store).Compare(ra, rb, fullCurves: full is "1" or "true"));
        }
        catch (CompareUsageException e) { return RdBridgeServer.Problem(400, "bad loop", e.Message); }
        catch (QueryException e) { return RdBridgeServer.Problem(400, "ambiguous task run id", e.Message); }
        catch (CompareException e) { return RdBridgeServer.Problem(404, "cannot compare", e.Message); }
    }

    /// <summary>A task run id given by a unique start, as the CLI takes it; a start that fits several ids is a 400
    /// naming them.</summary>
    /// <summary>
    /// A loop's bundle in the asset cache (the task run id completed from a unique start), or the problem to answer
    /// instead: no such loop, an unreadable manifest, a bundle not extracted yet.
    /// </summary>
    internal static IResult? LoopBundle(RdBridgeSettings s, ref string taskRunId, long loopId,
        out CachedBundle bundle)
    {
        bundle = null!;
        using var store = AistockStores.Open(s, migrate: false);
        if (!TryComplete(store, ref taskRunId, out var ambiguous)) return ambiguous;
        var loop = new LinkageQuery(s, store).Lineage(taskRunId, loopId);
        if (loop is null)
        {
            return RdBridgeServer.Problem(404, "no such loop",
                $"AIstock has no loop {taskRunId}/{loopId}; sync, or check the ids");
        }

        var bundleId = loop.Loop?.AssetBundleId;
        CachedBundle? found;
        try { found = CachedBundle.Open(s.AssetCache, bundleId); }
        catch (CompareException e) { return RdBridgeServer.Problem(422, "unreadable bundle manifest", e.Message); }
        if (found is null)
        {
            return RdBridgeServer.Problem(404, "not extracted",
                $"bundle '{bundleId}' of loop {taskRunId}/{loopId} is not extracted in the asset cache; " +
                "sync first");
        }
        bundle = found;
        return null;
    }

    internal static bool TryComplete(ICatalogReader store, ref string taskRunId, out IResult ambiguous)
    {
        ambiguous = Results.Empty;
        try { taskRunId = TaskRunIds.Complete(store, taskRunId); return true; }
        catch (QueryException e)
        {
            ambiguous = RdBridgeServer.Problem(400, "ambiguous task run id", e.Message);
            return false;
        }
    }
}
