using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RdBridge.Backtests;
using RdBridge.Catalogs;

namespace RdBridge.Tests.Catalogs;

/// <summary>
/// RdBridge's records become JSON through two source-generated contexts, and only two: <c>Catalogs/CatalogJson</c> for
/// the catalogs and the lineage, <c>Backtests/BacktestJson</c> for <c>backtest_report.json</c>'s summary (Backtests
/// sits below Catalogs; see the README's "Walking the house"). The summary is in both files, so the two must write it
/// alike.
/// </summary>
public class JsonContextTests
{
    [Fact]
    public void The_core_has_exactly_the_catalogs_and_the_backtest_report_contexts_both_naming_fields_in_snake_case()
    {
        var contexts = typeof(CatalogJson).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(JsonSerializerContext)))
            .Select(t => t.FullName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["RdBridge.Backtests.BacktestJson", "RdBridge.Catalogs.CatalogJson"], contexts);
        Assert.Equal("max_drawdown_matches_qlib",
            CatalogJson.Default.Options.PropertyNamingPolicy?.ConvertName("MaxDrawdownMatchesQlib"));
        Assert.Equal("max_drawdown_matches_qlib",
            BacktestJson.Default.Options.PropertyNamingPolicy?.ConvertName("MaxDrawdownMatchesQlib"));
    }

    [Fact]
    public void A_backtest_summary_is_the_same_bytes_in_the_report_and_in_the_loop_catalog()
    {
        var risk = new RiskRecord
        {
            Mean = 0.00042, Std = 0.0061, AnnualizedReturn = 0.1, InformationRatio = 1.0640000000000001,
            MaxDrawdown = -0.0732,
        };
        var summary = new LoopBacktestSummary
        {
            FirstDay = "2020-01-02", LastDay = "2020-12-31", TradingDays = 243, FinalExcessReturnWithoutCost = 0.0923,
            FinalExcessReturnWithCost = 0.0712, FinalBenchmarkReturn = null, MaxDrawdown = -0.08,
            WithoutCost = risk, WithCost = risk with { Mean = null },
        };
        var report = JsonSerializer.Serialize<BacktestSummaryRecord>(summary,
            BacktestJson.Default.BacktestSummaryRecord);
        // The loop catalog's backtest is the summary plus where it came from, after the summary's own fields.
        var inCatalog = JsonNode.Parse(CatalogJson.ToText(summary))!.AsObject();
        foreach (var trailer in new[] { "source", "qlib_max_drawdown", "max_drawdown_matches_qlib" })
            Assert.True(inCatalog.Remove(trailer), trailer);
        Assert.Equal(report, inCatalog.ToJsonString());
    }

    [Fact]
    public void A_stored_payload_of_another_shape_is_kept_whole_and_a_record_without_origin_is_local()
    {
        // loop_id as a word does not fit the record's number: every field is kept as the payload had it.
        var other = CatalogJson.ReadStored<FactorRecord>("""{"name": "a", "loop_id": "x", "extra": [1]}""", null);
        Assert.Null(other.Name);
        Assert.Equal(("local", "a", "x", "[1]"), (other.Origin, other.Unknown!["name"].GetString(),
            other.Unknown["loop_id"].GetString(), other.Unknown["extra"].GetRawText()));
        Assert.Equal(["extra", "loop_id", "name"], other.Unknown.Keys.Order(StringComparer.Ordinal));
        // A payload that is no object at all keeps nothing.
        var list = CatalogJson.ReadStored<FactorRecord>("[1, 2]", "peer");
        Assert.Equal(((string?)null, "peer"), (list.Name, list.Origin));
        Assert.Null(list.Unknown);
        // A payload that fits is the record, with the publisher it came from.
        var fits = CatalogJson.ReadStored<FactorRecord>("""{"name": "a", "loop_id": 3}""", "peer");
        Assert.Equal(("a", 3L, "peer"), (fits.Name, fits.LoopId, fits.Origin));
        Assert.Null(fits.Unknown);
    }

    [Fact]
    public void The_api_s_json_writes_chinese_and_plus_as_they_are()
    {
        var workspace = new LoopWorkspace
        {
            WorkspaceId = "五日动量", WorkspacePath = "/ws/a+b", WorkspaceRole = "实验",
        };
        Assert.Equal("""{"workspace_id":"五日动量","workspace_path":"/ws/a+b","workspace_role":"实验"}""",
            CatalogJson.ToReadableText(workspace));
    }
}
