using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using RdBridge.Assets;

namespace RdBridge.Tests.Assets;

/// <summary>Bundles extracted on Windows: names Windows cannot hold, and names it would treat as one.</summary>
public class WindowsNamesTests
{
    // A bundle whose manifest lists exactly the files it holds, so only the names can be wrong.
    private static string Bundle(TempDir dir, params string[] names)
    {
        var files = names.Select(n => (Name: n, Bytes: Encoding.UTF8.GetBytes($"content of {n}\n"))).ToList();
        var entries = files.Select(f => $"{{\"path\":\"{f.Name}\",\"size\":{f.Bytes.Length}," +
            $"\"sha256\":\"{Convert.ToHexStringLower(SHA256.HashData(f.Bytes))}\"}}");
        var manifest = "{\"files\":[" + string.Join(",", entries) + "]}";
        var path = dir["bundle.tar.gz"];
        using (var file = File.Create(path))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "manifest.json")
                { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(manifest)) });
            foreach (var (name, bytes) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
                    { DataStream = new MemoryStream(bytes) });
            }
        }
        return path;
    }

    [Theory]
    [InlineData("workspaces/w1/CON", "device name")]
    [InlineData("workspaces/w1/aux.py", "device name")]
    [InlineData("nul", "device name")]
    [InlineData("workspaces/lpt1.txt", "device name")]
    [InlineData("workspaces/w1/ab:c", "':'")]
    [InlineData("workspaces/w1/what?.csv", "'?'")]
    [InlineData("workspaces/w1/notes.", "ends with a dot")]
    [InlineData("workspaces/w1/notes ", "ends with a space")]
    [InlineData("workspaces/CON/factor.py", "device name")]
    public void A_name_windows_cannot_hold_is_refused_by_name_when_extracting_for_windows(string name, string why)
    {
        using var dir = new TempDir();
        var archive = Bundle(dir, "workspaces/w1/ok.py", name);
        var e = Assert.Throws<UnsafeBundleException>(
            () => SafeExtractor.Extract(archive, dir["out"], windowsNames: true));
        Assert.Contains($"'{name}' cannot be extracted on Windows", e.Message);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void Two_files_differing_only_in_case_are_refused_for_windows_and_both_named()
    {
        using var dir = new TempDir();
        var archive = Bundle(dir, "workspaces/w1/Data.csv", "workspaces/w1/data.csv");
        var e = Assert.Throws<UnsafeBundleException>(
            () => SafeExtractor.Extract(archive, dir["out"], windowsNames: true));
        Assert.Equal("entries 'workspaces/w1/Data.csv' and 'workspaces/w1/data.csv' differ only in case; Windows keeps "
            + "one file for both, so one would overwrite the other", e.Message);
    }

    [Fact]
    public void The_same_bundle_extracts_where_names_are_case_sensitive_and_windows_rules_are_off()
    {
        using var dir = new TempDir();
        var archive = Bundle(dir, "workspaces/w1/Data.csv", "workspaces/w1/data.csv", "workspaces/w1/aux.py");
        var manifest = SafeExtractor.Extract(archive, dir["out"], windowsNames: false);
        Assert.Equal(3, manifest.Files.Count);
        Assert.Equal("content of workspaces/w1/Data.csv\n", File.ReadAllText(dir["out/workspaces/w1/Data.csv"]));
        Assert.Equal("content of workspaces/w1/data.csv\n", File.ReadAllText(dir["out/workspaces/w1/data.csv"]));
    }

    [Fact]
    public void Names_that_only_resemble_devices_or_use_dots_inside_pass()
    {
        using var dir = new TempDir();
        string[] names = ["workspaces/w1/console.py", "workspaces/w1/con_fig.yaml", "workspaces/COM10/x",
            "workspaces/a.b.c", "workspaces/auxiliary/nul_rate.csv", "workspaces/w1/.hidden"];
        var archive = Bundle(dir, names);
        var manifest = SafeExtractor.Extract(archive, dir["out"], windowsNames: true);
        Assert.Equal(names.Order(StringComparer.Ordinal),
            manifest.Files.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.True(File.Exists(dir["out/workspaces/w1/console.py"]));
    }
}
