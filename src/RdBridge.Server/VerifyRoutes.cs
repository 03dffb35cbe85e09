using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdBridge.Configuration;
using static RdBridge.Server.ConsumerApi;

namespace RdBridge.Server;

/// <summary>The guide's checklist on demand (<c>POST /verify</c>), where this consumer also sees RD-Agent's
/// side, and the last run's result (<c>GET /verify/last</c>) so the page shows it on open.</summary>
internal static class VerifyRoutes
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/verify", RunChecklist).WithName("verify");
        api.MapGet("/verify/last", LastRun).WithName("verifyLast");
    }

    private static IResult RunChecklist(HttpContext http, RdBridgeSettings s)
    {
        if (RdBridgeServer.Authorize(http, s) is { } denied) return denied;
        if (!s.HasRdAgent)
        {
            return RdBridgeServer.Problem(409, "nothing to verify here",
                "the checklist compares the RD-Agent side with AIstock; this consumer has no rdagent.root");
        }

        var report = new Verify.Checklist(s, deep: false).Run();
        var result = report.ToJson();
        // The result is answered even when it cannot be kept; only showing it on the next open is lost, and the
        // answer says why.
        if (Verify.LastChecklistRun.Keep(s, report, "page") is { } notKept) result["last_run_not_kept"] = notKept;
        return Json(result);
    }

    private static IResult LastRun(HttpContext http, RdBridgeSettings s)
    {
        if (QueryParameters.Unknown(http.Request.Query) is { } bad) return bad;
        try
        {
            return Json(Verify.LastChecklistRun.Read(s)
                ?? new JsonObject { ["ran_at_utc"] = null, ["ran_by"] = null, ["result"] = null });
        }
        catch (InvalidDataException e)
        {
            return RdBridgeServer.Problem(422, "unreadable last checklist run", e.Message);
        }
    }
}
