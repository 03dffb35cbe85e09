namespace RdBridge.Tests.EndToEnd;

/// <summary>Bad input: reported with ids and path, the rest of the run goes on, exit codes say what happened.</summary>
public class FaultTests
{
    private static (string TaskRun, long Loop, string WorkspaceId)[] LoopsWithResults(Sample sample)
    {
        var list = Db.Rows(sample.Settings.RegistryPath, "SELECT l.task_run_id, l.loop_id, w.workspace_id FROM loops l "
                + "JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id "
                + "AND w.workspace_role = 'experiment_workspace' WHERE l.has_result = 1 ORDER BY 1, 2")
            .Select(r => ((string)r[0]!, (long)r[1]!, (string)r[2]!)).ToList();
        return [.. list];
    }

    private static void Exec(Sample sample, string sql) => Db.Exec(sample.Settings.RegistryPath, sql);

    [Fact]
    public void A_missing_workspace_is_reported_with_ids_and_path_and_the_other_loops_are_bundled()
    {
        using var sample = new Sample(taskRuns: 2, loops: 3);
        var loops = LoopsWithResults(sample);
        var victim = loops[0];
        Directory.Delete(Path.Combine(sample.Settings.WorkspaceRoot, victim.WorkspaceId), recursive: true);
        var (code, output, _) = sample.Cli("init");
        Assert.Equal(1, code);
        Assert.Contains($"{victim.TaskRun}/{victim.Loop}", output);
        Assert.Contains(victim.WorkspaceId, output);
        foreach (var other in loops.Skip(1))
        {
            Assert.True(File.Exists(Path.Combine(sample.Settings.BundleDirectory,
                $"bundle_{other.TaskRun}_{other.Loop}.tar.gz")));
        }

        Assert.False(File.Exists(Path.Combine(sample.Settings.BundleDirectory,
            $"bundle_{victim.TaskRun}_{victim.Loop}.tar.gz")));
    }

    [Fact]
    public void A_malformed_result_file_is_reported_and_the_loop_is_still_bundled_and_catalogued()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var victim = LoopsWithResults(sample)[0];
        var res = Path.Combine(sample.Settings.WorkspaceRoot, victim.WorkspaceId, "qlib_res.csv");
        File.WriteAllText(res, ",0\nIC,0.05\nthis line is broken\nICIR,abc\n");
        var (code, output, _) = sample.Cli("init");
        Assert.Equal(1, code);
        Assert.Contains("this line is broken", output);
        Assert.True(File.Exists(Path.Combine(sample.Settings.BundleDirectory,
            $"bundle_{victim.TaskRun}_{victim.Loop}.tar.gz")));
        var catalog = File.ReadAllText(Path.Combine(sample.Settings.CatalogDirectory, "loop_catalog.json"));
        Assert.Contains($"bundle_{victim.TaskRun}_{victim.Loop}", catalog);
    }

    [Fact]
    public void A_loop_without_a_workspace_row_is_reported()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var victim = LoopsWithResults(sample)[0];
        Exec(sample, $"DELETE FROM workspaces WHERE task_run_id = '{victim.TaskRun}' AND loop_id = {victim.Loop}");
        var (code, output, _) = sample.Cli("bundle");
        Assert.Equal(1, code);
        Assert.Contains($"loop {victim.TaskRun}/{victim.Loop} has no row in the workspaces table", output);
    }

    [Fact]
    public void A_loop_never_takes_another_loops_workspace_of_the_same_task_run()
    {
        using var sample = new Sample(taskRuns: 1, loops: 4);
        Assert.Equal(0, sample.Cli("init").Code);
        var loops = LoopsWithResults(sample);
        foreach (var l in loops)
        {
            var manifest = Path.Combine(sample.Settings.AssetCacheDirectory, $"bundle_{l.TaskRun}_{l.Loop}",
                "manifest.json");
            var text = File.ReadAllText(manifest);
            Assert.Contains(l.WorkspaceId, text);
            foreach (var other in loops.Where(o => o != l)) Assert.DoesNotContain(other.WorkspaceId, text);
        }
    }

    [Fact]
    public void Bad_options_and_configuration_exit_with_2_and_say_what_to_change()
    {
        using var sample = new Sample(taskRuns: 1, loops: 1);
        var (code, _, err) = sample.Cli("backfill", "--mode", "nonsense");
        Assert.Equal(2, code);
        Assert.Contains("nonsense", err);
        (code, _, err) = sample.Cli("backfill", "--loop-id", "1");
        Assert.Equal(2, code);
        Assert.Contains("--task-run-id", err);
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(2, RdBridge.Cli.Program.Run(["doctor", "--config", sample.Dir["missing.json"]], o, e));
        Assert.Contains("does not exist", e.ToString());
        File.WriteAllText(sample.Config, "{ not json");
        (code, _, err) = sample.Cli("doctor");
        Assert.Equal(2, code);
        Assert.Contains("not valid JSON", err);
    }

    [Fact]
    public void A_tampered_bundle_is_refused_by_sync_assets_and_found_by_deep_verify()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        Assert.Equal(0, sample.Cli("init").Code);
        var victim = LoopsWithResults(sample)[0];
        var id = $"bundle_{victim.TaskRun}_{victim.Loop}";
        var cache = sample.Settings.AssetCacheDirectory;

        // A cached copy changed after syncing: the plain verify trusts the digests, --deep re-hashes and names it.
        var cached = Path.Combine(cache, id + ".tar.gz");
        var bytes = File.ReadAllBytes(cached);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(cached, bytes);
        var (code, output, _) = sample.Cli("verify", "--deep");
        Assert.Equal(1, code);
        Assert.Contains($"{id}: cached archive does not match its .sha256", output);

        // A source bundle changed on the RD-Agent side: sync-assets refuses to copy it and keeps nothing half-copied.
        File.Delete(cached);
        var source = Path.Combine(sample.Settings.BundleDirectory, id + ".tar.gz");
        bytes = File.ReadAllBytes(source);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(source, bytes);
        (code, output, _) = sample.Cli("sync-assets");
        Assert.Equal(1, code);
        Assert.Contains(id, output);
        Assert.Contains("does not match its .sha256", output);
        Assert.False(File.Exists(cached));
        Assert.Empty(Directory.EnumerateFiles(cache, "*.tmp"));
    }

    [Fact]
    public void The_oldest_registry_schema_is_audited_refused_and_migrated_without_losing_rows()
    {
        // The first registry the Python tools wrote: no log_dir, no materialization, bundle or sync columns,
        // no params_json, no factor_registry and no production_bundles.
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var db = sample.Settings.RegistryPath;
        Exec(sample, "DROP TABLE production_bundles; DROP TABLE factor_registry;");
        foreach (var column in new[]
        {
            "log_dir", "materialization_status", "materialization_error", "materialization_updated_at_utc",
            "asset_bundle_id", "is_solidified", "sync_status", "updated_at_utc",
        })
        {
            Exec(sample, $"ALTER TABLE loops DROP COLUMN {column}");
        }

        Exec(sample, "ALTER TABLE task_runs DROP COLUMN params_json");
        var loopsBefore = Db.Rows(db,
                "SELECT task_run_id, loop_id, action, status, has_result FROM loops ORDER BY 1, 2")
            .Select(r => string.Join("|", r)).ToList();

        var (code, output, err) = sample.Cli("backfill");
        Assert.Equal(2, code);
        Assert.Contains("doctor --fix", err);
        (code, output, _) = sample.Cli("doctor");
        Assert.Equal(1, code);
        Assert.Contains("loops.log_dir", output);
        Assert.Contains("table production_bundles is missing", output);
        (code, output, _) = sample.Cli("doctor", "--fix");
        Assert.Equal(0, code);
        Assert.Contains("migrated", output);
        Assert.Equal(loopsBefore, Db.Rows(db,
                "SELECT task_run_id, loop_id, action, status, has_result FROM loops ORDER BY 1, 2")
            .Select(r => string.Join("|", r)).ToList());
        (code, output, _) = sample.Cli("doctor");
        Assert.Equal(0, code);
        (code, output, _) = sample.Cli("init");
        Assert.True(code == 0, output);
    }
}
