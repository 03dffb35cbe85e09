using RdBridge.Backfill;

namespace RdBridge.Tests.Backfill;

/// <summary>
/// Qlib's own benchmark workflows (microsoft/qlib, examples/benchmarks), read from ../shared/fixtures/real. The
/// expected values were read by hand from the YAML files.
/// </summary>
public class RealQlibWorkflowTests
{
    private const string Gru = "public/microsoft__qlib/examples/benchmarks/GeneralPtNN/workflow_config_gru.yaml";

    [Fact]
    [RealData]
    public void Qlib_gru_benchmark_reads_its_model_dataset_and_handler_through_the_yaml_anchors()
    {
        var config = WorkflowConfig.Load(Paths.Fixture(Gru));
        Assert.Equal("GeneralPTNN", WorkflowConfig.Text(config.Model?["class"]));
        Assert.Equal(0.0002, (double)config.Get("task.model.kwargs.lr")!);
        Assert.Equal(800, (long)config.Get("task.model.kwargs.batch_size")!);
        Assert.Equal("qlib.contrib.model.pytorch_gru_ts.GRUModel",
            WorkflowConfig.Text(config.Get("task.model.kwargs.pt_model_uri")));
        Assert.Equal(64, (long)config.Get("task.model.kwargs.pt_model_kwargs.hidden_size")!);
        Assert.Equal("TSDatasetH", WorkflowConfig.Text(config.Dataset?["class"]));
        Assert.Equal(20, (long)config.Get("task.dataset.kwargs.step_len")!);
        // `kwargs: *data_handler_config` — the alias resolves to the anchored mapping.
        Assert.Equal("csi300", WorkflowConfig.Text(config.HandlerKwargs?["instruments"]));
        Assert.Equal("2014-12-31", WorkflowConfig.Text(config.HandlerKwargs?["fit_end_time"]));
        var filter = config.HandlerKwargs?["infer_processors"]?[0];
        Assert.Equal("FilterCol", WorkflowConfig.Text(filter?["class"]));
        var columns = filter?["kwargs"]?["col_list"]?.AsArray().Select(WorkflowConfig.Text).ToList();
        Assert.Equal(20, columns?.Count);
        Assert.Equal("RESI5", columns?[0]);
        Assert.Equal("KLOW", columns?[^1]);
        Assert.Equal("SH000300", WorkflowConfig.Text(config.Backtest?["benchmark"]));
        Assert.Equal("2017-01-01", WorkflowConfig.Text(config.Backtest?["start_time"]));
        Assert.Empty(config.Defaulted);
    }

    [Fact]
    [RealData]
    public void Qlib_catboost_benchmark_names_its_model_and_the_csi500_market()
    {
        var config = WorkflowConfig.Load(Paths.Fixture(
            "public/microsoft__qlib/examples/benchmarks/CatBoost/workflow_config_catboost_Alpha158_csi500.yaml"));
        Assert.Equal("CatBoostModel", WorkflowConfig.Text(config.Model?["class"]));
        Assert.Equal("csi500", WorkflowConfig.Text(config.HandlerKwargs?["instruments"]));
        Assert.Equal("SH000905", WorkflowConfig.Text(config.Backtest?["benchmark"]));
        Assert.Equal("Alpha158", WorkflowConfig.Text(config.Handler?["class"]));
    }
}
