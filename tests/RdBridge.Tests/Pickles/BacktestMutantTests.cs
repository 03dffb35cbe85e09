using System.Text.Json.Nodes;
using RdBridge.Backtests;

namespace RdBridge.Tests.Pickles;

/// <summary>
/// Mutants of <c>Backtests/</c> that the other report tests leave alive, found by reading the folder for the
/// <c>bench/mutation.sh Backtests</c> run: the standard deviation of the shortest series that has one (two days), and
/// the object column's floats, numpy floats and booleans in <c>backtest_report.json</c>; and the survivors of that run
/// (<c>bench/mutation-survivors.md</c>): the last day with a number, eight days summed in numpy's blocks, a column the
/// report lacks, a column name JSON may not escape, a max drawdown neither side has. Expected values come from numpy,
/// pandas and Python's json reading or writing what the test wrote.
/// </summary>
public class BacktestMutantTests
{
    private const string Columns =
        "['account', 'return', 'total_turnover', 'turnover', 'total_cost', 'cost', 'value', 'cash', 'bench']";

    [Fact]
    public void Two_days_have_a_standard_deviation_and_an_information_ratio_numpy_s_to_the_last_bit()
    {
        using var dir = new TempDir();
        var expected = JsonNode.Parse(RealPandas.Run(dir.Path, $$"""
            import json, struct, numpy as np, pandas as pd
            r = np.asarray([0.0125, -0.03], dtype='float64')
            idx = pd.DatetimeIndex(['2021-03-01', '2021-03-02'], name='datetime')
            df = pd.DataFrame({c: np.zeros(2) for c in {{Columns}}}, index=idx)
            df['return'] = r
            df.to_pickle('two.pkl')
            df.iloc[:1].to_pickle('one.pkl')
            def bits(v):
                return struct.unpack('<q', struct.pack('<d', v))[0]
            mean = np.sum(r) / 2
            std = np.sqrt(np.sum((mean - r) ** 2) / 1)
            print(json.dumps(dict(std=bits(std), ir=bits(mean / std * np.sqrt(238)))))
            """))!;
        var risk = BacktestReport.Read(dir["two.pkl"]).Summary.WithCost;
        Assert.Equal((long)expected["std"]!, BitConverter.DoubleToInt64Bits(risk.Std!.Value));
        Assert.Equal((long)expected["ir"]!, BitConverter.DoubleToInt64Bits(risk.InformationRatio!.Value));

        // One day has a mean but no standard deviation (ddof=1), so no information ratio either.
        var one = BacktestReport.Read(dir["one.pkl"]).Summary.WithCost;
        Assert.Equal(0.0125, one.Mean);
        Assert.Null(one.Std);
        Assert.Null(one.InformationRatio);
    }

    [Fact]
    public void An_object_column_s_floats_numpy_scalars_and_booleans_are_json_numbers_and_booleans_and_nan_is_null()
    {
        using var dir = new TempDir();
        var expected = JsonNode.Parse(RealPandas.Run(dir.Path, $$"""
            import json, math, numpy as np, pandas as pd
            idx = pd.date_range('2021-03-01', periods=7, freq='D', name='datetime')
            df = pd.DataFrame({c: np.zeros(7) for c in {{Columns}}}, index=idx)
            df['mixed'] = pd.Series([1.5, True, np.nan, np.float64(2.5), np.bool_(False), np.inf, -0.25], index=idx,
                                    dtype=object)
            df.to_pickle('ret.pkl')
            def plain(v):
                if isinstance(v, (bool, np.bool_)):
                    return bool(v)
                return float(v) if math.isfinite(v) else None
            print(json.dumps([plain(v) for v in df['mixed'].tolist()]))
            """))!;
        var report = BacktestReport.Read(dir["ret.pkl"]);
        var json = JsonNode.Parse(BacktestReportJson.ToBytes(report))!;
        Assert.True(JsonNode.DeepEquals(expected, json["values"]!["mixed"]), json["values"]!["mixed"]!.ToJsonString());
        // Booleans stay booleans: 1.5, true, null, 2.5, false, null, -0.25.
        Assert.Equal("[1.5,true,null,2.5,false,null,-0.25]", json["values"]!["mixed"]!.ToJsonString());
    }

    [Fact]
    public void The_report_json_holds_pandas_drawdown_and_ends_with_one_newline_after_the_json()
    {
        using var dir = new TempDir();
        var expected = JsonNode.Parse(RealPandas.Run(dir.Path, $$"""
            import json, numpy as np, pandas as pd
            idx = pd.date_range('2021-03-01', periods=4, freq='D', name='datetime')
            df = pd.DataFrame({c: np.zeros(4) for c in {{Columns}}}, index=idx)
            df['return'] = [0.5, -0.75, 0.25, 0.125]
            df.to_pickle('ret.pkl')
            cum = (df['return'] - df['bench'] - df['cost']).cumsum()
            print(json.dumps((cum - cum.cummax()).tolist()))
            """))!;
        var bytes = BacktestReportJson.ToBytes(BacktestReport.Read(dir["ret.pkl"]));
        var json = JsonNode.Parse(bytes)!;
        Assert.True(JsonNode.DeepEquals(expected, json["derived"]!["drawdown"]), json["derived"]!.ToJsonString());
        // The whole JSON, then one newline: the last two bytes close the object and end the line.
        Assert.Equal("}\n", System.Text.Encoding.ASCII.GetString(bytes[^2..]));
        Assert.Equal(1, bytes.Count(b => b == (byte)'\n'));
    }

    [Fact]
    public void The_last_curve_value_is_the_last_day_with_a_number_like_pandas_last_valid_index()
    {
        using var dir = new TempDir();
        // "first": only the first day has numbers. "last": the last day's return is NaN, its benchmark is not.
        // "none": no day has a number, so there is no final value.
        var expected = JsonNode.Parse(RealPandas.Run(dir.Path, $$"""
            import json, numpy as np, pandas as pd
            nan = np.nan
            def write(name, ret, bench, cost):
                idx = pd.date_range('2021-03-01', periods=len(ret), freq='D', name='datetime')
                df = pd.DataFrame({c: np.zeros(len(ret)) for c in {{Columns}}}, index=idx)
                df['return'], df['bench'], df['cost'] = ret, bench, cost
                df.to_pickle(name + '.pkl')
                def last(s):
                    s = s.cumsum()
                    i = s.last_valid_index()
                    return None if i is None else float(s[i])
                return [last(df['return'] - df['bench']), last(df['return'] - df['bench'] - df['cost']),
                        last(df['bench'])]
            print(json.dumps(dict(
                first=write('first', [0.5, nan, nan], [0.125, nan, nan], [0.0625, nan, nan]),
                last=write('last', [0.5, -0.25, nan], [0.125, 0.0625, 0.25], [0.0625, 0.03125, 0.0]),
                none=write('none', [nan, nan], [nan, nan], [nan, nan]))))
            """))!;
        foreach (var name in new[] { "first", "last", "none" })
        {
            var summary = BacktestReport.Read(dir[name + ".pkl"]).Summary;
            double?[] finals =
                [summary.FinalExcessReturnWithoutCost, summary.FinalExcessReturnWithCost, summary.FinalBenchmarkReturn];
            Assert.Equal(expected[name]!.AsArray().Select(v => (double?)v), finals);
        }
        // Read off the input: 0.5 - 0.125 on the first day and nothing after it.
        Assert.Equal(0.375, BacktestReport.Read(dir["first.pkl"]).Summary.FinalExcessReturnWithoutCost);
    }

    [Fact]
    public void Eight_days_add_up_in_numpy_s_blocks_not_one_after_another()
    {
        using var dir = new TempDir();
        // Eight daily returns whose sum in order and in numpy's eight partial sums round differently (found by a
        // search over four-decimal returns); the script checks that they still do.
        var expected = JsonNode.Parse(RealPandas.Run(dir.Path, $$"""
            import json, struct, numpy as np, pandas as pd
            r = np.asarray([-0.0163, 0.0267, 0.0241, -0.0282, -0.0285, 0.0025, 0.0263, -0.0071], dtype='float64')
            in_order = 0.0
            for v in r.tolist():
                in_order += v
            assert in_order != np.sum(r), 'the eight returns add up alike in both orders'
            idx = pd.date_range('2021-03-01', periods=8, freq='D', name='datetime')
            df = pd.DataFrame({c: np.zeros(8) for c in {{Columns}}}, index=idx)
            df['return'] = r
            df.to_pickle('eight.pkl')
            def bits(v):
                return struct.unpack('<q', struct.pack('<d', v))[0]
            mean = np.sum(r) / 8
            std = np.sqrt(np.sum((mean - r) ** 2) / 7)
            print(json.dumps(dict(mean=bits(mean), in_order=bits(in_order / 8), std=bits(std))))
            """))!;
        var risk = BacktestReport.Read(dir["eight.pkl"]).Summary.WithCost;
        Assert.Equal((long)expected["mean"]!, BitConverter.DoubleToInt64Bits(risk.Mean!.Value));
        // A premise restated on RdBridge's side: the sum taken one after another would give another mean.
        Assert.NotEqual((long)expected["in_order"]!, BitConverter.DoubleToInt64Bits(risk.Mean!.Value));
        Assert.Equal((long)expected["std"]!, BitConverter.DoubleToInt64Bits(risk.Std!.Value));
    }

    [Fact]
    public void A_column_the_report_lacks_or_holds_as_text_is_refused_naming_the_column()
    {
        using var dir = new TempDir();
        var expected = JsonNode.Parse(RealPandas.Run(dir.Path, $$"""
            import json, numpy as np, pandas as pd
            idx = pd.date_range('2021-03-01', periods=2, freq='D', name='datetime')
            df = pd.DataFrame({c: np.zeros(2) for c in {{Columns}}}, index=idx)
            df['return'] = [0.25, -0.5]
            df['note'] = ['rebalanced', 'held']
            df.to_pickle('ret.pkl')
            print(json.dumps(df['return'].tolist()))
            """))!;
        var report = BacktestReport.Read(dir["ret.pkl"]);
        Assert.Equal(expected.AsArray().Select(v => (double)v!), report["return"]);
        Assert.Equal("the report has no float column 'sharpe'",
            Assert.Throws<KeyNotFoundException>(() => report["sharpe"]).Message);
        Assert.Equal("the report has no float column 'note'",
            Assert.Throws<KeyNotFoundException>(() => report["note"]).Message);
    }

    [Fact]
    public void A_column_named_in_chinese_and_html_characters_is_written_as_python_s_json_writes_it()
    {
        using var dir = new TempDir();
        // What pandas holds as the column names, and Python's json text of them (not ASCII-escaped), as hex bytes
        // so that no console encoding is involved.
        var expected = JsonNode.Parse(RealPandas.Run(dir.Path, $$"""
            import json, numpy as np, pandas as pd
            idx = pd.date_range('2021-03-01', periods=2, freq='D', name='datetime')
            df = pd.DataFrame({c: np.zeros(2) for c in {{Columns}}}, index=idx)
            name = '收益 <净值> & \'α\' + é'
            df[name] = [1.5, 2.5]
            df.to_pickle('ret.pkl')
            def text(v):
                return json.dumps(v, ensure_ascii=False, separators=(',', ':')).encode('utf-8').hex()
            print(json.dumps(dict(columns=text([str(c) for c in df.columns]), name=text(name))))
            """))!;
        string Utf8(string hex) => System.Text.Encoding.UTF8.GetString(Convert.FromHexString(hex));
        var columns = Utf8((string)expected["columns"]!);
        var name = Utf8((string)expected["name"]!);
        Assert.Equal("\"收益 <净值> & 'α' + é\"", name);
        var text = System.Text.Encoding.UTF8.GetString(BacktestReportJson.ToBytes(BacktestReport.Read(dir["ret.pkl"])));
        Assert.Contains($"\"columns\":{columns},\"values\":{{", text);
        Assert.Contains($"{name}:[1.5,2.5]", text);
    }

    [Fact]
    public void A_report_without_days_and_without_qlib_s_figure_says_none_for_its_max_drawdown()
    {
        using var dir = new TempDir();
        var days = RealPandas.Run(dir.Path, $$"""
            import numpy as np, pandas as pd
            idx = pd.DatetimeIndex([], name='datetime')
            df = pd.DataFrame({c: np.zeros(0) for c in {{Columns}}}, index=idx)
            df.to_pickle('empty.pkl')
            print(len(pd.read_pickle('empty.pkl')))
            """);
        Assert.Equal("0", days.Trim());
        var report = BacktestReport.Read(dir["empty.pkl"]);
        Assert.Equal(new MaxDrawdownCheck(null, null, false,
                "1day.excess_return_with_cost.max_drawdown is not in the metrics; the curve's max drawdown is none"),
            MaxDrawdownCheck.Of(report, null));
    }
}
