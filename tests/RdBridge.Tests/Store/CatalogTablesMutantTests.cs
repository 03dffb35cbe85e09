using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RdBridge.IO;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// How one catalog record maps onto its table's columns (<see cref="CatalogTable.Map"/>): which field goes into which
/// column, the legacy fallbacks for the Python tools' catalogs, the key checks and the content fingerprint. Every
/// expected value is read from the record the test writes.
/// </summary>
public sealed class CatalogTablesMutantTests
{
    private static CatalogRow Map(CatalogTable table, string json, string? origin = null)
    {
        using var doc = JsonDocument.Parse(json);
        return table.Map(doc.RootElement.Clone(), origin);
    }

    [Fact]
    public void A_factor_s_performance_metrics_fill_the_metric_columns()
    {
        var row = Map(CatalogTable.Factor,
            """{"factor_id":"f1","performance_metrics":{"ic":0.05,"max_drawdown":-0.25}}""");
        Assert.Equal(0.05, row.Values["ic"]);
        Assert.Equal(-0.25, row.Values["max_drawdown"]);
        Assert.Null(row.Values["icir"]);
    }

    [Fact]
    public void A_model_s_task_name_fills_the_model_name_column()
    {
        var row = Map(CatalogTable.Model, """{"model_id":"m1","model_task":{"name":"LGBM-small"}}""");
        Assert.Equal("LGBM-small", row.Values["model_name"]);
    }

    [Fact]
    public void Plain_JSON_columns_are_computed_from_the_payload_but_nested_and_loop_metrics_are_not()
    {
        var tags = CatalogTable.Factor.Columns.Single(c => c.Name == "tags");
        var modelMetrics = CatalogTable.Model.Columns.Single(c => c.Name == "metrics");
        var loopMetrics = CatalogTable.Loop.Columns.Single(c => c.Name == "metrics");
        var ic = CatalogTable.Factor.Columns.Single(c => c.Name == "ic");
        Assert.True(CatalogTable.Factor.FromPayload(tags));
        Assert.True(CatalogTable.Model.FromPayload(modelMetrics));
        Assert.False(CatalogTable.Loop.FromPayload(loopMetrics));
        Assert.False(CatalogTable.Factor.FromPayload(ic));
        Assert.False(CatalogTable.Factor.FromPayload(new CatalogColumn("x", ColumnType.Json, "a.b")));
    }

    [Fact]
    public void Mapping_on_a_thread_of_its_own_works_from_its_first_record()
    {
        // The per-thread buffer is made on a thread's first record: a fresh thread makes it here.
        const string json = """{"factor_id":"f1"}""";
        CatalogRow? row = null;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            // Caught only to be rethrown on the test's thread: thrown on this one, it would end the test host.
            try
            {
                row = Map(CatalogTable.Factor, json);
            }
            catch (Exception e)
            {
                failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
        Assert.Equal(json, row!.Payload);
        Assert.Equal(Sha(json), row.ContentHash);
    }

    private static string Sha(string text) =>
        System.Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void The_origin_is_part_of_the_content_fingerprint()
    {
        const string json = """{"factor_id":"f1","name":"a"}""";
        var row = Map(CatalogTable.Factor, json, "peer-7");
        Assert.Equal(Sha(json + "\n@peer-7"), row.ContentHash);
        Assert.Equal(Sha(json), Map(CatalogTable.Factor, json).ContentHash);
    }

    [Fact]
    public void An_empty_key_is_missing()
    {
        var row = Map(CatalogTable.Factor, """{"factor_id":""}""");
        Assert.Equal("record has no factor_id", row.Error);
    }

    [Fact]
    public void Several_missing_key_fields_are_named_with_commas()
    {
        var row = Map(CatalogTable.Loop, """{"status":"failed"}""");
        Assert.Equal("record has no task_run_id, loop_id", row.Error);
    }

    [Fact]
    public void Several_errors_are_joined_with_semicolons()
    {
        var row = Map(CatalogTable.Factor, """{"factor_id":"","occurrences":-1}""");
        Assert.Equal("record has no factor_id; occurrences is -1; an id or a count is never negative", row.Error);
    }

    [Fact]
    public void Only_indexed_text_fields_are_held_to_the_byte_limit()
    {
        var longText = new string('x', CatalogTable.IndexedTextBytes + 1);
        var unindexed = Map(CatalogTable.Factor, $$"""{"factor_id":"f1","expression":"{{longText}}"}""");
        Assert.Null(unindexed.Error);
        var indexed = Map(CatalogTable.Factor, $$"""{"factor_id":"{{longText}}"}""");
        var bytes = $"{CatalogTable.IndexedTextBytes + 1:N0}";
        Assert.Equal($"field 'factor_id' is {bytes} bytes, more than the {CatalogTable.IndexedTextBytes:N0} an id, "
            + "name or other indexed field may hold", indexed.Error);
    }

    private static string LegacyId(string source, string basis, out string fingerprint)
    {
        fingerprint = FileDigest.Sha256OfText(source + "|" + basis);
        return "factor_" + fingerprint[..16];
    }

    [Fact]
    public void A_legacy_factor_without_a_source_is_rdagent_generated_and_keyed_by_its_name()
    {
        var row = Map(CatalogTable.Factor, """{"name":"Mom5"}""");
        Assert.Equal("rdagent_generated", row.Values["source"]);
        Assert.Equal(LegacyId("rdagent_generated", "name:Mom5", out var fp), row.Values["factor_id"]);
        Assert.Equal(fp, row.Values["fingerprint"]);
    }

    [Fact]
    public void A_legacy_factor_s_expression_wins_over_its_formula_hint()
    {
        var row = Map(CatalogTable.Factor,
            """{"name":"Mom5","source":"s","expression":"Ref($close, 5)","formula_hint":"close / close_5"}""");
        Assert.Equal(LegacyId("s", "expr:ref($close,5)", out _), row.Values["factor_id"]);
    }

    [Fact]
    public void A_legacy_factor_without_an_expression_is_keyed_by_its_formula_hint()
    {
        var row = Map(CatalogTable.Factor, """{"name":"Mom5","source":"s","formula_hint":"Close / Close_5"}""");
        Assert.Equal(LegacyId("s", "expr:close/close_5", out _), row.Values["factor_id"]);
    }

    [Fact]
    public void A_formula_hint_that_is_not_text_is_not_an_expression()
    {
        var row = Map(CatalogTable.Factor, """{"name":"Mom5","source":"s","formula_hint":5}""");
        Assert.Equal(LegacyId("s", "name:Mom5", out _), row.Values["factor_id"]);
    }

    [Fact]
    public void A_legacy_factor_keeps_the_fingerprint_it_gives()
    {
        var row = Map(CatalogTable.Factor, """{"name":"Mom5","source":"s","fingerprint":"given-fp"}""");
        Assert.Equal("given-fp", row.Values["fingerprint"]);
        Assert.Equal(LegacyId("s", "name:Mom5", out _), row.Values["factor_id"]);
    }

    [Fact]
    public void A_legacy_model_is_keyed_by_its_run_and_loop()
    {
        var row = Map(CatalogTable.Model, """{"task_run_id":"r1","loop_id":3}""");
        Assert.Equal("model_r1_3", row.Values["model_id"]);
    }

    [Fact]
    public void A_loop_s_Qlib_named_metrics_fill_the_empty_metric_columns()
    {
        var row = Map(CatalogTable.Loop, """
            {"task_run_id":"r1","loop_id":1,"ic":0.9,"metrics":{
              "1day.excess_return_with_cost.annualized_return":0.1,
              "1day.excess_return_with_cost.max_drawdown":-0.2,
              "1day.excess_return_with_cost.information_ratio":1.5,
              "IC":0.03,"ICIR":0.4,"Rank IC":0.05}}
            """);
        Assert.Equal(0.1, row.Values["annualized_return"]);
        Assert.Equal(-0.2, row.Values["max_drawdown"]);
        Assert.Equal(1.5, row.Values["information_ratio"]);
        Assert.Equal(0.9, row.Values["ic"]);
        Assert.Equal(0.4, row.Values["ic_ir"]);
        Assert.Equal(0.05, row.Values["rank_ic"]);
        Assert.Equal("""{"annualized_return":0.1,"max_drawdown":-0.2,"information_ratio":1.5,"ic":0.03,"icir":0.4,"""
            + "\"rank_ic\":0.05}", row.Values["metrics"]);
    }

    [Fact]
    public void A_single_renamed_metric_is_renamed()
    {
        var row = Map(CatalogTable.Loop, """{"task_run_id":"r1","loop_id":1,"metrics":{"ICIR":0.4,"ic":0.03}}""");
        Assert.Equal("""{"icir":0.4,"ic":0.03}""", row.Values["metrics"]);
        Assert.Equal(0.4, row.Values["ic_ir"]);
    }

    [Fact]
    public void Canonical_metrics_are_kept_as_written()
    {
        var row = Map(CatalogTable.Loop, """{"task_run_id":"r1","loop_id":1,"metrics":{"ic": 3.0E-2}}""");
        Assert.Equal("""{"ic": 3.0E-2}""", row.Values["metrics"]);
        Assert.Null(row.Values["ic"]);
    }

    [Fact]
    public void A_sideways_metric_with_an_empty_name_key_is_read()
    {
        var row = Map(CatalogTable.Loop, """{"task_run_id":"r1","loop_id":1,"metrics":{"":"IC","0":0.03}}""");
        Assert.Equal("""{"ic":0.03}""", row.Values["metrics"]);
        Assert.Equal(0.03, row.Values["ic"]);
    }

    [Fact]
    public void A_loop_s_sharpe_is_its_information_ratio_unless_it_gives_one()
    {
        var row = Map(CatalogTable.Loop, """{"task_run_id":"r1","loop_id":1,"sharpe":1.2}""");
        Assert.Equal(1.2, row.Values["information_ratio"]);
        var given = Map(CatalogTable.Loop, """{"task_run_id":"r1","loop_id":1,"sharpe":1.2,"information_ratio":0.7}""");
        Assert.Equal(0.7, given.Values["information_ratio"]);
        var text = Map(CatalogTable.Loop, """{"task_run_id":"r1","loop_id":1,"sharpe":"1.2"}""");
        Assert.Null(text.Values["information_ratio"]);
    }

    [Fact]
    public void A_strategy_s_workspace_example_fills_its_missing_links()
    {
        var row = Map(CatalogTable.Strategy,
            """
            {"strategy_id":"s1","workspace_id":"w0",
             "workspace_example":{"task_run_id":"r9","loop_id":4,"workspace_id":"w1"}}
            """);
        Assert.Equal("r9", row.Values["task_run_id"]);
        Assert.Equal(4L, row.Values["loop_id"]);
        Assert.Equal("w0", row.Values["workspace_id"]);
    }

    [Fact]
    public void A_loop_id_given_as_text_is_a_number()
    {
        var row = Map(CatalogTable.Loop, """{"task_run_id":"r1","loop_id":"7"}""");
        Assert.Equal(7L, row.Values["loop_id"]);
        Assert.Equal("r1/7", row.Key);
    }

    [Fact]
    public void A_metric_given_as_text_is_no_number()
    {
        var row = Map(CatalogTable.Loop, """{"task_run_id":"r1","loop_id":1,"ic":"0.5"}""");
        Assert.Null(row.Values["ic"]);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("\"1\"", true)]
    [InlineData("\"true\"", true)]
    [InlineData("\"True\"", true)]
    [InlineData("\"yes\"", false)]
    [InlineData("\"\"", false)]
    public void A_decision_as_a_number_or_text_is_a_boolean(string decision, bool expected)
    {
        var row = Map(CatalogTable.Loop, $$"""{"task_run_id":"r1","loop_id":1,"decision":{{decision}}}""");
        Assert.Equal(expected, row.Values["decision"]);
    }
}
