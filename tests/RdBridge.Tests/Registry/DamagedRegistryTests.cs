namespace RdBridge.Tests.Registry;

/// <summary>
/// A corpus of damaged registries: each bad row is named with its table and key and skipped, the good loops go on; a
/// missing table stops every command with exit 2 and what to do.
/// </summary>
public class DamagedRegistryTests
{
    /// <summary>Rebuilds a table without its constraints (as a hand-made or damaged registry may be).</summary>
    private static string Unconstrained(string table) =>
        $"CREATE TABLE {table}_copy AS SELECT * FROM {table}; DROP TABLE {table}; "
        + $"ALTER TABLE {table}_copy RENAME TO {table};";

    /// <summary>What to do when the registry lacks a table or key column.</summary>
    private const string Fix = "check that rdagent.registry in rdbridge.json names RD-Agent's "
        + "RDagentDB/registry.sqlite, or restore the registry from a backup (rdbridge keeps one in its backup folder)";

    private const string LoopZero = "task_run_id = $tr AND loop_id = 0";

    private const string Experiment = LoopZero + " AND workspace_role = 'experiment_workspace'";

    // Each damage touches loop 0 of the first task run (it always has results): the SQL, the table and key the report
    // must name ($ws: that loop's experiment workspace id), what is lost: "loop" (its row is unusable), "bundle"
    // (its workspace row is) or "none" (a second row with a key already read, or a bad bundle row that is rebuilt),
    // and the reason the report gives: what the SQL made wrong, in the registry's column names.
    public static readonly TheoryData<string, string, string, string, string, string> Damages = new()
    {
        {
            "text in loops.loop_id", $"UPDATE loops SET loop_id = 'zero' WHERE {LoopZero}",
            "loops", "$tr/zero", "loop", "loop_id is 'zero', not an integer"
        },
        {
            "NULL loops.loop_id", Unconstrained("loops") + $"UPDATE loops SET loop_id = NULL WHERE {LoopZero}",
            "loops", "$tr/NULL", "loop", "loop_id is NULL"
        },
        {
            "NULL loops.task_run_id", Unconstrained("loops") + $"UPDATE loops SET task_run_id = NULL WHERE {LoopZero}",
            "loops", "NULL/0", "loop", "task_run_id is NULL or empty"
        },
        {
            "duplicate loop rows", Unconstrained("loops") + $"INSERT INTO loops SELECT * FROM loops WHERE {LoopZero}",
            "loops", "$tr/0", "none", "a second row with the same task_run_id and loop_id (the first one is used)"
        },
        {
            "NULL workspaces.workspace_id",
            Unconstrained("workspaces") + $"UPDATE workspaces SET workspace_id = NULL WHERE {Experiment}",
            "workspaces", "of loop $tr/0", "bundle", "workspace_id is NULL or empty"
        },
        {
            "text in workspaces.loop_id", $"UPDATE workspaces SET loop_id = 'zero' WHERE {Experiment}",
            "workspaces", "$ws", "bundle", "loop_id is 'zero', not an integer"
        },
        {
            "NULL workspaces.workspace_path",
            Unconstrained("workspaces") + $"UPDATE workspaces SET workspace_path = NULL WHERE {Experiment}",
            "workspaces", "$ws", "bundle", "workspace_path is NULL or empty"
        },
        {
            "duplicate workspace rows",
            Unconstrained("workspaces") + $"INSERT INTO workspaces SELECT * FROM workspaces WHERE {Experiment}",
            "workspaces", "$ws", "none", "a second row with the same workspace_id (the first one is used)"
        },
        {
            "text in production_bundles.size_bytes",
            "INSERT INTO production_bundles (task_run_id, loop_id, bundle_id, bundle_path, created_at, size_bytes) "
            + "VALUES ($tr, 0, 'bundle_old', 'old.tar.gz', '2025-01-01', 'large')",
            "production_bundles", "$tr/0", "none",
            "size_bytes or file_count is not an integer (the bundle is built again)"
        },
    };

    [Theory, MemberData(nameof(Damages))]
    public void Init_names_each_bad_row_with_its_table_and_key_skips_it_and_brings_over_every_good_loop(
        string damage, string sql, string table, string key, string lost, string reason)
    {
        using var sample = new Sample(taskRuns: 2, loops: 3);
        var db = sample.Settings.RegistryPath;
        var tr = (string)Db.Rows(db, "SELECT task_run_id FROM loops ORDER BY task_run_id LIMIT 1")[0][0]!;
        var experiment = Experiment.Replace("$tr", $"'{tr}'");
        var ws = (string)Db.Rows(db, $"SELECT workspace_id FROM workspaces WHERE {experiment}")[0][0]!;
        var withResults = Db.Scalar(db, "SELECT count(*) FROM loops WHERE has_result = 1");
        Db.Exec(db, sql.Replace("$tr", $"'{tr}'"));
        // The registry alone: with loop 0's log in place, discovery would bring a lost loop back (tested below).
        foreach (var log in Directory.GetDirectories(sample.Settings.LogRoot, "Loop_0", SearchOption.AllDirectories))
            Directory.Delete(log, recursive: true);

        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 1, $"{damage}: exit {code}\n{output}\n{err}");
        Assert.DoesNotContain("unexpectedly", output + err);
        // A problem line naming the row by table and key, why it cannot be used, what was done and the registry file
        // to fix it in.
        var line = $"  ✗ {table} row {key.Replace("$tr", tr).Replace("$ws", ws)}: {reason}; the row is skipped, fix "
            + $"or delete it in the registry '{db}'";
        Assert.True(OutputLines.Of(output).Contains(line), $"{damage}: '{line}' not in\n{output}");
        // Every other loop goes on: bundled, exported and imported.
        var bundles = Directory.EnumerateFiles(sample.Settings.BundleDirectory, "*.tar.gz").Count();
        Assert.Equal(lost == "none" ? withResults : withResults - 1, bundles);
        // Loops with results are the ones with a bundle; loops without results are imported too, with none.
        var imported = sample.Aistock.Scalar(
            "SELECT count(*) FROM aistock_loop_catalog WHERE asset_bundle_id IS NOT NULL");
        Assert.Equal(lost == "none" ? withResults : withResults - 1, imported);
    }

    [Fact]
    public void A_loop_whose_registry_row_is_unusable_is_brought_back_from_its_log_and_the_bad_row_still_named()
    {
        using var sample = new Sample(taskRuns: 2, loops: 3);
        var db = sample.Settings.RegistryPath;
        var tr = (string)Db.Rows(db, "SELECT task_run_id FROM loops ORDER BY task_run_id LIMIT 1")[0][0]!;
        var withResults = Db.Scalar(db, "SELECT count(*) FROM loops WHERE has_result = 1");
        var before = Db.Rows(db, $"SELECT status, action FROM loops WHERE task_run_id = '{tr}' AND loop_id = 0")[0];
        Db.Exec(db, $"UPDATE loops SET loop_id = 'zero' WHERE task_run_id = '{tr}' AND loop_id = 0");

        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 1, $"exit {code}\n{output}\n{err}");
        var lines = OutputLines.Of(output).ToList();
        Assert.Contains($"  ✗ loops row {tr}/zero: loop_id is 'zero', not an integer; the row is skipped, fix or "
            + $"delete it in the registry '{db}'", lines);
        // Discovery adds the loop back from its log, with the status and action the registry's row had (its
        // workspaces are linked by backfill afterwards, from their own rows).
        Assert.Contains($"  · added loop {tr}/0: {before[0]}, {before[1]}, 0 workspaces", lines);
        Assert.Equal(withResults, Directory.EnumerateFiles(sample.Settings.BundleDirectory, "*.tar.gz").Count());
        Assert.Equal(1, sample.Aistock.Scalar(
            $"SELECT count(*) FROM aistock_loop_catalog WHERE task_run_id = '{tr}' AND loop_id = 0"));
    }

    [Fact]
    public void A_registry_without_the_column_linking_loops_to_workspaces_stops_with_exit_2_naming_it()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        Db.Exec(sample.Settings.RegistryPath,
            "DROP INDEX idx_workspaces_task_loop; ALTER TABLE workspaces DROP COLUMN loop_id");
        var (code, output, err) = sample.Cli("backfill");
        Assert.True(code == 2, $"exit {code}\n{output}\n{err}");
        Assert.Equal($"error: registry '{sample.Settings.RegistryPath}' has no column workspaces.loop_id, which links "
            + $"loops to their workspaces; {Fix}\n", err);
    }

    [Fact]
    public void A_task_run_recorded_twice_does_not_double_its_loops()
    {
        using var sample = new Sample(taskRuns: 2, loops: 3);
        var db = sample.Settings.RegistryPath;
        var withResults = Db.Scalar(db, "SELECT count(*) FROM loops WHERE has_result = 1");
        Db.Exec(db, Unconstrained("task_runs") + "INSERT INTO task_runs SELECT * FROM task_runs;");
        var (code, output, _) = sample.Cli("init");
        Assert.True(code == 0, output);
        Assert.Equal(withResults, sample.Aistock.Scalar(
            "SELECT count(*) FROM aistock_loop_catalog WHERE asset_bundle_id IS NOT NULL"));
        Assert.Equal(Db.Scalar(db, "SELECT count(*) FROM loops"),
            sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog"));
    }

    [Theory]
    [InlineData("loops", "init")]
    [InlineData("workspaces", "init")]
    [InlineData("loops", "backfill")]
    [InlineData("workspaces", "bundle")]
    [InlineData("loops", "sync")]
    public void A_registry_without_a_table_of_loops_or_workspaces_stops_with_exit_2_and_what_to_do(
        string table, string verb)
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        Db.Exec(sample.Settings.RegistryPath, $"DROP TABLE {table}");
        var (code, output, err) = sample.Cli(verb);
        Assert.True(code == 2, $"exit {code}\n{output}\n{err}");
        var missing = $"registry '{sample.Settings.RegistryPath}' has no '{table}' table, where RD-Agent records its "
            + $"loops; {Fix}";
        // init and sync check the registry before they write anything: the same message, as their preflight's item.
        Assert.Equal(verb is "init" or "sync"
            ? $"error: preflight: the run cannot succeed, so nothing was written:\n  ✗ registry: {missing}\n"
                + $"    → point rdagent.registry in {sample.Config} at the fork's RDagentDB/registry.sqlite\n"
            : $"error: {missing}\n", err);
        Assert.DoesNotContain("unexpectedly", output + err);
    }
}
