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

/// <summary>
/// Every refusal of <see cref="SafeExtractor"/> by its full message, each archive built here so that the expected
/// names, sizes and digests are the ones written; and what a clean archive leaves behind, byte for byte.
/// </summary>
public class SafeExtractorRefusalTests
{
    private static string Sha(string text) => Convert.ToHexStringLower(
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    private static string Manifest(params (string Path, string Content)[] files) =>
        "{\"files\":[" + string.Join(",", files.Select(f =>
            $"{{\"path\":\"{f.Path}\",\"size\":{System.Text.Encoding.UTF8.GetByteCount(f.Content)}," +
            $"\"sha256\":\"{Sha(f.Content)}\"}}")) + "]}";

    private static string Archive(TempDir dir, params (string Name, string? Content)[] entries)
    {
        var path = dir["bundle.tar.gz"];
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Pax);
        foreach (var (name, content) in entries)
        {
            tar.WriteEntry(content is null
                ? new PaxTarEntry(TarEntryType.Directory, name)
                : new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
                });
        }
        return path;
    }

    private static string Refusal(string archive, string output, int maxEntries = SafeExtractor.DefaultMaxEntries) =>
        Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Extract(archive, output, maxEntries: maxEntries))
            .Message;

    [Fact]
    public void A_clean_archive_extracts_its_manifest_and_files_byte_for_byte_and_skips_folder_entries()
    {
        using var dir = new TempDir();
        var manifest = Manifest(("sub/a.txt", "alpha"), ("empty", ""));
        var archive = Archive(dir, ("manifest.json", manifest), ("sub/", null), ("sub/a.txt", "alpha"), ("empty", ""));
        var summary = SafeExtractor.Extract(archive, dir["out"]);
        Assert.Equal(2, summary.Files.Count);
        Assert.Equal(manifest, File.ReadAllText(dir["out/manifest.json"]));
        Assert.Equal("alpha", File.ReadAllText(dir["out/sub/a.txt"]));
        Assert.Equal(0, new FileInfo(dir["out/empty"]).Length);
        Assert.Equal(manifest, System.Text.Encoding.UTF8.GetString(SafeExtractor.ReadManifest(archive)!));
    }

    [Fact]
    public void A_file_larger_than_the_copy_buffer_is_copied_whole()
    {
        using var dir = new TempDir();
        var big = new string('z', 200_000);
        var archive = Archive(dir, ("manifest.json", Manifest(("big", big))), ("big", big));
        SafeExtractor.Extract(archive, dir["out"]);
        Assert.Equal(big, File.ReadAllText(dir["out/big"]));
    }

    [Fact]
    public void An_archive_whose_first_entry_is_not_its_manifest_is_refused()
    {
        using var dir = new TempDir();
        var archive = Archive(dir, ("a.txt", "x"), ("manifest.json", Manifest(("a.txt", "x"))));
        Assert.Equal("it has no manifest.json first", Refusal(archive, dir["out"]));
        Assert.Null(SafeExtractor.ReadManifest(archive));
        var folder = Archive(dir, ("manifest.json/", null));
        Assert.Equal("it has no manifest.json first", Refusal(folder, dir["out2"]));
    }

    [Fact]
    public void Files_the_manifest_and_the_archive_disagree_on_are_refused_by_name()
    {
        using var dir = new TempDir();
        Assert.Equal("'b' is in the archive but not in its manifest",
            Refusal(Archive(dir, ("manifest.json", Manifest(("a", "x"))), ("a", "x"), ("b", "y")), dir["o1"]));
        Assert.Equal("'a' is in the archive twice",
            Refusal(Archive(dir, ("manifest.json", Manifest(("a", "x"))), ("a", "x"), ("a", "x")), dir["o2"]));
        // Two files missing: the first by ordinal order is named.
        Assert.Equal("'b' is listed in the manifest but missing",
            Refusal(Archive(dir, ("manifest.json", Manifest(("c", "z"), ("a", "x"), ("b", "y"))), ("a", "x")),
                dir["o3"]));
        Assert.Equal("the manifest lists 'a' twice",
            Refusal(Archive(dir, ("manifest.json", Manifest(("a", "x"), ("a", "x"))), ("a", "x")), dir["o4"]));
        Assert.Equal("its manifest.json cannot be read: 'files[0].size' is missing or not a whole number of bytes",
            Refusal(Archive(dir, ("manifest.json", "{\"files\":[{\"path\":\"a\",\"size\":-1,\"sha256\":\"00\"}]}")),
                dir["o5"]));
        // A manifest path that climbs out is refused as an entry name would be, before anything else is compared.
        Assert.Equal("entry '../x' climbs out with '..'",
            Refusal(Archive(dir, ("manifest.json", Manifest(("../x", "x")))), dir["o6"]));
    }

    [Fact]
    public void A_digest_shorter_than_twelve_characters_is_quoted_whole()
    {
        using var dir = new TempDir();
        var archive = Archive(dir,
            ("manifest.json", "{\"files\":[{\"path\":\"a\",\"size\":1,\"sha256\":\"0000\"}]}"), ("a", "x"));
        Assert.Equal($"'a' does not match its manifest entry (sha256 {Sha("x")[..12]}… vs 0000…)",
            Refusal(archive, dir["out"]));
    }

    [Fact]
    public void The_entry_cap_counts_the_manifest_s_files_and_the_archive_s_entries_each_exactly()
    {
        using var dir = new TempDir();
        // One listed file plus its manifest: two entries, within a cap of two.
        var two = Archive(dir, ("manifest.json", Manifest(("a", "x"))), ("a", "x"));
        SafeExtractor.Extract(two, dir["ok"], maxEntries: 2);
        Assert.Equal("its manifest lists more than 1 entry", Refusal(two, dir["o1"], maxEntries: 1));
        // Folder entries are not in the manifest, but they count as entries of the archive: four with the manifest.
        var folders = Archive(dir, ("manifest.json", Manifest(("a", "x"))), ("d/", null), ("e/", null), ("a", "x"));
        Assert.Equal("more than 3 entries", Refusal(folders, dir["o2"], maxEntries: 3));
        SafeExtractor.Extract(folders, dir["ok4"], maxEntries: 4);
        Assert.Equal("x", File.ReadAllText(dir["ok4/a"]));
    }

    [Fact]
    public void Corrupt_archives_and_unreadable_manifests_are_refused_as_such()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["junk.tar.gz"], "this is not gzip");
        Assert.StartsWith("the archive is corrupt: ", Refusal(dir["junk.tar.gz"], dir["o1"]));
        Assert.StartsWith("the archive is corrupt: ",
            Assert.Throws<UnsafeBundleException>(() => SafeExtractor.ReadManifest(dir["junk.tar.gz"])).Message);
        Assert.StartsWith("its manifest.json cannot be read: ",
            Refusal(Archive(dir, ("manifest.json", "{ not json")), dir["o2"]));
    }

    [Fact]
    public void A_manifest_of_exactly_the_manifest_cap_is_read_and_one_byte_more_is_refused()
    {
        using var dir = new TempDir();
        var cap = RdBridge.IO.ReadLimits.BundleManifest;
        string Padded(long length) => "{\"files\":[]}" + new string(' ', (int)length - "{\"files\":[]}".Length);
        var atCap = Archive(dir, ("manifest.json", Padded(cap)));
        Assert.Empty(SafeExtractor.Verify(atCap).Files);
        var over = Archive(dir, ("manifest.json", Padded(cap + 1)));
        Assert.Equal($"its manifest.json announces {cap + 1:N0} bytes, more than {cap:N0}",
            Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Verify(over)).Message);
    }

    [Fact]
    public void Names_differing_only_in_case_are_refused_for_windows_with_the_reason()
    {
        using var dir = new TempDir();
        var archive = Archive(dir, ("manifest.json", Manifest(("A.txt", "x"), ("a.txt", "y"))), ("A.txt", "x"),
            ("a.txt", "y"));
        var e = Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Extract(archive, dir["out"],
            windowsNames: true));
        Assert.Equal("entries 'A.txt' and 'a.txt' differ only in case; Windows keeps one file for both, so one would " +
            "overwrite the other", e.Message);
    }

    /// <summary>
    /// Two archives of Python's <c>tarfile</c> (.NET's <c>TarWriter</c> refuses to write either name): a manifest
    /// listing nothing, then one entry named "" (a ustar header whose name field is all NUL) or "a\0b" (a pax
    /// <c>path</c> record, as the ustar name field ends at its first NUL). Python reads each name back as written.
    /// </summary>
    [Fact]
    public void An_entry_without_a_name_or_with_a_nul_in_it_is_refused_and_only_the_manifest_is_written()
    {
        using var dir = new TempDir();
        var names = System.Text.Json.Nodes.JsonNode.Parse(RdBridge.Tests.Pickles.RealPandas.Run(dir.Path, """
            import io, json, tarfile
            manifest = b'{"files":[]}'
            def write(archive, name):
                with tarfile.open(archive, 'w:gz', format=tarfile.PAX_FORMAT) as t:
                    info = tarfile.TarInfo('manifest.json')
                    info.size = len(manifest)
                    t.addfile(info, io.BytesIO(manifest))
                    info = tarfile.TarInfo(name)
                    info.size = 1
                    if '\0' in name:
                        info.pax_headers = {'path': name}
                    t.addfile(info, io.BytesIO(b'x'))
                with tarfile.open(archive) as t:
                    return [[m.name, m.isfile()] for m in t.getmembers()]
            print(json.dumps(dict(empty=write('empty.tar.gz', ''), nul=write('nul.tar.gz', 'a\0b'))))
            """))!;
        Assert.Equal("""[["manifest.json",true],["",true]]""", names["empty"]!.ToJsonString());
        Assert.Equal("""[["manifest.json",true],["a\u0000b",true]]""", names["nul"]!.ToJsonString());

        Assert.Equal("an entry has no name", Refusal(dir["empty.tar.gz"], dir["out-empty"]));
        Assert.Equal("an entry name holds a NUL byte", Refusal(dir["nul.tar.gz"], dir["out-nul"]));
        Assert.Equal("an entry has no name",
            Assert.Throws<UnsafeBundleException>(() => SafeExtractor.Verify(dir["empty.tar.gz"])).Message);
        // The manifest came first and was written; the refused entry was not, inside the folder or beside it.
        foreach (var output in new[] { "out-empty", "out-nul" })
        {
            Assert.Equal(["manifest.json"], Directory.EnumerateFileSystemEntries(dir[output])
                .Select(Path.GetFileName));
            Assert.Equal("{\"files\":[]}", File.ReadAllText(Path.Combine(dir[output], "manifest.json")));
        }
        Assert.Equal(["empty.tar.gz", "nul.tar.gz", "out-empty", "out-nul"],
            Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_manifest_path_without_a_name_or_with_a_nul_in_it_is_refused_before_anything_is_written()
    {
        using var dir = new TempDir();
        var empty = Archive(dir, ("manifest.json", Manifest(("", "x"))), ("x", "x"));
        Assert.Equal("an entry has no name", Refusal(empty, dir["o1"]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir["o1"]));
        // JSON spells the NUL as \u0000; the path read is "a", NUL, "b".
        var nul = Archive(dir, ("manifest.json", Manifest(("a\\u0000b", "x"))), ("x", "x"));
        Assert.Equal("an entry name holds a NUL byte", Refusal(nul, dir["o2"]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir["o2"]));
    }
}
