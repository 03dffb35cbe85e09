using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Discovery;
using RdBridge.Registry;
using RdBridge.Runs;
using RdBridge.Sample;
using RdBridge.Tests.Pickles;

namespace RdBridge.Tests.Catalogs;

/// <summary>
/// Export, the factor aggregation and the strategy library, called directly on a registry and workspaces the test
/// writes by hand (no sample, no <c>init</c>), so a mutation run of Catalogs can afford them for every mutant. Every
/// expected value is read from what the test wrote: the registry's rows, the metadata files' fields, or an independent
/// computation (SHA-256 of the identity text).
/// </summary>
public class CatalogMutantTests
{
    private const string Run = "tr_a";

    /// <summary>The fork's tables, rows inserted below by hand.</summary>
    private static void CreateRegistry(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        foreach (var table in RegistrySchema.Tables)
        {
            Db.Exec(path, table.CreateSql);
        }
    }

    private static void WriteJson(string folder, string name, string json)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name), json);
    }

    private static RdBridgeSettings Settings(TempDir dir) => new()
    {
        ConfigPath = "", RdAgentRoot = dir["rd"], RegistryPath = dir["rd/registry.sqlite"], LogRoot = dir["rd/log"],
        WorkspaceRoot = dir["rd/ws"], PathMap = new PathMap([], dir.Path),
        BundleDirectory = dir["bundles"], CatalogDirectory = dir["catalogs"], StrategiesLibRoot = dir["lib"],
        BackupDirectory = dir["backup"], AistockRoot = dir["aistock"], AistockDatabase = dir["aistock/aistock.db"],
        AistockCatalogDirectory = dir["aistock/catalogs"], AssetCacheDirectory = dir["aistock/cache"],
    };

    private const string Origin0 =
        "\"version\": \"v1\", \"task_run_id\": \"tr_a\", \"loop_id\": 0, \"workspace_id\": \"ws0\",";
    private const string Origin1 =
        "\"version\": \"v1\", \"task_run_id\": \"tr_a\", \"loop_id\": 1, \"workspace_id\": \"ws1\",";

    /// <summary>
    /// Three loops of one task run. Loop 0 (factor, bundled) wrote the code of <c>Mom5</c> and uses the base feature
    /// <c>KMID</c>; it has every metadata file, a sub-workspace, and a strategy. Loop 1 (factor, not bundled) loads
    /// <c>Mom5</c> as a column (no code, no expression) and uses KMID's expression spelled with other spaces and case
    /// under another name. Loop 2 failed before it had a workspace.
    /// </summary>
    private static RdBridgeSettings Build(TempDir dir)
    {
        var s = Settings(dir);
        CreateRegistry(s.RegistryPath);
        var ws0 = dir["rd/ws/ws0"];
        var sub0 = dir["rd/ws/ws0_sub"];
        var ws1 = dir["rd/ws/ws1"];
        Directory.CreateDirectory(sub0);
        Db.Exec(s.RegistryPath, $"""
            INSERT INTO task_runs (task_run_id, scenario) VALUES ('{Run}', 'fin_factor');
            INSERT INTO loops (task_run_id, loop_id, action, status, has_result, started_at_utc, ended_at_utc,
                               asset_bundle_id, is_solidified, log_dir, workspace_id, workspace_path)
            VALUES ('{Run}', 0, 'factor', 'completed', 1, '2025-07-01T08:00:00Z', '2025-07-01T09:00:00Z',
                    'bundle_tr_a_0', 1, '/logs/tr_a', 'ws0', '{ws0}'),
                   ('{Run}', 1, 'factor', 'completed', 1, '2025-07-01T09:00:00Z', '2025-07-01T10:00:00Z',
                    NULL, 0, '/logs/tr_a', 'ws1', '{ws1}');
            INSERT INTO loops (task_run_id, loop_id, action, status, has_result, error_type, error_message, log_dir)
            VALUES ('{Run}', 2, 'factor', 'failed', 0, 'RuntimeError', 'the coder gave up', '/logs/tr_a');
            INSERT INTO workspaces (workspace_id, task_run_id, loop_id, workspace_role, status, workspace_path)
            VALUES ('ws0_sub', '{Run}', 0, 'sub_workspace', 'done', '{sub0}'),
                   ('ws0', '{Run}', 0, 'experiment_workspace', 'done', '{ws0}'),
                   ('ws1', '{Run}', 1, 'experiment_workspace', 'done', '{ws1}');
            """);
        WriteJson(ws0, "factor_meta.json", $$"""
            { {{Origin0}} "config_file": "conf.yaml", "factors": [
              {"name": "Mom5", "source": "rdagent_generated", "description_cn": "五日动量",
               "code_fingerprint": "c0ffee", "workspace_id": "ws0_sub",
               "code_path": "ws0_sub/factor.py", "formula_hint": "r_5",
               "variables": {"r": "return"}, "input_schema": {"columns": ["$close"]}, "tags": ["momentum"]},
              {"name": "KMID", "source": "qlib_alpha158", "expression": "($close-$open)/$open",
               "workspace_id": "ws0", "input_schema": null, "tags": []} ] }
            """);
        WriteJson(ws0, "factor_perf.json", $$"""
            { {{Origin0}} "source": "qlib_res.csv", "metrics": {"ic": 0.031, "icir": 0.5, "rank_ic": 0.02,
              "annualized_return": 0.12, "max_drawdown": -0.08, "information_ratio": 1.5}, "factor_names": ["Mom5"] }
            """);
        WriteJson(ws0, "feedback.json", $$"""
            { {{Origin0}} "status": "done", "decision": true, "hypothesis": "momentum persists", "source": "log",
              "hypothesis_reason": "trend", "observations": "ic up", "decision_reason": "better ic" }
            """);
        WriteJson(ws0, "strategy_meta.json", $$"""
            { {{Origin0}} "strategy_id": "strategy_tr_a_0", "config_file": "conf.yaml", "run_id": "mlrun-0",
              "config_fingerprint": "sha256:aa",
              "portfolio_config": {"class": "TopkDropoutStrategy", "kwargs": {"topk": 50, "n_drop": 5} },
              "backtest_config": {"start_time": "2020-01-01"} }
            """);
        WriteJson(ws0, "model_meta.json", $$"""
            { {{Origin0}} "run_id": "mlrun-0", "model_type": "LGBModel", "model_module": "qlib.contrib.model.gbdt",
              "model_config": {"loss": "mse"} }
            """);
        WriteJson(ws1, "factor_meta.json", $$"""
            { {{Origin1}} "factors": [
              {"name": "Mom5", "source": "rdagent_generated", "workspace_id": "ws1",
               "found_in": "combined_factors_df.parquet"},
              {"name": "KMID_b", "source": "qlib_alpha158", "expression": " ( $CLOSE - $open ) / $open ",
               "workspace_id": "ws1"} ] }
            """);
        return s;
    }

    private static string Sha256(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static JsonArray Records(RdBridgeSettings s, string file, string list) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(s.CatalogDirectory, file)))![list]!.AsArray();

    [Fact]
    public void Export_writes_each_loop_s_records_with_the_registry_s_links_and_the_metadata_files_fields()
    {
        using var dir = new TempDir();
        var s = Build(dir);
        var report = new CatalogExporter(new RunContext(s)).Run();

        // Factors: one record per identity, in (source, name, fingerprint) order; the loaded-only Mom5 of loop 1 is
        // an occurrence of loop 0's, and KMID_b is KMID (white space and case aside).
        var mom5 = Sha256("rdagent_generated|code:c0ffee");
        var kmid = Sha256("qlib_alpha158|expr:($close-$open)/$open");
        var factors = Records(s, "factor_catalog.json", "factors");
        Assert.Equal([("qlib_alpha158", "KMID"), ("rdagent_generated", "Mom5")],
            factors.Select(f => ((string)f!["source"]!, (string)f["name"]!)));
        var k = factors[0]!;
        Assert.Equal(("factor_" + kmid[..16], kmid, "($close-$open)/$open"),
            ((string)k["factor_id"]!, (string)k["fingerprint"]!, (string)k["expression"]!));
        Assert.Equal(["KMID_b"], k["aliases"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(2, (long)k["occurrences"]!);
        Assert.Equal((Run, 0L, "ws0", "bundle_tr_a_0"),
            ((string)k["task_run_id"]!, (long)k["loop_id"]!, (string)k["workspace_id"]!,
             (string)k["asset_bundle_id"]!));
        var m = factors[1]!;
        Assert.Equal(("factor_" + mom5[..16], "五日动量", "r_5", "ws0_sub/factor.py"),
            ((string)m["factor_id"]!, (string)m["description_cn"]!, (string)m["formula_hint"]!,
             (string)m["code_path"]!));
        Assert.Equal(["momentum"], m["tags"]!.AsArray().Select(a => (string)a!));
        Assert.Equal("return", (string)m["variables"]!["r"]!);
        Assert.Equal("$close", (string)m["input_schema"]!["columns"]![0]!);
        Assert.Empty(m["aliases"]!.AsArray());
        Assert.Equal(2, (long)m["occurrences"]!);
        Assert.Equal(0.031, (double)m["performance_metrics"]!["ic"]!);

        // Provenance: each factor's loops in export order, the loaded one naming the file it was loaded from.
        var provenance = Records(s, "factor_provenance.json", "provenance");
        Assert.Equal(
            [("factor_" + kmid[..16], 0L, "ws0", null), ("factor_" + kmid[..16], 1L, "ws1", null),
             ("factor_" + mom5[..16], 0L, "ws0", null),
             ("factor_" + mom5[..16], 1L, "ws1", "combined_factors_df.parquet")],
            provenance.Select(p => ((string)p!["factor_id"]!, (long)p["loop_id"]!, (string)p["workspace_id"]!,
                (string?)p["loaded_from"])));

        // Loops: every loop, the failed one with its status and error and nothing of results.
        var loops = Records(s, "loop_catalog.json", "loops");
        Assert.Equal([0L, 1L, 2L], loops.Select(l => (long)l!["loop_id"]!));
        var l0 = loops[0]!;
        Assert.Equal(("fin_factor", "factor", "completed", true, true, "/logs/tr_a"),
            ((string)l0["scenario"]!, (string)l0["action"]!, (string)l0["status"]!, (bool)l0["has_result"]!,
             (bool)l0["is_solidified"]!, (string)l0["log_dir"]!));
        Assert.Equal(("2025-07-01T08:00:00Z", "2025-07-01T09:00:00Z"),
            ((string)l0["started_at_utc"]!, (string)l0["ended_at_utc"]!));
        Assert.Equal(("strategy_tr_a_0", "sha256:aa", "LGBModel"),
            ((string)l0["strategy_id"]!, (string)l0["config_fingerprint"]!, (string)l0["model_type"]!));
        Assert.Equal(["Mom5", "KMID"], l0["factor_names"]!.AsArray().Select(a => (string)a!));
        Assert.Equal((0.12, -0.08, 1.5, 0.031, 0.5, 0.02),
            ((double)l0["annualized_return"]!, (double)l0["max_drawdown"]!, (double)l0["information_ratio"]!,
             (double)l0["ic"]!, (double)l0["ic_ir"]!, (double)l0["rank_ic"]!));
        Assert.Equal((true, "momentum persists", "trend", "ic up", "better ic"),
            ((bool)l0["decision"]!, (string)l0["hypothesis"]!, (string)l0["hypothesis_reason"]!,
             (string)l0["observations"]!, (string)l0["decision_reason"]!));
        Assert.Equal(["ws0", "ws0_sub"], l0["workspaces"]!.AsArray().Select(w => (string)w!["workspace_id"]!));
        Assert.Equal(["experiment_workspace", "sub_workspace"],
            l0["workspaces"]!.AsArray().Select(w => (string)w!["workspace_role"]!));
        Assert.Equal("../rd/ws/ws0", (string)l0["workspace_local_path"]!);
        var paths = l0["paths"]!;
        Assert.Equal(("factor_meta.json", "factor_perf.json", "feedback.json", "model_meta.json", "strategy_meta.json"),
            ((string)paths["factor_meta"]!, (string)paths["factor_perf"]!, (string)paths["feedback"]!,
             (string)paths["model_meta"]!, (string)paths["strategy_meta"]!));
        var l1 = loops[1]!;
        Assert.Null(l1["asset_bundle_id"]);
        Assert.Equal(["Mom5", "KMID_b"], l1["factor_names"]!.AsArray().Select(a => (string)a!));
        Assert.Null((string?)l1["paths"]!["factor_perf"]);
        // A loop with results but no strategy_meta.json names the strategy id the registry gives every loop.
        Assert.Equal("strategy_tr_a_1", (string)l1["strategy_id"]!);
        Assert.Null(l1["config_fingerprint"]);
        var l2 = loops[2]!;
        Assert.Equal(("failed", false, "RuntimeError", "the coder gave up"),
            ((string)l2["status"]!, (bool)l2["has_result"]!, (string)l2["error_type"]!, (string)l2["error_message"]!));
        Assert.Null(l2["workspace_id"]);
        Assert.Null(l2["workspaces"]);
        Assert.Null(l2["backtest"]);
        Assert.Empty(l2["factor_names"]!.AsArray());

        // The strategy and model of loop 0, linked to each other; loop 1 has neither file.
        var strategies = Records(s, "strategy_catalog.json", "strategies");
        var st = Assert.Single(strategies)!;
        Assert.Equal(("strategy_tr_a_0", "sha256:aa", "factor", "LGBModel", "model_tr_a_0", "mlrun-0"),
            ((string)st["strategy_id"]!, (string)st["config_fingerprint"]!, (string)st["action"]!,
             (string)st["model_type"]!, (string)st["model_id"]!, (string)st["run_id"]!));
        Assert.Equal(50, (int)st["portfolio_config"]!["kwargs"]!["topk"]!);
        Assert.Equal("2020-01-01", (string)st["backtest_config"]!["start_time"]!);
        Assert.Equal(["Mom5", "KMID"], st["feature_list"]!.AsArray().Select(a => (string)a!));
        var model = Assert.Single(Records(s, "model_catalog.json", "models"))!;
        Assert.Equal(("model_tr_a_0", "/logs/tr_a", "baseline", "mlrun-0", "LGBModel", "qlib.contrib.model.gbdt"),
            ((string)model["model_id"]!, (string)model["log_dir"]!, (string)model["role"]!, (string)model["run_id"]!,
             (string)model["model_type"]!, (string)model["model_module"]!));
        Assert.Equal("mse", (string)model["model_config"]!["loss"]!);

        // What the report counts and names: loop 1 has results but no bundle.
        Assert.Equal([$"{Run}/1: loop {Run}/1 has results but no asset bundle; run 'rdbridge bundle' first"],
            report.Problems.Select(p => $"{p.Item}: {p.Message}"));
        var counts = report.Counts.ToDictionary(c => c.Key.Name, c => c.Value);
        Assert.Equal(2, counts["factors"]);
        Assert.Equal(4, counts["factor provenance entries (factor × loop)"]);
        Assert.Equal(1, counts["strategies"]);
        Assert.Equal(1, counts["models"]);
        Assert.Equal(3, counts["loops"]);
        Assert.Equal(1, counts["loops without results (failed, running)"]);
        Assert.Equal(5, counts["catalog files written"]);
        Assert.Equal(0, counts["catalog files unchanged"]);
    }

    [Fact]
    public void A_second_export_of_the_same_input_rewrites_no_file_and_says_each_is_unchanged()
    {
        using var dir = new TempDir();
        var s = Build(dir);
        new CatalogExporter(new RunContext(s)).Run();
        string[] files = ["factor_catalog.json", "model_catalog.json", "strategy_catalog.json", "loop_catalog.json",
            "factor_provenance.json"];
        var before = files.Select(f => File.ReadAllBytes(Path.Combine(s.CatalogDirectory, f))).ToList();
        var library = File.ReadAllBytes(s.StrategiesLibFile);

        var report = new CatalogExporter(new RunContext(s)).Run();
        var counts = report.Counts.ToDictionary(c => c.Key.Name, c => c.Value);
        Assert.Equal(0, counts["catalog files written"]);
        Assert.Equal(5, counts["catalog files unchanged"]);
        Assert.Equal(1, counts["strategy library unchanged"]);
        Assert.Equal(before, files.Select(f => File.ReadAllBytes(Path.Combine(s.CatalogDirectory, f))));
        Assert.Equal(library, File.ReadAllBytes(s.StrategiesLibFile));
        // No temporary is left beside the catalogs or the library.
        Assert.Equal(files.Order(StringComparer.Ordinal),
            Directory.GetFiles(s.CatalogDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["__init__.py", "generated.py"],
            Directory.GetFiles(Path.GetDirectoryName(s.StrategiesLibFile)!).Select(Path.GetFileName)
                .Order(StringComparer.Ordinal));

        // One changed metric rewrites the catalogs holding it, and only them.
        var perf = Path.Combine(dir["rd/ws/ws0"], "factor_perf.json");
        File.WriteAllText(perf, File.ReadAllText(perf).Replace("0.031", "0.032"));
        report = new CatalogExporter(new RunContext(s)).Run();
        counts = report.Counts.ToDictionary(c => c.Key.Name, c => c.Value);
        // factor (its performance_metrics), strategy and model (metrics), loop (ic): all but the provenance file.
        Assert.Equal(4, counts["catalog files written"]);
        Assert.Equal(1, counts["catalog files unchanged"]);
        Assert.Equal(before[4], File.ReadAllBytes(Path.Combine(s.CatalogDirectory, "factor_provenance.json")));
    }

    [Fact]
    public void The_strategy_library_is_one_function_per_strategy_and_an_index_in_the_order_added()
    {
        using var dir = new TempDir();
        var s = Settings(dir);
        var report = new StageReport("export");
        using (var writer = new StrategyLibraryWriter(s.StrategiesLibFile))
        {
            writer.Add("strategy_b_1", new JsonObject { ["topk"] = 5 });
            writer.Add("strategy_a_0", null);
            writer.Finish(new RunContext(s), report);
        }
        var folder = Path.GetDirectoryName(s.StrategiesLibFile)!;
        Assert.Equal("# Generated by RdBridge from the strategy catalog; 'rdbridge export' rewrites this file.\n"
            + "\"\"\"Portfolio configurations of the strategies RD-Agent backtested, one function per strategy.\"\"\"\n"
            + "\n\ndef get_strategy_b_1_config():\n    return {\n        \"topk\": 5,\n    }\n"
            + "\n\ndef get_strategy_a_0_config():\n    return None\n"
            + "\n\nSTRATEGY_FUNCTIONS = {\n"
            + "    \"strategy_b_1\": get_strategy_b_1_config,\n    \"strategy_a_0\": get_strategy_a_0_config,\n}\n",
            File.ReadAllText(s.StrategiesLibFile));
        Assert.Equal("\"\"\"RD-Agent strategies exported by RdBridge.\"\"\"\n",
            File.ReadAllText(Path.Combine(folder, "__init__.py")));
        Assert.Equal([("strategy library written", 1L)], report.Counts.Select(c => (c.Key.Name, c.Value)));
        Assert.Equal(["__init__.py", "generated.py"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // The same strategies again: nothing rewritten. With __init__.py gone, only it is written back.
        var stamp = File.GetLastWriteTimeUtc(s.StrategiesLibFile);
        File.SetLastWriteTimeUtc(s.StrategiesLibFile, stamp.AddHours(-1));
        File.Delete(Path.Combine(folder, "__init__.py"));
        report = new StageReport("export");
        using (var writer = new StrategyLibraryWriter(s.StrategiesLibFile))
        {
            writer.Add("strategy_b_1", new JsonObject { ["topk"] = 5 });
            writer.Add("strategy_a_0", null);
            writer.Finish(new RunContext(s), report);
        }
        Assert.Equal(stamp.AddHours(-1), File.GetLastWriteTimeUtc(s.StrategiesLibFile));
        Assert.True(File.Exists(Path.Combine(folder, "__init__.py")));
        Assert.Equal([("strategy library written", 1L)], report.Counts.Select(c => (c.Key.Name, c.Value)));
        report = new StageReport("export");
        using (var writer = new StrategyLibraryWriter(s.StrategiesLibFile))
        {
            writer.Add("strategy_b_1", new JsonObject { ["topk"] = 5 });
            writer.Add("strategy_a_0", null);
            writer.Finish(new RunContext(s), report);
        }
        Assert.Equal([("strategy library unchanged", 1L)], report.Counts.Select(c => (c.Key.Name, c.Value)));
        Assert.Equal(["__init__.py", "generated.py"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_aggregation_keeps_one_record_per_fingerprint_with_its_other_names_and_one_occurrence_per_loop()
    {
        using var aggregation = new FactorAggregation();
        FactorOccurrence At(long loop, string? from = null) =>
            new() { TaskRunId = Run, LoopId = loop, WorkspaceId = $"ws{loop}", LoadedFrom = from };
        var built = new List<string>();
        void Add(string fp, string name, string source, FactorOccurrence at) =>
            aggregation.Add(fp, name, source, () =>
            {
                built.Add(name);
                return new FactorRecord { Name = name, Fingerprint = fp, Source = source };
            }, at);
        // Fingerprints chosen so their order differs from the names' order.
        Add("fb00000000000000bb", "Zeta", "s", At(0));
        Add("fa00000000000000aa", "Zeta", "s", At(1));
        Add("fb00000000000000bb", "Alpha", "s", At(2, "f.parquet"));
        Add("fb00000000000000bb", "Beta", "s", At(2));
        Add("fc00000000000000cc", "Zz", "a", At(3));
        // The record is built once per fingerprint, from its first occurrence.
        Assert.Equal(["Zeta", "Zeta", "Zz"], built);

        using var stream = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(stream))
        {
            w.WriteStartArray();
            Assert.Equal(3, aggregation.WriteFactors(w, () => { }));
            w.WriteEndArray();
        }
        var records = JsonNode.Parse(stream.ToArray())!.AsArray();
        // Source, then name, then fingerprint: "Zz" comes first by its source alone.
        Assert.Equal(
            [("a", "Zz", "fc00000000000000cc"), ("s", "Zeta", "fa00000000000000aa"),
             ("s", "Zeta", "fb00000000000000bb")],
            records.Select(r => ((string)r!["source"]!, (string)r["name"]!, (string)r["fingerprint"]!)));
        Assert.Equal([[], [], ["Alpha", "Beta"]],
            records.Select(r => r!["aliases"]!.AsArray().Select(a => (string)a!).ToArray()));
        // fp_b: loops 0 and 2 (loop 2 named it twice, under two names: one occurrence).
        Assert.Equal([1L, 1L, 2L], records.Select(r => (long)r!["occurrences"]!));

        stream.SetLength(0);
        using (var w = new System.Text.Json.Utf8JsonWriter(stream))
        {
            w.WriteStartArray();
            Assert.Equal(4, aggregation.WriteProvenance(w, () => { }));
            w.WriteEndArray();
        }
        var entries = JsonNode.Parse(stream.ToArray())!.AsArray();
        string Id(string fp) => "factor_" + fp[..16];
        Assert.Equal(
            [(Id("fc00000000000000cc"), 3L, null), (Id("fa00000000000000aa"), 1L, null),
             (Id("fb00000000000000bb"), 0L, null), (Id("fb00000000000000bb"), 2L, "f.parquet")],
            entries.Select(e => ((string)e!["factor_id"]!, (long)e["loop_id"]!, (string?)e["loaded_from"])));
    }

    [Fact]
    public void The_factor_written_by_a_name_is_remembered_for_its_task_run_only()
    {
        using var aggregation = new FactorAggregation();
        Assert.Null(aggregation.WrittenBy(Run, "Mom5"));
        aggregation.Wrote(Run, "Mom5", "fp1");
        aggregation.Wrote(Run, "Mom5", "fp2");
        aggregation.Wrote(Run, "Vol", "fp3");
        Assert.Equal(("fp2", "fp3", null), (aggregation.WrittenBy(Run, "Mom5"), aggregation.WrittenBy(Run, "Vol"),
            aggregation.WrittenBy(Run, "Other")));
        Assert.Null(aggregation.WrittenBy("tr_b", "Mom5"));
        // A new task run forgets the last one's names.
        aggregation.Wrote("tr_b", "Vol", "fp4");
        Assert.Equal(("fp4", null), (aggregation.WrittenBy("tr_b", "Vol"), aggregation.WrittenBy("tr_b", "Mom5")));
        Assert.Null(aggregation.WrittenBy(Run, "Vol"));
    }

    [Fact]
    public void Export_only_reads_the_registry_and_leaves_its_file_as_it_was()
    {
        using var dir = new TempDir();
        var s = Build(dir);
        // The registry is in SQLite's default rollback-journal mode (header bytes 18 and 19 are 1); a connection that
        // may write would set it to WAL (2) for good, a change to the user's RD-Agent database.
        var before = File.ReadAllBytes(s.RegistryPath);
        Assert.Equal((1, 1), (before[18], before[19]));
        new CatalogExporter(new RunContext(s)).Run();
        Assert.Equal(before, File.ReadAllBytes(s.RegistryPath));
        Assert.Equal([Path.GetFileName(s.RegistryPath)],
            Directory.GetFiles(Path.GetDirectoryName(s.RegistryPath)!).Select(Path.GetFileName));
    }

    [Fact]
    public void The_aggregation_s_scratch_database_is_deleted_when_it_is_disposed()
    {
        var aggregation = new FactorAggregation();
        // The file's name is private and random (a GUID in the temporary folder): read by reflection, the one way
        // to know which file is this aggregation's while other tests make their own at the same time.
        var path = (string)typeof(FactorAggregation)
            .GetField("_path", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .GetValue(aggregation)!;
        aggregation.Add("fa00000000000000aa", "Mom5", "s", () => new FactorRecord { Name = "Mom5" },
            new FactorOccurrence { TaskRunId = Run, LoopId = 0 });
        Assert.True(File.Exists(path), $"{path} holds the factors while the aggregation is in use");
        aggregation.Dispose();
        Assert.False(File.Exists(path), $"{path} is left behind");
    }

    [Fact]
    public void A_factor_s_identity_is_its_source_and_its_expression_else_its_code_else_its_name()
    {
        Assert.Equal(Sha256("s|expr:($close-$open)"),
            FactorIdentity.Fingerprint("s", " ( $Close -\t$OPEN )\n", "c", "n"));
        Assert.Equal(Sha256("s|code:c"), FactorIdentity.Fingerprint("s", null, "c", "n"));
        Assert.Equal(Sha256("s|name:n"), FactorIdentity.Fingerprint("s", null, null, "n"));
        Assert.Equal("factor_0123456789abcdef", FactorIdentity.FactorId("0123456789abcdef0123"));
    }

    [Fact]
    public void A_workspace_without_metadata_and_a_malformed_metadata_file_are_problems_naming_the_backfill_to_run()
    {
        using var dir = new TempDir();
        var s = Build(dir);
        // Loop 1's workspace keeps no metadata file at all; loop 0's feedback.json is cut off mid-object.
        File.Delete(Path.Combine(dir["rd/ws/ws1"], "factor_meta.json"));
        File.WriteAllText(Path.Combine(dir["rd/ws/ws0"], "feedback.json"), "{\"decision\": tr");
        var report = new CatalogExporter(new RunContext(s)).Run();

        var problems = report.Problems.Select(p => (p.Item, p.Path, p.Message)).ToList();
        Assert.Equal(3, problems.Count);
        // The parser's own words sit inside the parentheses; the test pins the text RdBridge writes around them.
        var (item, path, message) =
            problems.Single(p => p.Message.StartsWith("feedback.json", StringComparison.Ordinal));
        Assert.Equal(($"{Run}/0", Path.Combine(dir["rd/ws/ws0"], "feedback.json")), (item, path));
        Assert.StartsWith("feedback.json is malformed (", message);
        Assert.EndsWith($"); run 'rdbridge backfill --overwrite-json --task-run-id {Run} --loop-id 0'", message);
        Assert.Contains(($"{Run}/1", dir["rd/ws/ws1"], $"no metadata files in the workspace; run 'rdbridge backfill "
            + $"--task-run-id {Run} --loop-id 1'"), problems);
        Assert.Contains(($"{Run}/1", (string?)null,
            $"loop {Run}/1 has results but no asset bundle; run 'rdbridge bundle' first"), problems);
    }

    [Fact]
    public void The_strategy_library_has_no_byte_order_mark_replaces_a_changed_library_and_tells_what_it_wrote()
    {
        using var dir = new TempDir();
        var s = Settings(dir);
        var folder = Path.GetDirectoryName(s.StrategiesLibFile)!;
        Directory.CreateDirectory(folder);
        // A library from an earlier export with other strategies, and its __init__.py: only generated.py changes.
        File.WriteAllText(s.StrategiesLibFile, "# an earlier export\n");
        File.WriteAllText(Path.Combine(folder, "__init__.py"), "# kept\n");
        var (wrote, changes) = (new List<string>(), 0);
        var context = new RunContext(s) { FileWritten = wrote.Add };
        context.OnFirstChange(() => changes++);
        using (var writer = new StrategyLibraryWriter(s.StrategiesLibFile))
        {
            writer.Add("strategy_c_2", null);
            writer.Finish(context, new StageReport("export"));
        }
        var bytes = File.ReadAllBytes(s.StrategiesLibFile);
        Assert.Equal("# Generated by RdBridge"u8.ToArray(), bytes[..23]);
        Assert.EndsWith("STRATEGY_FUNCTIONS = {\n    \"strategy_c_2\": get_strategy_c_2_config,\n}\n",
            Encoding.UTF8.GetString(bytes));
        Assert.Equal([s.StrategiesLibFile], wrote);
        Assert.Equal(1, changes);
        Assert.Equal("# kept\n", File.ReadAllText(Path.Combine(folder, "__init__.py")));

        // A first export into an empty folder writes __init__.py too, and says so.
        File.Delete(Path.Combine(folder, "__init__.py"));
        File.Delete(s.StrategiesLibFile);
        wrote.Clear();
        using (var writer = new StrategyLibraryWriter(s.StrategiesLibFile))
        {
            writer.Add("strategy_c_2", null);
            writer.Finish(context, new StageReport("export"));
        }
        Assert.Equal([Path.Combine(folder, "__init__.py"), s.StrategiesLibFile], wrote);
    }

    [Fact]
    public void A_catalog_file_ends_in_a_newline_renews_its_stamp_when_changed_and_leaves_nothing_on_failure()
    {
        using var dir = new TempDir();
        var target = dir["catalogs/model_catalog.json"];
        Directory.CreateDirectory(dir["catalogs"]);
        // A catalog shorter than the 256 bytes read for its stamp, from an earlier run in 2001.
        const string old = "2001-02-03T04:05:06.000007Z";
        File.WriteAllText(target, $"{{\"generated_at_utc\": \"{old}\", \"models\": []}}\n");
        Assert.Equal(old, CatalogFile.ReadTimestamp(target));
        File.WriteAllText(dir["catalogs/no_stamp.json"], "{\"models\": []}\n");
        Assert.Null(CatalogFile.ReadTimestamp(dir["catalogs/no_stamp.json"]));

        var before = DateTimeOffset.UtcNow;
        Assert.True(CatalogFile.Write(target, "models", "v1", w => w.WriteStringValue("m")));
        var text = File.ReadAllText(target);
        Assert.EndsWith("\"models\": [\n    \"m\"\n  ]\n}\n", text.ReplaceLineEndings("\n"));
        var stamp = DateTimeOffset.Parse((string)JsonNode.Parse(text)!["generated_at_utc"]!,
            System.Globalization.CultureInfo.InvariantCulture);
        // The content changed, so the stamp is the time of this write (not 2001's); the clock gives no exact value.
        Assert.True(stamp >= before.AddSeconds(-1), $"stamp {stamp:O} is older than the write at {before:O}");

        var failure = Assert.Throws<InvalidOperationException>(() =>
            CatalogFile.Write(target, "models", "v1", _ => throw new InvalidOperationException("records failed")));
        Assert.Equal("records failed", failure.Message);
        Assert.Equal(text, File.ReadAllText(target));
        Assert.Equal(["model_catalog.json", "no_stamp.json"],
            Directory.GetFiles(dir["catalogs"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // The factor catalog carries the provenance format's version; the others the catalog format's.
        Assert.Equal(["v2", "v1", "v1", "v1"], Enum.GetValues<CatalogKind>().Select(CatalogFile.VersionOf));
    }

    [Fact]
    public void Export_names_only_the_files_a_loop_has_keeps_the_strategy_s_own_id_and_tells_every_file_it_wrote()
    {
        using var dir = new TempDir();
        var s = Build(dir);
        // Loop 0's strategy_meta.json names an id of its own (not the registry's strategy_tr_a_0), and the loop has
        // no model_meta.json: its strategy links no model.
        var strategyMeta = Path.Combine(dir["rd/ws/ws0"], "strategy_meta.json");
        File.WriteAllText(strategyMeta,
            File.ReadAllText(strategyMeta).Replace("\"strategy_tr_a_0\"", "\"strategy_momentum_top50\""));
        File.Delete(Path.Combine(dir["rd/ws/ws0"], "model_meta.json"));
        var wrote = new List<string>();
        var report = new CatalogExporter(new RunContext(s) { FileWritten = wrote.Add }).Run();

        static IEnumerable<(string, string)> Named(JsonNode loop) => loop["paths"]!.AsObject()
            .Where(p => p.Value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String)
            .Select(p => (p.Key, (string)p.Value!));
        var loops = Records(s, "loop_catalog.json", "loops");
        Assert.Equal([("factor_meta", "factor_meta.json"), ("factor_perf", "factor_perf.json"),
            ("feedback", "feedback.json"), ("strategy_meta", "strategy_meta.json")], Named(loops[0]!));
        Assert.Equal([("factor_meta", "factor_meta.json")], Named(loops[1]!));
        Assert.Equal([], Named(loops[2]!));
        Assert.Equal("strategy_momentum_top50", (string)loops[0]!["strategy_id"]!);
        Assert.Null(loops[2]!["strategy_id"]);
        var strategy = Assert.Single(Records(s, "strategy_catalog.json", "strategies"))!;
        Assert.Equal("strategy_momentum_top50", (string)strategy["strategy_id"]!);
        Assert.Null(strategy["model_id"]);

        // The function body is PythonNames' literal, checked whole in The_strategy_library_is_one_function_per_…;
        // here only that export added this strategy under its own id.
        Assert.EndsWith("STRATEGY_FUNCTIONS = {\n"
            + "    \"strategy_momentum_top50\": get_strategy_momentum_top50_config,\n}\n",
            File.ReadAllText(s.StrategiesLibFile));
        var catalogs = new[] { "factor_catalog.json", "factor_provenance.json", "loop_catalog.json",
            "model_catalog.json", "strategy_catalog.json" }.Select(n => Path.Combine(s.CatalogDirectory, n));
        var init = Path.Combine(Path.GetDirectoryName(s.StrategiesLibFile)!, "__init__.py");
        Assert.Equal(catalogs.Append(init).Append(s.StrategiesLibFile).Order(StringComparer.Ordinal),
            wrote.Order(StringComparer.Ordinal));
        Assert.Equal([("export", $"{Run}/1")], report.Problems.Select(p => (p.Stage, p.Item)));
    }

    [Fact]
    public void A_model_loop_s_model_is_proposed_with_its_task_and_files_and_its_experiment_workspace_comes_first()
    {
        using var dir = new TempDir();
        var s = Build(dir);
        // Loop 3 is a model loop with model_meta.json only (no factor_meta.json, no role): RD-Agent's proposed model.
        // Its sub-workspace row sorts before its experiment workspace by id and is inserted first.
        var ws3 = dir["rd/ws/ws3"];
        Directory.CreateDirectory(dir["rd/ws/a3_sub"]);
        Db.Exec(s.RegistryPath, $"""
            INSERT INTO loops (task_run_id, loop_id, action, status, has_result, started_at_utc, ended_at_utc,
                               asset_bundle_id, is_solidified, log_dir, workspace_id, workspace_path)
            VALUES ('{Run}', 3, 'model', 'completed', 1, '2025-07-01T11:00:00Z', '2025-07-01T12:00:00Z',
                    'bundle_tr_a_3', 0, '/logs/tr_a', 'ws3', '{ws3}');
            INSERT INTO workspaces (workspace_id, task_run_id, loop_id, workspace_role, status, workspace_path)
            VALUES ('a3_sub', '{Run}', 3, 'sub_workspace', 'done', '{dir["rd/ws/a3_sub"]}'),
                   ('ws3', '{Run}', 3, 'experiment_workspace', 'done', '{ws3}');
            """);
        WriteJson(ws3, "model_meta.json", """
            { "version": "v1", "task_run_id": "tr_a", "loop_id": 3, "workspace_id": "ws3", "run_id": "mlrun-3",
              "model_type": "GeneralPTNN", "model_module": "qlib.contrib.model.pytorch_general_nn",
              "model_artifacts": {"model_files": ["params.pkl", "model.pt"], "mlruns": "mlruns"},
              "model_task": {"name": "GRU_small", "description": "a small GRU", "formulation": "h_t = GRU(x_t)",
                             "architecture": "GRU(64) + Linear(1)"} }
            """);
        var report = new CatalogExporter(new RunContext(s)).Run();

        var model = Records(s, "model_catalog.json", "models").Single(m => (string)m!["model_id"]! == "model_tr_a_3")!;
        Assert.Equal("proposed", (string)model["role"]!);
        var task = model["model_task"]!;
        Assert.Equal(("GRU_small", "a small GRU", "h_t = GRU(x_t)", "GRU(64) + Linear(1)"),
            ((string)task["name"]!, (string)task["description"]!, (string)task["formulation"]!,
             (string)task["architecture"]!));
        var loops = Records(s, "loop_catalog.json", "loops");
        var l3 = loops.Single(l => (int)l!["loop_id"]! == 3)!;
        Assert.Equal(["params.pkl", "model.pt"], l3["paths"]!["model_files"]!.AsArray().Select(f => (string)f!));
        Assert.Equal(["ws3", "a3_sub"], l3["workspaces"]!.AsArray().Select(w => (string)w!["workspace_id"]!));
        Assert.Empty(l3["factor_names"]!.AsArray()); // the loop names no factor: empty is the exact value
        var l0 = loops.Single(l => (int)l!["loop_id"]! == 0)!;
        Assert.Empty(l0["paths"]!["model_files"]!.AsArray()); // loop 0's model_meta.json lists no file: exactly []
        Assert.Equal([$"{Run}/1"], report.Problems.Select(p => p.Item));
    }

    private const string HypothesisClass = "rdagent.core.proposal.Hypothesis";
    private const string FeedbackClass = "rdagent.core.proposal.HypothesisFeedback";
    private const string FactorTaskClass = "rdagent.components.coder.factor_coder.factor.FactorTask";

    /// <summary>A log pickle at <c>run/Loop_N/step/tag/pid/time.pkl</c>, as RD-Agent lays its log out.</summary>
    private static string LogPickle(string run, long loop, string step, string tag, byte[] pickle)
    {
        var folder = Path.Combine(run, $"Loop_{loop}", step, tag, "4242");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "2025-07-01_08-00-00-000000.pkl");
        File.WriteAllBytes(file, pickle);
        return file;
    }

    /// <summary>A loop's hypothesis, its feedback (a decision) and, when named, one factor task, as CPython pickles
    /// RD-Agent's objects (written by <see cref="PickleText"/>, no CPython per test).</summary>
    private static void LogTexts(string run, long loop, string hypothesis, bool? decision, string? task = null)
    {
        LogPickle(run, loop, "direct_exp_gen", LogTree.Hypothesis,
            PickleText.Of(p => p.Object(HypothesisClass,
                [("hypothesis", q => q.Str(hypothesis)), ("reason", q => q.Str(hypothesis + ", because"))])));
        if (task is not null)
        {
            LogPickle(run, loop, "direct_exp_gen", LogTree.Tasks, PickleText.Of(p => p.List(
                [q => q.Object(FactorTaskClass, [("factor_name", r => r.Str(task)),
                    ("description", r => r.Str(task + " described")), ("factor_formulation", r => r.Str("r_9"))])])));
        }
        if (decision is { } d)
        {
            LogPickle(run, loop, "feedback", LogTree.Feedback, PickleText.Of(p =>
                p.Object(FeedbackClass, [("decision", q => q.Bool(d)), ("reason", q => q.Str("the log's reason"))])));
        }
    }

    [Fact]
    public void A_loop_without_results_takes_its_texts_from_feedback_json_else_its_log_else_discovery_s_memory()
    {
        using var dir = new TempDir();
        var s = Build(dir);
        // tr_a has no log_trace_path: its loops' logs are at their log_dir. tr_b's loops are at its log_trace_path,
        // which differs from each loop's log_dir (that folder holds other texts, never read for them).
        var (logA, dirB, traceB) = (dir["rd/log/a"], dir["rd/log/b_dir"], dir["rd/log/b_trace"]);
        var ws5 = dir["rd/ws/ws5"];
        Db.Exec(s.RegistryPath, $"""
            INSERT INTO task_runs (task_run_id, scenario, log_trace_path) VALUES ('tr_b', 'fin_factor', '{traceB}');
            INSERT INTO loops (task_run_id, loop_id, action, status, has_result, log_dir, workspace_id, workspace_path)
            VALUES ('{Run}', 4, 'factor', 'failed', 0, '{logA}', NULL, NULL),
                   ('{Run}', 5, 'factor', 'failed', 0, '{logA}', 'ws5', '{ws5}'),
                   ('{Run}', 7, 'factor', 'failed', 0, '{logA}', NULL, NULL),
                   ('tr_b', 0, 'factor', 'failed', 0, '{dirB}', NULL, NULL),
                   ('tr_b', 1, 'factor', 'running', 0, NULL, NULL, NULL);
            INSERT INTO workspaces (workspace_id, task_run_id, loop_id, workspace_role, status, workspace_path)
            VALUES ('ws5', '{Run}', 5, 'experiment_workspace', 'done', '{ws5}');
            CREATE TABLE rdbridge_discovery (folder TEXT PRIMARY KEY, task_run_id TEXT NOT NULL, loop_id INTEGER,
              folder_stamp TEXT NOT NULL, files_stamp TEXT NOT NULL, settled INTEGER NOT NULL DEFAULT 0, status TEXT,
              hypothesis TEXT, decision INTEGER, read_at_utc TEXT NOT NULL, step TEXT);
            INSERT INTO rdbridge_discovery (folder, task_run_id, loop_id, folder_stamp, files_stamp, status,
                                            hypothesis, decision, read_at_utc, step)
            VALUES ('a/Loop_0', '{Run}', 0, 's', 's', 'success', 'remembered 0', 0, '2025-07-02T00:00:00Z', 'record'),
                   ('a/Loop_2', '{Run}', 2, 's', 's', 'failed', 'remembered 2', 1, '2025-07-02T00:00:00Z', 'coding'),
                   ('a/Loop_4', '{Run}', 4, 's', 's', 'failed', 'remembered 4', 1, '2025-07-02T00:00:00Z', 'feedback');
            """);
        // Loop 4: its log (hypothesis, a factor task, decision no) and discovery's memory (another hypothesis, yes).
        LogTexts(logA, 4, "logged 4", false, "Mom9");
        // Loop 5: a feedback.json naming a hypothesis and no decision; its log (never read) has a decision and a
        // pickle that does not read.
        WriteJson(ws5, "feedback.json", """
            { "version": "v1", "task_run_id": "tr_a", "loop_id": 5, "workspace_id": "ws5", "status": "failed",
              "hypothesis": "from feedback.json" }
            """);
        LogTexts(logA, 5, "logged 5", true);
        LogPickle(logA, 5, "coding", LogTree.CoderResult, "not a pickle"u8.ToArray());
        // Loop 7: only a pickle that does not read.
        var broken = LogPickle(logA, 7, "direct_exp_gen", LogTree.Hypothesis,
            "not a pickle"u8.ToArray());
        LogTexts(dirB, 0, "in log_dir 0", true, "Wrong0");
        LogTexts(traceB, 0, "in trace 0", false, "Vol3");
        LogTexts(dirB, 1, "in log_dir 1", true);
        LogTexts(traceB, 1, "in trace 1", null);

        var report = new CatalogExporter(new RunContext(s)).Run();
        var loops = Records(s, "loop_catalog.json", "loops");
        JsonNode Loop(string run, long id) =>
            loops.Single(l => (string)l!["task_run_id"]! == run && (long)l["loop_id"]! == id)!;
        (bool?, string?, string?) Texts(JsonNode l) =>
            ((bool?)l["decision"], (string?)l["hypothesis"], (string?)l["log_dir"]);
        static IEnumerable<(string, string, string, string)> Tasks(JsonNode l) => l["tasks"]!.AsArray()
            .Select(t => ((string)t!["kind"]!, (string)t["name"]!, (string)t["description"]!,
                (string)t["formulation"]!));

        // feedback.json first (loop 0, though discovery remembers otherwise); then the log; then the memory.
        Assert.Equal((true, "momentum persists", "/logs/tr_a"), Texts(Loop(Run, 0)));
        Assert.Equal((true, "remembered 2", "/logs/tr_a"), Texts(Loop(Run, 2)));
        var l4 = Loop(Run, 4);
        Assert.Equal((false, "logged 4", logA), Texts(l4));
        Assert.Equal(("logged 4, because", "the log's reason"),
            ((string)l4["hypothesis_reason"]!, (string)l4["decision_reason"]!));
        Assert.Equal([("factor", "Mom9", "Mom9 described", "r_9")], Tasks(l4));
        // A loop without results and with feedback.json: that file alone, its missing decision left missing.
        var l5 = Loop(Run, 5);
        Assert.Equal(((bool?)null, "from feedback.json", logA), Texts(l5));
        Assert.Null(l5["decision_reason"]);
        // The log is read at the task run's log_trace_path first; the record names the loop's own log_dir first.
        var b0 = Loop("tr_b", 0);
        Assert.Equal((false, "in trace 0", dirB), Texts(b0));
        Assert.Equal([("factor", "Vol3", "Vol3 described", "r_9")], Tasks(b0));
        Assert.Equal(((bool?)null, "in trace 1", traceB), Texts(Loop("tr_b", 1)));
        // A loop whose log has no task, or that has feedback.json, has no tasks at all (not an empty list).
        foreach (var (run, id) in new[] { (Run, 0L), (Run, 2L), (Run, 5L), (Run, 7L), ("tr_b", 1L) })
            Assert.False(Loop(run, id).AsObject().ContainsKey("tasks"), $"{run}/{id} has tasks");

        // The pickle that does not read is a note naming the loop and the file (its texts left out), no problem.
        var note = Assert.Single(report.Notes);
        Assert.StartsWith($"loop {Run}/7: the log pickle '{broken}' ", note);
        Assert.EndsWith("; its texts are left out", note);
        Assert.Equal([$"{Run}/1"], report.Problems.Select(p => p.Item));
    }

    [Fact]
    public void A_factor_with_code_stays_its_own_though_found_in_a_file_and_a_model_keeps_the_role_its_file_names()
    {
        using var dir = new TempDir();
        var s = Build(dir);
        var (ws1, ws3) = (dir["rd/ws/ws1"], dir["rd/ws/ws3"]);
        var ws6 = dir["rd/ws/ws6"];
        // Loop 1 wrote Mom5 anew (its own code) and names the combined file it was also found in; loop 3 names Mom5
        // by name alone (no code, no expression, not found in a file). Loop 6's workspace folder is gone, and the
        // registry holds a loop row whose loop_id is text.
        WriteJson(ws1, "factor_meta.json", $$"""
            { {{Origin1}} "factors": [
              {"name": "Mom5", "source": "rdagent_generated", "code_fingerprint": "beef", "workspace_id": "ws1",
               "found_in": "combined_factors_df.parquet"} ] }
            """);
        WriteJson(ws3, "factor_meta.json", """
            { "version": "v1", "task_run_id": "tr_a", "loop_id": 3, "workspace_id": "ws3",
              "factors": [ {"name": "Mom5", "source": "rdagent_generated", "workspace_id": "ws3"} ] }
            """);
        // Loop 0 (a factor loop) has a model_meta.json naming its role: proposed, not its kind's baseline.
        var modelMeta = Path.Combine(dir["rd/ws/ws0"], "model_meta.json");
        File.WriteAllText(modelMeta,
            File.ReadAllText(modelMeta).Replace("\"run_id\"", "\"role\": \"proposed\", \"run_id\""));
        Db.Exec(s.RegistryPath, $"""
            INSERT INTO loops (task_run_id, loop_id, action, status, has_result, asset_bundle_id, log_dir,
                               workspace_id, workspace_path)
            VALUES ('{Run}', 3, 'factor', 'completed', 1, 'bundle_tr_a_3', '/logs/tr_a', 'ws3', '{ws3}'),
                   ('{Run}', 6, 'factor', 'completed', 1, 'bundle_tr_a_6', '/logs/tr_a', 'ws6', '{ws6}'),
                   ('{Run}', 'x', 'factor', 'completed', 1, NULL, '/logs/tr_a', NULL, NULL);
            INSERT INTO workspaces (workspace_id, task_run_id, loop_id, workspace_role, status, workspace_path)
            VALUES ('ws3', '{Run}', 3, 'experiment_workspace', 'done', '{ws3}'),
                   ('ws6', '{Run}', 6, 'experiment_workspace', 'done', '{ws6}');
            """);
        var report = new CatalogExporter(new RunContext(s)).Run();

        string Id(string identity) => "factor_" + Sha256(identity)[..16];
        var (c0ffee, beef, byName) =
            (Id("rdagent_generated|code:c0ffee"), Id("rdagent_generated|code:beef"), Id("rdagent_generated|name:Mom5"));
        var kmid = Id("qlib_alpha158|expr:($close-$open)/$open");
        Assert.Equal(new[] { beef, byName, c0ffee, kmid }.Order(StringComparer.Ordinal),
            Records(s, "factor_catalog.json", "factors").Select(f => (string)f!["factor_id"]!)
                .Order(StringComparer.Ordinal));
        // Every occurrence is its own loop's and none is loaded: loop 1's has code, so it names no loaded_from.
        Assert.Equal(
            new[] { (kmid, 0L, (string?)null), (c0ffee, 0L, null), (beef, 1L, null), (byName, 3L, null) }.Order(),
            Records(s, "factor_provenance.json", "provenance")
                .Select(p => ((string)p!["factor_id"]!, (long)p["loop_id"]!, (string?)p["loaded_from"])).Order());

        var model = Records(s, "model_catalog.json", "models").Single(m => (string)m!["model_id"]! == "model_tr_a_0")!;
        Assert.Equal("proposed", (string)model["role"]!);

        // Loop 6's missing workspace and the registry's bad row are export's problems, beside loop 1's bundle.
        Assert.Equal(
            [($"{Run}/1", null, $"loop {Run}/1 has results but no asset bundle; run 'rdbridge bundle' first"),
             ($"{Run}/6", ws6, $"loop {Run}/6 workspace ws6 is missing: '{ws6}' (stored as '{ws6}'); check the " +
                 "pathMap in rdbridge.json or whether the folder was deleted"),
             ($"loops row {Run}/x", null, "loop_id is 'x', not an integer; the row is skipped, fix or delete it " +
                 $"in the registry '{s.RegistryPath}'")],
            report.Problems.Select(p => (p.Item, p.Path, p.Message)));
    }

    [Fact]
    public void A_loop_s_backtest_curve_is_summed_up_with_qlib_s_max_drawdown_and_a_curve_that_does_not_read_is_named()
    {
        using var dir = new TempDir();
        var s = Build(dir);
        // Three days of a Qlib report, written by pandas in a folder of its own (the pickle is the same every run).
        using var pandas = new TempDir();
        RealPandas.Run(pandas.Path, """
            import numpy as np, pandas as pd
            idx = pd.DatetimeIndex(['2021-03-01', '2021-03-02', '2021-03-03'], name='datetime')
            cols = ['account', 'return', 'total_turnover', 'turnover', 'total_cost', 'cost', 'value', 'cash', 'bench']
            pd.DataFrame({c: np.zeros(3) for c in cols}, index=idx).to_pickle('ret.pkl')
            """);
        var (ws3, ws5, ws8) = (dir["rd/ws/ws3"], dir["rd/ws/ws5"], dir["rd/ws/ws8"]);
        foreach (var ws in new[] { dir["rd/ws/ws0"], dir["rd/ws/ws1"], ws5 })
        {
            Directory.CreateDirectory(ws);
            File.Copy(pandas["ret.pkl"], Path.Combine(ws, "ret.pkl"));
        }
        // Loop 3's ret.pkl is not a pickle; loop 8's is a named pipe (a file RdBridge refuses to read); loop 5 failed.
        WriteJson(ws3, "ret.pkl", "not a pickle");
        Directory.CreateDirectory(ws8);
        Safety.Hostile.Fifo(Path.Combine(ws8, "ret.pkl"));
        Db.Exec(s.RegistryPath, $"""
            INSERT INTO loops (task_run_id, loop_id, action, status, has_result, asset_bundle_id, log_dir,
                               workspace_id, workspace_path)
            VALUES ('{Run}', 3, 'factor', 'completed', 1, 'bundle_tr_a_3', '/logs/tr_a', 'ws3', '{ws3}'),
                   ('{Run}', 5, 'factor', 'failed', 0, NULL, '/logs/tr_a', 'ws5', '{ws5}'),
                   ('{Run}', 8, 'factor', 'completed', 1, 'bundle_tr_a_8', '/logs/tr_a', 'ws8', '{ws8}');
            INSERT INTO workspaces (workspace_id, task_run_id, loop_id, workspace_role, status, workspace_path)
            VALUES ('ws3', '{Run}', 3, 'experiment_workspace', 'done', '{ws3}'),
                   ('ws5', '{Run}', 5, 'experiment_workspace', 'done', '{ws5}'),
                   ('ws8', '{Run}', 8, 'experiment_workspace', 'done', '{ws8}');
            """);
        var report = new CatalogExporter(new RunContext(s)).Run();

        var loops = Records(s, "loop_catalog.json", "loops");
        JsonNode Backtest(long id) => loops.Single(l => (long)l!["loop_id"]! == id)!["backtest"]!;
        // Loop 0's factor_perf.json has Qlib's max drawdown -0.08; a flat curve's is 0, so they differ.
        var b0 = Backtest(0);
        Assert.Equal(("2021-03-01", "2021-03-03", 3, "ret.pkl", -0.08, false),
            ((string)b0["first_day"]!, (string)b0["last_day"]!, (int)b0["trading_days"]!, (string)b0["source"]!,
             (double)b0["qlib_max_drawdown"]!, (bool)b0["max_drawdown_matches_qlib"]!));
        // Loop 1 has no factor_perf.json: no Qlib figure, so nothing to match (null, not false).
        var b1 = Backtest(1);
        Assert.Equal(("ret.pkl", 3), ((string)b1["source"]!, (int)b1["trading_days"]!));
        Assert.Null(b1["qlib_max_drawdown"]);
        Assert.Null(b1["max_drawdown_matches_qlib"]);
        // A loop without results has no backtest though its workspace has a curve; one that does not read has none.
        foreach (var id in new[] { 3L, 5L, 8L }) Assert.Null(Backtest(id));

        // Loops 3 and 8 have no metadata file either (a problem of its own, on the workspace).
        Assert.Equal([($"{Run}/1", null), ($"{Run}/3", ws3), ($"{Run}/3", Path.Combine(ws3, "ret.pkl")),
                ($"{Run}/8", ws8), ($"{Run}/8", Path.Combine(ws8, "ret.pkl"))],
            report.Problems.Select(p => (p.Item, p.Path)));
        var problems = report.Problems.Where(p => p.Path?.EndsWith("ret.pkl", StringComparison.Ordinal) == true)
            .ToList();
        // The reader's own words follow the colon; RdBridge's text is pinned around them.
        Assert.All(problems, p => Assert.StartsWith("the backtest curve cannot be read: ", p.Message));
        Assert.Equal($"the backtest curve cannot be read: '{Path.Combine(ws8, "ret.pkl")}' is a FIFO (named pipe), "
            + "not a regular file; it was not read", problems[1].Message);
    }
}
