using System.Text.Json.Nodes;
using RdBridge.Backtests;

namespace RdBridge.Tests.Pickles;

/// <summary>
/// Mutants of <c>Backtests/</c> that the other report tests leave alive, found by reading the folder for the
/// <c>bench/mutation.sh Backtests</c> run: the standard deviation of the shortest series that has one (two days), and
/// the object column's floats, numpy floats and booleans in <c>backtest_report.json</c>. Expected values come from
/// numpy and pandas reading the pickle the test wrote.
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
}
