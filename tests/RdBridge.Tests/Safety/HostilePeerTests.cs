using System.Net.Sockets;
using System.Text;
using RdBridge.Configuration;
using RdBridge.Pull;

namespace RdBridge.Tests.Safety;

/// <summary>
/// Issue 26, class 4: every network read has a timeout, and a stalled publisher is named (the pull stage then goes on
/// with the other sources, as for any PublisherException); class 13: a download is bounded whether or not the peer
/// announced its size. The peers are real TCP servers speaking HTTP/1.1.
/// </summary>
public class HostilePeerTests
{
    private const string Zeros64 = "0000000000000000000000000000000000000000000000000000000000000000";

    private static HttpPublisher Publisher(Peer peer, TimeSpan? idle = null, long? maxBundle = null) =>
        new(new SourceSettings("gpu-stalled", new Uri($"http://127.0.0.1:{peer.Port}/"), null), new HttpClient(),
            attempts: 2, firstBackoff: TimeSpan.Zero, idleTimeout: idle ?? TimeSpan.FromMilliseconds(300),
            maxBundleBytes: maxBundle);

    /// <summary>A stall as the publisher names it, after both attempts: the source, the URL, the idle time (the
    /// 0.3 s above) and the bytes that came first.</summary>
    private static string Stalled(Peer peer, string what, string path, long bytes)
    {
        var source = $"source 'gpu-stalled' (http://127.0.0.1:{peer.Port}/)";
        return $"{what} from {source} failed after 2 attempts: {source} stalled: http://127.0.0.1:{peer.Port}/{path} "
            + $"sent nothing for 0.3 s after {bytes:N0} bytes (RDBRIDGE_NETWORK_IDLE_SECONDS); check that the "
            + "publisher runs ('rdbridge serve --role publisher') and is reachable";
    }

    private const string NoSizeAnnounced =
        "a bundle may have (its feed announced no size; RDBRIDGE_BUNDLE_MB raises the limit)";

    [Fact]
    public void Network_timeout_a_publisher_that_stalls_after_its_headers_is_named()
    {
        using var peer = new Peer("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", bodyBytes: 100);
        using var dir = new TempDir();
        var e = Assert.Throws<PublisherException>(() => Publisher(peer).DownloadBundle("bundle_x_1", Zeros64,
            dir["b.part"], CancellationToken.None, expectedSize: 5000));
        Assert.Equal(Stalled(peer, "bundle bundle_x_1", "api/rdagent/bundles/bundle_x_1", 100), e.Message);
        Assert.Equal(2, peer.Requests);
    }

    [Fact]
    public void Network_timeout_a_feed_that_stalls_mid_body_is_named_and_not_kept()
    {
        using var peer = new Peer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", bodyBytes: 0,
            rawAfterHeaders: "10\r\n{\"format\": \"rdbr\r\n");
        using var dir = new TempDir();
        var e = Assert.Throws<PublisherException>(() =>
            Publisher(peer).FetchFeed(null, dir["feed.json"], CancellationToken.None));
        // The one chunk sent holds 0x10 bytes.
        Assert.Equal(Stalled(peer, "feed", "api/rdagent/feed", 16).Replace("feed from", "feed of"), e.Message);
        Assert.False(File.Exists(dir["feed.json"]));
    }

    [Fact]
    public void Download_bound_holds_when_the_feed_entry_has_no_size_bytes()
    {
        // The feed entry without size_bytes, from a peer that streams without a Content-Length.
        using var peer = new Peer("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", bodyBytes: 4L * 1024 * 1024);
        using var dir = new TempDir();
        var e = Assert.Throws<PublisherException>(() => Publisher(peer, maxBundle: 1024 * 1024)
            .DownloadBundle("bundle_x_1", Zeros64, dir["b.part"], CancellationToken.None, expectedSize: -1));
        Assert.Equal($"http://127.0.0.1:{peer.Port}/api/rdagent/bundles/bundle_x_1 sent more than the 1,048,576 bytes "
            + $"{NoSizeAnnounced} for bundle bundle_x_1; the download was stopped and removed", e.Message);
        Assert.False(File.Exists(dir["b.part"]));
    }

    [Fact]
    public void Download_bound_refuses_a_content_length_past_the_cap_when_no_size_was_announced()
    {
        using var peer = new Peer("HTTP/1.1 200 OK\r\nContent-Length: 1288490188\r\n\r\n", bodyBytes: 0);
        using var dir = new TempDir();
        var e = Assert.Throws<PublisherException>(() => Publisher(peer, maxBundle: 1024 * 1024)
            .DownloadBundle("bundle_x_1", Zeros64, dir["b.part"], CancellationToken.None, expectedSize: -1));
        Assert.Equal($"http://127.0.0.1:{peer.Port}/api/rdagent/bundles/bundle_x_1 announces 1,288,490,188 bytes for "
            + $"bundle bundle_x_1, more than the 1,048,576 {NoSizeAnnounced}; nothing was kept", e.Message);
        Assert.False(File.Exists(dir["b.part"]));
    }

    /// <summary>
    /// Answers each request with the given headers, then <c>bodyBytes</c> zeros (or the raw text given), then holds
    /// the connection open without a byte more until the client gives up.
    /// </summary>
    private sealed class Peer : RawHttpPeer
    {
        private readonly string _head;
        private readonly long _bodyBytes;
        private int _requests;
        public int Requests => Volatile.Read(ref _requests);

        public Peer(string headers, long bodyBytes, string? rawAfterHeaders = null)
        {
            (_head, _bodyBytes) = (headers + (rawAfterHeaders ?? ""), bodyBytes);
            Listen();
        }

        protected override async Task Answer(NetworkStream stream)
        {
            Interlocked.Increment(ref _requests);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(_head));
            var block = new byte[64 * 1024];
            for (long sent = 0; sent < _bodyBytes;)
            {
                var n = (int)Math.Min(block.Length, _bodyBytes - sent);
                await stream.WriteAsync(block.AsMemory(0, n));
                sent += n;
            }

            await stream.FlushAsync();
            // Silence: the client must give up on its own. Ends when the client hangs up or the test ends.
            _ = await stream.ReadAsync(block, Stopping);
        }
    }
}
