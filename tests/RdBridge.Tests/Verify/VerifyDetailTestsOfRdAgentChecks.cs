using System.Text.Json.Nodes;

namespace RdBridge.Tests.Verify;

/// <summary>
/// The RD-Agent side's checks and what they read (the registry, the workspaces, the bundles, the exported catalogs)
/// when more than one thing is wrong, or nothing is there: the whole text, each loop, file or record named in the
/// order the check meets them, every name and number read from the copy of the synced sample with SQL or as JSON.
/// The class name starts with <c>VerifyDetailTests</c> so that <c>bench/mutation.sh Verify</c>'s filter runs it:
/// the mutants of <c>RdAgentChecks.cs</c> and <c>VerifyContext.cs</c> that lived its run of 2026-12-06 (a separator
/// emptied, an example dropped, a branch no test reached) each fail one of these.
/// </summary>
public sealed class VerifyDetailTestsOfRdAgentChecks
{
    /// <summary>The registry's loops with results, as <c>task_run_id/loop_id</c>, in task run and loop order.</summary>
    private static List<(string TaskRun, long Loop)> LoopsWithResults(SyncedSample copy) =>
        Db.Rows(copy.Settings.RegistryPath,
                "SELECT task_run_id, loop_id FROM loops WHERE has_result = 1 ORDER BY task_run_id, loop_id")
            .Select(r => ((string)r[0]!, (long)r[1]!)).ToList();

    /// <summary>The loop's experiment workspace on this machine, from its row in the registry.</summary>
    private static string Workspace(SyncedSample copy, (string TaskRun, long Loop) loop)
    {
        var stored = (string)Db.Rows(copy.Settings.RegistryPath, "SELECT workspace_path FROM workspaces " +
            $"WHERE task_run_id = '{loop.TaskRun}' AND loop_id = {loop.Loop} " +
            "AND workspace_role = 'experiment_workspace'").Single()[0]!;
        return copy.Settings.PathMap.Map(stored).Local!;
    }

    private static string CatalogPath(SyncedSample copy, string file) =>
        Path.Combine(copy.Settings.CatalogDirectory, file);

    private static JsonNode ReadCatalog(SyncedSample copy, string file) =>
        JsonNode.Parse(File.ReadAllText(CatalogPath(copy, file)))!;

    private static void WriteCatalog(SyncedSample copy, string file, JsonNode root) =>
        File.WriteAllText(CatalogPath(copy, file), root.ToJsonString());

    /// <summary>A sample whose loops table is emptied: no check of the registry passes on nothing.</summary>
    [Theory]
    [InlineData("rd.registry_loops", "the loops table is empty")]
    [InlineData("rd.workspace_metadata", "0 workspaces complete")]
    [InlineData("rd.model_meta_preprocess", "0 files checked")]
    [InlineData("rd.factor_meta_input_schema", "0 files checked")]
    [InlineData("rd.strategy_meta_portfolio", "0 files checked")]
    [InlineData("rd.bundle_files", "0 bundles with .sha256")]
    [InlineData("rd.bundle_rows", "0 rows, loops.asset_bundle_id set")]
    public void A_registry_without_loops_fails_each_registry_check_with_nothing_counted(string id, string expected)
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        copy.Registry("DELETE FROM loops");

        var result = copy.Check(id);

        Assert.Equal((false, expected), (result.Passed, result.Detail));
    }

    [Fact]
    public void Loops_without_a_workspace_row_are_each_named_in_loop_order()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        copy.Registry("DELETE FROM workspaces");
        var loops = Db.Scalar(copy.Settings.RegistryPath, "SELECT count(*) FROM loops");
        var results = LoopsWithResults(copy);

        var result = copy.Check("rd.registry_loops");

        Assert.Equal((false, $"{Words.N(loops, "loop", "loops")}, {results.Count} with results; {results.Count} "
            + "without a workspace row: "
            + string.Join(", ", results.Select(l => $"{l.TaskRun}/{l.Loop}"))), (result.Passed, result.Detail));
    }

    /// <summary>
    /// One loop's workspace is gone, one lacks factor_perf.json next to its qlib_res.csv, and one lacks
    /// qlib_res.csv, factor_perf.json and feedback.json: factor_perf.json is asked for only where qlib_res.csv is
    /// (a loop whose backtest wrote no results has no factor performance), feedback.json always.
    /// </summary>
    [Fact]
    public void Workspace_metadata_names_a_missing_workspace_and_excuses_factor_perf_only_without_qlib_res()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var loops = LoopsWithResults(copy);
        // A guard on the sample, not a result: each of three loops gets its own break.
        Assert.Equal(3, loops.Count);
        var (gone, noPerf, noResults) = (loops[0], loops[1], loops[2]);
        Directory.Move(Workspace(copy, gone), Workspace(copy, gone) + ".moved");
        File.Delete(Path.Combine(Workspace(copy, noPerf), "factor_perf.json"));
        foreach (var f in new[] { "qlib_res.csv", "factor_perf.json", "feedback.json" })
            File.Delete(Path.Combine(Workspace(copy, noResults), f));

        var result = copy.Check("rd.workspace_metadata");

        Assert.Equal((false, $"3 missing, e.g. {gone.TaskRun}/{gone.Loop}: workspace missing; "
            + $"{noPerf.TaskRun}/{noPerf.Loop}: factor_perf.json; {noResults.TaskRun}/{noResults.Loop}: feedback.json"),
            (result.Passed, result.Detail));
    }

    [Fact]
    public void A_metadata_file_missing_malformed_or_without_its_field_is_each_named()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var loops = LoopsWithResults(copy);
        // A guard on the sample, not a result: each of three loops gets its own break.
        Assert.Equal(3, loops.Count);
        var (missing, malformed, bare) = (loops[0], loops[1], loops[2]);
        File.Delete(Path.Combine(Workspace(copy, missing), "model_meta.json"));
        File.WriteAllText(Path.Combine(Workspace(copy, malformed), "model_meta.json"), "{\"model_type\":");
        File.WriteAllText(Path.Combine(Workspace(copy, bare), "model_meta.json"), "{\"model_type\":\"LGBModel\"}");

        var result = copy.Check("rd.model_meta_preprocess");

        Assert.Equal((false, $"3 failing, e.g. {missing.TaskRun}/{missing.Loop}: no model_meta.json; "
            + $"{malformed.TaskRun}/{malformed.Loop}: malformed; {bare.TaskRun}/{bare.Loop}"),
            (result.Passed, result.Detail));
    }

    [Fact]
    public void One_factor_without_an_input_schema_fails_its_loop_s_factor_meta()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var loop = LoopsWithResults(copy)[0];
        var path = Path.Combine(Workspace(copy, loop), "factor_meta.json");
        var meta = JsonNode.Parse(File.ReadAllText(path))!;
        var factors = meta["factors"]!.AsArray();
        // A guard on the sample, not a result: the other factors keep their input_schema.
        Assert.True(factors.Count > 1 && factors.All(f => f!["input_schema"] is JsonObject), meta.ToJsonString());
        factors[1]!.AsObject().Remove("input_schema");
        File.WriteAllText(path, meta.ToJsonString());

        var result = copy.Check("rd.factor_meta_input_schema");

        Assert.Equal((false, $"1 failing, e.g. {loop.TaskRun}/{loop.Loop}"), (result.Passed, result.Detail));
    }

    /// <summary>
    /// The first loop's .sha256 is deleted, and the registry holds a copy of it under a task run id that cannot be a
    /// file name: both are listed, in the registry's order, the second with why and what to do.
    /// </summary>
    [Fact]
    public void Bundle_files_lists_a_missing_sidecar_and_a_task_run_id_that_cannot_be_a_file_name()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var first = LoopsWithResults(copy)[0];
        var bundle = $"bundle_{first.TaskRun}_{first.Loop}";
        File.Delete(copy.Settings.Bundles.Sidecar(bundle));
        copy.Registry($"""
            CREATE TEMP TABLE copied AS SELECT * FROM loops
                WHERE task_run_id = '{first.TaskRun}' AND loop_id = {first.Loop};
            UPDATE copied SET task_run_id = 'z/z', asset_bundle_id = NULL;
            INSERT INTO loops SELECT * FROM copied;
            """);
        var named = LoopsWithResults(copy).Select(l => l.TaskRun == "z/z"
            ? $"bundle_z/z_{l.Loop} (its task run id cannot be a file name; rename the task run in the registry)"
            : l == first ? bundle : null).OfType<string>().ToList();

        var result = copy.Check("rd.bundle_files");

        Assert.Equal((false, $"2 missing: {string.Join(", ", named)}"), (result.Passed, result.Detail));
    }

    [Fact]
    public void Bundle_rows_names_a_missing_row_a_row_of_another_bundle_and_a_loop_naming_another_bundle()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var loops = LoopsWithResults(copy);
        // A guard on the sample, not a result: each of three loops gets its own break.
        Assert.Equal(3, loops.Count);
        var (noRow, otherRow, otherLoop) = (loops[0], loops[1], loops[2]);
        string Where((string TaskRun, long Loop) l) => $"WHERE task_run_id = '{l.TaskRun}' AND loop_id = {l.Loop}";
        copy.Registry($"DELETE FROM production_bundles {Where(noRow)}");
        copy.Registry($"UPDATE production_bundles SET bundle_id = 'bundle_{otherRow.TaskRun}_9' {Where(otherRow)}");
        copy.Registry($"UPDATE loops SET asset_bundle_id = 'bundle_{otherLoop.TaskRun}_8' {Where(otherLoop)}");

        var result = copy.Check("rd.bundle_rows");

        Assert.Equal((false, $"3 wrong: {noRow.TaskRun}/{noRow.Loop}: no row; "
            + $"{otherRow.TaskRun}/{otherRow.Loop}: row names bundle_{otherRow.TaskRun}_9; "
            + $"{otherLoop.TaskRun}/{otherLoop.Loop}: loops.asset_bundle_id is bundle_{otherLoop.TaskRun}_8"),
            (result.Passed, result.Detail));
    }

    /// <summary>
    /// Four records lose their asset_bundle_id: the first factor (which loses its factor_id too, as a catalog of the
    /// Python tools names a factor by name alone), the first two models and the first strategy. All four are counted,
    /// the first three shown in the catalogs' order, each by its own id or, for that factor, by its name.
    /// </summary>
    [Fact]
    public void Records_without_asset_bundle_id_are_all_counted_and_the_first_three_named()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var shown = new List<string>();
        void Strip(string file, string list, int count, string kind, string idField)
        {
            var root = ReadCatalog(copy, file);
            foreach (var r in root[list]!.AsArray().Take(count).Select(r => r!.AsObject()))
            {
                r.Remove("asset_bundle_id");
                if (kind == "Factor") r.Remove(idField);
                // Named as the other checks name a record: the catalog's list, then the record's id.
                shown.Add($"{list} {(string)r[kind == "Factor" ? "name" : idField]!}");
            }
            WriteCatalog(copy, file, root);
        }
        Strip("factor_catalog.json", "factors", 1, "Factor", "factor_id");
        Strip("model_catalog.json", "models", 2, "Model", "model_id");
        Strip("strategy_catalog.json", "strategies", 1, "Strategy", "strategy_id");

        var result = copy.Check("rd.catalog_bundle_ids");

        Assert.Equal((false, $"4 records without asset_bundle_id, e.g. {string.Join(", ", shown.Take(3))}"),
            (result.Passed, result.Detail));
    }

    [Fact]
    public void A_missing_and_an_empty_catalog_are_both_named_and_nothing_of_the_catalogs_is_checked()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var dir = copy.Settings.CatalogDirectory;
        File.WriteAllText(Path.Combine(dir, "model_catalog.json"), "");
        File.Delete(Path.Combine(dir, "loop_catalog.json"));

        var result = copy.Check("rd.catalog_bundle_ids");

        Assert.Equal((false, $"{Path.Combine(dir, "model_catalog.json")} is empty or not a JSON catalog; "
            + $"loop_catalog.json missing in {dir}"), (result.Passed, result.Detail));
    }

    /// <summary>
    /// The loop catalog lacks a loop with results: its first record dropped, marked as a loop without results, or the
    /// whole file gone. The registry's loops with results are counted against the catalog's records with results.
    /// </summary>
    [Theory]
    [InlineData("dropped")]
    [InlineData("without results")]
    [InlineData("deleted")]
    public void Loops_with_results_missing_from_the_loop_catalog_are_counted(string how)
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var root = ReadCatalog(copy, "loop_catalog.json");
        var records = root["loops"]!.AsArray();
        // A guard on the sample, not a result: every record is a loop with results before the break.
        Assert.All(records, r => Assert.True((bool)r!["has_result"]!));
        switch (how)
        {
            case "dropped": records.RemoveAt(0); break;
            case "without results": records[0]!["has_result"] = false; break;
            default: records.Clear(); break;
        }
        if (how == "deleted") File.Delete(CatalogPath(copy, "loop_catalog.json"));
        else WriteCatalog(copy, "loop_catalog.json", root);
        var withResults = Db.Scalar(copy.Settings.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1");
        var left = records.Count(r => (bool)r!["has_result"]!);

        var result = copy.Check("link.loop_workspace");

        var absent = withResults - left;
        Assert.Equal((false, "1 wrong: " + (absent == 1 ? "1 loop with results is" : $"{absent} loops with results are")
            + " not in the loop catalog"),
            (result.Passed, result.Detail));
    }

    [Fact]
    public void A_provenance_entry_naming_a_loop_not_in_the_loop_catalog_is_a_broken_link()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var root = ReadCatalog(copy, "factor_provenance.json");
        var entry = root["provenance"]!.AsArray()[0]!;
        entry["loop_id"] = 999;
        WriteCatalog(copy, "factor_provenance.json", root);

        var result = copy.Check("link.factor_loop");

        var (factor, taskRun) = ((string)entry["factor_id"]!, (string)entry["task_run_id"]!);
        Assert.Equal((false, $"1 broken link, e.g. {factor} → {taskRun}/999"), (result.Passed, result.Detail));
    }

    /// <summary>
    /// A factor catalog of format v1 carried its provenance in its records, so it needs no factor_provenance.json.
    /// </summary>
    [Fact]
    public void A_v1_factor_catalog_without_a_provenance_file_links_its_records()
    {
        using var copy = SyncedSample.Copy("rdagent", "sqlite");
        var root = ReadCatalog(copy, "factor_catalog.json");
        root["version"] = "v1";
        WriteCatalog(copy, "factor_catalog.json", root);
        File.Delete(CatalogPath(copy, "factor_provenance.json"));

        var result = copy.Check("link.factor_loop");

        var factors = root["factors"]!.AsArray().Count;
        Assert.Equal((true, (factors == 1 ? "1 record each links" : $"{factors} records each link")
            + " to a loop of the loop catalog and its bundle"), (result.Passed, result.Detail));
    }
}
