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
        var upstream = dirs.Where(d => Directory.EnumerateFiles(d, "conf_*.yaml")
            .Any(f => File.ReadAllText(f).Contains("test_end | default(\"null\", true)"))).ToList();
        // v0.8.0: no Jinja in any workflow file; a factor workspace's baseline is Alpha158 + FilterCol, which gives
        // the model 20 features.
        var v080 = dirs.Where(d => !File.Exists(Path.Combine(d, "conf_combined_factors_dynamic.yaml"))
            && !Directory.EnumerateFiles(d, "conf_*.yaml").Any(f => File.ReadAllText(f).Contains("{{"))).ToList();
        var baselines = v080.Where(d => File.Exists(Path.Combine(d, "conf_baseline.yaml"))).ToList();
        // The processor named in the file (a guard: what it leaves the model is counted below).
        Assert.All(baselines, d => Assert.Contains("class: FilterCol", Text(d, "conf_baseline.yaml")));
        var baseline = WorkflowConfig.Load(Path.Combine(baselines[0], "conf_baseline.yaml"));
        Assert.Equal("Alpha158", WorkflowConfig.Text(baseline.Handler?["class"]));
        Assert.Equal(20, baseline.Features().Features.Count);
        // The fork: the dynamic loader config and a comment-only backup marker.
        var fork = dirs.Where(d => File.Exists(Path.Combine(d, "conf_combined_factors_dynamic.yaml"))).ToList();
        // Every experiment workspace is of exactly one family, and the sample has each (the premise of this test).
        Assert.Equal(dirs, upstream.Concat(v080).Concat(fork).Order(StringComparer.Ordinal));
        // A premise, not a count: how many workspaces each family gets is the seeded generator's draw.
        Assert.All(new[] { upstream, v080, fork }, family => Assert.NotEmpty(family));
        var dynamic = WorkflowConfig.Load(Path.Combine(fork[0], "conf_combined_factors_dynamic.yaml")).Features();
        Assert.True(dynamic.Complete);
        Assert.Equal(20, dynamic.Features.Count);
        Assert.True(dynamic.LoadsGeneratedFactors);
        Assert.All(fork, d => Assert.Single(Directory.EnumerateFiles(d, "*_backup.yaml")));
        // Every store has a FAILED run in a second experiment besides the FINISHED one that logged its record
        // param; qlib_res.csv numbers are printed as pandas does. Both read by Python: each run's meta.yaml with
        // PyYAML (MLflow's RunStatus numbers), and the csv read (exactly) and written back by pandas, which must give
        // the file byte for byte.
        var stores = dirs.Where(d => Directory.Exists(Path.Combine(d, "mlruns"))).ToList();
        Assert.Equal(dirs, stores);
        var python = RdBridge.Tests.Discovery.UpstreamRdAgent.RunPython(["-c", """
            import glob, os, sys, yaml, pandas as pd
            names = {'1': 'RUNNING', '2': 'SCHEDULED', '3': 'FINISHED', '4': 'FAILED', '5': 'KILLED'}
            for d in sys.argv[1:]:
                for meta in sorted(glob.glob(os.path.join(d, 'mlruns', '*', '*', 'meta.yaml'))):
                    m = yaml.load(open(meta), Loader=yaml.BaseLoader)  # every scalar a string, as MLflow wrote it
                    record = os.path.isfile(os.path.join(os.path.dirname(meta), 'params', 'record'))
                    print(d, f"{m['run_id']}:{names[m['status']]}:{'record' if record else '-'}")
                csv = os.path.join(d, 'qlib_res.csv')
                table = pd.read_csv(csv, index_col=0, float_precision='round_trip')
                print(d, 'pandas writes it back' if table.to_csv() == open(csv).read()
                      else 'pandas writes it otherwise')
            """, .. stores]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', 2)).ToList();
        foreach (var d in stores)
        {
            var said = python.Where(l => l[0] == d).Select(l => l[1]).ToList();
            Assert.Equal("pandas writes it back", said[^1]);
            var runs = said.SkipLast(1).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(["FAILED:-", "FINISHED:record"], runs.Select(r => r[(r.IndexOf(':') + 1)..]).Order());
            Assert.Equal(runs, RdBridge.Workspaces.MlflowRun.All(d)
                .Select(r => $"{r.RunId}:{r.Status}:{(r.Param("record") is null ? "-" : "record")}")
                .Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Backfill_reads_each_shape_of_the_mixed_sample_right()
    {
        using var sample = new Sample(taskRuns: 2, loops: 4, seed: 7, store: "sqlite");
        Assert.Equal(0, sample.Cli("backfill", "--all-task-runs").Code);
        var withResults = Experiments(sample).Where(d => File.Exists(Path.Combine(d, "qlib_res.csv"))).ToList();
        // One experiment workspace with results a loop with results (the registry's has_result).
        Assert.Equal(Db.Scalar(sample.Settings.RegistryPath, "SELECT count(*) FROM loops WHERE has_result = 1"),
            withResults.Count);
        // The test segment's end a workspace's YAML spells, where it spells one (v0.8.0 has no Jinja), as PyYAML
        // reads it.
        bool Fork(string d) => File.Exists(Path.Combine(d, "conf_combined_factors_dynamic.yaml"));
        var literal = withResults.Where(d => !Fork(d) && !Directory.EnumerateFiles(d, "conf_*.yaml")
            .Any(f => File.ReadAllText(f).Contains("{{"))).ToList();
        var spelled = RdBridge.Tests.Discovery.UpstreamRdAgent.RunPython(["-c", """
            import glob, os, sys, yaml
            for d in sys.argv[1:]:
                for f in sorted(glob.glob(os.path.join(d, 'conf_*.yaml'))):
                    segments = yaml.safe_load(open(f))['task']['dataset']['kwargs']['segments']
                    print(d, os.path.basename(f), segments['test'][1])
            """, .. literal]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
        var ways = new List<(string Dir, string Way)>();
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
            if (Fork(d))
            {
                // The fork: argv names no YAML, the logged loader class picks the dynamic config and its strategy.
                Assert.Equal("conf_combined_factors_dynamic.yaml", model.ConfigFile);
                Assert.Equal("mlflow params", model.ConfigSource);
                Assert.Equal("EnhancedTopkDropoutStrategy", (string?)strategy.PortfolioConfig!["class"]);
                Assert.Equal(-0.10, (double)strategy.PortfolioConfig["kwargs"]!["stop_loss"]!);
                Assert.Equal("2025-12-01", (string?)test[1]);
                Assert.Empty(model.ParamsApplied);
                ways.Add((d, "fork"));
            }
            else
            {
                Assert.Equal("mlflow cmd-sys.argv", model.ConfigSource);
            }
            if (literal.Contains(d))
            {
                // v0.8.0: the date its YAML spells, nothing taken from the params.
                Assert.Equal(spelled.Single(l => l[0] == d && l[1] == model.ConfigFile)[2], (string?)test[1]);
                Assert.Empty(model.ParamsApplied);
                ways.Add((d, "v0.8.0"));
            }

            var jinja = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Path.Combine(d, model.ConfigFile!)),
                @"\{\{ test_end \| default\(""([^""]*)"", true\) \}\}");
            if (jinja.Success && jinja.Groups[1].Value == "null")
            {
                // Upstream: the template left test_end null; the run's params say 2020-08-01, and the record says so.
                Assert.Equal("2020-08-01", (string?)test[1]);
                Assert.Equal(["segments.test[1] 2020-08-01 from the MLflow params (the template left it null)"],
                    model.ParamsApplied);
                Assert.Equal("2020-08-01", (string?)strategy.BacktestConfig!["end_time"]);
                ways.Add((d, "upstream"));
            }
        }
        // Each workspace took exactly one of the three ways above, and the sample has each (the test's premise).
        Assert.Equal(withResults, ways.Select(w => w.Dir));
        Assert.Equal(["fork", "upstream", "v0.8.0"],
            ways.Select(w => w.Way).Distinct().Order(StringComparer.Ordinal));
    }
}
