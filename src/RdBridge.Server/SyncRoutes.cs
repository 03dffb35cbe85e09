using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Pipeline;
using RdBridge.Store;
using static RdBridge.Server.ConsumerApi;

namespace RdBridge.Server;

/// <summary>The guide's sync API: start an init or sync (<c>POST /catalog/sync</c>), follow it
/// (<c>GET /catalog/sync-status</c>) and list the past runs (<c>GET /sync-runs</c>).</summary>
internal static class SyncRoutes
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/catalog/sync", StartSync).WithName("startSync");
        api.MapGet("/catalog/sync-status", SyncStatus).WithName("syncStatus");
        api.MapGet("/sync-runs", SyncRuns).WithName("syncRuns");
    }

    private static IResult StartSync(HttpContext http, string? last_sync_time, string? mode, RdBridgeSettings s,
        SyncRunner runner)
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
        // As the guide has it (场景 3): a bare POST is the full sync (全量同步), one with last_sync_time the incremental
        // one; mode, when given, says which.
        var runMode = mode switch
        {
            null or "" => since is null ? "init" : "sync",
            "incremental" => "sync",
            "full" => "init",
            _ => null,
        };
        if (runMode is null)
        {
            return RdBridgeServer.Problem(400, "bad mode",
                $"mode '{mode}' is not known; use full (the default without last_sync_time) or incremental");
        }
        if (runMode == "init" && since is not null)
        {
            return RdBridgeServer.Problem(400, "bad mode",
                "mode=full reads everything again and takes no last_sync_time; use mode=incremental");
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
    }

    private static IResult SyncStatus(RdBridgeSettings s)
    {
        using var store = AistockStores.Open(s, migrate: false);
        return Json(SyncRunView.ToJson(store.LastSyncRun(successfulOnly: false), store.Sources()));
    }

    private static IResult SyncRuns(int? limit, RdBridgeSettings s)
    {
        using var store = AistockStores.Open(s, migrate: false);
        var runs = store.SyncRuns(Math.Clamp(limit ?? 20, 1, 200));
        return Json(new JsonObject
        {
            ["runs"] = new JsonArray(runs.Select(r => (JsonNode?)SyncRunView.ToJson(r)).ToArray()),
        });
    }
}
