using RdBridge.Backtests;
using RdBridge.Compare;
using RdBridge.Pickles;
using RdBridge.Tests.Pickles;

namespace RdBridge.Tests.Backfill;

/// <summary>
/// Issue 26, class 2: a curve is bounded by rows (and its file by the bytes those rows take), with a message naming
/// the file and the limit, so reading one stays within the memory budget whatever the file. Peak RSS is measured in
/// bench/curve-memory-bench.sh.
/// </summary>
public class CurveRowBoundsTests
{
    private const string Columns =
        "['account', 'return', 'total_turnover', 'turnover', 'total_cost', 'cost', 'value', 'cash', 'bench']";

    private static void WriteRetPkl(TempDir dir, int rows) => RealPandas.Run(dir.Path, $$"""
        import pandas as pd, numpy as np
        n = {{rows}}
        idx = pd.date_range("1990-01-01", periods=n, freq="min", name="datetime")
        pd.DataFrame({c: np.full(n, 0.001) for c in {{Columns}}}, index=idx).to_pickle("ret.pkl")
        """);

    [Fact]
    public void Curve_rows_a_190_MB_ret_pkl_is_refused_by_its_size_before_it_is_read()
    {
        using var dir = new TempDir();
        // The issue's 190 MB ret.pkl (2.5 M rows), as a sparse file: refusing it must not read it.
        using (var f = File.Create(dir["ret.pkl"])) f.SetLength(190L * 1024 * 1024);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<PickleException>(() => BacktestReport.Read(dir["ret.pkl"]));
        // A bound, not a value: what the refusal allocates (the message, the runtime's own) is no input's, but a
        // read of the file would take 190 MB, so anything past 1 MiB means the file was read.
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1024 * 1024);
        // The file, its size as written above, the cap (RdBridge's default of 32 MiB) and the setting that raises it.
        Assert.Equal($"'{dir["ret.pkl"]}' is too large for a backtest report pickle (holds {190L * 1024 * 1024:N0} "
            + $"bytes, more than the {32L * 1024 * 1024:N0} such a file may have); it is not one, or it is damaged, or "
            + "longer than RdBridge reads (RDBRIDGE_CURVE_PICKLE_MB raises that)", e.Message);
    }

    [Fact]
    public void Curve_rows_one_row_over_the_limit_is_named_and_the_limit_itself_is_read()
    {
        using var dir = new TempDir();
        const int limit = 100_000; // RdBridge's documented default (RDBRIDGE_CURVE_ROWS unset)
        WriteRetPkl(dir, limit + 1);
        var e = Assert.Throws<PickleException>(() => BacktestReport.Read(dir["ret.pkl"]));
        Assert.Equal($"'{dir["ret.pkl"]}' has {limit + 1:N0} rows, more than the {limit:N0} a backtest curve may have; "
            + "it was not read (RDBRIDGE_CURVE_ROWS raises the limit)", e.Message);

        WriteRetPkl(dir, limit);
        Assert.Equal(limit, BacktestReport.Read(dir["ret.pkl"]).Summary.TradingDays);
    }

    [Fact]
    public void Curve_rows_a_backtest_report_json_longer_than_a_curve_is_refused_by_compare()
    {
        using var dir = new TempDir();
        const int rows = 100_001; // one over RdBridge's documented default of 100,000
        RealPandas.Run(dir.Path, $$"""
            import json
            n = {{rows}}
            zeros = [0.0] * n
            names = ["excess_return_without_cost", "excess_return_with_cost", "benchmark_return", "drawdown"]
            derived = dict((k, zeros) for k in names)
            json.dump(dict(dates=["2020-01-01"] * n, derived=derived), open("r.json", "w"))
            """);
        var e = Assert.Throws<CompareException>(() => BacktestCurve.Read(dir["r.json"]));
        // The file, its rows as written above, the limit and the setting that raises it.
        Assert.Equal($"'{dir["r.json"]}' has {rows:N0} rows, more than the {100_000:N0} a backtest curve may have; "
            + "it was not read (RDBRIDGE_CURVE_ROWS raises the limit)", e.Message);
    }
}
