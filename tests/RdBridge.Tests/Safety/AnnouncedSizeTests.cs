using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Sockets;
using System.Text;
using RdBridge.Assets;
using RdBridge.Configuration;
using RdBridge.Pull;

namespace RdBridge.Tests.Safety;

/// <summary>
/// Issue 13 #13: sizes are never taken on trust; extraction and downloads stop at the announced size.
/// </summary>
public class AnnouncedSizeTests
{
    private static readonly string Zeros64 = new('0', 64);

    /// <summary>
    /// A bundle whose manifest lists 'a' as 11 bytes while the archive holds <paramref name="actual"/> bytes of zeros.
    /// </summary>
    private static string Bomb(TempDir dir, long actual)
    {
        var path = dir["bomb.tar.gz"];
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Pax);
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"files\":[{{\"path\":\"a\",\"size\":11,\"sha256\":\"{Zeros64}\"}}]}}");
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "manifest.json")
        {
            DataStream = new MemoryStream(manifest)
        });
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "a")
        {
            DataStream = new MemoryStream(new byte[actual])
        });
        return path;
    }

    [Fact]
    public void A_gzip_bomb_whose_manifest_lists_11_bytes_is_refused_before_anything_is_written()
    {
        using var dir = new TempDir();
        var archive = Bomb(dir, 48L * 1024 * 1024);
        // A premise, not a result: zlib's exact output size is its own; what matters is that 48 MB packs small.
        Assert.True(new FileInfo(archive).Length < 1024 * 1024);
        var e = Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Extract(archive, dir["out"]));
        Assert.Equal($"'a' is {48L * 1024 * 1024:N0} bytes in the archive but 11 in its manifest", e.Message);
        // Not a byte of the bomb: only the manifest, which comes first and is written as it was packed (the caller
        // extracts into a staging folder it removes on failure).
        Assert.Equal(["manifest.json"], Directory.GetFiles(dir["out"], "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir["out"], f)));
        Assert.Equal(Encoding.UTF8.GetBytes($"{{\"files\":[{{\"path\":\"a\",\"size\":11,\"sha256\":\"{Zeros64}\"}}]}}"),
            File.ReadAllBytes(dir["out/manifest.json"]));
    }

    [Fact]
    public void Verifying_a_bundle_streams_it_and_writes_nothing()
    {
        using var dir = new TempDir();
        var archive = Bomb(dir, 16L * 1024 * 1024);
        var before = Directory.GetFileSystemEntries(dir.Path).Length;
        var e = Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Verify(archive));
        Assert.Equal($"'a' is {16L * 1024 * 1024:N0} bytes in the archive but 11 in its manifest", e.Message);
        Assert.Equal(before, Directory.GetFileSystemEntries(dir.Path).Length);
    }

    [Fact]
    public void Bundle_verify_needs_no_temporary_folder()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        Assert.Equal(0, sample.Cli("bundle").Code);
        using var dir = new TempDir();
        File.WriteAllText(dir["not-a-folder"], "");
        var (code, output, error) =
            Cli.Run(sample.Config, new() { ["TMPDIR"] = dir["not-a-folder"] }, "bundle", "verify");
        Assert.True(code == 0, output + error);
        // Every bundle the sample built, counted from the folder.
        var built = Directory.EnumerateFiles(sample.Settings.BundleDirectory, "*.tar.gz").Count();
        Assert.Equal($"[bundle verify] {built} verified", output.TrimEnd('\n'));
    }

    [Fact]
    public void A_publisher_that_streams_more_than_it_announced_is_cut_off_at_the_announced_size()
    {
        using var peer = new EndlessPeer();
        using var dir = new TempDir();
        using var http = new HttpClient();
        var publisher = new HttpPublisher(
            new SourceSettings("hostile", new Uri($"http://127.0.0.1:{peer.Port}/"), null), http, attempts: 1);
        var partial = dir["bundle_x_1.tar.gz.part"];
        var e = Assert.Throws<PublisherException>(() =>
            publisher.DownloadBundle("bundle_x_1", Zeros64, partial, CancellationToken.None, expectedSize: 1000));
        Assert.Equal($"http://127.0.0.1:{peer.Port}/api/rdagent/bundles/bundle_x_1 sent more than the 1,000 bytes its "
            + "feed announced for bundle bundle_x_1; the download was stopped and removed", e.Message);
        Assert.False(File.Exists(partial));
        // How much the peer got to send before the cut depends on the kernel's socket buffers, not on RdBridge: a bound
        // far below the endless stream shows the download stopped early.
        Assert.True(peer.Sent < 64L * 1024 * 1024, $"the peer got to send {peer.Sent:N0} bytes");
    }

    [Fact]
    public void A_publisher_whose_content_length_exceeds_the_feed_is_refused_before_reading()
    {
        using var peer = new EndlessPeer(contentLength: 768L * 1024 * 1024);
        using var dir = new TempDir();
        using var http = new HttpClient();
        var publisher = new HttpPublisher(
            new SourceSettings("hostile", new Uri($"http://127.0.0.1:{peer.Port}/"), null), http, attempts: 1);
        var partial = dir["bundle_x_1.tar.gz.part"];
        var e = Assert.Throws<PublisherException>(() =>
            publisher.DownloadBundle("bundle_x_1", Zeros64, partial, CancellationToken.None, expectedSize: 1000));
        Assert.Equal($"http://127.0.0.1:{peer.Port}/api/rdagent/bundles/bundle_x_1 announces {768L * 1024 * 1024:N0} "
            + "bytes for bundle bundle_x_1, more than the 1,000 its feed announced; nothing was kept", e.Message);
        Assert.False(File.Exists(partial));
    }

    /// <summary>
    /// An HTTP peer that answers every request with 200 and streams zeros until the client hangs up, chunked or under
    /// a Content-Length it announces (and would keep to).
    /// </summary>
    private sealed class EndlessPeer : RawHttpPeer
    {
        private readonly long? _contentLength;
        private long _sent;
        public long Sent => Interlocked.Read(ref _sent);

        public EndlessPeer(long? contentLength = null)
        {
            _contentLength = contentLength;
            Listen();
        }

        protected override async Task Answer(NetworkStream stream)
        {
            var header = _contentLength is { } n
                ? $"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n"
                : "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(header));
            var block = new byte[64 * 1024];
            var chunkHead = Encoding.ASCII.GetBytes($"{block.Length:x}\r\n");
            while (!Stopping.IsCancellationRequested && Sent < 1L << 30)
            {
                if (_contentLength is null) await stream.WriteAsync(chunkHead);
                await stream.WriteAsync(block);
                if (_contentLength is null) await stream.WriteAsync("\r\n"u8.ToArray());
                Interlocked.Add(ref _sent, block.Length);
            }
        }
    }
}
