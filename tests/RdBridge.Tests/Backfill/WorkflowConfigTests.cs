using RdBridge.Backfill;

namespace RdBridge.Tests.Backfill;

public class WorkflowConfigTests
{
    public static TheoryData<string, string> RealConfigs => new()
    {
        { "rdagent/rdagent/scenarios/qlib/experiment/factor_template/conf_baseline.yaml", "LGBModel" },
        { "rdagent/rdagent/scenarios/qlib/experiment/factor_template/conf_combined_factors.yaml", "LGBModel" },
        { "rdagent/rdagent/scenarios/qlib/experiment/factor_template/conf_combined_factors_sota_model.yaml",
            "GeneralPTNN" },
        { "rdagent/rdagent/scenarios/qlib/experiment/model_template/conf_baseline_factors_model.yaml", "GeneralPTNN" },
        { "rdagent/rdagent/scenarios/qlib/experiment/model_template/conf_sota_factors_model.yaml", "GeneralPTNN" },
        { "rdagent/test/utils/env_tpl/conf.yaml", "LGBModel" },
        { "qlib/examples/benchmarks/LightGBM/workflow_config_lightgbm_Alpha158.yaml", "LGBModel" },
        { "qlib/examples/benchmarks/XGBoost/workflow_config_xgboost_Alpha158.yaml", "XGBModel" },
        { "qlib/examples/benchmarks/GRU/workflow_config_gru_Alpha158.yaml", "GRU" },
    };

    [Theory]
    [MemberData(nameof(RealConfigs))]
    [RealData]
    public void Real_configs_parse_with_model_and_topk_dropout_strategy(string fixture, string modelClass)
    {
        var config = WorkflowConfig.Load(Paths.Fixture(fixture));
        Assert.Equal(modelClass, WorkflowConfig.Text(config.Model?["class"]));
        Assert.Equal("TopkDropoutStrategy", WorkflowConfig.Text(config.Strategy?["class"]));
        Assert.Equal("50", WorkflowConfig.Text(config.Strategy?["kwargs"]?["topk"]));
        Assert.Equal("5", WorkflowConfig.Text(config.Strategy?["kwargs"]?["n_drop"]));
        // The account as the file spells it (each of these files has one "account:" line).
        var account = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Paths.Fixture(fixture)),
            @"^\s*account:\s*(\S+)\s*$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
        Assert.Equal("100000000", account);
        Assert.Equal(account, WorkflowConfig.Text(config.Backtest?["account"]));
    }

    [Fact]
    [RealData]
    public void Unrendered_jinja_takes_its_defaults()
    {
        var file = Paths.Fixture(
            "rdagent/rdagent/scenarios/qlib/experiment/factor_template/conf_combined_factors.yaml");
        var config = WorkflowConfig.Load(file);
        Assert.Equal("2008-01-01", WorkflowConfig.Text(config.Get("task.dataset.kwargs.segments.train")?[0]));
        Assert.Equal("2014-12-31", WorkflowConfig.Text(config.Get("task.dataset.kwargs.segments.train")?[1]));
        Assert.Null(config.Get("port_analysis_config.backtest.end_time"));
        // Every placeholder of the file, in its order, as the file spells them (it has no '{% … %}' tags).
        var placeholders = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(file), @"\{\{\s*(\w+)")
            .Select(m => m.Groups[1].Value).ToList();
        Assert.DoesNotContain("{%", File.ReadAllText(file));
        Assert.Equal(placeholders, config.Defaulted);
        Assert.True(config.LoadsGeneratedFactors);
        // {{ feature_names }} becomes RD-Agent's default Alpha20 set.
        Assert.Equal(20, config.BaseFeatures().Count);
    }

    [Fact]
    [RealData]
    public void Model_template_lists_its_twenty_base_features_with_expressions()
    {
        var config = WorkflowConfig.Load(
            Paths.Fixture("rdagent/rdagent/scenarios/qlib/experiment/model_template/conf_sota_factors_model.yaml"));
        var features = config.BaseFeatures();
        Assert.Equal(20, features.Count);
        Assert.Equal(("RESI5", "Resi($close, 5)/$close"), features[0]);
        Assert.Equal(Alpha20.Factors.Select(f => f.Name), features.Select(f => f.Name));
        var processors = config.HandlerKwargs?["infer_processors"]?.AsArray()
            .Select(p => WorkflowConfig.Text(p?["class"])).ToList();
        Assert.Equal(["RobustZScoreNorm", "Fillna"], processors!);
    }

    [Fact]
    [RealData]
    public void The_GRU_benchmarks_FilterCol_leaves_the_model_twenty_of_the_alpha158_features()
    {
        // Its infer_processors start with FilterCol col_list ["RESI5", "WVMA5", … "KLOW"] (20 names): the model's
        // features are those, as PyYAML reads the list (FilterCol drops the other columns, so they keep the
        // handler's order, not the list's).
        var file = Paths.Fixture("qlib/examples/benchmarks/GRU/workflow_config_gru_Alpha158.yaml");
        var features = WorkflowConfig.Load(file).BaseFeatures();
        var colList = RdBridge.Tests.Discovery.UpstreamRdAgent.RunPython(["-c", """
            import sys, yaml
            handler = yaml.safe_load(open(sys.argv[1]))['data_handler_config']
            for p in handler['infer_processors']:
                if p['class'] == 'FilterCol':
                    print('\n'.join(p['kwargs']['col_list']))
            """, file]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(20, colList.Length);
        Assert.Equal(colList.Order(StringComparer.Ordinal),
            features.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Alpha20.Factors.Select(f => f.Name).Order(StringComparer.Ordinal),
            features.Select(f => f.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("qlib/examples/benchmarks/LightGBM/workflow_config_lightgbm_Alpha158.yaml")]
    [RealData]
    public void An_alpha158_handler_without_a_feature_list_trains_on_the_158_alpha158_features(string fixture)
    {
        var features = WorkflowConfig.Load(Paths.Fixture(fixture)).BaseFeatures();
        Assert.Equal(158, features.Count);
        Assert.Equal(158, features.Select(f => f.Name).Distinct().Count());
        // RD-Agent's default twenty are a subset, with the same expressions.
        Assert.Subset(features.ToHashSet(), Alpha20.Factors.ToHashSet());
        Assert.Equal(("KMID", "($close-$open)/$open"), features[0]);
        // Qlib's Alpha158 loader (its source is not among the fixtures) builds them in code: two spelled out here, the
        // first and a long one, as that code writes them.
        Assert.Contains(("VSUMD60",
            "(Sum(Greater($volume-Ref($volume, 1), 0), 60)-Sum(Greater(Ref($volume, 1)-$volume, 0), 60))"
                + "/(Sum(Abs($volume-Ref($volume, 1)), 60)+1e-12)"), features);
        // Every one names the price fields and windows it reads.
        var imax = InputSchema.FromExpression(features.Single(f => f.Name == "IMAX30").Expression).ToJson();
        Assert.Equal(30, (int)imax["lookback_days"]!);
    }

    [Fact]
    public void Invalid_yaml_says_which_file_and_line()
    {
        var e = Assert.Throws<FormatException>(
            () => WorkflowConfig.Parse("task:\n  model: [unclosed\n", "conf_x.yaml"));
        // The file and the line the flow sequence was left open at (after it, the YAML parser's own words).
        Assert.StartsWith("conf_x.yaml is not valid YAML (line 3): ", e.Message);
    }

    [Theory]
    [InlineData("Corr($close, Log($volume+1), 60)", new[] { "close", "volume" }, 60)]
    [InlineData("($high-$low)/$open", new[] { "open", "high", "low" }, 1)]
    [InlineData("Ref($close, 60)/$close", new[] { "close" }, 60)]
    public void Input_schema_comes_from_the_expression(string expression, string[] fields, int lookback)
    {
        var schema = InputSchema.FromExpression(expression);
        Assert.Equal(fields, schema.RequiredFields);
        Assert.Equal(lookback, schema.LookbackDays);
    }

    [Fact]
    public void Input_schema_of_code_uses_the_windows_in_the_code_not_the_name()
    {
        var schema = InputSchema.FromCode(
            "x = df['$close'].rolling(window=15).mean() / df['$volume'].shift(3)", "Momentum_10D");
        Assert.Equal(["close", "volume"], schema.RequiredFields);
        Assert.Equal(15, schema.LookbackDays);
    }
}
