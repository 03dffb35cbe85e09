using RdBridge.Backtests;
using RdBridge.Pickles;

namespace RdBridge.Sample;

/// <summary>
/// A sample loop's <c>ret.pkl</c>: Qlib's nine report columns for each business day of the test window, drawn from
/// the seed, and the with/without-cost metrics of <c>qlib_res.csv</c> recomputed from that curve with the same code
/// backfill uses, so the sample's max-drawdown check passes.
/// </summary>
public static class SampleCurve
{
    public static readonly DateTime TestStart = new(2017, 1, 1);
    public static readonly DateTime TestEnd = new(2020, 8, 1);

    /// <summary>
    /// The curve as <c>ret.pkl</c> (protocol 5, pandas' <c>to_pickle</c>) and as MLflow's
    /// <c>portfolio_analysis/report_normal_1day.pkl</c> (protocol 4, as Qlib's recorder pickles it); sets the
    /// excess-return metrics in <paramref name="metrics"/> to the curve's.
    /// </summary>
    public static (byte[] RetPkl, byte[] MlflowReport) Write(int seed, IDictionary<string, double> metrics)
    {
        var mlflow = Frame(seed, new Dictionary<string, double>(metrics), protocol: 4);
        return (Frame(seed, metrics, protocol: 5), mlflow);
    }

    /// <summary>
    /// A daily IC (or Rank IC) series over the test window as Qlib's <c>SigAnaRecord</c> pickles it, drawn from the
    /// seed and shifted so its mean is the loop's <paramref name="mean"/> metric, as Qlib's IC metric is the mean of
    /// that series.
    /// </summary>
    public static byte[] DailyIc(int seed, double mean)
    {
        var rng = new Random(seed);
        var dates = BusinessDays(TestStart, TestEnd);
        var values = new double[dates.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var sum = 0.0;
            for (var k = 0; k < 12; k++) sum += rng.NextDouble();
            values[i] = 0.1 * (sum - 6);
        }
        var shift = mean - values.Sum() / values.Length;
        for (var i = 0; i < values.Length; i++) values[i] += shift;
        return PandasPickleWriter.DatedSeries(dates, values);
    }

    private static byte[] Frame(int seed, IDictionary<string, double> metrics, int protocol)
    {
        var rng = new Random(seed);
        // Twelve uniforms less six: close to a standard normal, and made of additions only, so every OS gives the same
        // bits (Log and Cos differ in their last bit between C libraries, and the sample must not).
        double Normal(double mean, double sd)
        {
            var sum = 0.0;
            for (var i = 0; i < 12; i++) sum += rng.NextDouble();
            return mean + sd * (sum - 6);
        }
        var dates = BusinessDays(TestStart, TestEnd);
        var n = dates.Count;
        var daily = metrics.TryGetValue("1day.excess_return_without_cost.mean", out var m) ? m : 0.0004;
        var columns = BacktestReport.QlibColumns.ToDictionary(c => c, _ => new double[n]);
        var account = 100_000_000.0;
        double totalTurnover = 0, totalCost = 0;
        for (var i = 0; i < n; i++)
        {
            var bench = Normal(0.0003, 0.012);
            var turnover = 0.05 + 0.25 * rng.NextDouble();
            var cost = turnover * 0.0008;
            var ret = bench + Normal(daily, 0.004);
            account *= 1 + ret - cost;
            totalTurnover += turnover * account;
            totalCost += cost * account;
            var value = account * (0.93 + 0.05 * rng.NextDouble());
            columns["account"][i] = account;
            columns["return"][i] = ret;
            columns["total_turnover"][i] = totalTurnover;
            columns["turnover"][i] = turnover;
            columns["total_cost"][i] = totalCost;
            columns["cost"][i] = cost;
            columns["value"][i] = value;
            columns["cash"][i] = account - value;
            columns["bench"][i] = bench;
        }
        var bytes = PandasPickleWriter.DataFrame(dates,
            BacktestReport.QlibColumns.Select(c => (c, (IReadOnlyList<double>)columns[c])).ToList(), protocol);
        var report = BacktestReport.FromFrame(Pandas.ReadFrame(bytes, "ret.pkl"), "ret.pkl");
        foreach (var (cost, risk) in new[]
                 {
                     ("without_cost", report.Summary.WithoutCost), ("with_cost", report.Summary.WithCost),
                 })
        {
            metrics[$"1day.excess_return_{cost}.mean"] = risk.Mean ?? 0;
            metrics[$"1day.excess_return_{cost}.std"] = risk.Std ?? 0;
            metrics[$"1day.excess_return_{cost}.annualized_return"] = risk.AnnualizedReturn ?? 0;
            metrics[$"1day.excess_return_{cost}.information_ratio"] = risk.InformationRatio ?? 0;
            metrics[$"1day.excess_return_{cost}.max_drawdown"] = risk.MaxDrawdown ?? 0;
        }
        return bytes;
    }

    private static List<DateTime> BusinessDays(DateTime from, DateTime to)
    {
        var days = new List<DateTime>();
        for (var d = from; d <= to; d = d.AddDays(1))
            if (d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)) days.Add(d);
        return days;
    }
}
