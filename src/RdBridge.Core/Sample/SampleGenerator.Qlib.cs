using System.Text;

namespace RdBridge.Sample;

// What Qlib leaves in a workspace: the workflow config template and the recorder's reports and metrics.
public sealed partial class SampleGenerator
{
    /// <summary>The runs' <c>report_normal_1day.pkl</c> hold the loop's curve, as Qlib's recorder leaves it.</summary>
    private static void WriteMlflowReports(string mlruns, byte[] report)
    {
        foreach (var path in Directory.EnumerateFiles(mlruns, "report_normal_1day.pkl", SearchOption.AllDirectories))
            File.WriteAllBytes(path, report);
    }

    private static SortedDictionary<string, double> Metrics(Random rng, bool lgb)
    {
        double N(double mean, double sd) => mean + sd * (rng.NextDouble() * 2 - 1);
        var ic = N(0.045, 0.015);
        var m = new SortedDictionary<string, double>(StringComparer.Ordinal)
        {
            ["IC"] = ic, ["ICIR"] = ic * N(8, 1.5), ["Rank IC"] = ic * N(1.05, 0.05), ["Rank ICIR"] = ic * N(8.5, 1.5),
            ["1day.ffr"] = 1.0, ["1day.pa"] = 0.0, ["1day.pos"] = 0.0,
        };
        foreach (var (cost, drag) in new[] { ("without_cost", 0.0), ("with_cost", 0.035) })
        {
            var ann = N(0.09, 0.05) - drag;
            var ir = ann / N(0.09, 0.01);
            var mean = ann / 238;
            m[$"1day.excess_return_{cost}.annualized_return"] = ann;
            m[$"1day.excess_return_{cost}.information_ratio"] = ir;
            m[$"1day.excess_return_{cost}.max_drawdown"] = -Math.Abs(N(0.10, 0.05));
            m[$"1day.excess_return_{cost}.mean"] = mean;
            m[$"1day.excess_return_{cost}.std"] = Math.Abs(mean / ir * Math.Sqrt(238));
        }
        if (lgb) { m["l2.train"] = N(0.99, 0.004); m["l2.valid"] = N(0.995, 0.003); }
        return m;
    }

    private static string Template(bool model, bool staticFactors, bool processors)
    {
        var sb = new StringBuilder();
        sb.Append("""
            qlib_init:
                provider_uri: "~/.qlib/qlib_data/cn_data"
                region: cn

            market: &market csi300
            benchmark: &benchmark SH000300

            data_handler_config: &data_handler_config
                start_time: {{ train_start | default("2008-01-01", true) }}
                end_time: {{ test_end | default("2020-08-01", true) }}
                instruments: *market
                data_loader:
                    class: NestedDataLoader
                    kwargs:
                        dataloader_l:
                            - class: qlib.contrib.data.loader.Alpha158DL
                              kwargs:
                                config:
                                    label:
                                        - ["Ref($close, -2)/Ref($close, -1) - 1"]
                                        - ["LABEL0"]
                                    feature:
                                        - {{ feature_expressions }}
                                        - {{ feature_names }}

            """);
        if (staticFactors)
        {
            sb.Append("""
                                - class: qlib.data.dataset.loader.StaticDataLoader
                                  kwargs:
                                    config: "combined_factors_df.parquet"

                """);
        }

        if (processors)
        {
            sb.Append("""
                infer_processors:
                    - class: RobustZScoreNorm
                      kwargs:
                          fields_group: feature
                          clip_outlier: true
                          fit_start_time: {{ train_start | default("2008-01-01", true) }}
                          fit_end_time: {{ train_end | default("2014-12-31", true) }}
                    - class: Fillna
                      kwargs:
                          fields_group: feature

            """);
        }

        sb.Append("""
                learn_processors:
                    - class: DropnaLabel
                    - class: CSZScoreNorm
                      kwargs:
                          fields_group: label

            port_analysis_config: &port_analysis_config
                strategy:
                    class: TopkDropoutStrategy
                    module_path: qlib.contrib.strategy
                    kwargs:
                        signal: <PRED>
                        topk: 50
                        n_drop: 5
                backtest:
                    start_time: {{ test_start | default("2017-01-01", true) }}
                    end_time: {{ test_end | default("2020-08-01", true) }}
                    account: 100000000
                    benchmark: *benchmark
                    exchange_kwargs:
                        limit_threshold: 0.095
                        deal_price: close
                        open_cost: 0.0005
                        close_cost: 0.0015
                        min_cost: 5

            task:
                model:

            """);
        sb.Append(model ? """
                    class: GeneralPTNN
                    module_path: qlib.contrib.model.pytorch_general_nn
                    kwargs:
                        n_epochs: {{ n_epochs | default(100) }}
                        lr: {{ lr | default(0.001) }}
                        early_stop: {{ early_stop | default(10) }}
                        batch_size: {{ batch_size | default(2000) }}
                        weight_decay: {{ weight_decay | default(0.0) }}
                        metric: loss
                        loss: mse
                        GPU: 0
                        pt_model_uri: "model.model_cls"

            """ : """
                    class: LGBModel
                    module_path: qlib.contrib.model.gbdt
                    kwargs:
                        loss: mse
                        colsample_bytree: 0.8879
                        learning_rate: 0.2
                        subsample: 0.8789
                        lambda_l1: 205.6999
                        lambda_l2: 580.9768
                        max_depth: 8
                        num_leaves: 210
                        num_threads: 20

            """);
        sb.Append("""
                dataset:
                    class: DatasetH
                    module_path: qlib.data.dataset
                    kwargs:
                        handler:
                            class: DataHandlerLP
                            module_path: qlib.contrib.data.handler
                            kwargs: *data_handler_config
                        segments:

            """);
        sb.Append("                train: [{{ train_start | default(\"2008-01-01\", true) }}, "
            + "{{ train_end | default(\"2014-12-31\", true) }}]\n");
        sb.Append("                valid: [{{ valid_start | default(\"2015-01-01\", true) }}, "
            + "{{ valid_end | default(\"2016-12-31\", true) }}]\n");
        sb.Append("                test: [{{ test_start | default(\"2017-01-01\", true) }}, "
            + "{{ test_end | default(\"2020-08-01\", true) }}]\n");
        sb.Append("""
                record:
                    - class: SignalRecord
                      module_path: qlib.workflow.record_temp
                      kwargs:
                        model: <MODEL>
                        dataset: <DATASET>
                    - class: SigAnaRecord
                      module_path: qlib.workflow.record_temp
                      kwargs:
                        ana_long_short: False
                        ann_scaler: 252
                    - class: PortAnaRecord
                      module_path: qlib.workflow.record_temp
                      kwargs:
                        config: *port_analysis_config

            """);
        return sb.ToString();
    }
}
