using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Tests.Safety;

namespace RdBridge.Tests.Serve;

/// <summary>
/// A consumer refuses a feed whose format it does not read, before importing any of it: a newer publisher's feed may
/// hold its records in a shape this build would read wrongly or in part. The feed served is the real publisher's,
/// with only its format changed (or removed), so everything in it would import if the format were not checked.
/// </summary>
public class FeedFormatTests
{
    [Theory]
    [InlineData("rdbridge-feed/2", "its format is 'rdbridge-feed/2' and this RdBridge reads 'rdbridge-feed/1'; run "
        + "the same RdBridge release on the publisher and on this machine")]
    [InlineData(null, "it names no format (an RdBridge publisher's feed starts with \"format\": "
        + "\"rdbridge-feed/1\"); check that the source's URL is an RdBridge publisher")]
    public async Task A_feed_of_another_format_is_refused_by_name_and_nothing_of_it_is_imported(string? format,
        string reason)
    {
        using var relay = new FeedRelay();
        using var m = new TwoMachines(taskRuns: 1, loops: 2, extraSources: [$"http://127.0.0.1:{relay.Port}/"]);
        var feed = JsonNode.Parse(await m.PublisherServer.Client.GetStringAsync("api/rdagent/feed"))!.AsObject();
        var loops = feed["loops"]!.AsArray().Count;
        // The premise: the feed holds loops that would import, one per loop of the publisher's registry with results.
        Assert.Equal(Db.Scalar(m.Publisher.Settings.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1"),
            loops);
        if (format is null) feed.Remove("format"); else feed["format"] = format;
        relay.Body = feed.ToJsonString();

        var (code, output, _) = m.Consumer("sync");

        Assert.Equal(1, code);
        var url = $"http://127.0.0.1:{relay.Port}/";
        var saved = Path.Combine(m.ConsumerDir["AIstock"], ".rdbridge", "feeds", "down.json");
        var line = Assert.Single(output.Split('\n'), l => l.StartsWith("  ✗ down: ", StringComparison.Ordinal));
        Assert.Equal($"  ✗ down: the feed of source 'down' ({url}) is not valid: {reason} [{saved}]", line);
        foreach (var table in new[] { "loop", "factor", "model", "strategy" })
        {
            Assert.Equal(0L,
                m.ConsumerDb.Scalar($"SELECT count(*) FROM aistock_{table}_catalog WHERE origin = 'down'"));
        }
        Assert.Equal(0L, m.ConsumerDb.Scalar("SELECT count(*) FROM aistock_factor_provenance WHERE origin = 'down'"));
        // The other source synced whole: every loop its feed holds.
        Assert.Equal(loops, m.ConsumerDb.Scalar("SELECT count(*) FROM aistock_loop_catalog WHERE origin = 'gpu1'"));
        // The refused source keeps no position: its next sync asks for everything again.
        var (_, status, _) = m.Consumer("sync-status");
        using var doc = JsonDocument.Parse(status);
        var down = doc.RootElement.GetProperty("sources").EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == "down");
        Assert.Equal("failed", down.GetProperty("last_status").GetString());
        Assert.Equal(line["  ✗ down: ".Length..line.LastIndexOf(" [", StringComparison.Ordinal)],
            down.GetProperty("last_error").GetString());
        Assert.Equal(JsonValueKind.Null, down.GetProperty("watermark").ValueKind);
    }

    /// <summary>A peer that answers every request with the JSON body set by the test.</summary>
    private sealed class FeedRelay : RawHttpPeer
    {
        public string Body { get; set; } = "{}";

        public FeedRelay() => Listen();

        protected override async Task Answer(NetworkStream stream)
        {
            var body = Encoding.UTF8.GetBytes(Body);
            var head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(body);
            await stream.FlushAsync();
        }
    }
}
