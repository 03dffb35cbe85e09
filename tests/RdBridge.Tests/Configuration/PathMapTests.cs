using RdBridge.Configuration;

namespace RdBridge.Tests.Configuration;

public class PathMapTests
{
    private static readonly PathMap Map =
        new([new("F:/Dev/RD-Agent-main", "/data/rdagent"), new("F:/Dev", "/data/dev")], "/base");

    [Theory]
    [InlineData(@"F:\Dev\RD-Agent-main\git_ignore_folder\RD-Agent_workspace\abc")]
    [InlineData("F:/Dev/RD-Agent-main/git_ignore_folder/RD-Agent_workspace/abc")]
    [InlineData("/mnt/f/Dev/RD-Agent-main/git_ignore_folder/RD-Agent_workspace/abc")]
    [InlineData("f:/dev/rd-agent-main/git_ignore_folder/RD-Agent_workspace/abc")]
    public void All_three_spellings_map_to_the_same_local_path(string stored)
    {
        Assert.Equal("/data/rdagent/git_ignore_folder/RD-Agent_workspace/abc", Map.Map(stored).Local);
    }

    [Fact]
    public void Longest_prefix_wins_and_segments_must_match_whole()
    {
        Assert.Equal("/data/dev/other", Map.Map("F:/Dev/other").Local);
        Assert.Equal("/data/dev/RD-Agent-main-2/x", Map.Map("F:/Dev/RD-Agent-main-2/x").Local);
    }

    [Fact]
    public void An_unmapped_windows_path_is_reported_with_the_fix()
    {
        var mapped = Map.Map(@"G:\elsewhere\ws");
        Assert.Null(mapped.Local);
        Assert.Contains("pathMap", mapped.Problem);
    }

    [Fact]
    public void Relative_paths_resolve_under_the_rdagent_root_and_posix_paths_stay()
    {
        Assert.Equal("/base/git_ignore_folder/x", Map.Map("git_ignore_folder/x").Local);
        Assert.Equal("/srv/ws", Map.Map("/srv/ws").Local);
    }

    [Fact]
    public void Config_keys_with_a_drive_colon_survive_the_configuration_system()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["rdbridge.json"],
            """{ "rdagent": { "root": "R" }, "aistock": { "root": "A" }, "pathMap": """
            + """{ "F:/Dev/RD-Agent-main": "R", "/mnt/g/x": "/g" } }""");
        var s = SettingsLoader.Load(dir["rdbridge.json"]);
        Assert.Equal(Path.Combine(dir.Path, "R", "ws"), s.PathMap.Map(@"F:\Dev\RD-Agent-main\ws").Local);
        Assert.Equal("/g/y", s.PathMap.Map("G:/x/y").Local);
        Assert.Equal(Path.Combine(dir.Path, "A", "aistock.db"), s.AistockDatabase);
        Assert.Equal(Path.Combine(dir.Path, "R", "production_bundles"), s.BundleDirectory);
        Assert.Equal(Path.Combine(dir.Path, "A", "rdagent_assets", "bundles"), s.AssetCacheDirectory);
    }

    [Fact]
    public void A_missing_root_is_a_configuration_error_naming_the_key()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["rdbridge.json"], """{ "aistock": { "root": "A" } }""");
        var e = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(dir["rdbridge.json"]));
        Assert.Contains("rdagent.root", e.Message);
    }
}

/// <summary>Tests that change process environment variables run alone, so no other test sees them.</summary>
[CollectionDefinition("process environment", DisableParallelization = true)]
public class ProcessEnvironmentCollection;

[Collection("process environment")]
public class SettingsPrecedenceTests
{
    [Fact]
    public void Environment_overrides_the_file_and_command_line_overrides_both()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["rdbridge.json"],
            """{ "rdagent": { "root": "R" }, "aistock": { "root": "A", "database": "file.db" } }""");
        Environment.SetEnvironmentVariable("RDBRIDGE_AISTOCK__CATALOGS", "from-env");
        try
        {
            var s = SettingsLoader.Load(dir["rdbridge.json"], [new("aistock:database", "cli.db")]);
            Assert.Equal(Path.Combine(dir.Path, "A", "cli.db"), s.AistockDatabase);
            Assert.Equal(Path.Combine(dir.Path, "A", "from-env"), s.AistockCatalogDirectory);
        }
        finally { Environment.SetEnvironmentVariable("RDBRIDGE_AISTOCK__CATALOGS", null); }
    }
}
