using System.Security.Cryptography;
using System.Text.Json.Nodes;
using RdBridge.Sample;
using RdBridge.Verify;

namespace RdBridge.Tests.Setup;

/// <summary>Undo: restore puts a backup back, and doctor --fix heals the damage of the old order.</summary>
public class UndoTests
{
    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string Registry(Sample s) => s.Dir["RD-Agent-main/RDagentDB/registry.sqlite"];

    /// <summary>Every file of a folder with its sha256, read independently of RdBridge.</summary>
    private static SortedDictionary<string, string> Tree(string folder)
    {
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(folder)) return tree;
        foreach (var f in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            tree[Path.GetRelativePath(folder, f)] = Sha256(f);
        return tree;
    }

    [Fact]
    public void Restore_puts_back_the_backup_init_took_and_a_second_restore_changes_nothing()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        var registryBefore = Sha256(Registry(s));
        var libraryBefore = Tree(s.Dir["rd-strategies-lib"]);
        // One bundle and its digest per loop with a workspace, named by task run and loop as the registry holds them.
        var bundled = Db.Rows(Registry(s), "SELECT DISTINCT task_run_id, loop_id FROM workspaces")
            .SelectMany(r => new[] { $"bundle_{r[0]}_{r[1]}.tar.gz", $"bundle_{r[0]}_{r[1]}.tar.gz.sha256" })
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(0, s.Cli("init").Code);
        // A precondition, not the result: init wrote its own tables into the registry, so the restore below has a
        // change to undo (its result is checked byte for byte against the backup's copy below).
        Assert.NotEqual(registryBefore, Sha256(Registry(s)));
        Assert.Equal(bundled, Tree(s.Dir["RD-Agent-main/production_bundles"]).Keys);

        var list = s.Cli("restore");
        Assert.Equal(0, list.Code);
        // init took one backup, just before its first change: the state as the sample left it.
        var name = Directory.GetDirectories(s.Dir["RD-Agent-main/backups"]).Select(Path.GetFileName).Single()!;
        Assert.Contains(name, list.Out);

        var restore = s.Cli("restore", name[..12]);
        Assert.True(restore.Code == 0, restore.Out + restore.Err);
        // The registry has the bytes of the backup's copy, which holds the rows the sample wrote.
        Assert.Equal(Sha256(Path.Combine(s.Dir["RD-Agent-main/backups"], name, "registry.sqlite")),
            Sha256(Registry(s)));
        Assert.Empty(Db.Rows(Registry(s), "SELECT * FROM production_bundles"));
        Assert.False(Directory.Exists(s.Dir["RD-Agent-main/production_bundles"]));
        Assert.Equal(libraryBefore, Tree(s.Dir["rd-strategies-lib"]));
        // The state it replaced was backed up first.
        Assert.Equal(2, Directory.GetDirectories(s.Dir["RD-Agent-main/backups"]).Length);

        var registry = Sha256(Registry(s));
        var backups = Tree(s.Dir["RD-Agent-main/backups"]);
        var library = Tree(s.Dir["rd-strategies-lib"]);
        var again = s.Cli("restore", name);
        Assert.Equal(0, again.Code);
        Assert.Contains($"the registry, bundles and strategies library are already as backup {name}; nothing changed",
            OutputLines.Of(again.Out));
        Assert.Equal(registry, Sha256(Registry(s)));
        Assert.Equal(backups, Tree(s.Dir["RD-Agent-main/backups"]));
        Assert.Equal(library, Tree(s.Dir["rd-strategies-lib"]));
    }

    [Fact]
    public void Restore_names_the_backups_when_the_name_is_unknown()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        Assert.Equal(0, s.Cli("backup").Code);
        var (code, _, err) = s.Cli("restore", "1999");
        Assert.Equal(2, code);
        var backups = Directory.GetDirectories(s.Dir["RD-Agent-main/backups"]).Length;
        Assert.Equal(1, backups);
        Assert.Equal($"error: no backup '1999' in {s.Dir["RD-Agent-main/backups"]}; 'rdbridge restore' lists them "
            + $"({backups} there)\n", err);
    }

    [Fact]
    public void Doctor_fix_heals_the_duplicate_loops_the_old_order_added_and_sync_then_verifies()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        var registry = Registry(s);
        var taskRuns = Db.Rows(registry, "SELECT task_run_id, log_trace_path FROM task_runs ORDER BY task_run_id");
        var loops = Db.Rows(registry, "SELECT task_run_id, loop_id, action, status FROM loops");
        // The old order: discovery ran before a correct pathMap, missed each task run's stored log path, and added
        // the run again under its log folder's name with every loop, and no workspace (their ids were taken).
        foreach (var run in taskRuns)
        {
            var folder = ((string)run[1]!).Replace('\\', '/').Split('/')[^1];
            var local = s.Dir[$"RD-Agent-main/log/{folder}"];
            Db.Exec(registry, $"INSERT INTO task_runs (task_run_id, status, log_trace_path) VALUES " +
                $"('{folder}', 'success', '{local}')");
            foreach (var loop in loops.Where(l => (string)l[0]! == (string)run[0]!))
            {
                Db.Exec(registry, $"INSERT INTO loops (task_run_id, loop_id, action, status) VALUES " +
                    $"('{folder}', {loop[1]}, '{loop[2]}', '{loop[3]}')");
            }
        }
        Assert.Equal(2L * loops.Count, Db.Rows(registry, "SELECT count(*) FROM loops")[0][0]);
        var doctor = s.Cli("doctor");
        Assert.Equal(1, doctor.Code);
        // One finding per duplicate, naming it, the task run it repeats and its loops, with the fix.
        var doctorLines = OutputLines.Of(doctor.Out);
        foreach (var run in taskRuns)
        {
            var folder = ((string)run[1]!).Replace('\\', '/').Split('/')[^1];
            var finding = doctorLines.ToList().IndexOf($"✗ {"duplicate task run",-18} task run {folder} repeats "
                + $"{run[0]} (the same log folder, added by discovery under a wrong pathMap): "
                + Words.N(loops.Count(l => (string)l[0]! == (string)run[0]!), "loop", "loops") + " without workspaces");
            Assert.True(finding >= 0, doctor.Out); // a guard: the fix follows on the next line
            Assert.Equal("  → run 'rdbridge doctor --fix' (it takes a backup first; 'rdbridge restore' undoes it)",
                doctorLines[finding + 1]);
        }

        var fix = s.Cli("doctor", "--fix");
        Assert.True(fix.Code == 0, fix.Out + fix.Err);
        Assert.Equal(taskRuns.Count, Convert.ToInt32(Db.Rows(registry, "SELECT count(*) FROM task_runs")[0][0]));
        Assert.Equal(loops.Count, Convert.ToInt32(Db.Rows(registry, "SELECT count(*) FROM loops")[0][0]));
        // A backup of the damaged registry was taken first, so restore can undo the fix.
        var backup = Directory.GetDirectories(s.Dir["RD-Agent-main/backups"]).Single();
        Assert.Equal(2L * loops.Count,
            Db.Rows(Path.Combine(backup, "registry.sqlite"), "SELECT count(*) FROM loops")[0][0]);

        var init = s.Cli("init");
        Assert.True(init.Code == 0, init.Out + init.Err);
        Assert.Contains($"verification passed: {Checks.All.Count} of {Words.N(Checks.All.Count, "check", "checks")}",
            OutputLines.Of(init.Out));
    }

    [Fact]
    public void Init_json_prints_only_the_verification_json_on_stdout()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        var (code, output, err) = s.Cli("init", "--json");
        Assert.Equal(0, code);
        var json = JsonNode.Parse(output)!;
        // Every item of the checklist, in its order, each passed.
        Assert.Equal(Checks.All.Select(c => c.Id), json["checks"]!.AsArray().Select(c => (string)c!["id"]!));
        Assert.All(json["checks"]!.AsArray(), c => Assert.True((bool)c!["passed"]!, c.ToJsonString()));
        Assert.True((bool)json["passed"]!);
        // The progress went to stderr: a stage line, and the run's closing line (the first run of a new store).
        var errLines = OutputLines.Of(err);
        Assert.Contains(errLines, l => l.StartsWith("[backfill] ", StringComparison.Ordinal));
        Assert.Contains(errLines, l => l.StartsWith("init run #1: changes written — ", StringComparison.Ordinal));
    }
}
