using System.Text.Json.Nodes;
using RdBridge.Backfill;
using RdBridge.Metadata;
using RdBridge.Workspaces;

namespace RdBridge.Tests.RealOutput;

/// <summary>
/// Issue 12 on real files from public repositories (../shared/fixtures/real/public, see its SOURCES.md). Every expected
/// value below was read from the file itself, by hand.
/// </summary>
[RealData]
public class RealOutputTests
{
    private const string V080 = "microsoft__RD-Agent@v0.8.0/rdagent/scenarios/qlib/experiment/factor_template/";
    private const string Head = "microsoft__RD-Agent/rdagent/scenarios/qlib/experiment/factor_template/";
    private const string Fork = "licong01-cloud__RD-Agent/rdagent/scenarios/qlib/experiment/factor_template/";
    private const string FailedQrunRun =
        "Everlasting-Elysium__QuantitationTranding/examples/mlruns/627129439019576967/26c7a043ca174bbc9a674c7996087f0b";

    // The col_list of FilterCol in RD-Agent v0.8.0's conf_baseline.yaml.
    private static readonly string[] V080FilterCols =
    [
        "RESI5", "WVMA5", "RSQR5", "KLEN", "RSQR10", "CORR5", "CORD5", "CORR10", "ROC60", "RESI10", "VSTD5", "RSQR60",
        "CORR60", "WVMA60", "STD5", "RSQR20", "CORD60", "CORD10", "CORR20", "KLOW",
    ];

    private static WorkflowConfig Config(string fixture) => WorkflowConfig.Load(RealWorkspace.Public(fixture));

    [Fact]
    public void An_alpha158_handler_with_FilterCol_gives_the_model_only_the_twenty_listed_features()
    {
        var features = Config(V080 + "conf_baseline.yaml").Features();
        Assert.True(features.Complete);
        Assert.Equal(V080FilterCols.Order(StringComparer.Ordinal),
            features.Features.Select(f => f.Name).Order(StringComparer.Ordinal));
        // Alpha158 defines KLEN as the candle's range over the open.
        Assert.Equal("($high-$low)/$open", features.Features.Single(f => f.Name == "KLEN").Expression);
        Assert.False(features.LoadsGeneratedFactors);
    }

    [Fact]
    public void The_v080_baseline_loop_records_twenty_base_factors_not_158()
    {
        using var ws = new RealWorkspace().Yaml(V080 + "conf_baseline.yaml");
        var meta = ws.Derive();
        Assert.Equal("conf_baseline.yaml", meta.ModelMeta.ConfigFile);
        Assert.Equal(20, meta.FactorMeta.Factors.Count);
        Assert.Equal(20, meta.ModelMeta.FeatureSchema!.BaseFeatures.Count);
        Assert.True(meta.ModelMeta.FeatureSchema.Complete);
        // The same record's preprocessing shows the FilterCol that cut them.
        var infer = (JsonArray)meta.ModelMeta.PreprocessConfig!.InferProcessors!;
        Assert.Equal("FilterCol", (string?)infer[0]!["class"]);
    }

    [Theory]
    [InlineData("conf_combined_factors_dynamic.yaml")]
    [InlineData("conf_combined_factors.yaml")]
    public void The_forks_combined_loaders_give_their_alpha158_config_features_and_load_generated_factors(string file)
    {
        var features = Config(Fork + file).Features();
        Assert.True(features.Complete, features.Reason);
        Assert.Equal(20, features.Features.Count);
        Assert.Equal(("RESI5", "Resi($close, 5)/$close"), features.Features[0]);
        Assert.Equal(("KLOW", "(Less($open, $close)-$low)/$open"), features.Features[^1]);
        Assert.True(features.LoadsGeneratedFactors);
    }

    [Fact]
    public void A_handler_whose_features_live_in_code_is_marked_incomplete_with_the_reason()
    {
        // Qlib's multi-frequency example: handler Avg15minHandler, no data loader in the YAML.
        var features = Config("microsoft__qlib/examples/benchmarks/LightGBM/workflow_config_lightgbm_multi_freq.yaml")
            .Features();
        Assert.False(features.Complete);
        Assert.Equal("handler 'Avg15minHandler' computes its features in code and lists none in the config",
            features.Reason);
        Assert.Empty(features.Features);
    }

    [Fact]
    public void An_incomplete_feature_list_is_said_in_the_model_record_and_the_report_without_failing_the_loop()
    {
        using var ws = new RealWorkspace()
            .Yaml("microsoft__qlib/examples/benchmarks/LightGBM/workflow_config_lightgbm_multi_freq.yaml", "conf.yaml");
        var meta = ws.Derive();
        var schema = meta.ModelMeta.FeatureSchema!;
        Assert.False(schema.Complete);
        Assert.Equal("handler 'Avg15minHandler' computes its features in code and lists none in the config",
            schema.Reason);
        Assert.Contains(meta.Notes,
            n => n.Contains("incomplete", StringComparison.Ordinal) && n.Contains("Avg15minHandler"));
        Assert.DoesNotContain(meta.Problems, p => p.Contains("Avg15minHandler"));
    }

    [Fact]
    public void An_alpha360_handler_gives_its_360_features()
    {
        var features = Config("microsoft__qlib/examples/benchmarks/HIST/workflow_config_hist_Alpha360.yaml").Features();
        Assert.True(features.Complete);
        Assert.Equal(360, features.Features.Count);
        Assert.Equal(360, features.Features.Select(f => f.Name).Distinct().Count());
        Assert.Contains(("CLOSE0", "$close/$close"), features.Features);
        Assert.Contains(("VOLUME59", "Ref($volume, 59)/($volume+1e-12)"), features.Features);
    }

    [Fact]
    public void In_a_fork_workspace_without_mlflow_the_runner_of_the_scenario_chooses_the_dynamic_config()
    {
        using var ws = new RealWorkspace()
            .Yaml(Fork + "conf_baseline.yaml").Yaml(Fork + "conf_combined_factors.yaml")
            .Yaml(Fork + "conf_combined_factors_dynamic.yaml")
            .Yaml(Fork + "conf_combined_factors_20251209_backup.yaml")
            .Yaml(Fork + "conf_combined_factors_dynamic_backup_20260113.yaml");
        var choice = WorkspaceFiles.ChooseConfig(ws.Path, "factor");
        Assert.Equal(new ConfigChoice("conf_combined_factors_dynamic.yaml", ConfigChoice.FromRunner), choice);
        var strategy = ws.Derive().StrategyMeta;
        Assert.Equal("EnhancedTopkDropoutStrategy", (string?)strategy.PortfolioConfig!["class"]);
        Assert.Equal(-0.10, (double)strategy.PortfolioConfig["kwargs"]!["stop_loss"]!);
        Assert.Equal(0.90, (double)strategy.PortfolioConfig["kwargs"]!["max_position_ratio"]!);
        Assert.Equal(ConfigChoice.FromRunner, strategy.ConfigSource);
    }

    [Fact]
    public void The_classes_a_run_logged_choose_its_config_when_argv_names_none()
    {
        // BiEchi's training run 7685d631 logged model.class ALSTM, dataset.class TSDatasetH, handler Alpha158 and an
        // argv of a Jupyter kernel; of Qlib's GRU and LightGBM configs neither spells ALSTM, so none is claimed.
        using var ws = new RealWorkspace()
            .Yaml("microsoft__qlib/examples/benchmarks/GeneralPtNN/workflow_config_gru.yaml")
            .Yaml("microsoft__qlib/examples/benchmarks/TRA/workflow_config_tra_Alpha158.yaml")
            .Run("BiEchi__quants", "1", "7685d631377342f69b6aea30a2f9c30c");
        // With nothing claimed, the fallback: the first of the two workflow files (both open with "task:") by name.
        Assert.Equal(new ConfigChoice("workflow_config_gru.yaml", ConfigChoice.FirstInWorkspace),
            WorkspaceFiles.ChooseConfig(ws.Path, "model"));
        // A config that does spell the logged classes is chosen by them.
        ws.Text("conf_alstm.yaml", "task:\n  model:\n    class: ALSTM\n  dataset:\n    class: TSDatasetH\n"
            + "    kwargs:\n      handler:\n        class: Alpha158\n");
        Assert.Equal(new ConfigChoice("conf_alstm.yaml", ConfigChoice.FromParams),
            WorkspaceFiles.ChooseConfig(ws.Path, "model"));
    }

    [Fact]
    public void A_null_test_end_is_filled_from_the_dates_the_run_logged()
    {
        // RD-Agent HEAD's template defaults test_end to "null"; the real qrun run logged
        // dataset.kwargs.segments.test = [datetime.date(2017, 1, 1), datetime.date(2020, 8, 1)] and the same
        // backtest window.
        var config = Config(Head + "conf_combined_factors.yaml");
        Assert.Null(config.Get("task.dataset.kwargs.segments.test")![1]);
        var run = MlflowRun.Read(RealWorkspace.Public(FailedQrunRun))!;
        var notes = RunParams.Apply(config, run);
        Assert.Equal("2020-08-01", WorkflowConfig.Text(config.Get("task.dataset.kwargs.segments.test")![1]));
        Assert.Equal("2017-01-01", WorkflowConfig.Text(config.Get("task.dataset.kwargs.segments.test")![0]));
        Assert.Equal("2020-08-01", WorkflowConfig.Text(config.Backtest!["end_time"]));
        Assert.Contains(notes, n => n.StartsWith("segments.test[1] 2020-08-01", StringComparison.Ordinal)
            && n.Contains("null"));
        Assert.Contains(notes, n => n.StartsWith("backtest.end_time 2020-08-01", StringComparison.Ordinal));
    }

    [Fact]
    public void Logged_dates_in_every_real_repr_are_read()
    {
        Assert.Equal(["2017-01-01", "2020-08-01"],
            RunParams.Dates("[datetime.date(2017, 1, 1), datetime.date(2020, 8, 1)]")!);
        // Ethan-yh's Windows store logs tuples of strings; BiEchi's too.
        var ethan = File.ReadAllText(RealWorkspace.Public(
            "Ethan-yh__stock-prediction/mlruns/1/9b37aaf4a74347a2904715e46932eb90/params/"
            + "dataset.kwargs.segments.test"));
        Assert.Equal(2, RunParams.Dates(ethan)!.Count);
        var biechi = File.ReadAllText(RealWorkspace.Public(
            "BiEchi__quants/mlruns/1/7685d631377342f69b6aea30a2f9c30c/params/dataset.kwargs.segments.test"));
        Assert.Equal(["2019-01-01", "2019-12-31"], RunParams.Dates(biechi)!);
    }

    [Fact]
    public void The_run_chosen_in_a_store_of_several_experiments_is_the_latest_finished_backtest()
    {
        // BiEchi's store: 4 training runs in experiment 1 (no metrics), 5 backtests in experiment 2, one of them
        // FAILED (9b3fcb00, status 4). The finished backtests end at …5624977, …6039663, …6381038 and …6698868.
        var runs = MlflowRun.All(RealWorkspace.Public("BiEchi__quants"));
        Assert.Equal(9, runs.Count);
        Assert.Equal("FAILED", runs.Single(r => r.RunId == "9b3fcb0078c840f6863aea48e205d5d0").Status);
        var chosen = MlflowRun.Chosen(runs)!;
        Assert.Equal("0d2a8b6433924584941f36351cc11b19", chosen.RunId);
        Assert.Equal("2", chosen.ExperimentId);
        Assert.True(chosen.HasBacktest);
    }

    [Fact]
    public void A_failed_run_is_never_the_source_of_metadata()
    {
        var failed = MlflowRun.Read(RealWorkspace.Public(FailedQrunRun))!;
        Assert.Equal("FAILED", failed.Status);
        Assert.Null(MlflowRun.Chosen([failed]));
    }

    [Fact]
    public void Old_qlib_weights_named_trained_model_are_the_models_weights_file()
    {
        using var ws = new RealWorkspace()
            .Yaml(V080 + "conf_baseline.yaml")
            .Run("Ethan-yh__stock-prediction", "1", "9b37aaf4a74347a2904715e46932eb90");
        var model = ws.Derive().ModelMeta;
        Assert.Equal(["mlruns/1/9b37aaf4a74347a2904715e46932eb90/artifacts/trained_model"],
            model.ModelArtifacts!.ModelFiles);
        Assert.Equal("9b37aaf4a74347a2904715e46932eb90", model.RunId);
        Assert.Equal(ModelMetaFile.Baseline, model.Role);
        Assert.Equal("LGBModel", model.ModelType);
    }

    [Fact]
    public void Metrics_config_and_weights_all_come_from_the_one_chosen_run()
    {
        // Training run 3dfeff78 (experiment 1) saved trained_model; backtest 0d2a8b64 (experiment 2) is the latest
        // finished run with results; 9b3fcb00 FAILED. The workspace has no qlib_res.csv.
        using var ws = new RealWorkspace()
            .Yaml("microsoft__qlib/examples/benchmarks/GeneralPtNN/workflow_config_gru.yaml")
            .Run("BiEchi__quants", "1", "3dfeff789a6c42a78e029aa47d2006c5")
            .Run("BiEchi__quants", "2", "0d2a8b6433924584941f36351cc11b19")
            .Run("BiEchi__quants", "2", "9b3fcb0078c840f6863aea48e205d5d0")
            .Run("BiEchi__quants", "2", "b46fca1d8b364ebe9d458e2264e8b03c");
        var meta = ws.Derive();
        const string chosen = "0d2a8b6433924584941f36351cc11b19";
        Assert.Equal(chosen, meta.ModelMeta.RunId);
        Assert.Equal(chosen, meta.StrategyMeta.RunId);
        Assert.Equal(chosen, meta.FactorPerf!.RunId);
        Assert.Equal($"mlflow run {chosen}", meta.FactorPerf.Source);
        // The last values of that run's metrics files.
        Assert.Equal(0.046181206226017436, meta.FactorPerf.Metric("annualized_return"));
        Assert.Equal(0.34734230270892813, meta.FactorPerf.Metric("information_ratio"));
        Assert.Equal(-0.2853238582611084, meta.FactorPerf.Metric("max_drawdown"));
        // The backtest run saved no weights: none are borrowed from the training run.
        Assert.Empty(meta.ModelMeta.ModelArtifacts!.ModelFiles);
    }
}
