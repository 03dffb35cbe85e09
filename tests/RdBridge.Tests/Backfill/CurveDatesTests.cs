using RdBridge.Backtests;
using RdBridge.Pickles;
using RdBridge.Tests.Pickles;

namespace RdBridge.Tests.Backfill;

/// <summary>
/// Issue 26, class 6 (suspicious data is never accepted without a word): a <c>ret.pkl</c> whose dates repeat (the
/// issue's example) or go backwards is refused with the dates and rows named, never summed as if it were one curve in
/// order; the loop names it (backfill's problem), its other metadata is still written. The pickles are written by real
/// CPython + pandas.
/// </summary>
public class CurveDatesTests
{
    private const string Columns =
        "['account', 'return', 'total_turnover', 'turnover', 'total_cost', 'cost', 'value', 'cash', 'bench']";

    private static string WriteRetPkl(TempDir dir, string dates)
    {
        RealPandas.Run(dir.Path, $$"""
            import pandas as pd, numpy as np
            idx = pd.DatetimeIndex({{dates}}, name="datetime")
            pd.DataFrame({c: np.full(len(idx), 0.001) for c in {{Columns}}}, index=idx).to_pickle("ret.pkl")
            """);
        return dir["ret.pkl"];
    }

    [Fact]
    public void Suspicious_curve_dates_a_repeated_date_is_refused_and_named()
    {
        using var dir = new TempDir();
        var path = WriteRetPkl(dir, "['2024-01-02', '2024-01-03', '2024-01-03', '2024-01-04']");
        var e = Assert.Throws<PickleException>(() => BacktestReport.Read(path));
        Assert.Equal($"'{path}' is not a backtest report: the date 2024-01-03 is in rows 1 and 2; a curve has one row "
            + "per date — write the report again from one backtest", e.Message);
    }

    [Fact]
    public void Suspicious_curve_dates_out_of_order_are_refused_and_named()
    {
        using var dir = new TempDir();
        var path = WriteRetPkl(dir, "['2024-01-02', '2024-01-05', '2024-01-03', '2024-01-08']");
        var e = Assert.Throws<PickleException>(() => BacktestReport.Read(path));
        Assert.Equal($"'{path}' is not a backtest report: its dates are out of order: row 2 (2024-01-03) comes after "
            + "row 1 (2024-01-05); a curve's rows are in date order — write the report again from one backtest",
            e.Message);

        // Two runs' reports concatenated: the second starts over at the first's first day.
        path = WriteRetPkl(dir, "list(pd.date_range('2024-01-01', periods=3)) * 2");
        e = Assert.Throws<PickleException>(() => BacktestReport.Read(path));
        Assert.Equal($"'{path}' is not a backtest report: its dates are out of order: row 3 (2024-01-01) comes after "
            + "row 2 (2024-01-03); a curve's rows are in date order — write the report again from one backtest",
            e.Message);

        // In order, one row a date: read.
        path = WriteRetPkl(dir, "['2024-01-02', '2024-01-03', '2024-01-05']");
        Assert.Equal(3, BacktestReport.Read(path).Summary.TradingDays);
    }
}
