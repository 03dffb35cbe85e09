using RdBridge.Configuration;

namespace RdBridge.Tests.Safety;

/// <summary>
/// Issue 13 #12: a mapped path must resolve inside rdagent.root or a workspace root, else it is reported.
/// </summary>
public class ContainmentTests
{
    [Fact]
    public void A_stored_path_that_climbs_out_of_the_roots_is_refused()
    {
        using var dir = new TempDir();
        var root = Directory.CreateDirectory(dir["RD-Agent-main"]).FullName;
        Directory.CreateDirectory(dir["victim/etc"]);
        var map = new PathMap([new("F:/Dev/RD-Agent-main", root)], root, [root]);
        var mapped = map.Map("F:/Dev/RD-Agent-main/../../victim/etc");
        Assert.Null(mapped.Local);
        // Where the path leads ('..' judged where it lands: the folder above the test's), the roots, what to do.
        Assert.Equal($"'F:/Dev/RD-Agent-main/../../victim/etc' leads to "
            + $"'{Path.GetFullPath(Path.Combine(root, "..", "..", "victim", "etc"))}', outside rdagent.root, the "
            + $"workspace roots and the pathMap's local folders ({root}); it is neither read nor written — if that "
            + "folder is yours, add it to rdagent.workspaceRoot in rdbridge.json", mapped.Problem);
        Assert.Null(map.Map("/etc").Local);
        Assert.Equal(Path.Combine(root, "ws", "a"), map.Map("F:/Dev/RD-Agent-main/ws/a").Local);
    }

    [Fact]
    public void A_link_inside_the_root_that_leads_out_of_it_is_refused()
    {
        using var dir = new TempDir();
        var root = Directory.CreateDirectory(dir["root"]).FullName;
        Directory.CreateDirectory(dir["outside/ws1"]);
        Directory.CreateSymbolicLink(Path.Combine(root, "escape"), dir["outside"]);
        Directory.CreateDirectory(Path.Combine(root, "real"));
        Directory.CreateSymbolicLink(Path.Combine(root, "inner"), Path.Combine(root, "real"));
        var map = new PathMap([], root, [root]);
        Assert.Null(map.Map("escape/ws1").Local);
        Assert.Equal(Path.Combine(root, "inner", "x"), map.Map("inner/x").Local);
    }

    [Fact]
    public void Workspace_roots_may_be_a_list_and_each_one_is_allowed()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["R"]);
        File.WriteAllText(dir["rdbridge.json"], $$"""
            { "rdagent": { "root": "R", "workspaceRoot": ["{{dir["disk1"]}}", "{{dir["disk2"]}}"] },
              "aistock": { "root": "A" } }
            """);
        var s = SettingsLoader.Load(dir["rdbridge.json"]);
        Assert.Equal([dir["disk1"], dir["disk2"]], s.WorkspaceRoots);
        Assert.Equal(dir["disk1"], s.WorkspaceRoot);
        Assert.Equal(dir["disk2"] + "/w", s.PathMap.Map(dir["disk2"] + "/w").Local);
        Assert.Null(s.PathMap.Map(dir["disk3"] + "/w").Local);
    }

    [Fact]
    public void Backfill_never_writes_into_a_folder_outside_the_roots_and_says_which_loop_pointed_there()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var victimDir = Path.Combine(Path.GetDirectoryName(sample.Settings.RdAgentRoot)!, "victim", "etc");
        Directory.CreateDirectory(victimDir);
        File.WriteAllText(Path.Combine(victimDir, "passwd"), "root:x:0:0\n");
        File.WriteAllText(Path.Combine(victimDir, "qlib_res.csv"), ",0\nIC,0.9\n");
        var row = Db.Rows(sample.Settings.RegistryPath,
            "SELECT task_run_id, loop_id, workspace_id FROM workspaces " +
            "WHERE workspace_role = 'experiment_workspace' ORDER BY 1, 2 LIMIT 1")[0];
        Db.Exec(sample.Settings.RegistryPath,
            "UPDATE workspaces SET workspace_path = 'F:/Dev/RD-Agent-main/../victim/etc' " +
            $"WHERE workspace_id = '{row[2]}'");
        var before = Directory.GetFiles(victimDir).Order().ToArray();

        var (code, output, _) = sample.Cli("init");

        Assert.Equal(1, code);
        // Backfill names the loop, its workspace, where its stored path leads and the roots it is outside of.
        var s = sample.Settings;
        var roots = string.Join(", ", new[] { s.RdAgentRoot, Path.Combine(s.RdAgentRoot, "log"), s.WorkspaceRoot });
        Assert.Contains($"  ✗ {row[0]}/{row[1]}: loop {row[0]}/{row[1]} workspace {row[2]}: "
            + $"'F:/Dev/RD-Agent-main/../victim/etc' leads to '{victimDir}', outside "
            + $"rdagent.root, the workspace roots and the pathMap's local folders ({roots}); it is neither read nor "
            + "written — if that folder is yours, add it to rdagent.workspaceRoot in rdbridge.json",
            output.Split('\n'));
        Assert.Equal(before, Directory.GetFiles(victimDir).Order().ToArray());
        Assert.False(File.Exists(Path.Combine(sample.Settings.BundleDirectory, $"bundle_{row[0]}_{row[1]}.tar.gz")));
    }
}
