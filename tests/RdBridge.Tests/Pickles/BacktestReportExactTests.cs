using System.Text.Json.Nodes;
using RdBridge.Backtests;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

/// <summary>
/// The exact values of a backtest report, each computed again by numpy/pandas from the pickle the test wrote: the
/// mean and std in numpy's summation order to the last bit, every column of <c>backtest_report.json</c> (integers,
/// booleans, dates, mixed objects, infinities), an intraday report's times, and the max-drawdown check's verdict at
/// its tolerance.
/// </summary>
public class BacktestReportExactTests
{
    private const string Columns =
        "['account', 'return', 'total_turnover', 'turnover', 'total_cost', 'cost', 'value', 'cash', 'bench']";

    /// <summary>A report whose only non-zero column is <c>return</c>: both excess returns are then the returns
    /// exactly.</summary>
    private static string ReturnsOnly(string returns, string file) => $$"""
        import numpy as np, pandas as pd
        r = np.asarray({{returns}}, dtype='float64')
        idx = pd.date_range('2015-01-05', periods=len(r), freq='D', name='datetime')
        df = pd.DataFrame({c: np.zeros(len(r)) for c in {{Columns}}}, index=idx)
        df['return'] = r
        df.to_pickle('{{file}}')
        """ + "\n";

    [Theory]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(250)]
    [InlineData(1003)]
    public void Mean_and_std_add_up_in_numpy_s_order_to_the_last_bit(int days)
    {
        using var dir = new TempDir();
        // Returns of very different sizes, so that another order of additions rounds differently.
        var returns = $"np.random.default_rng({days}).normal(0, 1e-2, {days}) * " +
            $"np.where(np.arange({days}) % 7 == 3, 1e6, 1.0)";
        var expected = JsonNode.Parse(RealPandas.Run(dir.Path, ReturnsOnly(returns, "r.pkl") + """
            import json, struct
            def bits(v):
                return struct.unpack('<q', struct.pack('<d', v))[0]
            n = len(r)
            mean = np.sum(r) / n
            std = np.sqrt(np.sum((mean - r) ** 2) / (n - 1))
            print(json.dumps(dict(mean=bits(mean), std=bits(std), ann=bits(mean * 238),
                                  ir=bits(mean / std * np.sqrt(238)))))
            """))!;
        var report = BacktestReport.Read(dir["r.pkl"]);
        foreach (var risk in new[] { report.Summary.WithCost, report.Summary.WithoutCost })
        {
            Assert.Equal((long)expected["mean"]!, BitConverter.DoubleToInt64Bits(risk.Mean!.Value));
            Assert.Equal((long)expected["std"]!, BitConverter.DoubleToInt64Bits(risk.Std!.Value));
            Assert.Equal((long)expected["ann"]!, BitConverter.DoubleToInt64Bits(risk.AnnualizedReturn!.Value));
            Assert.Equal((long)expected["ir"]!, BitConverter.DoubleToInt64Bits(risk.InformationRatio!.Value));
        }
    }

    [Fact]
    public void Every_column_of_the_report_json_holds_the_values_pandas_holds()
    {
        using var dir = new TempDir();
        var expected = JsonNode.Parse(RealPandas.Run(dir.Path, """
            import json, math, numpy as np, pandas as pd
            idx = pd.DatetimeIndex(['2021-03-01 09:30', '2021-03-01 10:30', '2021-03-02 09:30'], name='datetime')
            df = pd.DataFrame({'account': np.array([100, 101, 99], dtype='int64'),
                               'return': [0.02, -0.05, np.inf], 'total_turnover': np.zeros(3, dtype='int32'),
                               'turnover': [0.25, 0.5, 0.125], 'total_cost': [0.0] * 3,
                               'cost': np.array([0, 1, 0], dtype='int32') / 1000, 'value': [1.0] * 3,
                               'cash': [0.0] * 3, 'bench': [0.01, 0.02, -0.03]}, index=idx)
            df['held'] = [True, False, True]
            df['rebalanced'] = pd.to_datetime(['2021-02-26', None, '2021-03-02 14:00'])
            df['note'] = [None, 'buy', 3]
            df['count'] = np.array([7, -8, 9], dtype='int64')
            df.to_pickle('ret.pkl')
            def number(v):
                return v if isinstance(v, int) or math.isfinite(v) else None
            def plain(v):
                if v is None or v is pd.NaT:
                    return None
                if isinstance(v, pd.Timestamp):
                    return v.strftime('%Y-%m-%d') if v == v.normalize() else v.strftime('%Y-%m-%dT%H:%M:%S')
                if isinstance(v, (bool, np.bool_)):
                    return bool(v)
                if isinstance(v, (int, np.integer)):
                    return int(v)
                return number(float(v)) if isinstance(v, (float, np.floating)) else v
            values = {c: [plain(v) for v in df[c].astype(object).tolist()] for c in df.columns}
            for c in ('account', 'total_turnover'):
                values[c] = [float(v) for v in df[c]]
            excess = df['return'] - df['bench']
            print(json.dumps(dict(
                dates=[plain(d) for d in df.index], columns=list(df.columns), values=values,
                derived=dict(excess_return_without_cost=[number(v) for v in excess.cumsum()],
                             excess_return_with_cost=[number(v) for v in (excess - df['cost']).cumsum()],
                             benchmark_return=[number(v) for v in df['bench'].cumsum()]))))
            """))!;
        var report = BacktestReport.Read(dir["ret.pkl"]);
        var json = JsonNode.Parse(BacktestReportJson.ToBytes(report, new BacktestSource("ret.pkl", "ab12")))!;

        Assert.Equal(["format", "source", "source_sha256", "trading_days", "dates", "columns", "values", "derived",
            "summary"], json.AsObject().Select(p => p.Key));
        Assert.Equal(("ret.pkl", "ab12", 3), ((string)json["source"]!, (string)json["source_sha256"]!,
            (int)json["trading_days"]!));
        foreach (var key in new[] { "dates", "columns", "values" })
            Assert.True(JsonNode.DeepEquals(expected[key], json[key]), $"{key}: {json[key]!.ToJsonString()}");
        foreach (var (curve, values) in expected["derived"]!.AsObject())
        {
            Assert.True(JsonNode.DeepEquals(values, json["derived"]![curve]),
                $"{curve}: {json["derived"]![curve]!.ToJsonString()}");
        }
        var summary = json["summary"]!;
        Assert.Equal(("2021-03-01T09:30:00", "2021-03-02T09:30:00"),
            ((string)summary["first_day"]!, (string)summary["last_day"]!));
        // The last day's return is infinite: what is derived from it is not a number, and is written as null.
        Assert.Null(summary["final_excess_return_with_cost"]);
        Assert.Null(summary["with_cost"]!["mean"]);
        Assert.Null(summary["with_cost"]!["std"]);
        Assert.Equal((double)expected["derived"]!["benchmark_return"]![2]!, (double)summary["final_benchmark_return"]!);
        Assert.False(JsonNode.Parse(BacktestReportJson.ToBytes(report))!.AsObject().ContainsKey("source"));
    }

    [Fact]
    public void An_intraday_report_names_a_repeated_time_with_its_time_of_day()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, $$"""
            import numpy as np, pandas as pd
            idx = pd.DatetimeIndex(['2021-03-01 09:30', '2021-03-01 09:30'], name='datetime')
            pd.DataFrame({c: np.zeros(2) for c in {{Columns}}}, index=idx).to_pickle('ret.pkl')
            """);
        var e = Assert.Throws<PickleException>(() => BacktestReport.Read(dir["ret.pkl"]));
        Assert.Equal($"'{dir["ret.pkl"]}' is not a backtest report: the date 2021-03-01 09:30:00 is in rows 0 and 1; " +
            "a curve has one row per date — write the report again from one backtest", e.Message);
    }

    [Fact]
    public void A_report_with_one_column_missing_names_it_alone_and_the_columns_it_has()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, """
            import numpy as np, pandas as pd
            idx = pd.DatetimeIndex(['2021-03-01', '2021-03-02'], name='datetime')
            pd.DataFrame({c: np.zeros(2) for c in ['return', 'bench', 'cost']}, index=idx).to_pickle('ret.pkl')
            pd.DataFrame({'return': ['a', 'b'], 'bench': [0.0, 0.0], 'cost': [0.0, 0.0], 'turnover': [0.0, 0.0]},
                         index=idx).to_pickle('text.pkl')
            """);
        var e = Assert.Throws<PickleException>(() => BacktestReport.Read(dir["ret.pkl"]));
        Assert.Equal($"'{dir["ret.pkl"]}' is not a backtest report: it lacks the column turnover " +
            "(it has return, bench, cost)", e.Message);
        e = Assert.Throws<PickleException>(() => BacktestReport.Read(dir["text.pkl"]));
        Assert.StartsWith($"'{dir["text.pkl"]}' is not a backtest report: its column 'return' is object,", e.Message);
    }

    [Fact]
    public void A_report_of_dates_with_a_missing_date_is_refused_with_the_row()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, $$"""
            import numpy as np, pandas as pd
            idx = pd.DatetimeIndex(['2021-03-01', None, '2021-03-03'], name='datetime')
            pd.DataFrame({c: np.zeros(3) for c in {{Columns}}}, index=idx).to_pickle('ret.pkl')
            """);
        var e = Assert.Throws<PickleException>(() => BacktestReport.Read(dir["ret.pkl"]));
        Assert.Equal($"'{dir["ret.pkl"]}' is not a backtest report: row 1 has no date (NaT)", e.Message);
    }

    [Fact]
    public void The_max_drawdown_check_agrees_up_to_its_tolerance_and_says_each_verdict_with_both_numbers()
    {
        using var dir = new TempDir();
        // Excess returns 0.5, -0.75, 0.25: the with-cost curve 0.5, -0.25, 0, so its max drawdown is -0.75.
        RealPandas.Run(dir.Path, ReturnsOnly("[0.5, -0.75, 0.25]", "r.pkl"));
        var report = BacktestReport.Read(dir["r.pkl"]);
        const string metric = "1day.excess_return_with_cost.max_drawdown";
        Assert.Equal(new MaxDrawdownCheck(-0.75, -0.5, true,
                $"the curve's max drawdown -0.75 matches {metric} -0.5"),
            MaxDrawdownCheck.Of(report, -0.5, tolerance: 0.25));
        Assert.Equal(new MaxDrawdownCheck(-0.75, -0.5, false,
                $"the curve's max drawdown -0.75 differs from {metric} -0.5 by more than 0.125"),
            MaxDrawdownCheck.Of(report, -0.5, tolerance: 0.125));
        Assert.True(MaxDrawdownCheck.Of(report, -0.75 + 5e-7).Agrees);
        Assert.False(MaxDrawdownCheck.Of(report, -0.75 + 2e-6).Agrees);
        Assert.Equal(new MaxDrawdownCheck(-0.75, null, false,
                $"{metric} is not in the metrics; the curve's max drawdown is -0.75"),
            MaxDrawdownCheck.Of(report, null));

        RealPandas.Run(dir.Path, ReturnsOnly("[]", "empty.pkl"));
        Assert.Equal(
            new MaxDrawdownCheck(null, -0.5, false, $"the curve has no days to recompute {metric} (-0.5) from"),
            MaxDrawdownCheck.Of(BacktestReport.Read(dir["empty.pkl"]), -0.5));
    }
}
