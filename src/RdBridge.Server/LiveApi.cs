using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Feed;
using RdBridge.Pipeline;
using RdBridge.Store;

namespace RdBridge.Server;

/// <summary>
/// What changes, as it changes: the publisher's long poll (<c>GET /api/rdagent/feed/changes</c>: answered as soon as a
/// publish changes the feed), and the consumer's server-sent events (<c>GET /api/rdagent/live/events</c>: the sync
/// run's progress and a note whenever a catalog table changed, which the web UI turns into a refreshed list).
/// </summary>
internal static class LiveApi
{
    /// <summary>The longest a long poll is held, below the usual proxies' idle timeouts.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(55);

    public static void MapPublisher(WebApplication app)
    {
        app.MapGet("/api/rdagent/feed/changes", async (string? after, int? wait, FeedSignal feed,
            CancellationToken cancel) =>
        {
            var hold = TimeSpan.FromSeconds(Math.Clamp(wait ?? 25, 0, (int)MaxWait.TotalSeconds));
            var token = await feed.WaitAsync(after, hold, cancel);
            return Results.Json(new JsonObject { ["token"] = token, ["changed"] = token != after });
        }).WithTags("publisher").WithName("feedChanges");
    }

    public static void MapConsumer(WebApplication app)
    {
        app.MapGet("/api/rdagent/live", (IServiceProvider services) =>
        {
            var live = services.GetService<LiveService>()?.Live;
            return Results.Json(new JsonObject
            {
                ["live"] = live is not null,
                ["mode"] = live?.Mode,
                ["runs"] = live?.Runs,
            });
        }).WithTags("consumer").WithName("liveStatus");

        app.MapGet("/api/rdagent/live/events", async (HttpContext http, RdBridgeSettings s, CancellationToken cancel) =>
        {
            http.Response.ContentType = "text/event-stream; charset=utf-8";
            http.Response.Headers.CacheControl = "no-store";
            string? lastRun = null, lastVersions = null;
            var quiet = TimeSpan.Zero;
            try
            {
                while (!cancel.IsCancellationRequested)
                {
                    string run, versions;
                    bool running;
                    // The database is what every sync (live, button, cron, another process) writes, so it is read here
                    // rather than told: twice a second while a sync runs, once a second otherwise.
                    using (var store = AistockStores.Open(s, migrate: false))
                    {
                        var last = store.LastSyncRun(successfulOnly: false);
                        running = last?.Status == "running";
                        run = SyncRunView.ToJson(last).ToJsonString();
                        versions = string.Join(",", new[] { CatalogKind.Factor, CatalogKind.Model,
                            CatalogKind.Strategy, CatalogKind.Loop }.Select(store.CatalogVersion));
                    }
                    var said = false;
                    if (run != lastRun) { await Send(http, "sync", run, cancel); said = true; }
                    if (lastVersions is not null && versions != lastVersions)
                    {
                        await Send(http, "catalog", "{}", cancel);
                        said = true;
                    }
                    lastRun = run;
                    lastVersions = versions;
                    var pause = running ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(1);
                    quiet = said ? TimeSpan.Zero : quiet + pause;
                    // A comment now and then keeps proxies from closing an idle stream.
                    if (quiet >= TimeSpan.FromSeconds(15))
                    {
                        await http.Response.WriteAsync(": keep-alive\n\n", cancel);
                        await http.Response.Body.FlushAsync(cancel);
                        quiet = TimeSpan.Zero;
                    }
                    await Task.Delay(pause, cancel);
                }
            }
            catch (OperationCanceledException) { } // the browser went away
        }).WithTags("consumer").WithName("liveEvents");
    }

    private static async Task Send(HttpContext http, string name, string data, CancellationToken cancel)
    {
        await http.Response.WriteAsync($"event: {name}\ndata: {data}\n\n", cancel);
        await http.Response.Body.FlushAsync(cancel);
    }
}
