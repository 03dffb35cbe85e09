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
        // The loop, its workspace, where it was looked for and the registry's own spelling of it, what to check.
        var folder = Path.Combine(sample.Settings.WorkspaceRoot, victim.WorkspaceId);
        var stored = (string)Db.Rows(sample.Settings.RegistryPath,
            $"SELECT workspace_path FROM workspaces WHERE workspace_id = '{victim.WorkspaceId}'")[0][0]!;
        var loop = $"{victim.TaskRun}/{victim.Loop}";
        Assert.Contains($"  ✗ {loop}: loop {loop} workspace {victim.WorkspaceId} is missing: '{folder}' (stored as "
            + $"'{stored}'); check the pathMap in rdbridge.json or whether the folder was deleted [{folder}]",
            OutputLines.Of(output));
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
        // Both bad lines, each by its loop, workspace, file and line number and what is wrong, with the folder.
        var folder = Path.Combine(sample.Settings.WorkspaceRoot, victim.WorkspaceId);
        var lines = OutputLines.Of(output);
        Assert.Contains($"  ✗ {victim.TaskRun}/{victim.Loop}: workspace {victim.WorkspaceId}: {res} line 3 has no "
            + $"comma: 'this line is broken' [{folder}]", lines);
        Assert.Contains($"  ✗ {victim.TaskRun}/{victim.Loop}: workspace {victim.WorkspaceId}: {res} line 4: value "
            + $"'abc' of metric 'ICIR' is not a number [{folder}]", lines);
        Assert.True(File.Exists(Path.Combine(sample.Settings.BundleDirectory,
            $"bundle_{victim.TaskRun}_{victim.Loop}.tar.gz")));
        var catalog = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(
            Path.Combine(sample.Settings.CatalogDirectory, "loop_catalog.json")))!["loops"]!.AsArray();
        Assert.Equal($"bundle_{victim.TaskRun}_{victim.Loop}", (string?)catalog.Single(l =>
            (string?)l!["task_run_id"] == victim.TaskRun && (long)l!["loop_id"]! == victim.Loop)!["asset_bundle_id"]);
    }

    [Fact]
    public void A_loop_without_a_workspace_row_is_reported()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var victim = LoopsWithResults(sample)[0];
        Exec(sample, $"DELETE FROM workspaces WHERE task_run_id = '{victim.TaskRun}' AND loop_id = {victim.Loop}");
        var (code, output, _) = sample.Cli("bundle");
        Assert.Equal(1, code);
        var loop = $"{victim.TaskRun}/{victim.Loop}";
        Assert.Contains($"  ✗ {loop}: loop {loop} has no row in the workspaces table; RD-Agent did not record its "
            + "workspace, so it cannot be bundled", OutputLines.Of(output));
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
        var lines = OutputLines.Of(err);
        // The first line is System.CommandLine's own wording (it may change with its version): only the value is
        // asserted there; the modes it lists and RdBridge's hint are compared whole.
        Assert.Contains("'nonsense'", lines[0]);
        Assert.Equal(["\t'backfill'", "\t'materialize-pending'", "\t'solidify-all'", "\t'check'",
            "Run 'rdbridge --help' (or 'rdbridge <verb> --help') for the options.", ""], lines.Skip(1));
        (code, _, err) = sample.Cli("backfill", "--loop-id", "1");
        Assert.Equal(2, code);
        Assert.Equal("error: --loop-id needs --task-run-id\n", err);
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(2, RdBridge.Cli.Program.Run(["doctor", "--config", sample.Dir["missing.json"]], o, e));
        Assert.Equal($"error: config file '{sample.Dir["missing.json"]}' does not exist; pass --config with an "
            + "existing file, or run 'rdbridge sample --out DIR' to create one\n", e.ToString());
        File.WriteAllText(sample.Config, "{ not json");
        (code, _, err) = sample.Cli("doctor");
        Assert.Equal(2, code);
        // Between the file and the fix stands .NET's JSON configuration reader's own reason (its words may change).
        Assert.StartsWith($"error: config file '{sample.Config}' is not valid JSON: ", err);
        Assert.EndsWith("; fix the file and try again\n", err);
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
        var lines = OutputLines.Of(output).ToList();
        var check = lines.IndexOf("  ✗ ai.bundle_cache            rdagent_assets/bundles 目录包含所有资产包 / the asset cache "
            + "holds every bundle");
        Assert.True(check >= 0, output); // a guard: its detail follows
        Assert.Equal($"    1 bad: {id}: cached archive does not match its .sha256", lines[check + 1]);

        // A source bundle changed on the RD-Agent side: sync-assets refuses to copy it and keeps nothing half-copied.
        File.Delete(cached);
        var source = Path.Combine(sample.Settings.BundleDirectory, id + ".tar.gz");
        bytes = File.ReadAllBytes(source);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(source, bytes);
        (code, output, _) = sample.Cli("sync-assets");
        Assert.Equal(1, code);
        // The bundle by id and path, both digests (the file's as hashed here, the sidecar's as written), the fix.
        var got = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var expected = File.ReadAllText(source + ".sha256")[..64];
        var bundles = Directory.GetFiles(sample.Settings.BundleDirectory, "*.tar.gz").Length;
        Assert.Equal(2, bundles);
        // Two bundles: one copied before, one refused; a count of one takes the singular.
        Assert.Equal(["[sync-assets] 2 bundles, 1 copy unchanged, 1 extraction unchanged — 1 problem", $"  ✗ {id}: "
            + $"the bundle does not match its .sha256 (got {got[..12]}…, expected "
            + $"{expected[..12]}…); it was not copied — rebuild it with 'rdbridge bundle' [{source}]", ""],
            OutputLines.Of(output));
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
        string[] columns =
        [
            "log_dir", "materialization_status", "materialization_error", "materialization_updated_at_utc",
            "asset_bundle_id", "is_solidified", "sync_status", "updated_at_utc",
        ];
        foreach (var column in columns)
        {
            Exec(sample, $"ALTER TABLE loops DROP COLUMN {column}");
        }

        Exec(sample, "ALTER TABLE task_runs DROP COLUMN params_json");
        var loopsBefore = Db.Rows(db,
                "SELECT task_run_id, loop_id, action, status, has_result FROM loops ORDER BY 1, 2")
            .Select(r => string.Join("|", r)).ToList();

        // Everything the test removed, in the registry's order: task_runs' column, loops' columns, the tables.
        string[] missing =
        [
            "column task_runs.params_json is missing", .. columns.Select(c => $"column loops.{c} is missing"),
            "table factor_registry is missing", "table production_bundles is missing",
        ];
        var (code, output, err) = sample.Cli("backfill");
        Assert.Equal(2, code);
        Assert.Equal($"error: registry '{db}' has an older schema ({string.Join("; ", missing.Take(4))}; and "
            + $"{missing.Length - 4} more); run 'rdbridge doctor --fix' to add what is missing (nothing is dropped)\n",
            err);
        (code, output, _) = sample.Cli("doctor");
        Assert.Equal(1, code);
        var lines = OutputLines.Of(output).ToList();
        var schema = lines.IndexOf($"✗ registry schema    {string.Join("; ", missing)}");
        Assert.True(schema >= 0, output); // a guard: the fix follows
        Assert.Equal("  → run 'rdbridge doctor --fix' to add what is missing (nothing is dropped)", lines[schema + 1]);
        (code, output, _) = sample.Cli("doctor", "--fix");
        Assert.Equal(0, code);
        Assert.Contains($"✓ registry schema    migrated: {string.Join("; ", missing)} (nothing dropped)",
            OutputLines.Of(output));
        Assert.Equal(loopsBefore, Db.Rows(db,
                "SELECT task_run_id, loop_id, action, status, has_result FROM loops ORDER BY 1, 2")
            .Select(r => string.Join("|", r)).ToList());
        (code, output, _) = sample.Cli("doctor");
        Assert.Equal(0, code);
        (code, output, _) = sample.Cli("init");
        Assert.True(code == 0, output);
    }
}
