using System.Formats.Tar;
using System.IO.Compression;
using RdBridge.Assets;

namespace RdBridge.Tests.Assets;

public class SafeExtractorTests
{
    private static string Archive(TempDir dir, Action<TarWriter> write)
    {
        var path = dir["evil.tar.gz"];
        using (var file = File.Create(path))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
            write(tar);
        return path;
    }

    private static void Put(TarWriter tar, string name, string content = "x")
    {
        var e = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content))
        };
        tar.WriteEntry(e);
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("a/../../escape.txt")]
    [InlineData("/etc/passwd")]
    public void Entries_that_climb_out_are_refused(string name)
    {
        using var dir = new TempDir();
        var archive = Archive(dir, t => { Put(t, "manifest.json", "{\"files\":[]}"); Put(t, name); });
        var e = Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Extract(archive, dir["out"]));
        Assert.Contains(name, e.Message);
        Assert.False(System.IO.File.Exists(Path.Combine(dir.Path, "escape.txt")));
    }

    [Fact]
    public void Links_are_refused()
    {
        using var dir = new TempDir();
        var archive = Archive(dir, t =>
        {
            Put(t, "manifest.json", "{\"files\":[]}");
            t.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "link") { LinkName = "/etc/passwd" });
        });
        Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Extract(archive, dir["out"]));
    }

    [Fact]
    public void A_file_that_differs_from_the_manifest_is_refused()
    {
        using var dir = new TempDir();
        var archive = Archive(dir, t =>
        {
            Put(t, "manifest.json",
                "{\"files\":[{\"path\":\"a.txt\",\"size\":1,\"sha256\":\"" + new string('0', 64) + "\"}]}");
            Put(t, "a.txt", "x");
        });
        var e = Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Extract(archive, dir["out"]));
        Assert.Contains("a.txt", e.Message);
    }

    [Fact]
    public void The_size_cap_is_enforced()
    {
        using var dir = new TempDir();
        var archive = Archive(dir, t =>
        {
            Put(t, "manifest.json", "{\"files\":[]}");
            Put(t, "big", new string('y', 5000));
        });
        Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Extract(archive, dir["out"], maxBytes: 1000));
    }
}
