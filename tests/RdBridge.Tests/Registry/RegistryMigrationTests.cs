using System.Text.RegularExpressions;

namespace RdBridge.Tests.Registry;

/// <summary>init migrates an older registry after its backup; the guide's loop query runs on the result.</summary>
public class RegistryMigrationTests
{
    /// <summary>The registry's tables and each table's columns, as SQLite itself lists them.</summary>
    private static SortedSet<string> Schema(string db)
    {
        var schema = new SortedSet<string>(StringComparer.Ordinal);
        var tables = Db.Rows(db, "SELECT name FROM sqlite_master WHERE type = 'table'").Select(r => (string)r[0]!);
        foreach (var t in tables)
        {
            schema.Add($"table {t}");
            foreach (var c in Db.Rows(db, $"SELECT name FROM pragma_table_info('{t}')"))
                schema.Add($"column {t}.{c[0]}");
        }
        return schema;
    }

    /// <summary>What migrate must add: what the test removed from the sample's schema, minus the columns of the
    /// tables it removed whole (adding a table adds its columns).</summary>
    private static List<string> Removed(SortedSet<string> before, SortedSet<string> after)
    {
        var gone = before.Except(after).ToList();
        var tables = gone.Where(g => g.StartsWith("table ", StringComparison.Ordinal)).Select(g => g[6..]).ToList();
        return gone.Where(g => !tables.Any(t => g.StartsWith($"column {t}.", StringComparison.Ordinal)))
            .Select(g => "added " + g).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The "[migrate]" line and the lines under it, the added items sorted.</summary>
    private static (string Head, List<string> Items) Migrate(string output)
    {
        var lines = OutputLines.Of(output).ToList();
        var at = lines.FindIndex(l => l.StartsWith("[migrate]", StringComparison.Ordinal));
        Assert.True(at >= 0, output); // a guard: the exact lines are compared below
        var items = lines.Skip(at + 1).TakeWhile(l => l.StartsWith("  · ", StringComparison.Ordinal))
            .Select(l => l[4..]).Order(StringComparer.Ordinal).ToList();
        return (lines[at], items);
    }

    /// <summary>The backup line and its note naming the one backup folder the run added on disk.</summary>
    private static void OneBackupNamed(string output, string backupDirectory, params string[] earlier)
    {
        var backup = Assert.Single(Directory.GetDirectories(backupDirectory).Except(earlier));
        var lines = OutputLines.Of(output).ToList();
        var at = lines.IndexOf("[backup] 1 backup written");
        Assert.True(at >= 0, output); // a guard: the exact note follows
        Assert.Equal($"  · backup at {backup} (taken just before the first change of this run)", lines[at + 1]);
    }

    [Fact]
    public void Init_on_an_older_registry_takes_its_backup_then_adds_what_is_missing_and_says_what_it_added()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var db = sample.Settings.RegistryPath;
        var schemaBefore = Schema(db);
        // The guide's production_bundles table (no digest columns) and loops without the columns RdBridge adds.
        Db.Exec(db, """
            DROP TABLE production_bundles;
            CREATE TABLE production_bundles (id INTEGER PRIMARY KEY AUTOINCREMENT, task_run_id TEXT NOT NULL,
                loop_id INTEGER NOT NULL, bundle_id TEXT NOT NULL UNIQUE, bundle_path TEXT NOT NULL,
                created_at TEXT NOT NULL, updated_at TEXT, UNIQUE (task_run_id, loop_id));
            DROP TABLE rdbridge_loop_state; DROP TABLE rdbridge_run_state;
            ALTER TABLE loops DROP COLUMN workspace_id; ALTER TABLE loops DROP COLUMN workspace_path;
            ALTER TABLE loops DROP COLUMN asset_bundle_id;
            """);
        const string Rows = "SELECT task_run_id, loop_id, action, status, has_result FROM loops ORDER BY 1, 2";
        var rowsBefore = Db.Rows(db, Rows).Select(r => string.Join("|", r)).ToList();
        var withResults = Db.Scalar(db, "SELECT count(*) FROM loops WHERE has_result = 1");
        var removed = Removed(schemaBefore, Schema(db));
        Assert.Equal(9, removed.Count);

        // A stage verb still asks for doctor --fix, naming the registry and the first four items it lacks.
        var (code, _, err) = sample.Cli("bundle");
        Assert.Equal(2, code);
        Assert.Equal($"error: registry '{db}' has an older schema (column loops.asset_bundle_id is missing; column "
            + "loops.workspace_id is missing; column loops.workspace_path is missing; column "
            + $"production_bundles.content_digest is missing; and {removed.Count - 4} more); run 'rdbridge doctor "
            + "--fix' to add what is missing (nothing is dropped)\n", err);

        (code, var output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        // Exactly what the test removed is added back, each item named, and the count says so.
        var (head, items) = Migrate(output);
        Assert.Equal($"[migrate] {Words.N(removed.Count, "table or column added", "tables and columns added")}", head);
        Assert.Equal(removed, items);
        OneBackupNamed(output, sample.Settings.BackupDirectory);
        // Each of them is in the registry again (the guide's production_bundles keeps its own other columns).
        var after = Schema(db);
        Assert.All(removed, r => Assert.Contains(r["added ".Length..], after));
        Assert.Equal(rowsBefore, Db.Rows(db, Rows).Select(r => string.Join("|", r)).ToList());
        Assert.Equal(withResults, sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog"));

        // The backup holds the registry as it was before the migration.
        var backup = Directory.EnumerateFiles(sample.Settings.BackupDirectory, "registry.sqlite",
            SearchOption.AllDirectories).Single();
        long Has(string table, string column) =>
            Db.Scalar(backup, $"SELECT count(*) FROM pragma_table_info('{table}') WHERE name = '{column}'");
        Assert.Equal(0, Has("loops", "workspace_id"));
        Assert.Equal(0, Has("production_bundles", "content_digest"));
        Assert.Equal(1, Has("loops", "log_dir"));
    }

    [Fact]
    public void Sync_after_an_upgrade_adds_rdbridges_new_columns_after_its_backup_instead_of_refusing()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var db = sample.Settings.RegistryPath;
        Assert.Equal(0, sample.Cli("init").Code);
        var schemaBefore = Schema(db);
        var initBackups = Directory.GetDirectories(sample.Settings.BackupDirectory);
        // A registry an earlier RdBridge migrated: without the loop workspace columns and the state tables.
        Db.Exec(db, """
            DROP TABLE rdbridge_loop_state; DROP TABLE rdbridge_run_state;
            ALTER TABLE loops DROP COLUMN workspace_id; ALTER TABLE loops DROP COLUMN workspace_path;
            """);
        var (code, output, err) = sample.Cli("sync");
        Assert.True(code == 0, output + err);
        var (head, items) = Migrate(output);
        Assert.Equal("[migrate] 4 tables and columns added", head);
        Assert.Equal(["added column loops.workspace_id", "added column loops.workspace_path",
            "added table rdbridge_loop_state", "added table rdbridge_run_state"], items);
        OneBackupNamed(output, sample.Settings.BackupDirectory, initBackups);
        Assert.Equal(schemaBefore, Schema(db));
        Assert.Equal(2, Db.Scalar(db, "SELECT count(*) FROM loops WHERE workspace_id IS NOT NULL"));
        // A whole line of the next sync's output (its other lines are the run's summary).
        Assert.Contains("  · no loop, file or product changed since the last successful run: nothing to examine",
            OutputLines.Of(sample.Cli("sync").Out));
    }

    /// <summary>The guide's "查询 Loop 的完整信息" query, read from the guide itself.</summary>
    private static string GuideLoopQuery()
    {
        var guide = File.ReadAllText(
            Path.Combine(Paths.Shared, "seed", "rdagent-aistock-init-and-incremental-guide.zh.md"));
        var match = Regex.Match(guide, @"```sql\s*\n-- 查询 Loop 的完整信息\n(?<sql>.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, "the guide's loop query was not found");
        return match.Groups["sql"].Value;
    }

    [Fact, RealData]
    public void The_guides_loop_query_runs_verbatim_and_names_the_loops_experiment_workspace()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        var db = sample.Settings.RegistryPath;
        var sql = GuideLoopQuery();
        // Guards on the guide's own text (the query must read the two columns RdBridge adds); the rows it returns
        // are compared exactly below.
        Assert.All(["l.workspace_id", "l.workspace_path"], column => Assert.Contains(column, sql));

        Assert.Empty(Db.Rows(db, sql)); // verbatim: the guide's example ids are not in this registry, and it runs

        var expected = Db.Rows(db, """
            SELECT l.task_run_id, l.loop_id, w.workspace_id, w.workspace_path, l.log_dir
            FROM loops l JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id
            WHERE w.workspace_role = 'experiment_workspace' AND l.loop_id = 1
            """).Single();
        var ours = sql.Replace("'20250107_001'", $"'{expected[0]}'");
        var row = Db.Rows(db, ours).Single();
        Assert.Equal(expected[0], row[0]);
        Assert.Equal(1L, row[1]);
        Assert.Equal(expected[2], row[2]);
        Assert.Equal(expected[3], row[3]);
        Assert.Equal(expected[4], row[4]);
    }

    [Fact]
    public void A_loops_workspace_columns_follow_its_experiment_workspace_when_the_registry_changes_it()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var db = sample.Settings.RegistryPath;
        Assert.Equal(0, sample.Cli("init").Code);
        var (id, path) = Db.Rows(db, "SELECT workspace_id, workspace_path FROM loops WHERE loop_id = 0")
            .Select(r => ((string)r[0]!, (string)r[1]!)).Single();
        // RD-Agent records the workspace under a new id: the loop's columns follow it on the next sync.
        Db.Exec(db, $"UPDATE workspaces SET workspace_id = 'moved_{id}' WHERE workspace_id = '{id}'");
        var (code, output, _) = sample.Cli("sync");
        Assert.True(code == 0, output);
        // Only that loop is examined and given its workspace (the file and row counts after it are backfill's,
        // checked in its own tests).
        var lines = OutputLines.Of(output);
        Assert.Equal(["[select] 1 loop to examine, 1 loop unchanged since the last successful run"],
            lines.Where(l => l.StartsWith("[select]", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("[backfill] 1 loop, 1 loop given its workspace, 1 with results, ",
            StringComparison.Ordinal));
        Assert.Equal($"moved_{id}", Db.Rows(db, "SELECT workspace_id FROM loops WHERE loop_id = 0")[0][0]);
        Assert.Equal(path, Db.Rows(db, "SELECT workspace_path FROM loops WHERE loop_id = 0")[0][0]);
    }
}
