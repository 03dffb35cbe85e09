using System.Globalization;
using System.Text.Json;
using RdBridge.Backfill;
using RdBridge.Backtests;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

public class BacktestReportTests
{
    /// <summary>
    /// What pandas computes for a report the way Qlib's risk_analysis does (sum mode, ddof=1, 238 days).
    /// </summary>
    private static JsonElement QlibAnalysis(string workdir, string pickle) =>
        JsonDocument.Parse(RealPandas.Run(workdir, $$"""
        import json, struct, numpy as np, pandas as pd
        df = pd.read_pickle({{RealPandas.Py(pickle)}})
        def bits(s):
            return [struct.unpack("<q", struct.pack("<d", v))[0] for v in s.tolist()]
        def num(v):
            return None if pd.isna(v) else float(v)
        out = dict()
        excess = df["return"] - df["bench"]
        for name, r in (("without_cost", excess), ("with_cost", excess - df["cost"])):
            cum = r.cumsum()
            out[name] = dict(curve=bits(cum), drawdown=bits(cum - cum.cummax()), mean=num(r.mean()),
                             std=num(r.std(ddof=1)), annualized_return=num(r.mean() * 238),
                             information_ratio=num(r.mean() / r.std(ddof=1) * np.sqrt(238)),
                             max_drawdown=num((cum - cum.cummax()).min()))
        out["bench"] = bits(df["bench"].cumsum())
        print(json.dumps(out))
        """)).RootElement;

    private static void AssertClose(JsonElement expected, double? actual)
    {
        if (expected.ValueKind == JsonValueKind.Null) { Assert.Null(actual); return; }
        var e = expected.GetDouble();
        Assert.NotNull(actual); // a guard naming the case before the value check below
        // Within 1e-12 relative, not bit for bit: pandas and RdBridge sum in different orders; the last bits differ.
        Assert.True(Math.Abs(e - actual.Value) <= 1e-12 * Math.Max(1, Math.Abs(e)), $"expected {e:R}, got {actual:R}");
    }

    private static void AssertLikeQlib(JsonElement expected, BacktestReport report)
    {
        static IEnumerable<long> Bits(IReadOnlyList<double> v) => v.Select(BitConverter.DoubleToInt64Bits);
        static IEnumerable<long> Expected(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64());
        Assert.Equal(Expected(expected.GetProperty("without_cost").GetProperty("curve")),
            Bits(report.Curves.ExcessReturnWithoutCost));
        Assert.Equal(Expected(expected.GetProperty("with_cost").GetProperty("curve")),
            Bits(report.Curves.ExcessReturnWithCost));
        Assert.Equal(Expected(expected.GetProperty("with_cost").GetProperty("drawdown")), Bits(report.Curves.Drawdown));
        Assert.Equal(Expected(expected.GetProperty("bench")), Bits(report.Curves.BenchmarkReturn));
        foreach (var (name, risk) in
                 new[] { ("without_cost", report.Summary.WithoutCost), ("with_cost", report.Summary.WithCost) })
        {
            var e = expected.GetProperty(name);
            AssertClose(e.GetProperty("mean"), risk.Mean);
            AssertClose(e.GetProperty("std"), risk.Std);
            AssertClose(e.GetProperty("annualized_return"), risk.AnnualizedReturn);
            AssertClose(e.GetProperty("information_ratio"), risk.InformationRatio);
            AssertClose(e.GetProperty("max_drawdown"), risk.MaxDrawdown);
        }
        AssertClose(expected.GetProperty("with_cost").GetProperty("max_drawdown"), report.Summary.MaxDrawdown);
    }

    [Theory]
    [RealData]
    [MemberData(nameof(PandasRealFileTests.Reports), MemberType = typeof(PandasRealFileTests))]
    public void A_real_Qlib_report_gives_the_curves_and_risk_figures_Qlib_logged(string relative)
    {
        var file = Path.Combine(Paths.Fixture("public/BiEchi__quants/mlruns/2"), relative);
        using var dir = new TempDir();
        var report = BacktestReport.Read(file);
        AssertLikeQlib(QlibAnalysis(dir.Path, file), report);

        Assert.Equal(871, report.Summary.TradingDays);
        Assert.Equal(report.Dates[0], report.Summary.FirstDay);
        Assert.Equal(report.Dates[^1], report.Summary.LastDay);
        Assert.Equal(BacktestReport.QlibColumns, report.Columns);

        // The run's qlib_res.csv (the metrics MLflow logged for the same recorder) agrees to the last digits.
        var runId = relative.Split(Path.DirectorySeparatorChar)[0];
        var metrics = QlibResults.Read(Paths.Fixture($"public/derived/BiEchi__quants/mlruns/2/{runId}/qlib_res.csv"));
        var check = MaxDrawdownCheck.Of(report, metrics.Raw[MaxDrawdownCheck.QlibMetric]);
        Assert.True(check.Agrees, check.Message);
        foreach (var (risk, prefix) in new[] { (report.Summary.WithCost, "1day.excess_return_with_cost"),
                     (report.Summary.WithoutCost, "1day.excess_return_without_cost") })
        {
            Assert.Equal(metrics.Raw[$"{prefix}.mean"]!.Value, risk.Mean!.Value, 1e-15);
            Assert.Equal(metrics.Raw[$"{prefix}.std"]!.Value, risk.Std!.Value, 1e-15);
            Assert.Equal(metrics.Raw[$"{prefix}.annualized_return"]!.Value, risk.AnnualizedReturn!.Value, 1e-13);
            Assert.Equal(metrics.Raw[$"{prefix}.information_ratio"]!.Value, risk.InformationRatio!.Value, 1e-12);
        }
    }

    [Fact]
    [RealData]
    public void A_real_RD_Agent_loops_curve_recomputes_the_max_drawdown_it_reported()
    {
        // One real loop's ret.pkl, published as CSV; pandas turns it back into the pickle RD-Agent saved.
        var csv = Paths.Fixture("public/Vicki257__rdagent-qlib-cloud/experiments/EXP-0004/backtest_curve.csv");
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, $"""
            import pandas as pd
            pd.read_csv({RealPandas.Py(csv)}, index_col=0, parse_dates=True).to_pickle("ret.pkl")
            """);
        var report = BacktestReport.Read(dir["ret.pkl"]);
        Assert.Equal(871, report.Summary.TradingDays);
        Assert.Equal(new DateTime(2017, 1, 3), report.Summary.FirstDay);
        AssertLikeQlib(QlibAnalysis(dir.Path, dir["ret.pkl"]), report);

        const string derived = "public/derived/Vicki257__rdagent-qlib-cloud/EXP-0004";
        var metrics = QlibResults.Read(Paths.Fixture($"{derived}/qlib_res.csv"));
        var check = MaxDrawdownCheck.Of(report, metrics.Raw[MaxDrawdownCheck.QlibMetric]);
        Assert.True(check.Agrees, check.Message);
        Assert.Equal(-0.1364135552939736, check.Recomputed!.Value, 1e-12);
        Assert.Equal(metrics.Raw["1day.excess_return_without_cost.max_drawdown"]!.Value,
            report.Summary.WithoutCost.MaxDrawdown!.Value, 1e-12);
        // The previous SOTA's metrics describe another loop: the check says so.
        var other = QlibResults.Read(Paths.Fixture($"{derived}/qlib_res.previous_sota.csv"));
        var mismatch = MaxDrawdownCheck.Of(report, other.Raw[MaxDrawdownCheck.QlibMetric]);
        Assert.False(mismatch.Agrees);
        // Both numbers: the curve's drawdown (recomputed above) and the previous SOTA's, read from its csv.
        Assert.Equal($"the curve's max drawdown {check.Recomputed.Value.ToString(CultureInfo.InvariantCulture)} "
            + $"differs from 1day.excess_return_with_cost.max_drawdown {CsvValue(Paths.Fixture(
                $"{derived}/qlib_res.previous_sota.csv"), MaxDrawdownCheck.QlibMetric)} by more than 1E-06",
            mismatch.Message);
    }

    private const string Report = """
        import pandas as pd, numpy as np
        idx = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], name="datetime")
        df = pd.DataFrame({"account": [1e8] * 4, "return": [0.01, np.nan, -0.03, 0.02],
                           "total_turnover": [0.0] * 4, "turnover": [0.5] * 4, "total_cost": [0.0] * 4,
                           "cost": [0.001, 0.0, 0.002, 0.001], "value": [1.0] * 4, "cash": [0.0] * 4,
                           "bench": [0.005, 0.004, -0.01, 0.0]}, index=idx)
        """ + "\n";

    [Fact]
    public void NaN_days_stay_gaps_in_the_curves_as_in_pandas()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, Report + "df.to_pickle('ret.pkl')\n");
        var report = BacktestReport.Read(dir["ret.pkl"]);
        AssertLikeQlib(QlibAnalysis(dir.Path, dir["ret.pkl"]), report);
        Assert.True(double.IsNaN(report.Curves.ExcessReturnWithCost[1]));
        Assert.Equal(0.01 - 0.005 - 0.001 + (-0.03 + 0.01 - 0.002) + (0.02 - 0.0 - 0.001),
            report.Summary.FinalExcessReturnWithCost!.Value, 1e-15);
    }

    [Fact]
    public void A_single_day_and_an_empty_report_have_the_summary_they_can_have()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, Report + "df.iloc[:1].to_pickle('one.pkl')\ndf.iloc[:0].to_pickle('none.pkl')\n");
        var one = BacktestReport.Read(dir["one.pkl"]);
        AssertLikeQlib(QlibAnalysis(dir.Path, dir["one.pkl"]), one);
        Assert.Equal(1, one.Summary.TradingDays);
        Assert.Null(one.Summary.WithCost.Std);
        Assert.Equal(0.0, one.Summary.MaxDrawdown);

        var none = BacktestReport.Read(dir["none.pkl"]);
        Assert.Equal(0, none.Summary.TradingDays);
        Assert.Null(none.Summary.FirstDay);
        Assert.Null(none.Summary.MaxDrawdown);
        Assert.Null(none.Summary.FinalExcessReturnWithCost);
        Assert.False(MaxDrawdownCheck.Of(none, -0.1).Agrees);
    }

    [Fact]
    public void A_frame_without_the_report_columns_is_not_a_backtest_report()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, Report + """
            df.drop(columns=["bench", "cost"]).to_pickle("no_bench.pkl")
            df.reset_index(drop=True).to_pickle("no_dates.pkl")
            df["return"].to_pickle("series.pkl")
            """);
        // The columns as the frame above has them, the dropped ones named.
        var e = Assert.Throws<PickleException>(() => BacktestReport.Read(dir["no_bench.pkl"]));
        Assert.Equal($"'{dir["no_bench.pkl"]}' is not a backtest report: it lacks the columns bench, cost (it has "
            + "account, return, total_turnover, turnover, total_cost, value, cash)", e.Message);
        e = Assert.Throws<PickleException>(() => BacktestReport.Read(dir["no_dates.pkl"]));
        Assert.Equal($"'{dir["no_dates.pkl"]}' is not a backtest report: its rows are indexed by int64, not by dates",
            e.Message);
        e = Assert.Throws<PickleException>(() => BacktestReport.Read(dir["series.pkl"]));
        Assert.Equal($"'{dir["series.pkl"]}' is not a backtest report: it holds a pandas Series, not a DataFrame",
            e.Message);
    }

    [Fact]
    public void The_report_json_is_columnar_and_byte_identical_for_the_same_report()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, Report + "df['my_signal'] = [1, 2, 3, 4]\ndf.to_pickle('ret.pkl')\n");
        var report = BacktestReport.Read(dir["ret.pkl"]);
        BacktestReportJson.Write(dir["a/backtest_report.json"], report);
        BacktestReportJson.Write(dir["b/backtest_report.json"], BacktestReport.Read(dir["ret.pkl"]));
        var bytes = File.ReadAllBytes(dir["a/backtest_report.json"]);
        Assert.Equal(bytes, File.ReadAllBytes(dir["b/backtest_report.json"]));
        Assert.Empty(Directory.GetFiles(dir["a"], "*.tmp"));

        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;
        Assert.Equal(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"],
            root.GetProperty("dates").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([.. BacktestReport.QlibColumns, "my_signal"],
            root.GetProperty("columns").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal([1L, 2, 3, 4],
            root.GetProperty("values").GetProperty("my_signal").EnumerateArray().Select(e => e.GetInt64()));
        var ret = root.GetProperty("values").GetProperty("return").EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.Null, ret[1].ValueKind);
        Assert.Equal(-0.03, ret[2].GetDouble());
        var withCost = root.GetProperty("derived").GetProperty("excess_return_with_cost").EnumerateArray().ToList();
        Assert.Equal(4, withCost.Count);
        Assert.Equal(report.Curves.ExcessReturnWithCost[3], withCost[3].GetDouble());
        var summary = root.GetProperty("summary");
        Assert.Equal("2020-01-07", summary.GetProperty("last_day").GetString());
        Assert.Equal(4, summary.GetProperty("trading_days").GetInt32());
        Assert.Equal(report.Summary.MaxDrawdown, summary.GetProperty("max_drawdown").GetDouble());
        Assert.Equal(report.Summary.WithCost.InformationRatio,
            summary.GetProperty("with_cost").GetProperty("information_ratio").GetDouble());
        Assert.Equal(BacktestReportJson.Format, root.GetProperty("format").GetString());
    }

    /// <summary>A metric's value as the qlib_res.csv spells it (the text after "name,").</summary>
    private static string CsvValue(string csv, string metric) =>
        File.ReadLines(csv).Single(l => l.StartsWith(metric + ",", StringComparison.Ordinal))[(metric.Length + 1)..];
}
