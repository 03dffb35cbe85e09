using System.Net;
using System.Text.Json;
using RdBridge.Server;

namespace RdBridge.Tests.Serve;

/// <summary>
/// Issue 26, point 16: the guide's 场景 3 calls a bare <c>POST /api/rdagent/catalog/sync</c> the full sync (全量同步)
/// and one with <c>last_sync_time</c> the incremental one; RdBridge does as it says, and records which it ran.
/// </summary>
public sealed class SyncModeTests
{
    private static JsonElement Json(HttpResponseMessage r) =>
        JsonDocument.Parse(r.Content.ReadAsStringAsync().GetAwaiter().GetResult()).RootElement.Clone();

    [Fact]
    public void A_bare_sync_request_is_the_guide_s_full_sync_and_one_with_last_sync_time_is_incremental()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);

        // The guide's two commands, verbatim after the host.
        var full = server.Post("api/rdagent/catalog/sync");
        Assert.Equal(HttpStatusCode.Accepted, full.StatusCode);
        var fullId = Json(full).GetProperty("id").GetInt64();
        Assert.Equal("succeeded", ApiTests.WaitForSync(server.Client, fullId).GetProperty("status").GetString());
        var incremental = server.Post("api/rdagent/catalog/sync?last_sync_time=2025-01-07T00:00:00Z");
        Assert.Equal(HttpStatusCode.Accepted, incremental.StatusCode);
        var incrementalId = Json(incremental).GetProperty("id").GetInt64();
        Assert.Equal("succeeded",
            ApiTests.WaitForSync(server.Client, incrementalId).GetProperty("status").GetString());

        // What ran, as the sync history in AIstock's database has it.
        Assert.Equal("init", sample.Aistock.Rows($"SELECT mode FROM rdbridge_sync_runs WHERE id = {fullId}")[0][0]);
        var row = sample.Aistock.Rows($"SELECT mode, since FROM rdbridge_sync_runs WHERE id = {incrementalId}")[0];
        Assert.Equal("sync", row[0]);
        // The instant asked for, in the one form every time of the sync history has (UTC, to the microsecond).
        Assert.Equal("2025-01-07T00:00:00.000000Z", row[1]);

        // A full sync reads everything again: a last_sync_time beside mode=full is a contradiction, said so.
        var both = server.Post("api/rdagent/catalog/sync?mode=full&last_sync_time=2025-01-07T00:00:00Z");
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Equal("mode=full reads everything again and takes no last_sync_time; use mode=incremental",
            Json(both).GetProperty("detail").GetString());
    }
}
