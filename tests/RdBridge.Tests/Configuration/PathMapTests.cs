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
        // The stored path, why, and the entry to add (its key: the drive and the next two segments, as the map
        // compares them: drive in lower case, forward slashes).
        Assert.Equal(@"'G:\elsewhere\ws' is a Windows path and no pathMap entry covers it; add one to rdbridge.json, "
            + "e.g. \"pathMap\": { \"g:/elsewhere/ws\": \"/local/path\" }", mapped.Problem);
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
        Assert.Equal($"'rdagent.root' is not set; put it in {dir["rdbridge.json"]} (\"rdagent\": {{ \"root\": "
            + "\"/path/to/RD-Agent-main\" }) or set RDBRIDGE_RDAGENT__ROOT — or, on a machine that only pulls from "
            + "publishers, list them under \"sources\"", e.Message);
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

/// <summary>
/// Each map is built inside its test (a map built once in a static field is built before a test runs, so a change to
/// the constructor would go unnoticed), and each expected path is spelled out from the entries given.
/// </summary>
public class PathMapExactTests
{
    [Fact]
    public void The_longest_stored_prefix_wins_whatever_order_the_entries_come_in()
    {
        var map = new PathMap([new("F:/Dev", "/data/dev"), new("F:/Dev/RD-Agent-main", "/data/rdagent")], "/base");
        Assert.Equal("/data/rdagent/x", map.Map("F:/Dev/RD-Agent-main/x").Local);
        Assert.Equal("/data/dev/x", map.Map("F:/Dev/x").Local);
        // Entries: longest first, then prefixes of one length in ordinal order, each in its canonical spelling.
        var equalLength = new PathMap([new("/srv/b", "/B"), new("/srv/a", "/A"), new(@"G:\x\longer", "/G")], "/base");
        Assert.Equal([("g:/x/longer", "/G"), ("/srv/a", "/A"), ("/srv/b", "/B")], equalLength.Entries);
    }

    [Theory]
    [InlineData("/srv//ws", "/srv/ws")]
    [InlineData(@"F:\\Dev\\\x", "f:/Dev/x")]
    [InlineData("/", "/")]
    [InlineData("F:/", "f:/")]
    [InlineData("F:", "f:/")]
    [InlineData("/srv/ws/", "/srv/ws")]
    [InlineData("/mnt/G/Data/", "g:/Data")]
    [InlineData("  /srv/ws  ", "/srv/ws")]
    public void Canonical_spelling(string stored, string canonical) =>
        Assert.Equal(canonical, PathMap.Canonical(stored));

    [Fact]
    public void A_relative_path_whose_third_character_is_a_slash_is_not_a_drive_path()
    {
        var map = new PathMap([], "/base");
        Assert.Equal("/base/ab/c", map.Map("ab/c").Local);
        Assert.False(PathMap.IsDrivePath("ab/c"));
        Assert.True(PathMap.IsDrivePath("f:/"));
    }

    [Fact]
    public void An_unmapped_windows_path_names_its_first_two_segments_as_the_key_to_add()
    {
        var map = new PathMap([new("F:/Dev", "/data/dev")], "/base");
        var mapped = map.Map(@"G:\elsewhere\ws\deeper");
        Assert.False(mapped.IsResolved);
        Assert.Equal(@"'G:\elsewhere\ws\deeper' is a Windows path and no pathMap entry covers it; add one to " +
            "rdbridge.json, e.g. \"pathMap\": { \"g:/elsewhere/ws\": \"/local/path\" }", mapped.Problem);
        // A bare drive is a Windows path too, not a folder named "g:" under the RD-Agent root.
        Assert.Equal("'G:\\' is a Windows path and no pathMap entry covers it; add one to rdbridge.json, e.g. " +
            "\"pathMap\": { \"g:/\": \"/local/path\" }", map.Map(@"G:\").Problem);
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("   ", "   ")]
    public void An_empty_stored_path_is_reported_as_empty(string? stored, string kept)
    {
        var mapped = new PathMap([], "/base").Map(stored);
        Assert.Equal(new MappedPath(kept, null, "the stored path is empty"), mapped);
        Assert.False(mapped.IsResolved);
    }

    [Fact]
    public void One_stored_prefix_mapped_to_folders_that_differ_in_case_is_a_conflict_where_case_matters()
    {
        var conflicts = PathMap.Conflicts([new("F:/Dev", "/data/X"), new(@"F:\Dev", "/data/x")]);
        // On Windows both spell one folder; on Linux they are two.
        string[] expected = OperatingSystem.IsWindows() ? [] :
        [
            "pathMap keys 'F:/Dev' → '/data/X' and 'F:\\Dev' → '/data/x' are the same stored path 'f:/Dev' mapped to " +
            "different local folders",
        ];
        Assert.Equal(expected, conflicts);
    }

    [Fact]
    public void Stored_posix_prefixes_match_case_sensitively()
    {
        var map = new PathMap([new("/srv/Rd", "/data/rd")], "/base");
        Assert.Equal("/data/rd/ws", map.Map("/srv/Rd/ws").Local);
        Assert.True(map.Map("/srv/Rd/ws").IsResolved);
        Assert.Equal("/srv/rd/ws", map.Map("/srv/rd/ws").Local);
    }

    [Fact]
    public void The_roots_are_the_given_folders_and_every_entry_s_local_folder()
    {
        Assert.Empty(new PathMap([new("F:/Dev", "/data/dev")], "/base").Roots);
        using var dir = new TempDir();
        var map = new PathMap([new("F:/Dev", dir["dev"])], "/base", [dir["root"], dir["dev"]]);
        Assert.Equal([dir["root"], dir["dev"]], map.Roots);
    }

    [Fact]
    public void A_path_outside_the_roots_is_refused_with_the_roots_and_the_fix_named()
    {
        using var dir = new TempDir();
        var root = Directory.CreateDirectory(dir["root"]).FullName;
        var map = new PathMap([new("F:/Dev", dir["dev"])], root, [root]);
        var mapped = map.Map(dir["elsewhere/ws"]);
        Assert.Equal($"'{dir["elsewhere/ws"]}' leads to '{dir["elsewhere/ws"]}', outside rdagent.root, the " +
            $"workspace roots and the pathMap's local folders ({root}, {dir["dev"]}); it is neither read nor written " +
            "— if that folder is yours, add it to rdagent.workspaceRoot in rdbridge.json", mapped.Problem);
        // Folder names are compared as this file system does: on Linux a root in other letter case is another folder.
        if (OperatingSystem.IsLinux()) Assert.Null(map.Map(root.ToUpperInvariant() + "/ws").Local);
        // An absolute stored path that climbs out with '..' is judged where it leads, not by how it starts; '.' stays
        // where it is, so '..' after it still climbs; one that climbs out and back in is allowed.
        Assert.Null(map.Map(root + "/../elsewhere/ws").Local);
        Assert.Null(map.Map(root + "/sub/./../../elsewhere/ws").Local);
        Assert.Equal(root + "/../root/ws", map.Map(root + "/../root/ws").Local);
    }

    [Fact]
    public void At_most_forty_links_along_one_path_are_followed()
    {
        // "s" is a link to its own folder: root/s/s/…/s is root, each "s" one link followed.
        using var dir = new TempDir();
        var root = Directory.CreateDirectory(dir["root"]).FullName;
        Directory.CreateSymbolicLink(Path.Combine(root, "s"), root);
        string Through(int links) => root + string.Concat(Enumerable.Repeat("/s", links)) + "/x";
        Assert.Equal(Path.Combine(root, "x"), PathMap.Resolved(Through(40)));
        // The 41st link is not followed: the path ends there.
        Assert.Equal(Path.Combine(root, "s"), PathMap.Resolved(Through(41)));
    }

    [Fact]
    public void Two_links_that_point_at_each_other_end_the_resolution_instead_of_the_process()
    {
        using var dir = new TempDir();
        var root = Directory.CreateDirectory(dir["root"]).FullName;
        Directory.CreateSymbolicLink(Path.Combine(root, "a"), Path.Combine(root, "b"));
        Directory.CreateSymbolicLink(Path.Combine(root, "b"), Path.Combine(root, "a"));
        var map = new PathMap([], root, [root]);
        // Where a loop of links leads is nowhere readable; the map answers without following it forever.
        var mapped = map.Map("a/ws");
        Assert.Equal(Path.Combine(root, "a", "ws"), mapped.Local);
    }
}
