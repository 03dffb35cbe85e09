using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using RdBridge.Verify;

namespace RdBridge.Tests.EndToEnd;

/// <summary>Runs the CLI on a generated sample and checks what a user would check: files, rows, bundles, verify
/// output.</summary>
public class InitTests
{
    private static List<(string Name, byte[] Data)> ReadBundle(string path) => BundleArchive.Entries(path).ToList();

    private static List<object?[]> Rows(string db, string sql) => Db.Rows(db, sql);

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Init_on_a_sample_passes_verification_with_full_coverage(string store)
    {
        using var sample = new Sample(taskRuns: 3, loops: 4, store: store);
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        Assert.Contains($"verification passed: {Checks.All.Count} of {Words.N(Checks.All.Count, "check", "checks")}",
            OutputLines.Of(output));
        var s = sample.Settings;
        var counts = sample.Aistock.Rows("""
            SELECT 'Factor Catalog' as catalog_type, COUNT(*) as count FROM aistock_factor_catalog
            UNION ALL SELECT 'Model Catalog', COUNT(*) FROM aistock_model_catalog
            UNION ALL SELECT 'Strategy Catalog', COUNT(*) FROM aistock_strategy_catalog
            UNION ALL SELECT 'Loop Catalog', COUNT(*) FROM aistock_loop_catalog
            """).ToDictionary(r => (string)r[0]!, r => (long)r[1]!);
        var withResults = (long)Rows(s.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1")[0][0]!;
        Assert.Equal(withResults, counts["Loop Catalog"]);
        Assert.Equal(withResults, counts["Strategy Catalog"]);
        // One row per record of the factor catalog file that was imported.
        using var catalog = System.Text.Json.JsonDocument.Parse(
            File.ReadAllBytes(Path.Combine(s.CatalogDirectory, "factor_catalog.json")));
        Assert.Equal(catalog.RootElement.GetProperty("factors").GetArrayLength(), counts["Factor Catalog"]);
        foreach (var table in new[]
            { "aistock_loop_catalog", "aistock_factor_catalog", "aistock_model_catalog", "aistock_strategy_catalog" })
        {
            var r = sample.Aistock.Rows($"SELECT COUNT(*), COUNT(asset_bundle_id) FROM {table}")[0];
            Assert.Equal(r[0], r[1]);
        }
        // Every loop with results has exactly its bundle, its row and its cached, extracted copy.
        foreach (var row in Rows(s.RegistryPath,
            "SELECT task_run_id, loop_id, asset_bundle_id, is_solidified FROM loops WHERE has_result = 1"))
        {
            var id = $"bundle_{row[0]}_{row[1]}";
            Assert.Equal(id, row[2]);
            Assert.Equal(1L, row[3]);
            Assert.True(File.Exists(Path.Combine(s.BundleDirectory, id + ".tar.gz")));
            Assert.True(File.Exists(Path.Combine(s.AssetCacheDirectory, id, "manifest.json")));
        }
        var loopsWithoutResults = Rows(s.RegistryPath, "SELECT task_run_id, loop_id FROM loops WHERE has_result = 0");
        foreach (var row in loopsWithoutResults)
            Assert.False(File.Exists(Path.Combine(s.BundleDirectory, $"bundle_{row[0]}_{row[1]}.tar.gz")));
    }

    [Fact]
    public void Bundle_for_loop_contains_only_its_own_workspaces_with_a_true_manifest()
    {
        using var sample = new Sample(taskRuns: 1, loops: 5);
        Assert.Equal(0, sample.Cli("init").Code);
        var s = sample.Settings;
        foreach (var bundle in Directory.EnumerateFiles(s.BundleDirectory, "*.tar.gz"))
        {
            var entries = ReadBundle(bundle);
            Assert.Equal("manifest.json", entries[0].Name);
            using var manifest = JsonDocument.Parse(entries[0].Data);
            var tr = manifest.RootElement.GetProperty("task_run_id").GetString();
            var loop = manifest.RootElement.GetProperty("loop_id").GetInt64();
            Assert.Equal($"bundle_{tr}_{loop}.tar.gz", Path.GetFileName(bundle));
            var own = Rows(s.RegistryPath,
                    $"SELECT workspace_id FROM workspaces WHERE task_run_id = '{tr}' AND loop_id = {loop}")
                .Select(r => (string)r[0]!).ToHashSet();
            var packed = entries.Skip(1).Select(e => e.Name.Split('/')[1]).ToHashSet();
            Assert.Subset(own, packed);
            var listed = manifest.RootElement.GetProperty("files").EnumerateArray()
                .ToDictionary(f => f.GetProperty("path").GetString()!, f => f.GetProperty("sha256").GetString());
            Assert.Equal(listed.Count, entries.Count - 1);
            foreach (var (name, data) in entries.Skip(1))
                Assert.Equal(listed[name], Convert.ToHexStringLower(SHA256.HashData(data)));
            Assert.Contains(entries, e => e.Name.EndsWith("/qlib_res.csv"));
            Assert.Contains(entries, e => e.Name.Contains("/mlruns/") && e.Name.EndsWith("/artifacts/params.pkl"));
            Assert.DoesNotContain(entries, e => e.Name.EndsWith("daily_pv.h5"));
            var sidecar = File.ReadAllText(bundle + ".sha256").Split(' ')[0];
            Assert.Equal(sidecar, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(bundle))));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Second_init_on_unchanged_input_changes_no_file_and_no_row_and_says_so(string store)
    {
        using var sample = new Sample(store: store);
        Assert.Equal(0, sample.Cli("init").Code);
        var s = sample.Settings;
        string Snapshot() => string.Join("\n",
            Directory.EnumerateFiles(sample.Dir.Path, "*", SearchOption.AllDirectories)
                .Where(f => !f.EndsWith(".db") && !f.EndsWith("-wal") && !f.EndsWith("-shm") && !f.EndsWith(".sqlite"))
                // When the checklist last ran, and who ran it: bookkeeping like the sync history's rows, which a
                // second init adds to as well (its catalogs, bundles and rows are what must not change).
                .Where(f => Path.GetFileName(f) != "last-verify.json")
                .Order().Select(f => $"{f}|{File.GetLastWriteTimeUtc(f).Ticks}|{new FileInfo(f).Length}"));
        string Dump(string db, params string[] tables) => string.Join("\n",
            tables.SelectMany(t => Rows(db, $"SELECT * FROM {t} ORDER BY 1, 2").Select(r => string.Join("|", r))));
        string[] registryTables =
            ["loops", "workspaces", "artifacts", "artifact_files", "production_bundles", "factor_registry"];
        string[] aistockTables =
            ["aistock_loop_catalog", "aistock_factor_catalog", "aistock_model_catalog", "aistock_strategy_catalog"];
        var files = Snapshot();
        var registry = Dump(s.RegistryPath, registryTables);
        string DumpAistock() => string.Join("\n", aistockTables.SelectMany(t =>
            sample.Aistock.Rows($"SELECT * FROM {t} ORDER BY 1, 2").Select(r => string.Join("|", r))));
        var aistock = DumpAistock();
        var (code, output, _) = sample.Cli("init");
        Assert.Equal(0, code);
        // The whole closing line.
        Assert.Contains("init run #2: nothing changed — every file, bundle and row was already up to date",
            OutputLines.Of(output));
        Assert.Equal(files, Snapshot());
        Assert.Equal(registry, Dump(s.RegistryPath, registryTables));
        Assert.Equal(aistock, DumpAistock());
    }

    [Fact]
    public void The_same_seed_gives_byte_identical_bundles_and_catalogs_in_another_folder()
    {
        using var a = new Sample(seed: 7);
        using var b = new Sample(seed: 7);
        Assert.Equal(0, a.Cli("init").Code);
        Assert.Equal(0, b.Cli("init").Code);
        var bundlesA = Directory.EnumerateFiles(a.Settings.BundleDirectory).Order().ToList();
        var bundlesB = Directory.EnumerateFiles(b.Settings.BundleDirectory).Order().ToList();
        Assert.Equal(bundlesA.Select(Path.GetFileName), bundlesB.Select(Path.GetFileName));
        foreach (var (x, y) in bundlesA.Zip(bundlesB)) Assert.Equal(File.ReadAllBytes(x), File.ReadAllBytes(y));
        foreach (var name in new[]
            { "factor_catalog.json", "model_catalog.json", "strategy_catalog.json", "loop_catalog.json" })
        {
            static string Body(string p) =>
                string.Join("\n", File.ReadAllLines(p).Where(l => !l.Contains("generated_at_utc")));
            Assert.Equal(Body(Path.Combine(a.Settings.CatalogDirectory, name)),
                Body(Path.Combine(b.Settings.CatalogDirectory, name)));
        }
    }

    [Fact]
    public void Verify_json_has_the_documented_shape()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        Assert.Equal(0, sample.Cli("init").Code);
        var (code, output, _) = sample.Cli("verify", "--json", "--deep");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("passed").GetBoolean());
        var checks = doc.RootElement.GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(25, checks.Count);
        foreach (var c in checks)
        {
            foreach (var key in new[] { "id", "group", "title", "passed", "detail" })
                Assert.True(c.TryGetProperty(key, out _), key);
        }

        Assert.Equal(["rdagent", "aistock", "linkage", "function"],
            checks.Select(c => c.GetProperty("group").GetString()).Distinct());
        Assert.Equal(100.0,
            doc.RootElement.GetProperty("coverage").GetProperty("loop").GetProperty("coverage_pct").GetDouble());
    }

    [Fact]
    public void Verify_before_init_fails_and_says_what_is_missing()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var (code, output, _) = sample.Cli("verify");
        Assert.Equal(1, code);
        // No bundle yet: the check names each loop with results that lacks one; the total counts every ✗ printed.
        var lines = OutputLines.Of(output).ToList();
        var missing = Db.Rows(sample.Settings.RegistryPath,
                "SELECT task_run_id, loop_id FROM loops WHERE has_result = 1 ORDER BY 1, 2")
            .Select(r => $"bundle_{r[0]}_{r[1]}").ToList();
        var check = lines.IndexOf("  ✗ rd.bundle_files            production_bundles 目录包含所有资产包 / every bundle "
            + "file exists");
        Assert.True(check >= 0, output); // a guard: its detail follows
        Assert.Equal($"    {missing.Count} missing: {string.Join(", ", missing)}", lines[check + 1]);
        var failed = lines.Count(l => l.StartsWith("  ✗ ", StringComparison.Ordinal));
        Assert.Contains(
            $"verification FAILED: {failed} of {Words.N(Checks.All.Count, "check", "checks")} failed", lines);
    }

    [Fact]
    public void Generated_strategy_library_imports_in_python_and_every_function_returns_its_config()
    {
        using var sample = new Sample();
        Assert.Equal(0, sample.Cli("init").Code);
        var lib = sample.Settings.StrategiesLibRoot;
        var script = "import json, rd_strategies_lib.generated as g\n"
            + "out = {k: f() for k, f in g.STRATEGY_FUNCTIONS.items()}\n"
            + "assert all(getattr(g, 'get_' + k + '_config')() == v for k, v in out.items())\n"
            + "print(json.dumps(out))";
        var psi = new ProcessStartInfo("python3", ["-c", script])
        {
            WorkingDirectory = lib, RedirectStandardOutput = true, RedirectStandardError = true
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var strategies = doc.RootElement.EnumerateObject().ToList();
        Assert.Equal(
            (long)Rows(sample.Settings.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1")[0][0]!,
            strategies.Count);
        foreach (var s in strategies)
        {
            Assert.StartsWith("strategy_", s.Name);
            // Qlib's strategy, or the AIstock fork's in the sample's fork-shaped workspaces.
            Assert.Contains(s.Value.GetProperty("class").GetString(),
                new[] { "TopkDropoutStrategy", "EnhancedTopkDropoutStrategy" });
            Assert.Equal(50, s.Value.GetProperty("kwargs").GetProperty("topk").GetInt32());
        }
    }
}
