using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using RdBridge.Configuration;
using RdBridge.Pull;

namespace RdBridge.Tests.Serve;

/// <summary>
/// RD-Agent on one machine, AIstock on another, RdBridge on both, talking HTTP on loopback with real servers.
/// </summary>
public class TwoMachineTests
{
    private static string[] Bundles(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.tar.gz").Select(f => Path.GetFileName(f)).Order().ToArray()
            : [];

    /// <summary>The entries of a factor_provenance.json as "factor|task run|loop|bundle", sorted.</summary>
    private static List<string> Provenance(string catalogDirectory) => [.. System.Text.Json.Nodes.JsonNode.Parse(
            File.ReadAllText(Path.Combine(catalogDirectory, "factor_provenance.json")))!["provenance"]!.AsArray()
        .Select(e => $"{e!["factor_id"]}|{e["task_run_id"]}|{e["loop_id"]}|{e["asset_bundle_id"]}").Order()];

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_full_sync_then_an_incremental_sync_after_new_loops_appear_at_the_publisher(string store)
    {
        // Loop 0 of the task run is held back, as if RD-Agent had not finished it when the first sync ran.
        using var m = new TwoMachines(taskRuns: 1, loops: 3, store: store, beforePublish: p =>
            HeldLoop.HoldBack(p.Settings));
        var publisher = m.Publisher.Settings;

        var (code, output, err) = m.Consumer("sync");
        Assert.True(code == 0, output + err);
        var published = Bundles(publisher.BundleDirectory);
        Assert.NotEmpty(published); // a precondition on the sample (the loop held back is not among them)
        var consumer = m.ConsumerSettings;
        Assert.Equal(published, Bundles(consumer.AssetCacheDirectory));
        foreach (var b in published)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(publisher.BundleDirectory, b)),
                File.ReadAllBytes(Path.Combine(consumer.AssetCacheDirectory, b)));
            Assert.True(File.Exists(
                Path.Combine(consumer.AssetCacheDirectory, b[..^".tar.gz".Length], "manifest.json")));
        }
        var loops = m.ConsumerDb.Scalar("SELECT count(*) FROM aistock_loop_catalog");
        Assert.Equal(published.Length, loops);
        Assert.Equal(loops, m.ConsumerDb.Scalar("SELECT count(*) FROM aistock_loop_catalog WHERE origin = 'gpu1'"));
        // Every factor of the catalog file the publisher served, each a row of its own.
        Assert.Equal(Records(publisher.CatalogDirectory, "factor_catalog.json", "factors"),
            m.ConsumerDb.Scalar("SELECT count(*) FROM aistock_factor_catalog WHERE origin = 'gpu1'"));
        // Which loops found each factor: the publisher's factor_provenance.json entries of the loops it sent.
        List<string> Stored() => [.. m.ConsumerDb.Rows("SELECT factor_id, task_run_id, loop_id, asset_bundle_id "
            + "FROM aistock_factor_provenance WHERE origin = 'gpu1'").Select(r => string.Join("|", r)).Order()];
        Assert.Equal(Provenance(publisher.CatalogDirectory).Where(e => published.Contains(e.Split('|')[3] + ".tar.gz")),
            Stored());

        // The feed sends bundles built at or after the consumer's watermark, the time of the last one it sent: the
        // bundles of the first publish stamped last are sent again (which ones depends on the order the publisher
        // recorded them, a millisecond apart or not), read here from the publisher's registry.
        var stamps = Db.Rows(publisher.RegistryPath,
            "SELECT loop_id, coalesce(updated_at, created_at) FROM production_bundles")
            .Select(r => (Loop: Convert.ToInt64(r[0]), At: (string)r[1]!)).ToList();
        var sentAgain = stamps.Where(s => s.At == stamps.Max(t => t.At)).Select(s => s.Loop.ToString()).ToHashSet();

        // RD-Agent finishes loop 0; the publisher publishes; the consumer's next sync brings exactly that loop.
        var at = DateTime.UtcNow.AddSeconds(2).ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        HeldLoop.Release(publisher, at);
        m.Publish();
        var releasedBundle = Assert.Single(Bundles(publisher.BundleDirectory).Except(published));
        var factorsBefore = m.ConsumerDb.Rows("SELECT factor_id FROM aistock_factor_catalog").Select(r => (string)r[0]!)
            .ToHashSet();
        var storedBefore = Stored();
        (code, output, err) = m.Consumer("sync");
        Assert.True(code == 0, output + err);
        Assert.Equal(loops + 1, m.ConsumerDb.Scalar("SELECT count(*) FROM aistock_loop_catalog"));
        // The run's summary, count by count: one loop, its one bundle, of the size the publisher's file has.
        const string second = "sync run #2: changes written — pull gpu1: ";
        var counts = output.Split('\n').Single(l => l.StartsWith(second, StringComparison.Ordinal))[second.Length..]
            .Split(", ");
        var size = new FileInfo(Path.Combine(publisher.BundleDirectory, releasedBundle)).Length;
        // What changed, from the publisher's provenance file: the factors loop 0 found (new ones inserted, the others
        // re-attributed to it and so updated), the entries of the loops sent that the consumer did not hold yet (the
        // re-attribution rewrote some of an earlier loop's), and loop 0's one model, strategy, loop and bundle.
        var loop0 = Provenance(publisher.CatalogDirectory).Where(e => e.Split('|')[2] == "0").ToList();
        var loop0Factors = loop0.Select(e => e.Split('|')[0]).ToHashSet();
        var newEntries = Provenance(publisher.CatalogDirectory)
            .Where(e => e.Split('|')[2] == "0" || sentAgain.Contains(e.Split('|')[2])).Except(storedBefore).Count();
        var inserted = loop0Factors.Count(f => !factorsBefore.Contains(f));
        Assert.Equal([Words.N(inserted, "factor inserted", "factors inserted"),
            Words.N(loop0Factors.Count(factorsBefore.Contains), "factor updated", "factors updated"),
            "1 model inserted", "1 strategy inserted", "1 loop inserted",
            Words.N(newEntries, "factor provenance entry written", "factor provenance entries written"),
            $"{size} bytes downloaded", "1 downloaded", "1 extracted"], counts);
        Assert.Equal(Bundles(publisher.BundleDirectory), Bundles(consumer.AssetCacheDirectory));
        // The released loop's entries came with it. (Releasing loop 0 re-attributes the factors later loops only
        // loaded to the records loop 0 wrote; like the factor rows of the earlier attribution, the entries of the
        // first sync are kept: an import upserts, it never deletes.)
        var released = Provenance(publisher.CatalogDirectory).Where(e => e.Split('|')[2] == "0").ToList();
        Assert.NotEmpty(released); // a precondition: the Except below is empty for an empty list too
        Assert.Empty(released.Except(Stored()));

        // Nothing new: nothing written.
        (code, output, _) = m.Consumer("sync");
        Assert.Equal(0, code);
        // A whole line of the output (the pull's own line precedes it).
        Assert.Contains("sync run #3: nothing changed — every file, bundle and row was already up to date",
            output.Split('\n'));
        (code, output, _) = m.Consumer("sync-status");
        using var status = JsonDocument.Parse(output);
        Assert.Equal("succeeded", status.RootElement.GetProperty("status").GetString());
        var source = status.RootElement.GetProperty("sources")[0];
        Assert.Equal("gpu1", source.GetProperty("name").GetString());
        Assert.Equal("succeeded", source.GetProperty("last_status").GetString());
    }

    [Fact]
    public void A_download_cut_off_mid_way_resumes_and_ends_with_the_right_digest()
    {
        using var m = new TwoMachines(taskRuns: 1, loops: 2);
        var s = m.Publisher.Settings;
        var id = Path.GetFileName(Directory.EnumerateFiles(s.BundleDirectory, "*.tar.gz").Order().First())
            [..^".tar.gz".Length];
        var archive = Path.Combine(s.BundleDirectory, id + ".tar.gz");
        var expected = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(archive)));
        using var dir = new TempDir();
        var partial = dir["bundle.part"];

        // The first response breaks after 1 KB; the retry asks only for the rest.
        var cutter = new CutOnce(1024) { InnerHandler = new SocketsHttpHandler() };
        using var http = new HttpClient(cutter);
        var publisher = new HttpPublisher(new SourceSettings("gpu1", m.PublisherServer.Url, null), http, attempts: 3,
            firstBackoff: TimeSpan.FromMilliseconds(10));
        publisher.DownloadBundle(id, expected, partial, CancellationToken.None);
        Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(partial))));
        Assert.Equal(2, cutter.Requests.Count);
        Assert.Null(cutter.Requests[0].Headers.Range);
        Assert.Equal(1024, cutter.Requests[1].Headers.Range!.Ranges.Single().From);
        Assert.Equal($"\"{expected}\"", cutter.Requests[1].Headers.IfRange!.EntityTag!.Tag);

        // A partial file left by an earlier run is resumed by the next sync, which says so.
        var cache = m.ConsumerSettings.AssetCacheDirectory;
        Directory.CreateDirectory(cache);
        File.WriteAllBytes(Path.Combine(cache, id + ".tar.gz.part"),
            File.ReadAllBytes(archive)[..(int)(new FileInfo(archive).Length / 2)]);
        var (code, output, err) = m.Consumer("sync");
        Assert.True(code == 0, output + err);
        // The pull's counts: every bundle downloaded, one of them resumed, so only the other half of it was fetched.
        var pull = output.Split('\n').Single(l => l.StartsWith("[pull gpu1] ", StringComparison.Ordinal))
            ["[pull gpu1] ".Length..].Split(", ");
        var all = Directory.EnumerateFiles(s.BundleDirectory, "*.tar.gz").ToList();
        Assert.Superset(new HashSet<string> { "1 download resumed", $"{all.Count} downloaded",
            $"{all.Sum(f => new FileInfo(f).Length) - new FileInfo(archive).Length / 2} bytes downloaded" },
            pull.ToHashSet());
        Assert.Equal(File.ReadAllBytes(archive), File.ReadAllBytes(Path.Combine(cache, id + ".tar.gz")));
        Assert.False(File.Exists(Path.Combine(cache, id + ".tar.gz.part")));
    }

    private sealed class CutOnce(int after) : DelegatingHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancel)
        {
            Requests.Add(request);
            var response = base.Send(request, cancel);
            if (Requests.Count == 1)
            {
                var body = response.Content.ReadAsStream(cancel);
                var cut = new StreamContent(new BreakingStream(body, after));
                foreach (var h in response.Content.Headers) cut.Headers.TryAddWithoutValidation(h.Key, h.Value);
                response.Content = cut;
            }
            return response;
        }
    }

    private sealed class BreakingStream(Stream inner, int after) : Stream
    {
        private int _read;
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_read >= after) throw new IOException("connection reset (injected)");
            var n = inner.Read(buffer, offset, Math.Min(count, after - _read));
            _read += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void A_tampered_bundle_is_detected_quarantined_and_the_rest_syncs()
    {
        using var m = new TwoMachines(taskRuns: 1, loops: 3);
        var s = m.Publisher.Settings;
        var victim = Directory.EnumerateFiles(s.BundleDirectory, "*.tar.gz").Order().First();
        var bytes = File.ReadAllBytes(victim);
        var announced = Convert.ToHexStringLower(SHA256.HashData(bytes));
        bytes[bytes.Length / 2] ^= 0x5a;
        File.WriteAllBytes(victim, bytes);   // the announced digest (registry, sidecar) stays the original one
        var id = Path.GetFileName(victim)[..^".tar.gz".Length];

        var (code, output, _) = m.Consumer("sync");
        Assert.Equal(1, code);
        Assert.Contains($"{id}: the downloaded bundle does not match the digest its publisher announced", output);
        var cache = m.ConsumerSettings.AssetCacheDirectory;
        Assert.False(File.Exists(Path.Combine(cache, id + ".tar.gz")));
        Assert.False(Directory.Exists(Path.Combine(cache, id)));
        var quarantined = Assert.Single(Directory.EnumerateFiles(Path.Combine(cache, ".quarantine"), id + "*"));
        Assert.Equal(Bundles(s.BundleDirectory).Length - 1, Bundles(cache).Length);
        (_, output, _) = m.Consumer("sync-status");
        // The source's last error names the bundle, both digests (the tampered file's and the original's, 12 hex
        // digits each) and where the download was put.
        using var status = JsonDocument.Parse(output);
        var source = status.RootElement.GetProperty("sources").EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == "gpu1");
        Assert.Equal("failed", source.GetProperty("last_status").GetString());
        Assert.Equal($"{id}: the downloaded bundle does not match the digest its publisher announced (got "
            + $"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..12]}…, expected {announced[..12]}…); it was "
            + $"quarantined and will be downloaded again next sync [{quarantined}]",
            source.GetProperty("last_error").GetString());
    }

    [Fact]
    public void A_source_that_is_down_is_reported_and_the_others_still_sync()
    {
        var port = FreePort();
        using var m = new TwoMachines(taskRuns: 1, loops: 2, extraSources: [$"http://127.0.0.1:{port}/"]);
        var (code, output, _) = m.Consumer("sync");
        Assert.Equal(1, code);
        // The source, its URL, the attempts and what to do; in between, the socket's error in .NET's own words
        // (which differ between Linux and Windows).
        var down = Assert.Single(output.Split('\n'), l => l.StartsWith("  ✗ down: ", StringComparison.Ordinal));
        Assert.StartsWith($"  ✗ down: feed of source 'down' (http://127.0.0.1:{port}/) failed after 4 attempts: ",
            down);
        Assert.EndsWith("; check that the publisher runs ('rdbridge serve --role publisher') and is reachable "
            + $"[http://127.0.0.1:{port}/]", down);
        Assert.Equal(Bundles(m.Publisher.Settings.BundleDirectory), Bundles(m.ConsumerSettings.AssetCacheDirectory));
        Assert.Equal(Records(m.Publisher.Settings.CatalogDirectory, "loop_catalog.json", "loops"),
            m.ConsumerDb.Scalar("SELECT count(*) FROM aistock_loop_catalog WHERE origin = 'gpu1'"));
    }

    /// <summary>How many records a catalog file holds, read from the file.</summary>
    private static long Records(string directory, string file, string array)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, file)));
        return doc.RootElement.GetProperty(array).GetArrayLength();
    }

    internal static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
