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
    [InlineData("../escape.txt", "climbs out with '..'")]
    [InlineData("a/../../escape.txt", "climbs out with '..'")]
    [InlineData("..\\escape.txt", "climbs out with '..'")]
    [InlineData("/etc/passwd", "has an absolute path")]
    [InlineData("\\escape.txt", "has an absolute path")]
    [InlineData("C:escape.txt", "has an absolute path")]
    public void Entries_that_climb_out_are_refused(string name, string why)
    {
        using var dir = new TempDir();
        var archive = Archive(dir, t => { Put(t, "manifest.json", "{\"files\":[]}"); Put(t, name); });
        var e = Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Extract(archive, dir["out"]));
        Assert.Equal($"entry '{name}' {why}", e.Message);
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
        var e = Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Extract(archive, dir["out"]));
        Assert.Equal("entry 'link' is a SymbolicLink, not a regular file; links and devices are refused", e.Message);
        Assert.False(File.Exists(Path.Combine(dir["out"], "link")));
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
        // The digest of what the archive holds ("x"), computed here; the manifest's, as the manifest spells it.
        var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("x"u8));
        Assert.Equal($"'a.txt' does not match its manifest entry (sha256 {actual[..12]}… vs {new string('0', 12)}…)",
            e.Message);
    }

    [Fact]
    public void The_size_cap_is_enforced()
    {
        // The manifest lists the file with its true size and digest, so only the cap can refuse it (an unlisted file
        // would be refused for that instead).
        using var dir = new TempDir();
        var big = new string('y', 5000);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(big)));
        var manifest = "{\"files\":[{\"path\":\"big\",\"size\":5000,\"sha256\":\"" + sha + "\"}]}";
        var archive = Archive(dir, t =>
        {
            Put(t, "manifest.json", manifest);
            Put(t, "big", big);
        });
        var e = Assert.Throws<UnsafeBundleException>(
            () => SafeExtractor.Extract(archive, dir["out"], maxBytes: 1000));
        Assert.Equal("its manifest announces 5,000 bytes, more than 1,000", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir["out"]));
        // A cap of exactly the announced size lets the same archive through: the refusal is the cap's.
        SafeExtractor.Extract(archive, dir["out2"], maxBytes: 5000);
        Assert.Equal(big, File.ReadAllText(Path.Combine(dir["out2"], "big")));
    }
}
