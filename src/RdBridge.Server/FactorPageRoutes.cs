using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using RdBridge.Catalogs;
using RdBridge.Compare;
using RdBridge.Configuration;
using RdBridge.Store;

namespace RdBridge.Server;

/// <summary>
/// A factor as a research object (<c>GET /api/rdagent/factors/{factor_id}</c>): its record, its code read from the
/// bundle in the asset cache, and the loops that found it with their hypotheses and decisions. Its metrics are those
/// of the backtest of the loop that found it (the loop's whole factor set), and the answer says so.
/// <c>…/factors/{factor_id}/code</c> serves the code as text to read in the browser, not as a download.
/// </summary>
internal static class FactorPageRoutes
{
    /// <summary>A factor's code beyond this is not shown inline (it stays downloadable from the bundle).</summary>
    internal const int MaxCodeBytes = 256 * 1024;

    /// <summary>The loops named with their hypotheses; a factor every loop uses lists the rest by count.</summary>
    internal const int MaxFoundIn = 100;

    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api/rdagent/factors").WithTags("consumer");
        api.MapGet("/{factorId}", Factor).WithName("factorPage");
        api.MapGet("/{factorId}/code", Code).WithName("factorCode");
    }

    private static JsonObject? Record(ICatalogReader store, string key)
    {
        var found = store.Find(RecordKey.Factor, key);
        // A factor_id names one record; a name may name several (one per source), the factor_id wins.
        var record = found.Select(r => JsonNode.Parse(r.Payload) as JsonObject)
            .FirstOrDefault(o => (string?)o?[CatalogFields.FactorId] == key) ?? (found.Count > 0
            ? JsonNode.Parse(found[0].Payload) as JsonObject
            : null);
        return record;
    }

    private static IResult NotFound(string key) => RdBridgeServer.Problem(404, "no such factor",
        $"AIstock has no factor with factor_id or name '{key}'; sync, or search the factors page");

    private static (string? Text, JsonObject Info) ReadCode(RdBridgeSettings s, JsonObject factor)
    {
        var bundleId = (string?)factor[CatalogFields.AssetBundleId];
        var path = (string?)factor[CatalogFields.CodePath];
        var info = new JsonObject { [CatalogFields.AssetBundleId] = bundleId, ["path"] = path };
        if (path is null)
        {
            info["missing"] = (string?)factor[CatalogFields.Source] is "rdagent_generated"
                ? "the record names no code file"
                : "a Qlib expression: the expression is the whole definition";
            return (null, info);
        }

        CachedBundle? bundle;
        try { bundle = CachedBundle.Open(s.AssetCache, bundleId); }
        catch (CompareException e)
        {
            info["missing"] = e.Message;
            return (null, info);
        }
        if (bundle?.Local(path) is not { } local)
        {
            info["missing"] = $"bundle '{bundleId}' is not extracted in the asset cache, or lists no '{path}'; sync";
            return (null, info);
        }

        info["sha256"] = bundle.Sha256(path);
        info["size"] = bundle.Size(path);
        if (bundle.Size(path) > MaxCodeBytes)
        {
            info["missing"] = $"{path} is {bundle.Size(path)} bytes, more than the {MaxCodeBytes} shown inline";
            return (null, info);
        }

        return (File.ReadAllText(local, Encoding.UTF8), info);
    }

    private static IResult Factor(string factorId, HttpContext http, RdBridgeSettings s)
    {
        if (QueryParameters.Unknown(http.Request.Query) is { } bad) return bad;
        using var store = AistockStores.Open(s, migrate: false);
        if (Record(store, factorId) is not { } factor) return NotFound(factorId);
        var (code, info) = ReadCode(s, factor);
        info["text"] = code;

        // The loops are in the provenance table; a factor row imported before it (a server on an older schema)
        // still holds them inline.
        var fromTable = factor["factor_id"] is JsonValue fid && fid.GetValueKind() == JsonValueKind.String
            ? store.FoundIn((string)fid!, MaxFoundIn)
            : new FactorLoops([], 0);
        var inline = (factor["provenance"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var (named, total) = fromTable.Total > 0 || inline.Count == 0
            ? (fromTable.First.Select(p => CatalogJson.ToNode(p)).ToList(), fromTable.Total)
            : (inline.Take(MaxFoundIn).ToList(), (long)inline.Count);
        var stories = named.Select(p => (string?)p["task_run_id"]).OfType<string>().Distinct()
            .ToDictionary(id => id, id => TaskRunStories.Read(s, store, id).FirstOrDefault(r => r.TaskRunId == id));
        var foundIn = new JsonArray();
        foreach (var p in named)
        {
            var id = (string?)p["task_run_id"];
            var loopId = (long?)p["loop_id"];
            var run = id is null ? null : stories.GetValueOrDefault(id);
            var loop = run?.Loops.FirstOrDefault(l => l.LoopId == loopId);
            foundIn.Add(new JsonObject
            {
                ["task_run_id"] = id, ["loop_id"] = loopId, ["task_run_name"] = run?.Name,
                ["hypothesis"] = loop?.Hypothesis, ["decision"] = loop?.Decision, ["status"] = loop?.Status,
                ["loaded_from"] = (string?)p["loaded_from"],
                ["annualized_return"] = loop?.Metrics.GetValueOrDefault("annualized_return"),
                ["ic"] = loop?.Metrics.GetValueOrDefault("ic"),
            });
        }

        return ConsumerApi.Json(new JsonObject
        {
            ["factor"] = factor,
            ["metrics_of"] = new JsonObject
            {
                [CatalogFields.TaskRunId] = factor[CatalogFields.TaskRunId]?.DeepClone(),
                [CatalogFields.LoopId] = factor[CatalogFields.LoopId]?.DeepClone(),
                ["meaning"] = "the backtest of the loop that found this factor: its whole factor set with its model " +
                    "and strategy, not this factor alone",
            },
            ["code"] = info,
            ["found_in"] = foundIn,
            ["found_in_total"] = total,
        });
    }

    private static IResult Code(string factorId, HttpContext http, RdBridgeSettings s)
    {
        if (QueryParameters.Unknown(http.Request.Query) is { } bad) return bad;
        using var store = AistockStores.Open(s, migrate: false);
        if (Record(store, factorId) is not { } factor) return NotFound(factorId);
        var (code, info) = ReadCode(s, factor);
        if (code is null) return RdBridgeServer.Problem(404, "no code to show", (string?)info["missing"] ?? "");
        // Inline: the browser shows it; nosniff (set for every response) keeps it text.
        http.Response.Headers.ContentDisposition = "inline";
        return Results.Text(code, "text/plain; charset=utf-8");
    }
}
