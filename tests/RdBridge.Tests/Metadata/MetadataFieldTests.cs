using System.Text.Json.Nodes;
using RdBridge.Metadata;

namespace RdBridge.Tests.Metadata;

/// <summary>
/// Every field of every metadata file, one by one: a file with each field filled (and different from every other) reads
/// into its record and writes back the same JSON, and each field lands in the record property of its name. The sample's
/// round trip (<see cref="MetadataFileTests"/>) leaves fields the sample never fills (coder feedback, formula hints,
/// research texts) untested; these files fill them all. Expected values are the files' own text.
/// </summary>
public class MetadataFieldTests
{
    private const string Origin = """
        "version": "v1", "task_run_id": "run-7", "loop_id": 12, "workspace_id": "ws-a",
        """;

    private const string Feedback = """
        {"evolving_steps": 3, "final_decision": false, "execution": "ran", "return_checking": "shape ok",
         "value_feedback": "values ok", "shape_feedback": "(500, 1)", "code": "clean", "final_feedback": "accept"}
        """;

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private static void AssertWritesBack(JsonObject input, JsonObject written) =>
        Assert.True(JsonNode.DeepEquals(input, written),
            $"read:\n{input.ToJsonString()}\nwrote:\n{written.ToJsonString()}");

    [Fact]
    public void A_factor_meta_file_with_every_field_reads_into_its_record_and_writes_back_unchanged()
    {
        var input = Parse($$$"""
            { {{{Origin}}} "config_file": "conf.yaml", "config_source": "template",
              "factors": [
                {"name": "KMID", "source": "qlib_alpha158", "expression": "($close-$open)/$open",
                 "workspace_id": null, "found_in": "combined_factors_df.parquet",
                 "input_schema": {"fields": ["$close"]},
                 "tags": ["base", "price"]},
                {"name": "Mom5", "source": "rdagent_generated", "description_cn": "五日动量",
                 "code_fingerprint": "sha256:ab12", "workspace_id": "ws-f", "code_path": "ws-f/factor.py",
                 "formula_hint": "c_t / c_{t-5}", "variables": {"c_t": "close"},
                 "coder_feedback": {{{Feedback}}}, "input_schema": null, "tags": []}
              ] }
            """);
        var file = FactorMetaFile.From(input);
        AssertWritesBack(input, file.ToJson());

        Assert.Equal(new MetadataOrigin("run-7", 12, "ws-a"), file.Origin);
        Assert.Equal("conf.yaml", file.ConfigFile);
        Assert.Equal("template", file.ConfigSource);
        var (feature, generated) = (file.Factors[0], file.Factors[1]);
        Assert.Equal(2, file.Factors.Count);
        Assert.False(feature.HasCode);
        Assert.Equal(("KMID", "qlib_alpha158", "($close-$open)/$open", "combined_factors_df.parquet"),
            (feature.Name, feature.Source, feature.Expression, feature.FoundIn));
        Assert.Equal(["base", "price"], feature.Tags);
        Assert.True(generated.HasCode);
        Assert.Equal(("五日动量", "sha256:ab12", "ws-f", "ws-f/factor.py", "c_t / c_{t-5}"),
            (generated.DescriptionCn, generated.CodeFingerprint, generated.WorkspaceId, generated.CodePath,
                generated.FormulaHint));
        Assert.Equal(new CoderFeedback(3, false, "ran", "shape ok", "values ok", "(500, 1)", "clean", "accept"),
            generated.CoderFeedback);
    }

    [Fact]
    public void A_factor_without_code_writes_no_code_fields_and_one_without_an_expression_no_expression()
    {
        var feature = new FactorEntry("KMID", FactorEntry.BaseSource, "$close", "不写", null, null, "ignored.py", null,
            null, []);
        var written = feature.ToJson();
        // A description and a code path only describe code the loop wrote: without a fingerprint there is none.
        Assert.Equal(["name", "source", "expression", "workspace_id", "input_schema", "tags"],
            written.Select(p => p.Key));
        var generated = new FactorEntry("Mom5", FactorEntry.GeneratedSource, null, "动量", "sha256:1", "ws", "ws/f.py",
            null, null, []);
        Assert.Equal(["name", "source", "description_cn", "code_fingerprint", "workspace_id", "code_path",
            "input_schema", "tags"], generated.ToJson().Select(p => p.Key));
    }

    [Fact]
    public void A_factor_perf_file_with_every_field_reads_back_and_names_each_metric_by_its_canonical_name()
    {
        var input = Parse($$$"""
            { {{{Origin}}} "source": "qlib_res.csv", "run_id": "mlrun-1",
              "metrics": {"ic": 0.031, "annualized_return": -0.12, "max_drawdown": null},
              "qlib_metrics": {"IC": 0.031, "1day.excess_return_with_cost.annualized_return": -0.12},
              "factor_names": ["KMID", "Mom5"] }
            """);
        var file = FactorPerfFile.From(input);
        AssertWritesBack(input, file.ToJson());
        Assert.Equal(("qlib_res.csv", "mlrun-1"), (file.Source, file.RunId));
        Assert.Equal(0.031, file.Metric("ic"));
        Assert.Equal(-0.12, file.Metric("annualized_return"));
        Assert.Null(file.Metric("max_drawdown"));
        Assert.Null(file.Metric("icir"));
        Assert.Equal(["KMID", "Mom5"], file.FactorNames);
        Assert.True(JsonNode.DeepEquals(input["metrics"], file.MetricsJson()));
    }

    [Fact]
    public void A_feedback_file_with_every_text_reads_each_into_its_own_field_and_writes_back_unchanged()
    {
        string[] texts = ["hypothesis_reason", "concise_reason", "concise_observation", "concise_justification",
            "concise_knowledge", "hypothesis_action", "observations", "hypothesis_evaluation", "decision_reason",
            "new_hypothesis", "code_change_summary", "exception"];
        var input = Parse($$$"""
            { {{{Origin}}} "status": "done", "decision": false, "hypothesis": "动量有效", "source": "log",
              "summary": {"execution": "e", "value_feedback": "v", "shape_feedback": "s", "metrics": "m"} }
            """);
        foreach (var t in texts) input[t] = "text of " + t;
        var file = FeedbackFile.From(input);
        AssertWritesBack(input, file.ToJson());

        Assert.Equal(("done", false, "动量有效", "log"), (file.Status, file.Decision, file.Hypothesis, file.Source));
        Assert.Equal(new FeedbackSummary("e", "v", "s", "m"), file.Summary);
        string T(int i) => "text of " + texts[i];
        Assert.Equal(new ResearchTexts(T(0), T(1), T(2), T(3), T(4), T(5), T(6), T(7), T(8), T(9), T(10), T(11)),
            file.Texts);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("\"yes\"", null)]
    [InlineData("1", null)]
    [InlineData("null", null)]
    public void A_decision_is_true_or_false_only_when_the_file_says_so(string decision, bool? expected)
    {
        var file = FeedbackFile.From(Parse($$$"""{ {{{Origin}}} "decision": {{{decision}}} }"""));
        Assert.Equal(expected, file.Decision);
        Assert.Equal(expected, CoderFeedback.From(Parse($$$"""{"final_decision": {{{decision}}} }"""))!.FinalDecision);
    }

    [Fact]
    public void Numbers_of_the_wrong_type_read_as_absent_and_a_missing_envelope_as_empty()
    {
        var perf = FactorPerfFile.From(Parse("""
            {"loop_id": "12", "metrics": {"ic": "0.5", "icir": 2}, "factor_names": "KMID"}
            """));
        Assert.Equal(new MetadataOrigin("", 0, ""), perf.Origin);
        Assert.Null(perf.Metric("ic"));
        Assert.Equal(2, perf.Metric("icir"));
        Assert.Empty(perf.FactorNames);
        Assert.Equal(0, CoderFeedback.From(Parse("""{"evolving_steps": "3"}"""))!.EvolvingSteps);
        Assert.Null(CoderFeedback.From(JsonValue.Create("not an object")));
        Assert.Null(FeedbackFile.From(Parse("""{"summary": "text"}""")).Summary);
    }

    [Fact]
    public void A_model_meta_file_with_every_field_reads_into_its_record_and_writes_back_unchanged()
    {
        var input = Parse($$$"""
            { {{{Origin}}} "config_file": "conf_model.yaml", "config_source": "mlflow", "run_id": "mlrun-2",
              "role": "proposed", "model_type": "GeneralPTNN", "model_module": "qlib.contrib.model.pytorch_general_nn",
              "model_config": {"n_epochs": 5}, "network_class": "Net",
              "dataset_config": {"class": "TSDatasetH", "module_path": "qlib.data.dataset", "handler": "Alpha158",
                                 "segments": {"train": ["2010-01-01", "2014-12-31"]}, "kwargs": {"step_len": 20}},
              "preprocess_config": {"infer_processors": [{"class": "RobustZScoreNorm"}],
                                    "learn_processors": [{"class": "DropnaLabel"}]},
              "feature_schema": {"base_features": ["KMID"], "loads_generated_factors": true, "complete": false,
                                 "reason": "custom loader"},
              "model_artifacts": {"model_files": ["params.pkl"], "mlruns": "mlruns/1", "model_code": "model.py"},
              "params_applied": ["n_epochs"], "rdagent_model_type": "TimeSeries",
              "model_task": {"name": "GRU", "description": "d", "formulation": "f", "architecture": "a",
                             "variables": {"h": "hidden"}, "hyperparameters": {"lr": 0.001},
                             "training_hyperparameters": {"batch": 256}, "model_type": "TimeSeries",
                             "coder_feedback": {{{Feedback}}} } }
            """);
        var file = ModelMetaFile.From(input);
        AssertWritesBack(input, file.ToJson());

        Assert.Equal(("conf_model.yaml", "mlflow", "mlrun-2", "proposed", "GeneralPTNN"),
            (file.ConfigFile, file.ConfigSource, file.RunId, file.Role, file.ModelType));
        Assert.Equal(("qlib.contrib.model.pytorch_general_nn", "Net"), (file.ModelModule, file.NetworkClass));
        Assert.Equal(("TSDatasetH", "qlib.data.dataset", "Alpha158"),
            (file.DatasetConfig!.Class, file.DatasetConfig.ModulePath, file.DatasetConfig.Handler));
        Assert.Equal(new FeatureSchema(["KMID"], true, false, "custom loader").ToJson().ToJsonString(),
            file.FeatureSchema!.ToJson().ToJsonString());
        Assert.Equal((true, false, "custom loader"),
            (file.FeatureSchema.LoadsGeneratedFactors, file.FeatureSchema.Complete, file.FeatureSchema.Reason));
        Assert.Equal(["params.pkl"], file.ModelArtifacts!.ModelFiles);
        Assert.Equal(("mlruns/1", "model.py"), (file.ModelArtifacts.MlRuns, file.ModelArtifacts.ModelCode));
        Assert.Equal(["n_epochs"], file.ParamsApplied);
        Assert.Equal("TimeSeries", file.RdAgentModelType);
        Assert.Equal(("GRU", "d", "f", "a"),
            (file.ModelTask!.Name, file.ModelTask.Description, file.ModelTask.Formulation,
                file.ModelTask.Architecture));
        Assert.Equal(3, file.ModelTask.CoderFeedback!.EvolvingSteps);
    }

    [Fact]
    public void A_feature_schema_that_does_not_say_whether_it_is_complete_writes_neither_complete_nor_reason()
    {
        var schema = FeatureSchema.From(Parse("""{"base_features": ["KMID"], "reason": "x"}"""))!;
        Assert.False(schema.LoadsGeneratedFactors);
        Assert.Null(schema.Complete);
        Assert.Equal(["base_features", "loads_generated_factors"], schema.ToJson().Select(p => p.Key));
        var model = ModelMetaFile.From(Parse($$$"""{ {{{Origin}}} "model_task": null}"""));
        Assert.Null(model.ModelTask);
        Assert.Null(model.RdAgentModelType);
        Assert.Null(model.ToJson()["model_task"]);
        Assert.DoesNotContain("coder_feedback",
            ModelTaskText.From(Parse("""{"name": "GRU"}"""))!.ToJson().Select(p => p.Key));
    }

    [Fact]
    public void A_strategy_meta_file_with_every_field_reads_into_its_record_and_writes_back_unchanged()
    {
        var input = Parse($$$"""
            { {{{Origin}}} "strategy_id": "strat_1a2b", "config_file": "conf.yaml", "config_source": "template",
              "run_id": "mlrun-3", "config_fingerprint": "sha256:ff",
              "portfolio_config": {"class": "TopkDropoutStrategy", "kwargs": {"topk": 50, "n_drop": 5}},
              "backtest_config": {"start_time": "2017-01-01", "account": 100000000},
              "python_implementation": {"module": "rd_strategies_lib.generated", "func": "get_strat_1a2b_config"},
              "params_applied": ["backtest.start_time"] }
            """);
        var file = StrategyMetaFile.From(input);
        AssertWritesBack(input, file.ToJson());
        Assert.Equal(("strat_1a2b", "conf.yaml", "template", "mlrun-3", "sha256:ff"),
            (file.StrategyId, file.ConfigFile, file.ConfigSource, file.RunId, file.ConfigFingerprint));
        Assert.Equal(new PythonImplementation("rd_strategies_lib.generated", "get_strat_1a2b_config"),
            file.PythonImplementation);
        Assert.Equal(50, (int)file.PortfolioConfig!["kwargs"]!["topk"]!);
        Assert.Equal(["backtest.start_time"], file.ParamsApplied);
        Assert.Null(StrategyMetaFile.From(Parse("""{"portfolio_config": [1]}""")).PortfolioConfig);
    }

    [Fact]
    public void The_records_read_copies_so_changing_what_was_read_leaves_the_source_alone()
    {
        var input = Parse($$$"""{ {{{Origin}}} "model_config": {"n_epochs": 5}}""");
        var file = ModelMetaFile.From(input);
        file.ModelConfig!["n_epochs"] = 9;
        Assert.Equal(5, (int)input["model_config"]!["n_epochs"]!);
        var written = file.ToJson();
        written["model_config"]!["n_epochs"] = 7;
        Assert.Equal(9, (int)file.ModelConfig!["n_epochs"]!);
    }

    [Fact]
    public void Each_malformed_file_is_reported_with_its_name_its_path_and_the_parser_s_reason()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir[StrategyMetaFile.FileName], "{\"strategy_id\": ");
        File.WriteAllText(dir[FactorPerfFile.FileName], "{\"source\": \"qlib_res.csv\"}");
        var reported = new List<(string Name, string Path, string Reason)>();
        var meta = WorkspaceMetadata.Read(dir.Path, (n, p, r) => reported.Add((n, p, r)));
        var (name, path, reason) = Assert.Single(reported);
        Assert.Equal((StrategyMetaFile.FileName, dir[StrategyMetaFile.FileName]), (name, path));
        // System.Text.Json's own words, at the byte after the 16 written.
        Assert.Equal("Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array "
            + $"that should be closed. LineNumber: 0 | BytePositionInLine: {"{\"strategy_id\": ".Length}.", reason);
        Assert.Null(meta.StrategyMeta);
        Assert.Equal("qlib_res.csv", meta.FactorPerf!.Source);
        Assert.Equal(["factor_meta.json", "factor_perf.json", "feedback.json", "model_meta.json",
            "strategy_meta.json"], WorkspaceMetadata.FileNames);
        Assert.Equal(new WorkspaceMetadata(null, null, null, null, null), WorkspaceMetadata.None);
    }
}
