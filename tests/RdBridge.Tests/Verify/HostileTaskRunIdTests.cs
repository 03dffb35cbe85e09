namespace RdBridge.Tests.Verify;

/// <summary>
/// Issue 26, class 5 (a crash that ended the run becomes the item's problem): a task run id in the registry that
/// cannot be a file name — a slash (the issue's example), 300 characters, a NUL, '..', a Windows device name — is each
/// loop's problem in verify as in every other stage: init ends with exit 1 and the whole report, not exit 2 and none,
/// and the good task run's loops are still bundled, imported and checked.
/// </summary>
public class HostileTaskRunIdTests
{
    [Fact]
    public void Item_problem_not_crash_hostile_task_run_ids_in_the_registry_leave_verify_reporting()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2, store: "sqlite");
        var registry = sample.Settings.RegistryPath;
        var good = (string)Db.Rows(registry, "SELECT task_run_id FROM task_runs")[0][0]!;
        var longId = new string('x', 300);
        string[] hostile = ["'a/b'", $"'{longId}'", "'nul' || char(0) || 'id'", "'..'", "'CON'"];
        foreach (var id in hostile)
        {
            // A copy of the good task run and its loops (results and all) under the hostile id.
            Db.Exec(registry, $"""
                INSERT INTO task_runs SELECT {id}, scenario, status, created_at_utc, updated_at_utc, git_sha,
                    rdagent_version, log_trace_path, params_json FROM task_runs WHERE task_run_id = '{good}';
                CREATE TEMP TABLE copied AS SELECT * FROM loops WHERE task_run_id = '{good}';
                UPDATE copied SET task_run_id = {id}, asset_bundle_id = NULL;
                INSERT INTO loops SELECT * FROM copied;
                DROP TABLE copied;
                """);
        }

        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 1, $"exit {code}\n{output}\n{err}");
        Assert.DoesNotContain("is not a usable bundle id", output + err);
        // The summary counts the checks listed, failed and passed.
        var lines = output.Split('\n');
        var checks = lines.SkipWhile(l => l != "RD-Agent 侧 / RD-Agent side").ToList();
        var failed = checks.Count(l => l.StartsWith("  ✗ ", StringComparison.Ordinal));
        var passed = checks.Count(l => l.StartsWith("  ✓ ", StringComparison.Ordinal));
        Assert.Contains($"verification FAILED: {failed} of {Words.N(failed + passed, "check", "checks")} "
            + "failed", lines);
        // The bundle-file check misses the bundle of every copied loop (each hostile id × the good run's loops) and
        // names the first five in order, the unusable id with why and what to do.
        var goodLoops = (long)Db.Rows(registry, $"SELECT count(*) FROM loops WHERE task_run_id = '{good}'")[0][0]!;
        var at = Array.FindIndex(lines, l => l.StartsWith("  ✗ rd.bundle_files ", StringComparison.Ordinal));
        Assert.Equal($"    {hostile.Length * goodLoops} missing: bundle_.._0, bundle_.._1, bundle_CON_0, bundle_CON_1, "
            + "bundle_a/b_0 (its task run id cannot be a file name; rename the task run in the registry)",
            lines[at + 1]);

        // The good task run went through every stage: its loops are in AIstock with their bundles, extracted.
        var bundled = sample.Aistock.Rows(
            $"SELECT asset_bundle_id FROM aistock_loop_catalog WHERE task_run_id = '{good}' ORDER BY loop_id");
        Assert.Equal([$"bundle_{good}_0", $"bundle_{good}_1"], bundled.Select(r => (string)r[0]!));
        foreach (var row in bundled)
            Assert.True(File.Exists(sample.Settings.AssetCache.ExtractedManifest((string)row[0]!)));
    }
}
