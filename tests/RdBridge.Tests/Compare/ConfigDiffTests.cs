using RdBridge.Backfill;
using RdBridge.Compare;

namespace RdBridge.Tests.Compare;

/// <summary>Two workflow YAMLs compared key by key, each change placed in the part of the run it steers.</summary>
public class ConfigDiffTests
{
    private const string Before = """
        market: &market csi300
        data_handler_config: &dh
            start_time: 2008-01-01
            instruments: *market
            learn_processors:
                - class: DropnaLabel
                - class: CSZScoreNorm
                  kwargs:
                      fields_group: label
        port_analysis_config:
            strategy:
                class: TopkDropoutStrategy
                kwargs:
                    topk: 50
                    n_drop: 5
        task:
            model:
                class: LGBModel
                kwargs:
                    learning_rate: 0.2
                    max_depth: 8
            dataset:
                kwargs:
                    segments:
                        train: [2008-01-01, 2014-12-31]
                        test: [2017-01-01, 2020-08-01]
        """;

    // Keys moved and quoting changed where nothing else did: no change. Six real changes.
    private const string After = """
        data_handler_config: &dh
            instruments: csi500
            start_time: "2008-01-01"
            learn_processors:
                - class: DropnaLabel
                - class: CSRankNorm
                  kwargs:
                      fields_group: label
        market: &market csi300
        task:
            dataset:
                kwargs:
                    segments:
                        train: [2008-01-01, 2015-12-31]
                        test: [2017-01-01, 2020-08-01]
            model:
                class: LGBModel
                kwargs:
                    learning_rate: 0.05
                    num_leaves: 210
        port_analysis_config:
            strategy:
                class: TopkDropoutStrategy
                kwargs:
                    topk: 30
                    n_drop: 5
        """;

    [Fact]
    public void Changes_are_found_key_by_key_and_grouped_by_section()
    {
        var a = WorkflowConfig.Parse(Before, "a.yaml");
        var b = WorkflowConfig.Parse(After, "b.yaml");
        var changes = ConfigDiff.Diff(a.Root, b.Root)
            .Select(c => (c.Section, c.Path, c.Kind, c.Before, c.After)).ToList();
        Assert.Equal(
        [
            ("dataset segments", "task.dataset.kwargs.segments.train[1]", "changed",
                "\"2014-12-31\"", "\"2015-12-31\""),
            ("handler", "data_handler_config.instruments", "changed", "\"csi300\"", "\"csi500\""),
            ("processors", "data_handler_config.learn_processors[1].class", "changed",
                "\"CSZScoreNorm\"", "\"CSRankNorm\""),
            ("model", "task.model.kwargs.learning_rate", "changed", "0.2", "0.05"),
            ("model", "task.model.kwargs.max_depth", "removed", "8", null),
            ("model", "task.model.kwargs.num_leaves", "added", null, "210"),
            ("strategy", "port_analysis_config.strategy.kwargs.topk", "changed", "50", "30"),
        ], changes);
    }

    [Fact]
    public void The_same_config_has_no_changes() =>
        Assert.Empty(ConfigDiff.Diff(
            WorkflowConfig.Parse(Before, "a.yaml").Root, WorkflowConfig.Parse(Before, "b.yaml").Root));

    [Fact]
    public void A_longer_list_reports_its_extra_items_as_added()
    {
        var a = WorkflowConfig.Parse("x:\n  - 1\n", "a.yaml");
        var b = WorkflowConfig.Parse("x:\n  - 1\n  - {class: Fillna}\n", "b.yaml");
        var change = Assert.Single(ConfigDiff.Diff(a.Root, b.Root));
        Assert.Equal(("other", "x[1]", "added", null, "{\"class\":\"Fillna\"}"),
            (change.Section, change.Path, change.Kind, change.Before, change.After));
    }
}
