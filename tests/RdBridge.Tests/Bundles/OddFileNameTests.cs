using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RdBridge.Assets;
using RdBridge.Tests.Discovery;

namespace RdBridge.Tests.Bundles;

/// <summary>
/// File names Linux allows and .NET or Windows read otherwise, in a loop's workspace. On Linux a '\' is an ordinary
/// character of a name, and RD-Agent under WSL can leave such a file: bundling once took it for a Windows separator,
/// listed <c>odd/name.txt</c> (a file the workspace does not hold) and verify failed a sound tree. A name that is not
/// valid UTF-8 stopped the whole run before anything was done (the free-space estimate asked for its length), and then
/// failed its loop's whole bundle.
/// </summary>
public class OddFileNameTests
{
    private const string Name = "odd\\name.txt";
    private static readonly byte[] Content = Encoding.UTF8.GetBytes("a Linux file name with a backslash\n");

    [Fact]
    public void A_linux_name_holding_a_backslash_is_bundled_under_that_name_and_every_check_passes()
    {
        Assert.Equal('/', Path.DirectorySeparatorChar); // Windows cannot create the name this test needs
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var rdAgentRoot = sample.Settings.RdAgentRoot;
        var workspace = Directory.EnumerateFiles(rdAgentRoot, "qlib_res.csv", SearchOption.AllDirectories)
            .Select(Path.GetDirectoryName).Order(StringComparer.Ordinal).First()!;
        File.WriteAllBytes(Path.Combine(workspace, Name), Content);

        var (code, output, errors) = sample.Cli("init");
        Assert.True(code == 0, output + errors);
        var lines = OutputLines.Of(output);
        // Every one of the checklist's 25 checks is listed ticked, none crossed, and the whole summary line says so.
        Assert.Contains("verification passed: 25 of 25 checks", lines);
        Assert.Equal(25, lines.Count(l => l.StartsWith("  ✓ ", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("  ✗ ", StringComparison.Ordinal));

        // Read by Python's tarfile: the member under its own name with its bytes, and the manifest's entry for it.
        var wsId = Path.GetFileName(workspace);
        var bundles = Directory.GetFiles(sample.Settings.AssetCacheDirectory, "*.tar.gz");
        var found = bundles.Select(b => Python(b, $"workspaces/{wsId}/{Name}")).Where(r => r.Length > 0).ToList();
        var expected = $"{Content.Length} {Convert.ToHexStringLower(SHA256.HashData(Content))} "
            + $"{Content.Length} {Convert.ToHexStringLower(SHA256.HashData(Content))}";
        Assert.Equal([expected], found);

        // Extracted on this machine it is one file of that name beside the others, not a folder "odd".
        var extracted = Directory.GetFiles(sample.Settings.AssetCacheDirectory, Name, SearchOption.AllDirectories);
        var one = Assert.Single(extracted);
        Assert.Equal(Content, File.ReadAllBytes(one));
        var cache = sample.Settings.AssetCacheDirectory;
        Assert.Empty(Directory.GetDirectories(cache, "odd", SearchOption.AllDirectories));
    }

    [Fact]
    public void Extracting_that_bundle_for_windows_refuses_the_name_and_says_why()
    {
        using var dir = new TempDir();
        var archive = dir["b.tar.gz"];
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Content));
        var manifest = JsonSerializer.Serialize(
            new { files = new[] { new { path = $"workspaces/w1/{Name}", size = Content.Length, sha256 } } });
        using (var file = File.Create(archive))
        using (var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        using (var tar = new System.Formats.Tar.TarWriter(gz, System.Formats.Tar.TarEntryFormat.Pax))
        {
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile,
                "manifest.json") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(manifest)) });
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile,
                $"workspaces/w1/{Name}") { DataStream = new MemoryStream(Content) });
        }

        var e = Assert.Throws<UnsafeBundleException>(
            () => SafeExtractor.Extract(archive, dir["out"], windowsNames: true));
        Assert.Equal($"entry 'workspaces/w1/{Name}' cannot be extracted on Windows: '{Name}' holds '\\', "
            + "which Windows does not allow in names", e.Message);
        Assert.False(Directory.Exists(dir["out"]) && Directory.EnumerateFileSystemEntries(dir["out"]).Any());
    }

    [Fact]
    public void A_name_that_is_not_utf8_is_left_out_and_named_and_the_rest_of_the_loop_is_bundled()
    {
        Assert.Equal('/', Path.DirectorySeparatorChar); // Windows names are UTF-16: such a name cannot exist there
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var workspace = Directory.EnumerateFiles(sample.Settings.RdAgentRoot, "qlib_res.csv",
            SearchOption.AllDirectories).Select(Path.GetDirectoryName).Order(StringComparer.Ordinal).First()!;
        // Written by Python with raw bytes: .NET cannot spell these names. A newline is valid UTF-8 and is kept.
        UpstreamRdAgent.RunPython(["-c", """
            import os, sys
            d = sys.argv[1].encode()
            open(os.path.join(d, b"bad\xff.txt"), "wb").write(b"x")
            os.mkdir(os.path.join(d, b"dir\xfe"))
            open(os.path.join(d, b"dir\xfe", b"inside.txt"), "wb").write(b"y")
            open(os.path.join(d, b"new\nline.txt"), "wb").write(b"z")
            """, workspace]);

        var (code, output, errors) = sample.Cli("init");
        Assert.True(code == 0, output + errors);
        var lines = OutputLines.Of(output);
        // Every one of the checklist's 25 checks is listed ticked, none crossed, and the whole summary line says so.
        Assert.Contains("verification passed: 25 of 25 checks", lines);
        Assert.Equal(25, lines.Count(l => l.StartsWith("  ✓ ", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("  ✗ ", StringComparison.Ordinal));

        var ws = $"workspaces/{Path.GetFileName(workspace)}";
        var bundle = Directory.GetFiles(sample.Settings.AssetCacheDirectory, "*.tar.gz")
            .Single(b => Python(b, $"{ws}/qlib_res.csv").Length > 0);
        const string why = "its name is not valid UTF-8, so it cannot be opened by name; rename it";
        // Each skipped entry as a JSON [path, reason] line (ASCII-escaped, so no console encoding is involved).
        var skipped = UpstreamRdAgent.RunPython(["-c", """
            import json, sys, tarfile
            m = json.load(tarfile.open(sys.argv[1]).extractfile("manifest.json"))
            for s in m["skipped"]:
                if not s["path"].endswith("daily_pv.h5"):
                    print(json.dumps([s["path"], s["reason"]]))
            """, bundle]);
        Assert.Equal([[$"{ws}/bad\uFFFD.txt", why], [$"{ws}/dir\uFFFD/", why]],
            skipped.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonSerializer.Deserialize<string[]>(l)!).ToArray());
        var z = "z"u8.ToArray();
        var zSha = Convert.ToHexStringLower(SHA256.HashData(z));
        Assert.Equal($"1 {zSha} 1 {zSha}", Python(bundle, $"{ws}/new\nline.txt"));
    }

    /// <summary>"size sha256 of the member, size sha256 the manifest gives" for one member, "" when absent.</summary>
    private static string Python(string bundle, string member)
    {
        const string script = """
            import hashlib, json, sys, tarfile
            t = tarfile.open(sys.argv[1])
            names = t.getnames()
            if sys.argv[2] in names:
                data = t.extractfile(sys.argv[2]).read()
                m = json.load(t.extractfile("manifest.json"))
                f = [f for f in m["files"] if f["path"] == sys.argv[2]][0]
                print(len(data), hashlib.sha256(data).hexdigest(), f["size"], f["sha256"])
            """;
        return UpstreamRdAgent.RunPython(["-c", script, bundle, member]).Trim();
    }
}
