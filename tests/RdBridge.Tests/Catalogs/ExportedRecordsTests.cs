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
        // The loop catalog lists failed and running loops too; they trained nothing.
        Assert.Equal(loops.Count(l => (bool)l!["has_result"]!), models.Count);
        var modelIds = models.Select(m => (string)m!["model_id"]!).ToHashSet();
        Assert.All(strategies, s => Assert.Contains((string)s!["model_id"]!, modelIds));
        // A factor loop's model is the template's baseline; a model loop's is the one it proposed.
        foreach (var m in models)
        {
            var loop = loops.Single(l => (string?)l!["task_run_id"] == (string?)m!["task_run_id"]
                && (long)l!["loop_id"]! == (long)m!["loop_id"]!);
            Assert.Equal((string?)loop!["action"] == "model" ? "proposed" : "baseline", (string?)m!["role"]);
            Assert.False(string.IsNullOrEmpty((string?)m["run_id"]), "the record names the MLflow run it came from");
            Assert.NotNull((string?)m["config_source"]);
        }
        Assert.Contains(models, m => (string?)m!["role"] == "baseline");
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
        var loadedIds = Catalog(sample, "factor_provenance.json", "provenance")
            .Where(p => p!["loaded_from"] is not null).Select(p => (string)p!["factor_id"]!).ToHashSet();
        var shared = factors.Where(f => loadedIds.Contains((string)f!["factor_id"]!)).ToList();
        Assert.NotEmpty(shared);
        Assert.All(shared, f => Assert.NotNull(f!["code_path"]));
        Assert.All(shared, f => Assert.True((int)f!["occurrences"]! >= 2));
    }
}
