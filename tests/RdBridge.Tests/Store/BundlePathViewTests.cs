using System.Text.Json.Nodes;

namespace RdBridge.Tests.Store;

/// <summary>
/// The guide's 关联查询 read <c>production_bundles.bundle_path</c> from AIstock's database to open a loop's bundle: it
/// must name where this AIstock keeps the bundles (<c>aistock.assets</c>), not the default folder whatever the
/// settings say — relative to the AIstock root when the folder is inside it, absolute when it is not.
/// </summary>
public sealed class BundlePathViewTests
{
    private static void SetAssets(Sample sample, string assets)
    {
        var config = JsonNode.Parse(File.ReadAllText(sample.Config))!;
        config["aistock"]!["assets"] = assets;
        File.WriteAllText(sample.Config, config.ToJsonString());
    }

    /// <summary>Every bundle the view names, opened by the path it gives (joined to the AIstock root if relative),
    /// is the bundle RdBridge built, byte for byte.</summary>
    private static List<string> CheckEveryBundlePath(Sample sample)
    {
        var s = sample.Settings;
        var rows = sample.Aistock.Rows("SELECT bundle_id, bundle_path FROM production_bundles ORDER BY bundle_id");
        Assert.Equal(Directory.EnumerateFiles(s.BundleDirectory, "*.tar.gz").Count(), rows.Count);
        foreach (var row in rows)
        {
            var (id, path) = ((string)row[0]!, (string)row[1]!);
            Assert.DoesNotContain('\\', path);
            var file = Path.IsPathRooted(path) ? path : Path.Combine(s.AistockRoot, path);
            Assert.True(File.Exists(file), $"{id}: '{path}' is not a file");
            Assert.Equal(File.ReadAllBytes(Path.Combine(s.BundleDirectory, id + ".tar.gz")), File.ReadAllBytes(file));
        }
        return [.. rows.Select(r => (string)r[1]!)];
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Bundle_path_names_the_configured_assets_folder_inside_the_aistock_root(string store)
    {
        using var sample = new Sample(taskRuns: 1, loops: 2, store: store);
        // A folder name a SQL literal must quote: the view is DDL text, and the path must come out verbatim.
        SetAssets(sample, "data/rd's bundles");
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);

        var paths = CheckEveryBundlePath(sample);
        Assert.All(paths, p => Assert.StartsWith("data/rd's bundles/bundle_", p));
    }

    [Fact]
    public void Bundle_path_is_absolute_when_the_assets_folder_is_outside_the_aistock_root()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2, store: "sqlite");
        var outside = sample.Dir["shared-bundles"];
        SetAssets(sample, outside);
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);

        var paths = CheckEveryBundlePath(sample);
        Assert.All(paths, p => Assert.StartsWith(outside.Replace('\\', '/') + "/bundle_", p));
    }
}
