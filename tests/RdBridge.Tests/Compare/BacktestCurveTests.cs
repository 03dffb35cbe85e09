using System.Text;
using System.Text.Json.Nodes;
using RdBridge.Compare;

namespace RdBridge.Tests.Compare;

/// <summary>Reading backtest_report.json and thinning a long curve for a chart.</summary>
public class BacktestCurveTests
{
    private static readonly string[] Derived =
        ["excess_return_without_cost", "excess_return_with_cost", "benchmark_return", "drawdown"];

    private static BacktestCurve Curve(JsonObject report) =>
        BacktestCurve.Parse(Encoding.UTF8.GetBytes(report.ToJsonString()), "test.json");

    [Fact]
    public void Short_curve_keeps_every_day()
    {
        var report = SampleBacktests.Report(300, seed: 1);
        var curve = Curve(report);
        Assert.Equal(300, curve.TradingDays);
        Assert.Equal(Enumerable.Range(0, 300), curve.DisplayDays());
        var last = (double)report["derived"]!["excess_return_with_cost"]![299]!;
        Assert.Equal(last, curve.Final("excess_return_with_cost"));
    }

    [Fact]
    public void Long_curve_keeps_first_last_and_every_bucket_s_extremes_of_every_curve_within_the_point_budget()
    {
        var report = SampleBacktests.Report(10_000, seed: 3);
        var curve = Curve(report);
        var days = curve.DisplayDays(800);
        // How many points the thinning keeps depends on where each bucket's extremes fall; the budget is the promise,
        // and which days must survive is checked exactly below.
        Assert.InRange(days.Count, 200, 800);
        Assert.Equal(0, days[0]);
        Assert.Equal(9_999, days[^1]);
        Assert.Equal(days.Order(), days);
        foreach (var name in Derived.Append("turnover"))
        {
            var group = name == "turnover" ? "values" : "derived";
            double[] values = [.. report[group]![name]!.AsArray().Select(v => (double)v!)];
            Assert.Contains(Array.IndexOf(values, values.Min()), days);
            Assert.Contains(Array.IndexOf(values, values.Max()), days);
        }
        var json = curve.ToJson(full: false, maxPoints: 800);
        Assert.True((bool)json["decimated"]!);
        Assert.Equal(days.Count, json["dates"]!.AsArray().Count);
        Assert.Equal(10_000, (int)json["trading_days"]!);
        Assert.Equal(10_000, curve.ToJson(full: true)["dates"]!.AsArray().Count);
    }

    [Fact]
    public void Days_without_a_number_stay_gaps_and_are_never_picked_as_extremes()
    {
        var report = SampleBacktests.Report(2_000, seed: 5);
        foreach (var name in Derived)
            for (var i = 100; i < 400; i++) report["derived"]![name]![i] = null;
        report["values"]!.AsObject().Remove("turnover");
        var curve = Curve(report);
        Assert.Null(curve.Series["drawdown"][200]);
        var days = curve.DisplayDays(400);
        Assert.DoesNotContain(days, d => d is > 100 and < 399);
        Assert.Null(curve.ToJson(full: true)["series"]!["drawdown"]![250]);
    }

    [Theory]
    [InlineData("[1,2]", "it is not a JSON object")]
    [InlineData("{\"dates\":[\"2020-01-02\"]}", "it has no 'derived' curves")]
    [InlineData("{\"dates\":[\"2020-01-02\"],\"derived\":{\"excess_return_with_cost\":[1,2]}}",
        "'excess_return_with_cost' is not a list of 1 number, one per date")]
    [InlineData("{\"dates\":[\"2020-01-02\"],\"derived\":{\"excess_return_with_cost\":[\"x\"]}}",
        "'excess_return_with_cost' holds something other than numbers")]
    [InlineData("{\"dates\":[],\"derived\":{}}", "it has no 'excess_return_without_cost' curve")]
    // In the parentheses, System.Text.Json's own words for the byte it stopped at.
    [InlineData("{not json", "it is not JSON ('n' is an invalid start of a property name. Expected a '\"'. "
        + "LineNumber: 0 | BytePositionInLine: 1.)")]
    public void A_file_of_another_shape_is_refused_with_its_path(string json, string reason)
    {
        var e = Assert.Throws<CompareException>(
            () => BacktestCurve.Parse(Encoding.UTF8.GetBytes(json), "ws/backtest_report.json"));
        Assert.Equal($"'ws/backtest_report.json' is not a backtest report: {reason}; run backfill again to rewrite it",
            e.Message);
        Assert.Equal(ExitCodes.ItemFailures, e.ExitCode);
    }
}
