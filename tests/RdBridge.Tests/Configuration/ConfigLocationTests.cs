using RdBridge.Configuration;

namespace RdBridge.Tests.Configuration;

/// <summary>Which rdbridge.json a verb uses when --config does not say: here, a parent, RDBRIDGE_CONFIG, the demo.
/// </summary>
public class ConfigLocationTests
{
    [Fact]
    public void The_current_folder_comes_first_and_needs_no_note()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["rdbridge.json"], "{}");
        var found = ConfigLocation.Find(null, dir.Path, environmentValue: null);
        Assert.Equal(dir["rdbridge.json"], found.Path);
        Assert.Null(found.Note);
    }

    [Fact]
    public void A_parent_folders_config_is_found_like_git_finds_its_repository_and_named()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["rdbridge.json"], "{}");
        var deeper = Directory.CreateDirectory(dir["a/b/c"]).FullName;
        var found = ConfigLocation.Find(null, deeper, environmentValue: dir["elsewhere.json"]);
        Assert.Equal(dir["rdbridge.json"], found.Path);
        Assert.Equal($"using {dir["rdbridge.json"]} (found in a parent folder)", found.Note);
    }

    [Fact]
    public void The_environment_variable_comes_after_the_parents_and_a_missing_file_is_an_error()
    {
        using var dir = new TempDir();
        var here = Directory.CreateDirectory(dir["work"]).FullName;
        File.WriteAllText(dir["mine.json"], "{}");
        var found = ConfigLocation.Find(null, here, dir["mine.json"]);
        Assert.Equal(dir["mine.json"], found.Path);
        Assert.Equal($"using {dir["mine.json"]} (RDBRIDGE_CONFIG)", found.Note);
        var e = Assert.Throws<ConfigurationException>(() => ConfigLocation.Find(null, here, dir["missing.json"]));
        Assert.Equal($"RDBRIDGE_CONFIG names '{dir["missing.json"]}', which does not exist; point it at an "
            + "rdbridge.json, or unset it", e.Message);
    }

    [Fact]
    public void The_demos_config_is_used_last_so_serve_after_demo_shows_the_demo()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["demo"]);
        File.WriteAllText(dir["demo/rdbridge.json"], "{}");
        var found = ConfigLocation.Find(null, dir.Path, environmentValue: null);
        Assert.Equal(dir["demo/rdbridge.json"], found.Path);
        Assert.Equal($"using {dir["demo/rdbridge.json"]} (the demo's: no rdbridge.json here or above; 'rdbridge setup' "
            + "writes one for your own folders)", found.Note);
    }

    [Fact]
    public void An_explicit_config_wins()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["rdbridge.json"], "{}");
        var found = ConfigLocation.Find(dir["other.json"], dir.Path, null);
        Assert.Equal(dir["other.json"], found.Path);
        Assert.Null(found.Note); // asked for by name: nothing to explain
    }
}
