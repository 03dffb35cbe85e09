using System.Text.Json.Nodes;
using RdBridge.Backfill;
using RdBridge.Metadata;

namespace RdBridge.Tests.Backfill;

/// <summary>
/// The mixed sample (the default) holds the shapes of RD-Agent HEAD, v0.8.0 and the AIstock fork, and backfill reads
/// each the way issue 12 asks: the config that ran, the dates the run used, one run per workspace.
/// </summary>
public class SampleShapesTests
{
    // The loops' experiment workspaces (not fin_factor's Alpha20 baseline, which keeps RD-Agent's template as it ran).
    private static List<string> Experiments(Sample sample)
    {
        var experiments = Db.Rows(sample.Settings.RegistryPath,
                "SELECT workspace_id FROM workspaces WHERE workspace_role = 'experiment_workspace'")
            .Select(r => (string)r[0]!).ToHashSet();
        return Directory.EnumerateDirectories(
                Path.Combine(sample.Dir.Path, "RD-Agent-main", "git_ignore_folder", "RD-Agent_workspace"))
            .Where(d => experiments.Contains(Path.GetFileName(d)) && Directory.EnumerateFiles(d, "conf_*.yaml").Any())
            .Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public void The_mixed_sample_has_every_familys_workspace_shape()
    {
        using var sample = new Sample(taskRuns: 2, loops: 4, seed: 7, store: "sqlite");
        var dirs = Experiments(sample);
        string Text(string d, string f) => File.ReadAllText(Path.Combine(d, f));
        // Upstream HEAD: Jinja with test_end defaulting to null.
        Assert.Contains(dirs, d => Directory.EnumerateFiles(d, "conf_*.yaml")
            .Any(f => File.ReadAllText(f).Contains("test_end | default(\"null\", true)")));
        // v0.8.0: no Jinja, an Alpha158 + FilterCol baseline that gives the model 20 features.
        var v080 = dirs.Where(d => File.Exists(Path.Combine(d, "conf_baseline.yaml"))
            && Text(d, "conf_baseline.yaml").Contains("FilterCol")).ToList();
        Assert.NotEmpty(v080);
        Assert.All(v080, d => Assert.DoesNotContain("{{", Text(d, "conf_combined_factors.yaml")));
        var baseline = WorkflowConfig.Load(Path.Combine(v080[0], "conf_baseline.yaml"));
        Assert.Equal("Alpha158", WorkflowConfig.Text(baseline.Handler?["class"]));
        Assert.Equal(20, baseline.Features().Features.Count);
        // The fork: the dynamic loader config and a comment-only backup marker.
        var fork = dirs.Where(d => File.Exists(Path.Combine(d, "conf_combined_factors_dynamic.yaml"))).ToList();
        Assert.NotEmpty(fork);
        var dynamic = WorkflowConfig.Load(Path.Combine(fork[0], "conf_combined_factors_dynamic.yaml")).Features();
        Assert.True(dynamic.Complete);
        Assert.Equal(20, dynamic.Features.Count);
        Assert.True(dynamic.LoadsGeneratedFactors);
        Assert.All(fork, d => Assert.Single(Directory.EnumerateFiles(d, "*_backup.yaml")));
        // Every store has a FAILED run in a second experiment; qlib_res.csv numbers are printed as pandas does.
        foreach (var d in dirs.Where(d => Directory.Exists(Path.Combine(d, "mlruns"))))
        {
            var runs = RdBridge.Workspaces.MlflowRun.All(d);
            Assert.Contains(runs, r => r.Status == "FAILED");
            Assert.Contains(runs, r => r.Status == "FINISHED" && r.Param("record") is not null);
            var res = File.ReadAllLines(Path.Combine(d, "qlib_res.csv"));
            Assert.Equal(",0", res[0]);
            Assert.Contains("1day.ffr,1.0", res);
            Assert.DoesNotContain(res, l => l.Contains('E'));
        }
    }

    [Fact]
    public void Backfill_reads_each_shape_of_the_mixed_sample_right()
    {
        using var sample = new Sample(taskRuns: 2, loops: 4, seed: 7, store: "sqlite");
        Assert.Equal(0, sample.Cli("backfill", "--all-task-runs").Code);
        var withResults = Experiments(sample).Where(d => File.Exists(Path.Combine(d, "qlib_res.csv"))).ToList();
        Assert.NotEmpty(withResults);
        foreach (var d in withResults)
        {
            var model = ModelMetaFile.Read(Path.Combine(d, ModelMetaFile.FileName));
            var strategy = StrategyMetaFile.Read(Path.Combine(d, StrategyMetaFile.FileName));
            var finished = RdBridge.Workspaces.MlflowRun.All(d).Single(r => r.Status == "FINISHED");
            // One run for everything, never the FAILED one.
            Assert.Equal(finished.RunId, model.RunId);
            Assert.Equal(finished.RunId, strategy.RunId);
            Assert.Equal(model.ModelArtifacts!.ModelFiles.Single(),
                Path.GetRelativePath(d, finished.Weights()!).Replace('\\', '/'));
            var test = (JsonArray)model.DatasetConfig!.Segments!["test"]!;
            Assert.NotNull(test[1]);
            if (File.Exists(Path.Combine(d, "conf_combined_factors_dynamic.yaml")))
            {
                // The fork: argv names no YAML, the logged loader class picks the dynamic config and its strategy.
                Assert.Equal("conf_combined_factors_dynamic.yaml", model.ConfigFile);
                Assert.Equal("mlflow params", model.ConfigSource);
                Assert.Equal("EnhancedTopkDropoutStrategy", (string?)strategy.PortfolioConfig!["class"]);
                Assert.Equal(-0.10, (double)strategy.PortfolioConfig["kwargs"]!["stop_loss"]!);
                Assert.Equal("2025-12-01", (string?)test[1]);
            }
            else
            {
                Assert.Equal("mlflow cmd-sys.argv", model.ConfigSource);
            }

            if (File.ReadAllText(Path.Combine(d, model.ConfigFile!)).Contains("test_end | default(\"null\", true)"))
            {
                // Upstream: the template left test_end null; the run's params say 2020-08-01, and the record says so.
                Assert.Equal("2020-08-01", (string?)test[1]);
                Assert.Contains(model.ParamsApplied,
                    n => n.StartsWith("segments.test[1] 2020-08-01", StringComparison.Ordinal));
                Assert.Equal("2020-08-01", (string?)strategy.BacktestConfig!["end_time"]);
            }
        }
        ModelMetaFile Model(string d) => ModelMetaFile.Read(Path.Combine(d, ModelMetaFile.FileName));
        Assert.Contains(withResults, d => Model(d).ConfigSource == "mlflow params");
        Assert.Contains(withResults, d => Model(d).ParamsApplied.Count > 0);
    }
}
