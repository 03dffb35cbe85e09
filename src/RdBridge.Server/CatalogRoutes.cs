using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Store;

namespace RdBridge.Server;

/// <summary>The catalog queries (<c>GET /factors</c>, <c>/models</c>, <c>/strategies</c>, <c>/loops</c>) with
/// filters, sorting and paging done by the database.</summary>
internal static class CatalogRoutes
{
    private static readonly System.Text.UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static void Map(RouteGroupBuilder api)
    {
        foreach (var kind in new[] { "factors", "models", "strategies", "loops" })
        {
            var k = PublisherApi.KindOf(kind)!.Value;
            api.MapGet("/" + kind, (HttpContext http, RdBridgeSettings s, MatchCounts counts) =>
                Query(kind, k, http, s, counts)).WithName("query_" + kind);
        }
    }

    private static IResult Query(string kind, CatalogKind k, HttpContext http, RdBridgeSettings s, MatchCounts counts)
    {
        if (QueryParameters.Unknown(http.Request.Query, Known, IsRange) is { } unknown) return unknown;
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
    }

    /// <summary>Every parameter the catalog queries take; min_/max_ ranges are accepted by shape.</summary>
    internal static readonly string[] Known =
    [
        "q", CatalogFields.TaskRunId, CatalogFields.LoopId, CatalogFields.Source, CatalogFields.Origin, "tag",
        CatalogFields.Decision, CatalogFields.Status, "started_from", "started_before", "sort", "order", "page",
        "page_size",
    ];

    private static bool IsRange(string key) =>
        key.StartsWith("min_", StringComparison.Ordinal) || key.StartsWith("max_", StringComparison.Ordinal);

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
        bool? decision = S(CatalogFields.Decision) switch
        {
            null => null,
            "true" or "accepted" => true,
            "false" or "rejected" => false,
            var d => throw new QueryException($"decision must be true (accepted) or false (rejected), not '{d}'"),
        };
        string? Time(string name) => S(name) is { } t
            ? IO.UtcText.TryParse(t, out var when)
                ? IO.UtcText.FormatSeconds(when)
                : throw new QueryException($"{name} must be a time in ISO 8601 (2025-07-01 or 2025-07-01T12:00:00Z), " +
                    $"not '{t}'")
            : null;
        return new CatalogPageRequest(kind, S("q"), S(CatalogFields.TaskRunId), L(CatalogFields.LoopId),
            S(CatalogFields.Source), S(CatalogFields.Origin), S("tag"), ranges, S("sort"), order == "desc",
            I("page", 1), I("page_size", 50))
        {
            Decision = decision, Status = S(CatalogFields.Status), StartedFrom = Time("started_from"),
            StartedBefore = Time("started_before"),
        };
    }
}
