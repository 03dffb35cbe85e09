using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdBridge.Configuration;
using static RdBridge.Server.ConsumerApi;

namespace RdBridge.Server;

/// <summary>The guide's checklist on demand (<c>POST /verify</c>), where this consumer also sees RD-Agent's
/// side.</summary>
internal static class VerifyRoutes
{
    public static void Map(RouteGroupBuilder api) => api.MapPost("/verify", RunChecklist).WithName("verify");

    private static IResult RunChecklist(HttpContext http, RdBridgeSettings s)
    {
        if (RdBridgeServer.Authorize(http, s) is { } denied) return denied;
        if (!s.HasRdAgent)
        {
            return RdBridgeServer.Problem(409, "nothing to verify here",
                "the checklist compares the RD-Agent side with AIstock; this consumer has no rdagent.root");
        }

        return Json(new Verify.Checklist(s, deep: false).Run().ToJson());
    }
}
