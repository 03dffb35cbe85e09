using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdBridge.Configuration;
using RdBridge.IO;
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

    /// <summary>
    /// Where the last checklist result is kept: beside the sync lock in the AIstock root, so it outlives a restart of
    /// the server and every browser opening the page sees the same run.
    /// </summary>
    internal static string LastRunFile(RdBridgeSettings s) =>
        Path.Combine(s.AistockRoot, ".rdbridge", "last-verify.json");

    // A checklist result is a few kilobytes; anything far larger is not one.
    private const long MaxLastRunBytes = 16L * 1024 * 1024;

    private static IResult RunChecklist(HttpContext http, RdBridgeSettings s)
    {
        if (RdBridgeServer.Authorize(http, s) is { } denied) return denied;
        if (!s.HasRdAgent)
        {
            return RdBridgeServer.Problem(409, "nothing to verify here",
                "the checklist compares the RD-Agent side with AIstock; this consumer has no rdagent.root");
        }

        var result = new Verify.Checklist(s, deep: false).Run().ToJson();
        var kept = new JsonObject { ["ran_at_utc"] = UtcText.Now(), ["result"] = result.DeepClone() };
        try
        {
            var file = LastRunFile(s);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            AtomicFile.WriteBytes(file, System.Text.Encoding.UTF8.GetBytes(kept.ToJsonString()));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The result is still answered; only showing it on the next open is lost, and the answer says why.
            result["last_run_not_kept"] = e.Message;
        }
        return Json(result);
    }

    private static IResult LastRun(HttpContext http, RdBridgeSettings s)
    {
        if (QueryParameters.Unknown(http.Request.Query) is { } bad) return bad;
        var file = LastRunFile(s);
        if (!RegularFile.Exists(file)) return Json(new JsonObject { ["ran_at_utc"] = null, ["result"] = null });
        try
        {
            return JsonNode.Parse(RegularFile.ReadAllBytes(file, MaxLastRunBytes)) is JsonObject o
                && o["result"] is JsonObject
                ? Json(o)
                : RdBridgeServer.Problem(422, "unreadable last checklist run",
                    $"'{file}' does not hold a checklist result; run the checklist again");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException or FileRefusedException)
        {
            return RdBridgeServer.Problem(422, "unreadable last checklist run",
                $"'{file}' cannot be read ({e.Message}); run the checklist again");
        }
    }
}
