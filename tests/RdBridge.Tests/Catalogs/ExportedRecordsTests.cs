using System.Text.Json.Nodes;

namespace RdBridge.Tests.Catalogs;

/// <summary>
/// Issue 12 on the generated sample: what the catalogs say about models, strategies and shared factors.
/// </summary>
public class ExportedRecordsTests
{
    private static JsonArray Catalog(Sample sample, string file, string list) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(sample.Settings.CatalogDirectory, file)))![list]!.AsArray();

    [Fact]
    public void Every_loop_with_results_has_the_model_it_trained_and_its_strategy_links_to_it()
    {
        using var sample = new Sample(taskRuns: 2, loops: 4, seed: 7, store: "sqlite");
        Assert.Equal(0, sample.Cli("init").Code);
        var loops = Catalog(sample, "loop_catalog.json", "loops");
        var models = Catalog(sample, "model_catalog.json", "models");
        var strategies = Catalog(sample, "strategy_catalog.json", "strategies");
        // The loop catalog lists failed and running loops too; they trained nothing. One model and one strategy a
        // loop with results (the registry's has_result), the strategy naming the model of its own loop.
        var withResults = Db.Rows(sample.Settings.RegistryPath,
            "SELECT task_run_id, loop_id, action FROM loops WHERE has_result = 1 ORDER BY 1, 2");
        Assert.Equal(withResults.Count, loops.Count(l => (bool)l!["has_result"]!));
        Assert.Equal(withResults.Count, models.Count);
        Assert.Equal(withResults.Count, strategies.Count);
        foreach (var s in strategies)
        {
            var own = models.Single(m => (string?)m!["task_run_id"] == (string?)s!["task_run_id"]
                && (long)m!["loop_id"]! == (long)s!["loop_id"]!);
            Assert.Equal((string)own!["model_id"]!, (string?)s!["model_id"]);
        }
        // A factor loop's model is the template's baseline; a model loop's is the one it proposed (the action as the
        // registry records it).
        foreach (var m in models)
        {
            var loop = withResults.Single(l => (string?)l[0] == (string?)m!["task_run_id"]
                && (long)l[1]! == (long)m!["loop_id"]!);
            Assert.Equal((string?)loop[2] == "model" ? "proposed" : "baseline", (string?)m!["role"]);
            // The record names an MLflow run the loop's experiment workspace logged, and says how the YAML was
            // chosen: the YAML that run's command line names when the workspace has it, else the run's logged params.
            var runs = ExperimentRuns(sample.Settings, (string)m["task_run_id"]!, (long)m["loop_id"]!);
            Assert.True(runs.TryGetValue((string?)m["run_id"] ?? "", out var run),
                $"{m["run_id"]} is not one of the runs {string.Join(", ", runs.Keys)}");
            var yaml = File.ReadAllText(Path.Combine(run!, "params", "cmd-sys.argv")).Split(' ')
                .Select(Path.GetFileName).FirstOrDefault(a => a!.EndsWith(".yaml", StringComparison.Ordinal));
            var named = yaml is not null && File.Exists(Path.Combine(run!, "..", "..", "..", yaml));
            Assert.Equal(named ? "mlflow cmd-sys.argv" : "mlflow params", (string?)m["config_source"]);
        }
        // A premise on the seed's sample, so both branches above are taken: it has loops of both actions.
        Assert.Equal(["factor", "model"], withResults.Select(l => (string)l[2]!).Distinct().Order());
    }

    /// <summary>The MLflow runs (folders with params) under the loop's experiment workspace, by run id.</summary>
    private static Dictionary<string, string> ExperimentRuns(
        RdBridge.Configuration.RdBridgeSettings s, string taskRunId, long loopId)
    {
        var workspace = (string)Assert.Single(Db.Rows(s.RegistryPath,
            "SELECT workspace_id FROM workspaces WHERE workspace_role = 'experiment_workspace' " +
            $"AND task_run_id = '{taskRunId}' AND loop_id = {loopId}"))[0]!;
        return Directory.GetDirectories(Path.Combine(s.WorkspaceRoot, workspace, "mlruns"))
            .SelectMany(Directory.GetDirectories).Where(r => Directory.Exists(Path.Combine(r, "params")))
            .ToDictionary(r => Path.GetFileName(r), r => r);
    }

    [Fact]
    public void A_factor_a_later_loop_only_loads_is_an_occurrence_of_the_record_of_the_loop_that_wrote_it()
    {
        using var sample = new Sample(taskRuns: 2, loops: 4, seed: 7, store: "sqlite");
        Assert.Equal(0, sample.Cli("init").Code);
        var factors = Catalog(sample, "factor_catalog.json", "factors")
            .Where(f => (string?)f!["source"] == "rdagent_generated").ToList();
        // No generated factor without code when a record with code of that name exists in the same task run.
        foreach (var orphan in factors.Where(f => f!["code_path"] is null))
        {
            Assert.DoesNotContain(factors, f => f!["code_path"] is not null
                && (string?)f["name"] == (string?)orphan!["name"]
                && (string?)f["task_run_id"] == (string?)orphan["task_run_id"]);
        }
        // The sample's later loops load earlier loops' factors: those show up as occurrences, marked as loaded.
        var entries = Catalog(sample, "factor_provenance.json", "provenance");
        var loadedIds = entries.Where(p => p!["loaded_from"] is not null).Select(p => (string)p!["factor_id"]!)
            .ToHashSet();
        var shared = factors.Where(f => loadedIds.Contains((string)f!["factor_id"]!)).ToList();
        // A loaded factor's record is that of a loop that coded it: its code is the factor.py of one of that loop's
        // sub-workspaces whose result column is the factor (either, where two coders of the loop wrote it).
        var coders = Coders(sample.Settings);
        foreach (var f in shared)
        {
            var files = coders.Where(c => c.Run == (string)f!["task_run_id"]! && c.Loop == (long)f["loop_id"]!
                && c.Name == (string)f["name"]!).Select(c => $"workspaces/{c.Workspace}/factor.py").ToList();
            Assert.True(files.Contains((string?)f!["code_path"] ?? ""),
                $"{f["name"]}: code_path {f["code_path"]} is not one of [{string.Join(", ", files)}]");
        }

        // Where each factor occurs, read from the registry and the factor code: a factor loop with results lists the
        // factors its sub-workspaces coded (factor.py names the column) and, loaded from its combined parquet, the
        // factors of the run's earlier such loops it did not code itself. One factor's code is the same in every task
        // run, so its record gathers the occurrences of all of them; a loop is one occurrence however many of its
        // sub-workspaces coded the factor (the seed has a loop whose two coders wrote the same one). The entries are
        // in factor_provenance.json, by factor id.
        var expected = ExpectedOccurrences(sample.Settings);
        Assert.Equal(expected.Keys.Order(), factors.Select(f => (string)f!["name"]!).Order());
        foreach (var f in factors)
        {
            var name = (string)f!["name"]!;
            Assert.Null(f["provenance"]);
            var provenance = entries.Where(p => (string)p!["factor_id"]! == (string)f["factor_id"]!)
                .Select(p => ((string)p!["task_run_id"]!, (long)p["loop_id"]!, (string?)p["loaded_from"]))
                .Order().ToList();
            Assert.Equal(expected[name].Order(), provenance);
            Assert.Equal(expected[name].Count, (int)f["occurrences"]!);
        }
        Assert.Equal(expected.Count(e => e.Value.Any(o => o.LoadedFrom is not null)), shared.Count);
        Assert.NotEmpty(shared); // a precondition on the seed's sample, not the check: the loads are checked above
    }

    /// <summary>The sub-workspaces of factor loops with results, with the column their factor.py names.</summary>
    private static List<(string Run, long Loop, string Workspace, string Name)> Coders(
        RdBridge.Configuration.RdBridgeSettings s) => Db.Rows(s.RegistryPath,
                "SELECT l.task_run_id, l.loop_id, w.workspace_id FROM loops l " +
                "JOIN workspaces w ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id " +
                "AND w.workspace_role = 'sub_workspace' WHERE l.has_result = 1 AND l.action = 'factor'")
            .Select(r => ((string)r[0]!, (long)r[1]!, (string)r[2]!, FactorColumn(s, (string)r[2]!))).ToList();

    private static Dictionary<string, List<(string Run, long Loop, string? LoadedFrom)>> ExpectedOccurrences(
        RdBridge.Configuration.RdBridgeSettings s)
    {
        var coded = Coders(s);
        var expected = new Dictionary<string, List<(string, long, string?)>>();
        void Add(string name, (string Run, long Loop, string?) occurrence)
        {
            if (!expected.TryGetValue(name, out var list)) expected[name] = list = [];
            // One entry a loop: a second coder of the same factor in that loop adds none.
            if (!list.Any(o => o.Item1 == occurrence.Run && o.Item2 == occurrence.Loop)) list.Add(occurrence);
        }
        foreach (var c in coded) Add(c.Name, (c.Run, c.Loop, null));
        foreach (var (run, loop) in coded.Select(c => (c.Run, c.Loop)).Distinct())
        {
            var own = coded.Where(c => c.Run == run && c.Loop == loop).Select(c => c.Name).ToHashSet();
            var earlier = coded.Where(c => c.Run == run && c.Loop < loop && !own.Contains(c.Name))
                .Select(c => c.Name).Distinct();
            foreach (var name in earlier) Add(name, (run, loop, "combined_factors_df.parquet"));
        }
        return expected;
    }

    private static string FactorColumn(RdBridge.Configuration.RdBridgeSettings s, string workspaceId)
    {
        var code = File.ReadAllText(Path.Combine(s.WorkspaceRoot, workspaceId, "factor.py"));
        var match = System.Text.RegularExpressions.Regex.Match(code, @"to_frame\(""([^""]+)""\)");
        Assert.True(match.Success, $"factor.py of workspace {workspaceId} names no result column");
        return match.Groups[1].Value;
    }
}
