using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace RdBridge.Server;

/// <summary>
/// The AIstock side over HTTP: the guide's sync API (<c>POST /api/rdagent/catalog/sync</c>, <c>GET …/sync-status</c>),
/// catalog queries with filters, sorting and paging done by the database, one loop's lineage, the sync history,
/// verification, and bundles and their files from the asset cache.
/// </summary>
internal static class ConsumerApi
{
    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api/rdagent").WithTags("consumer");
        SyncRoutes.Map(api);
        VerifyRoutes.Map(api);
        CatalogRoutes.Map(api);
        LoopRoutes.Map(api);
        SignalRoutes.Map(api);
        BundleRoutes.Map(app.MapGroup("/api/aistock/bundles").WithTags("consumer"));
    }

    // Readable Chinese and '+' in the JSON; the UI inserts values as text, never as markup, so no HTML escaping is
    // needed here.
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static IResult Json(JsonNode node) =>
        Results.Text(node.ToJsonString(Relaxed), "application/json; charset=utf-8");
}
