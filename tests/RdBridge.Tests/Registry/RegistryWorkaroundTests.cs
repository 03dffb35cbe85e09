namespace RdBridge.Tests.Registry;

/// <summary>
/// Issue 26, class 6 (what RdBridge works around, it says): a registry with a loop row given twice (the issue's
/// example), a workspace row given twice, or no <c>workspaces</c> table at all is never repaired or read around without
/// a word — each stage that reads around a row names the registry file, the row and what was done, and a registry
/// without its workspaces table is refused naming the file, with nothing written.
/// </summary>
public class RegistryWorkaroundTests
{
    /// <summary>The fork's older registries have no primary keys: rebuild a table without its constraints.</summary>
    private static void DropKeys(string registry, string table) => Db.Exec(registry, $"""
        CREATE TABLE copy_of AS SELECT * FROM {table};
        DROP TABLE {table};
        ALTER TABLE copy_of RENAME TO {table};
        """);

    [Fact]
    public void Registry_workaround_a_loop_row_given_twice_is_named_with_the_registry_file_by_every_stage()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var registry = sample.Settings.RegistryPath;
        DropKeys(registry, "loops");
        Db.Exec(registry, "INSERT INTO loops SELECT * FROM loops WHERE loop_id = 0");
        var taskRun = (string)Db.Rows(registry, "SELECT task_run_id FROM loops LIMIT 1")[0][0]!;

        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 1, $"exit {code}\n{output}\n{err}");
        // The whole line: the row by table and key, why, what was done, and the registry file to fix it in.
        var problem = $"  ✗ loops row {taskRun}/0: a second row with the same task_run_id and loop_id (the first one "
            + $"is used); the row is skipped, fix or delete it in the registry '{registry}'";
        var lines = OutputLines.Of(output).ToList();
        // Each stage that reads the loops names it once, right under its own line that counts one problem.
        var stages = lines.Select((l, i) => (l, i)).Where(x => x.l == problem)
            .Select(x => lines[x.i - 1]).ToList();
        Assert.Equal(["[backfill]", "[bundle]", "[export]"], stages.Select(l => l[..l.IndexOf(' ')]));
        Assert.All(stages, l => Assert.EndsWith(" — 1 problem", l));
        // Backfill counts loops, not rows: the duplicate row is the same loop as the first.
        var loops = Db.Scalar(registry, "SELECT count(*) FROM (SELECT DISTINCT task_run_id, loop_id FROM loops)");
        Assert.StartsWith($"[backfill] {Words.N(loops, "loop", "loops")}, "
            + $"{Words.N(loops, "loop given its workspace", "loops given their workspace")}, ", stages[0]);
        var (ec, eo, ee) = sample.Cli("export");
        Assert.True(ec == 1, $"exit {ec}\n{eo}\n{ee}");
        Assert.Contains(problem, OutputLines.Of(eo));
        // Worked around, as said: the first row is used, both loops are in AIstock once each.
        Assert.Equal(2, sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog"));
    }

    [Fact]
    public void Registry_workaround_a_workspace_row_given_twice_is_named_with_the_registry_file()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var registry = sample.Settings.RegistryPath;
        DropKeys(registry, "workspaces");
        var workspace = (string)Db.Rows(registry, "SELECT workspace_id FROM workspaces ORDER BY workspace_id")[0][0]!;
        Db.Exec(registry, $"INSERT INTO workspaces SELECT * FROM workspaces WHERE workspace_id = '{workspace}'");

        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 1, $"exit {code}\n{output}\n{err}");
        // The whole problem line (each stage that reads the registry reports it).
        Assert.Contains($"  ✗ workspaces row {workspace}: a second row with the same workspace_id (the first one is "
            + $"used); the row is skipped, fix or delete it in the registry '{registry}'", output.Split('\n'));
    }

    [Fact]
    public void Registry_workaround_a_registry_without_its_workspaces_table_is_refused_naming_the_file()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var registry = sample.Settings.RegistryPath;
        Db.Exec(registry, "DROP TABLE workspaces");

        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 2, $"exit {code}\n{output}\n{err}");
        // The problem and its fix, whole lines of the refusal.
        var lines = err.Split('\n');
        Assert.Contains($"  ✗ registry: registry '{registry}' has no 'workspaces' table, where RD-Agent records its "
            + "loops; check that rdagent.registry in rdbridge.json names RD-Agent's RDagentDB/registry.sqlite, or "
            + "restore the registry from a backup (rdbridge keeps one in its backup folder)", lines);
        Assert.Contains($"    → point rdagent.registry in {sample.Config} at the fork's RDagentDB/registry.sqlite",
            lines);
        // Not repaired behind the user's back: the registry still has no workspaces table.
        Assert.Empty(Db.Rows(registry, "SELECT name FROM sqlite_master WHERE name = 'workspaces'"));
    }
}
