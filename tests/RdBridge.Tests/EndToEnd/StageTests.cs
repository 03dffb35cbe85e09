using System.Text.Json;

namespace RdBridge.Tests.EndToEnd;

/// <summary>Each stage run on its own, as the guide's steps are.</summary>
public class StageTests
{
    private static string Snapshot(string root) => string.Join("\n",
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("-wal") && !f.EndsWith("-shm")).Order()
            .Select(f => $"{f}|{new FileInfo(f).Length}|{File.GetLastWriteTimeUtc(f).Ticks}"));

    [Fact]
    public void Backfill_dry_run_and_check_write_nothing()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var s = sample.Settings;
        var before = Snapshot(s.RdAgentRoot);
        var registry =
            string.Join("\n", Db.Rows(s.RegistryPath, "SELECT * FROM loops").Select(r => string.Join("|", r)));
        var loops = Db.Rows(s.RegistryPath, "SELECT l.task_run_id, l.loop_id, w.workspace_id FROM loops l "
                + "JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id "
                + "AND w.workspace_role = 'experiment_workspace' WHERE l.has_result = 1 ORDER BY 1, 2")
            .Select(r => ((string)r[0]!, (long)r[1]!, Path.Combine(s.WorkspaceRoot, (string)r[2]!))).ToList();
        var all = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops");
        var (code, dryRun, _) = sample.Cli("backfill", "--all-task-runs", "--dry-run");
        Assert.Equal(0, code);
        (code, var output, _) = sample.Cli("backfill", "--mode", "check");
        // What check finds missing is reported as a problem: exit 1, as every verb that reports problems.
        Assert.Equal(1, code);
        // Each loop with results by its ids, the five metadata files it lacks, the fix and its folder.
        Assert.Equal([$"[backfill] {Words.N(all, "loop", "loops")}, "
            + $"{Words.N(loops.Count, "loop missing metadata", "loops missing metadata")}, "
            + $"{Words.N(loops.Count, "loop", "loops")} with stale artifact rows — "
            + Words.N(loops.Count, "problem", "problems"),
            .. loops.Select(l => $"  ✗ {l.Item1}/{l.Item2}: missing factor_meta.json, factor_perf.json, "
                + "feedback.json, model_meta.json, strategy_meta.json; run 'rdbridge backfill' to write them "
                + $"[{l.Item3}]"), ""], OutputLines.Of(output));
        Assert.Equal(before, Snapshot(s.RdAgentRoot));
        Assert.Equal(registry,
            string.Join("\n", Db.Rows(s.RegistryPath, "SELECT * FROM loops").Select(r => string.Join("|", r))));
        // The dry run's count is the number of files the real run then puts on disk.
        var files = Directory.GetFiles(s.RdAgentRoot, "*", SearchOption.AllDirectories).ToHashSet();
        Assert.Equal(0, sample.Cli("backfill", "--all-task-runs").Code);
        var added = Directory.GetFiles(s.RdAgentRoot, "*", SearchOption.AllDirectories)
            .Count(f => !files.Contains(f) && !f.EndsWith("-wal") && !f.EndsWith("-shm"));
        Assert.Equal($"[backfill] {Words.N(all, "loop", "loops")}, {loops.Count} with results, "
            + $"{Words.N(added, "file to write", "files to write")}\n", dryRun);
    }

    [Fact]
    public void Backfill_writes_metadata_derived_from_the_workspace_files()
    {
        using var sample = new Sample(taskRuns: 2, loops: 3);
        var s = sample.Settings;
        Assert.Equal(0, sample.Cli("backfill", "--all-task-runs").Code);
        var ws = Db.Rows(s.RegistryPath,
            "SELECT w.workspace_id, l.action FROM loops l " +
            "JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id " +
            "AND w.workspace_role = 'experiment_workspace' WHERE l.has_result = 1");
        foreach (var row in ws)
        {
            var dir = Path.Combine(s.WorkspaceRoot, (string)row[0]!);
            var csv = File.ReadAllLines(Path.Combine(dir, "qlib_res.csv")).Skip(1).Select(l => l.Split(','))
                .ToDictionary(p => p[0], p => double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
            using var perf = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "factor_perf.json")));
            var metrics = perf.RootElement.GetProperty("metrics");
            Assert.Equal(csv["IC"], metrics.GetProperty("ic").GetDouble());
            Assert.Equal(csv["1day.excess_return_with_cost.annualized_return"],
                metrics.GetProperty("annualized_return").GetDouble());
            Assert.Equal(csv["1day.excess_return_with_cost.information_ratio"],
                metrics.GetProperty("information_ratio").GetDouble());
            using var model = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "model_meta.json")));
            Assert.Equal((string)row[1]! == "factor" ? "LGBModel" : "GeneralPTNN",
                model.RootElement.GetProperty("model_type").GetString());
            // The learn processors (by class, in order) are those one of the workspace's workflow YAMLs lists.
            var learn = Directory.EnumerateFiles(dir, "*.yaml")
                .Select(f => System.Text.RegularExpressions.Regex.Match(File.ReadAllText(f),
                    @"\n\s*learn_processors:\n((?:[ ]{8,}.*\n)*)"))
                .Where(m => m.Success)
                .Select(m => string.Join(",", System.Text.RegularExpressions.Regex.Matches(m.Groups[1].Value,
                    @"class:\s*(\w+)").Select(c => c.Groups[1].Value)))
                .ToList();
            Assert.Contains(string.Join(",", model.RootElement.GetProperty("preprocess_config")
                .GetProperty("learn_processors").EnumerateArray().Select(c => c.GetProperty("class").GetString())),
                learn);
            Assert.EndsWith("params.pkl",
                model.RootElement.GetProperty("model_artifacts").GetProperty("model_files")[0].GetString());
            using var factors = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "factor_meta.json")));
            var list = factors.RootElement.GetProperty("factors").EnumerateArray().ToList();
            Assert.Contains(list, f => f.GetProperty("name").GetString() == "RESI5"
                && f.GetProperty("input_schema").GetProperty("lookback_days").GetInt32() == 5);
            if ((string)row[1]! == "factor")
            {
                var generated = list.Where(f => f.GetProperty("source").GetString() == "rdagent_generated").ToList();
                // A guard: each name is checked below, and the exact set (own and earlier loops') in
                // Factors_read_from_the_combined_parquet_include_the_sota_factors_of_earlier_loops.
                Assert.NotEmpty(generated);
                foreach (var g in generated)
                {
                    var name = g.GetProperty("name").GetString()!;
                    var window = int.Parse(name[(name.LastIndexOf('_') + 1)..^1]);
                    Assert.Equal(window, g.GetProperty("input_schema").GetProperty("lookback_days").GetInt32());
                    if (g.TryGetProperty("code_path", out _))
                        Assert.StartsWith("[", g.GetProperty("description_cn").GetString());
                    else Assert.Equal("combined_factors_df.parquet", g.GetProperty("found_in").GetString());
                }
            }
            using var strategy = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "strategy_meta.json")));
            Assert.Equal(5, strategy.RootElement.GetProperty("portfolio_config").GetProperty("kwargs")
                .GetProperty("n_drop").GetInt32());
        }
        // Artifacts carry sha256 and size; a re-run writes no row.
        Assert.Equal(0, Db.Scalar(s.RegistryPath,
            "SELECT count(*) FROM artifact_files WHERE sha256 IS NULL OR size_bytes IS NULL"));
        var before = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM artifact_files");
        var (_, output, _) = sample.Cli("backfill", "--all-task-runs", "--overwrite-json");
        Assert.DoesNotContain("artifact rows written", output);
        Assert.Equal(before, Db.Scalar(s.RegistryPath, "SELECT count(*) FROM artifact_files"));
    }

    [Fact]
    public async Task Factors_read_from_the_combined_parquet_include_the_sota_factors_of_earlier_loops()
    {
        using var sample = new Sample(taskRuns: 2, loops: 5);
        var s = sample.Settings;
        // The expected names come from the factor code: each factor workspace's factor.py names its result column.
        // A factor loop with a result trains on the SOTA factors so far (every factor of an earlier such loop of the
        // same run) plus its own, and leaves them in its experiment workspace's combined_factors_df.parquet.
        var coded = Db.Rows(s.RegistryPath,
                "SELECT l.task_run_id, l.loop_id, w.workspace_id FROM loops l " +
                "JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id " +
                "AND w.workspace_role = 'sub_workspace' WHERE l.has_result = 1 AND l.action = 'factor'")
            .Select(r => (Run: (string)r[0]!, Loop: (long)r[1]!, Name: FactorColumn((string)r[2]!))).ToList();
        var experiments = Db.Rows(s.RegistryPath,
                "SELECT l.task_run_id, l.loop_id, w.workspace_id FROM loops l " +
                "JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id " +
                "AND w.workspace_role = 'experiment_workspace' WHERE l.has_result = 1 AND l.action = 'factor' " +
                "ORDER BY 1, 2")
            .Select(r => (Run: (string)r[0]!, Loop: (long)r[1]!, Dir: Path.Combine(s.WorkspaceRoot, (string)r[2]!)))
            .ToList();
        HashSet<string> Own((string Run, long Loop, string Dir) e) =>
            coded.Where(c => c.Run == e.Run && c.Loop == e.Loop).Select(c => c.Name).ToHashSet();
        HashSet<string> Earlier((string Run, long Loop, string Dir) e) =>
            coded.Where(c => c.Run == e.Run && c.Loop < e.Loop && !Own(e).Contains(c.Name)).Select(c => c.Name)
                .ToHashSet();
        var withEarlier = experiments.Where(e => Earlier(e).Count > 0).ToList();
        // A guard on the sample's shape (the test needs two such loops); the factors themselves are compared exactly.
        Assert.True(withEarlier.Count >= 2, "the sample has fewer than two loops that trained on earlier factors");

        // The sample writes each loop's own factors last. One loop's file is written again here, with its own factors
        // first and an earlier loop's factor in the last column, so a reader that drops the first or the last column
        // misses an earlier loop's factor in one file or the other. Its names are the ones written here.
        var rewritten = withEarlier[0];
        var lastColumn = Earlier(rewritten).Order().Last();
        string[] columns = [.. Own(rewritten).Order(), .. Earlier(rewritten).Order()];
        Assert.Equal(lastColumn, columns[^1]);
        await WriteCombinedFactors(Path.Combine(rewritten.Dir, "combined_factors_df.parquet"), columns);

        Assert.Equal(0, sample.Cli("backfill").Code);
        foreach (var experiment in experiments)
        {
            var (run, loop, dir) = experiment;
            Assert.True(File.Exists(Path.Combine(dir, "combined_factors_df.parquet")), $"loop {run}/{loop}");
            var own = Own(experiment);
            var earlier = Earlier(experiment);
            using var meta = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "factor_meta.json")));
            var generated = meta.RootElement.GetProperty("factors").EnumerateArray()
                .Where(f => f.GetProperty("source").GetString() == "rdagent_generated").ToList();
            // Every factor the loop trained on is listed once; those only the parquet names (the earlier loops'
            // SOTA factors) say that they were found there.
            Assert.Equal(own.Union(earlier).Order(), generated.Select(f => f.GetProperty("name").GetString()!).Order());
            var found = generated
                .Where(f => f.TryGetProperty("found_in", out var w) && w.GetString() == "combined_factors_df.parquet")
                .Select(f => f.GetProperty("name").GetString()!).Order().ToList();
            Assert.Equal(earlier.Order(), found);
            if (experiment == rewritten) Assert.Contains(lastColumn, found);
        }

        string FactorColumn(string workspaceId)
        {
            var code = File.ReadAllText(Path.Combine(s.WorkspaceRoot, workspaceId, "factor.py"));
            var match = System.Text.RegularExpressions.Regex.Match(code, @"to_frame\(""([^""]+)""\)");
            Assert.True(match.Success, $"factor.py of workspace {workspaceId} names no result column");
            return match.Groups[1].Value;
        }
    }

    /// <summary>
    /// A combined_factors_df.parquet as pandas writes a frame with two-level columns: the index levels as plain
    /// columns, each factor as <c>('feature', 'name')</c>, in the order given. Written with Parquet.Net directly, not
    /// with RdBridge's sample writer, so the names a test expects are the ones it wrote.
    /// </summary>
    private static async Task WriteCombinedFactors(string path, IReadOnlyList<string> factors)
    {
        var datetime = new Parquet.Schema.DataField<string>("datetime");
        var instrument = new Parquet.Schema.DataField<string>("instrument");
        var fields = factors.Select(n => new Parquet.Schema.DataField<double>($"('feature', '{n}')")).ToList();
        await using var stream = File.Create(path);
        await using var writer = await Parquet.ParquetWriter.CreateAsync(
            new Parquet.Schema.ParquetSchema([datetime, instrument, .. fields]), stream);
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(datetime, new[] { "2020-01-02", "2020-01-02" }, null);
        await group.WriteAsync(instrument, new[] { "SH600000", "SZ000001" }, null);
        foreach (var field in fields) await group.WriteAsync<double>(field, new[] { 0.25, -0.5 }, null, null, default);
    }

    [Fact]
    public void Materialize_pending_moves_loops_to_done_or_failed_with_the_error_kept()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var s = sample.Settings;
        var victim = Db.Rows(s.RegistryPath,
            "SELECT l.task_run_id, l.loop_id, w.workspace_id FROM loops l " +
            "JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id " +
            "AND w.workspace_role = 'experiment_workspace' ORDER BY 2 DESC LIMIT 1")[0];
        var stored = (string)Db.Rows(s.RegistryPath,
            $"SELECT workspace_path FROM workspaces WHERE workspace_id = '{victim[2]}'")[0][0]!;
        var folder = Path.Combine(s.WorkspaceRoot, (string)victim[2]!);
        Directory.Delete(folder, true);
        Assert.Equal(1, sample.Cli("backfill", "--mode", "materialize-pending").Code);
        var states = Db.Rows(s.RegistryPath,
            "SELECT loop_id, materialization_status, materialization_error FROM loops ORDER BY loop_id");
        foreach (var r in states)
        {
            if ((long)r[0]! == (long)victim[1]!)
            {
                Assert.Equal("failed", r[1]);
                // The loop, its workspace, where it was looked for and how the registry stored it, and the fix.
                Assert.Equal($"loop {victim[0]}/{victim[1]} workspace {victim[2]} is missing: '{folder}' (stored as "
                    + $"'{stored}'); check the pathMap in rdbridge.json or whether the folder was deleted", r[2]);
            }
            else
            {
                Assert.Equal("done", r[1]);
            }
        }
        // Done loops are not redone; the failed one is tried again and named again, whole.
        var (again, output, _) = sample.Cli("backfill", "--mode", "materialize-pending");
        Assert.Equal(1, again);
        Assert.Equal([$"[backfill] {Words.N(states.Count, "loop", "loops")}, {states.Count - 1} already "
            + "materialized, 1 skipped "
            + "(no workspace) — 1 problem",
            $"  ✗ {victim[0]}/{victim[1]}: loop {victim[0]}/{victim[1]} workspace {victim[2]} is missing: '{folder}' "
            + $"(stored as '{stored}'); check the pathMap in rdbridge.json or whether the folder was deleted "
            + $"[{folder}]"], OutputLines.Of(output.TrimEnd()));
    }

    [Fact]
    public void Export_keeps_one_record_per_factor_with_every_loop_that_used_it()
    {
        using var sample = new Sample(taskRuns: 2, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        using var doc = JsonDocument.Parse(
            File.ReadAllBytes(Path.Combine(sample.Settings.CatalogDirectory, "factor_catalog.json")));
        var factors = doc.RootElement.GetProperty("factors").EnumerateArray().ToList();
        var resi5 = Assert.Single(factors, f => f.GetProperty("name").GetString() == "RESI5");
        var loops = Db.Scalar(sample.Settings.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1");
        // Its loops are in factor_provenance.json, one entry each; the record names its first and counts them.
        Assert.False(resi5.TryGetProperty("provenance", out _));
        using var provenance = JsonDocument.Parse(
            File.ReadAllBytes(Path.Combine(sample.Settings.CatalogDirectory, "factor_provenance.json")));
        var entries = provenance.RootElement.GetProperty("provenance").EnumerateArray()
            .Where(p => p.GetProperty("factor_id").GetString() == resi5.GetProperty("factor_id").GetString()).ToList();
        Assert.Equal(loops, entries.Count);
        Assert.Equal(loops, resi5.GetProperty("occurrences").GetInt32());
        Assert.All(entries, p => Assert.StartsWith("bundle_", p.GetProperty("asset_bundle_id").GetString()));
        Assert.Equal(factors.Count, factors.Select(f => f.GetProperty("factor_id").GetString()).Distinct().Count());
    }

    [Fact]
    public void Backup_snapshots_the_registry_and_keeps_no_identical_second_copy()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var (code, output, _) = sample.Cli("backup");
        Assert.Equal(0, code);
        var backups = Directory.GetDirectories(sample.Settings.BackupDirectory);
        var only = Assert.Single(backups);
        Assert.Equal(Db.Scalar(sample.Settings.RegistryPath, "SELECT count(*) FROM loops"),
            Db.Scalar(Path.Combine(only, "registry.sqlite"), "SELECT count(*) FROM loops"));
        (code, output, _) = sample.Cli("backup");
        Assert.Equal(["[backup] 1 unchanged since latest backup",
            $"  · nothing changed since {only}; no new backup kept", ""], OutputLines.Of(output));
        Assert.Single(Directory.GetDirectories(sample.Settings.BackupDirectory));
    }

    [Fact]
    public void Show_loop_resolves_every_link()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        Assert.Equal(0, sample.Cli("init").Code);
        var loop = Db.Rows(sample.Settings.RegistryPath,
            "SELECT task_run_id, loop_id FROM loops WHERE has_result = 1 LIMIT 1")[0];
        var (code, output, _) = sample.Cli("show", "loop", (string)loop[0]!, loop[1]!.ToString()!, "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("workspace").GetProperty("ok").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("asset_bundle").GetProperty("archive_ok").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("asset_bundle").GetProperty("cached_ok").GetBoolean());
        Assert.Equal($"bundle_{loop[0]}_{loop[1]}",
            doc.RootElement.GetProperty("catalog").GetProperty("asset_bundle_id").GetString());
        // Exactly the factors the imported factor catalog file credits to this loop's bundle.
        using var catalog = JsonDocument.Parse(
            File.ReadAllBytes(Path.Combine(sample.Settings.CatalogDirectory, "factor_provenance.json")));
        var bundle = $"bundle_{loop[0]}_{loop[1]}";
        var credited = catalog.RootElement.GetProperty("provenance").EnumerateArray()
            .Where(p => p.GetProperty("asset_bundle_id").GetString() == bundle)
            .Select(p => p.GetProperty("factor_id").GetString()!).Distinct().Order().ToList();
        Assert.Equal(credited, doc.RootElement.GetProperty("factors").EnumerateArray()
            .Select(f => f.GetProperty("factor_id").GetString()!).Order());
        (code, _, _) = sample.Cli("show", "factor", "RESI5");
        Assert.Equal(0, code);
        foreach (var (kind, key) in new[]
            { ("bundle", $"bundle_{loop[0]}_{loop[1]}"), ("strategy", $"strategy_{loop[0]}_{loop[1]}") })
        {
            (code, output, _) = sample.Cli("show", kind, key, "--json");
            Assert.True(code == 0, output);
            using var record = JsonDocument.Parse(output);
            Assert.Equal($"bundle_{loop[0]}_{loop[1]}",
                record.RootElement.GetProperty("matches")[0].GetProperty("asset_bundle_id").GetString());
        }
        (code, _, var err) = sample.Cli("show", "factor", "NoSuchFactor");
        Assert.Equal(1, code);
        Assert.Equal("error: no factor 'NoSuchFactor' in the AIstock database; run 'rdbridge init' or check the name\n",
            err);
    }

    [Fact]
    public void Only_the_bundle_whose_workspace_changed_is_rebuilt_and_never_a_second_one()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var s = sample.Settings;
        Assert.Equal(0, sample.Cli("init").Code);
        var loops = Db.Rows(s.RegistryPath,
            "SELECT l.task_run_id, l.loop_id, w.workspace_id FROM loops l " +
            "JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id " +
            "AND w.workspace_role = 'experiment_workspace' WHERE l.has_result = 1 ORDER BY 2");
        var bundles = Directory.EnumerateFiles(s.BundleDirectory, "*.tar.gz").Order()
            .ToDictionary(f => f, File.ReadAllBytes);
        var changed = loops[0];
        File.AppendAllText(Path.Combine(s.WorkspaceRoot, (string)changed[2]!, "README.md"), "edited by hand\n");
        var (code, output, _) = sample.Cli("bundle");
        Assert.Equal(0, code);
        var all = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops");
        Assert.Equal($"[bundle] {Words.N(all, "loop", "loops")}, {loops.Count - 1} unchanged, 1 rebuilt, 1 registry "
            + "row written\n",
            output);
        var target = Path.Combine(s.BundleDirectory, $"bundle_{changed[0]}_{changed[1]}.tar.gz");
        foreach (var (path, bytes) in bundles)
        {
            if (path == target)
            {
                // Rebuilt from the edited workspace: its README.md in the archive (read by .NET's tar reader) is the
                // file as edited above, the line appended at its end.
                var readme = Path.Combine(s.WorkspaceRoot, (string)changed[2]!, "README.md");
                Assert.EndsWith("edited by hand\n", File.ReadAllText(readme));
                Assert.Equal(File.ReadAllBytes(readme), BundleArchive.Entries(path)
                    .Single(e => e.Name == $"workspaces/{changed[2]}/README.md").Data);
            }
            else
            {
                Assert.Equal(bytes, File.ReadAllBytes(path));
            }
        }
        Assert.Equal(bundles.Count, Directory.EnumerateFiles(s.BundleDirectory, "*.tar.gz").Count());
        Assert.Equal(loops.Count, Db.Scalar(s.RegistryPath, "SELECT count(*) FROM production_bundles"));
        Assert.Empty(Directory.EnumerateFiles(s.BundleDirectory, "*.tmp"));
    }

    [Fact]
    public void A_sidecar_that_holds_no_digest_makes_the_next_run_rebuild_that_bundle()
    {
        // Emptied or truncated (a full disk, a hand edit): it reads as missing rather than as a wrong digest.
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var s = sample.Settings;
        Assert.Equal(0, sample.Cli("init").Code);
        var sidecar = Directory.EnumerateFiles(s.BundleDirectory, "*.tar.gz.sha256").Order().First();
        var archive = sidecar[..^".sha256".Length];
        var before = File.ReadAllText(sidecar);
        File.WriteAllBytes(sidecar, []);
        Assert.Null(s.Bundles.ReadDigest(Path.GetFileName(archive)[..^".tar.gz".Length]));

        var (code, output, _) = sample.Cli("bundle");
        Assert.Equal(0, code);
        // Rebuilt to the same digest: its registry row stays as it was.
        var loops = Db.Scalar(s.RegistryPath, "SELECT count(*) FROM loops");
        var bundles = Directory.GetFiles(s.BundleDirectory, "*.tar.gz").Length;
        Assert.Equal($"[bundle] {Words.N(loops, "loop", "loops")}, {bundles - 1} unchanged, 1 rebuilt\n", output);
        Assert.Equal(before, File.ReadAllText(sidecar));
        Assert.Equal(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(archive))),
            before.Split(' ')[0]);
        Assert.Equal(0, sample.Cli("verify").Code);
    }
}
