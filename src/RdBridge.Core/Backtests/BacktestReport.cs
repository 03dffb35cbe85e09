using RdBridge.IO;
using RdBridge.Pickles;

namespace RdBridge.Backtests;

/// <summary>
/// Qlib's risk analysis of one daily excess-return series, computed the way Qlib's <c>risk_analysis</c> does in its
/// default "sum" mode: returns are added up, not compounded; std has ddof=1; a year is 238 trading days.
/// </summary>
public sealed record RiskAnalysis(double? Mean, double? Std, double? AnnualizedReturn, double? InformationRatio,
    double? MaxDrawdown);

/// <summary>What a researcher reads first off a backtest curve.</summary>
public sealed record BacktestSummary(
    DateTime? FirstDay,
    DateTime? LastDay,
    int TradingDays,
    double? FinalExcessReturnWithoutCost,
    double? FinalExcessReturnWithCost,
    double? FinalBenchmarkReturn,
    double? MaxDrawdown,
    RiskAnalysis WithoutCost,
    RiskAnalysis WithCost);

/// <summary>
/// The curves derived from the daily columns, one value per trading day (NaN where the day's input is NaN, as pandas'
/// cumsum leaves it): cumulative excess return without and with cost, the benchmark's cumulative return, and the
/// drawdown of the with-cost curve below its running maximum.
/// </summary>
public sealed record BacktestCurves(
    IReadOnlyList<double> ExcessReturnWithoutCost,
    IReadOnlyList<double> ExcessReturnWithCost,
    IReadOnlyList<double> BenchmarkReturn,
    IReadOnlyList<double> Drawdown);

/// <summary>
/// A Qlib portfolio report (<c>portfolio_analysis/report_normal_1day.pkl</c>, or a workspace's <c>ret.pkl</c>): one row
/// per trading day with the columns Qlib writes (and any others the file has, kept as they are), plus the curves and
/// the summary derived from them.
/// </summary>
public sealed record BacktestReport(
    IReadOnlyList<DateTime> Dates,
    IReadOnlyList<string> Columns,
    IReadOnlyDictionary<string, PandasColumn> Data,
    BacktestCurves Curves,
    BacktestSummary Summary)
{
    /// <summary>Qlib's column order (<c>generate_portfolio_metrics_dataframe</c>).</summary>
    public static readonly IReadOnlyList<string> QlibColumns =
        ["account", "return", "total_turnover", "turnover", "total_cost", "cost", "value", "cash", "bench"];

    /// <summary>
    /// The columns the curves are computed from, and the daily turnover a reviewer checks beside them.
    /// </summary>
    public static readonly IReadOnlyList<string> RequiredColumns = ["return", "bench", "cost", "turnover"];

    /// <summary>Qlib's trading days per year for daily data (<c>risk_analysis</c>: 238, not 252).</summary>
    public const int TradingDaysPerYear = 238;

    public IReadOnlyList<double> this[string column] => Data.TryGetValue(column, out var c) && c is FloatColumn f
        ? f.Values : throw new KeyNotFoundException($"the report has no float column '{column}'");

    /// <summary>Reads a report pickle; a file that is not one says so with its path.</summary>
    public static BacktestReport Read(string path) =>
        FromFrame(Pandas.ReadFile(path, PickleKind.BacktestReport) as PandasFrame
            ?? throw new PickleException(
                $"'{path}' is not a backtest report: it holds a pandas Series, not a DataFrame"),
            path);

    /// <summary>The report a DataFrame holds, or a <see cref="PickleException"/> saying why it is not one.</summary>
    public static BacktestReport FromFrame(PandasFrame frame, string path)
    {
        string Not(string why) => $"'{path}' is not a backtest report: {why}";
        if (frame.Index.Values is not DateTimeColumn index)
            throw new PickleException(Not($"its rows are indexed by {frame.Index.Values.Dtype}, not by dates"));
        if (index.Count > ReadLimits.CurveRows)
        {
            throw new PickleException($"'{path}' has {index.Count:N0} rows, more than the {ReadLimits.CurveRows:N0} " +
                "a backtest curve may have; it was not read (RDBRIDGE_CURVE_ROWS raises the limit)");
        }

        var dates = new DateTime[index.Count];
        for (var i = 0; i < dates.Length; i++)
            dates[i] = index.Values[i] ?? throw new PickleException(Not($"row {i} has no date (NaT)"));
        // Cumulative returns, drawdown and the first and last day all assume one row per date, in date order. A
        // repeated or out-of-order date means the file was appended to or concatenated: which row is meant cannot
        // be told, so the curve is refused (never silently sorted or deduplicated) and the loop names it.
        for (var i = 1; i < dates.Length; i++)
        {
            if (dates[i] == dates[i - 1])
            {
                throw new PickleException(Not($"the date {Day(dates[i])} is in rows {i - 1} and {i}; a curve has " +
                    "one row per date — write the report again from one backtest"));
            }
            if (dates[i] < dates[i - 1])
            {
                throw new PickleException(Not($"its dates are out of order: row {i} ({Day(dates[i])}) comes after " +
                    $"row {i - 1} ({Day(dates[i - 1])}); a curve's rows are in date order — write the report again " +
                    "from one backtest"));
            }
        }
        var missing = RequiredColumns.Where(c => !frame.Data.ContainsKey(c)).ToList();
        if (missing.Count > 0)
        {
            throw new PickleException(Not($"it lacks the {IO.Counted.Noun(missing.Count, "column")} " +
                $"{string.Join(", ", missing)}" +
                $" (it has {string.Join(", ", frame.Columns)})"));
        }

        // Qlib writes float64; a report saved in another numeric dtype is read with its values widened exactly.
        var widened = new Dictionary<string, PandasColumn>(frame.Data, StringComparer.Ordinal);
        foreach (var c in QlibColumns.Where(frame.Data.ContainsKey))
        {
            widened[c] = Pandas.AsFloat64(frame.Data[c]) ?? throw new PickleException(
                Not($"its column '{c}' is {frame.Data[c].Dtype}, not a number float64 holds exactly"));
        }
        frame = frame with { Data = widened };

        var ret = ((FloatColumn)frame.Data["return"]).Values;
        var bench = ((FloatColumn)frame.Data["bench"]).Values;
        var cost = ((FloatColumn)frame.Data["cost"]).Values;
        var withoutCost = new double[dates.Length];
        var withCost = new double[dates.Length];
        for (var i = 0; i < dates.Length; i++)
        {
            withoutCost[i] = ret[i] - bench[i];
            withCost[i] = ret[i] - bench[i] - cost[i];
        }
        var cumWithCost = Series.CumulativeSum(withCost);
        var curves = new BacktestCurves(Series.CumulativeSum(withoutCost), cumWithCost, Series.CumulativeSum(bench),
            Series.Drawdown(cumWithCost));
        var withCostRisk = Risk(withCost);
        var summary = new BacktestSummary(
            dates.Length > 0 ? dates[0] : null,
            dates.Length > 0 ? dates[^1] : null,
            dates.Length,
            Series.LastNumber(curves.ExcessReturnWithoutCost),
            Series.LastNumber(curves.ExcessReturnWithCost),
            Series.LastNumber(curves.BenchmarkReturn),
            withCostRisk.MaxDrawdown,
            Risk(withoutCost),
            withCostRisk);
        return new BacktestReport(dates, frame.Columns, frame.Data, curves, summary);
    }

    private static string Day(DateTime d) => d.TimeOfDay == TimeSpan.Zero
        ? d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)
        : d.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    private static RiskAnalysis Risk(double[] daily)
    {
        var mean = Series.Mean(daily);
        var std = Series.SampleStd(daily);
        return new RiskAnalysis(mean, std, mean * TradingDaysPerYear, mean / std * Math.Sqrt(TradingDaysPerYear),
            Series.Min(Series.Drawdown(Series.CumulativeSum(daily))));
    }
}

/// <summary>pandas' NaN-skipping reductions over a daily series, as Qlib's risk analysis relies on them.</summary>
internal static class Series
{
    public static double[] CumulativeSum(IReadOnlyList<double> values)
    {
        var result = new double[values.Count];
        var sum = 0.0;
        for (var i = 0; i < result.Length; i++)
        {
            if (double.IsNaN(values[i])) { result[i] = values[i]; continue; }
            sum += values[i];
            result[i] = sum;
        }
        return result;
    }

    /// <summary>How far each point lies below the highest point so far (0 at a new high).</summary>
    public static double[] Drawdown(IReadOnlyList<double> cumulative)
    {
        var result = new double[cumulative.Count];
        var peak = double.NegativeInfinity;
        for (var i = 0; i < result.Length; i++)
        {
            if (double.IsNaN(cumulative[i])) { result[i] = cumulative[i]; continue; }
            peak = Math.Max(peak, cumulative[i]);
            result[i] = cumulative[i] - peak;
        }
        return result;
    }

    public static double? Min(IReadOnlyList<double> values)
    {
        double? min = null;
        foreach (var v in values)
            if (!double.IsNaN(v) && (min is null || v < min)) min = v;
        return min;
    }

    public static double? LastNumber(IReadOnlyList<double> values)
    {
        for (var i = values.Count - 1; i >= 0; i--)
            if (!double.IsNaN(values[i])) return values[i];
        return null;
    }

    public static double? Mean(IReadOnlyList<double> values)
    {
        var numbers = values.Where(v => !double.IsNaN(v)).ToArray();
        return numbers.Length == 0 ? null : PairwiseSum(numbers) / numbers.Length;
    }

    /// <summary>Sample standard deviation (ddof=1), two-pass like pandas' nanvar; null below two values.</summary>
    public static double? SampleStd(IReadOnlyList<double> values)
    {
        var numbers = values.Where(v => !double.IsNaN(v)).ToArray();
        if (numbers.Length < 2) return null;
        var mean = PairwiseSum(numbers) / numbers.Length;
        var squares = numbers.Select(v => (mean - v) * (mean - v)).ToArray();
        return Math.Sqrt(PairwiseSum(squares) / (numbers.Length - 1));
    }

    /// <summary>numpy's summation order (blocks of 8 partial sums, split in halves above 128 items), so the mean and
    /// std agree with pandas to the last bit or close to it.</summary>
    private static double PairwiseSum(ReadOnlySpan<double> a)
    {
        if (a.Length < 8)
        {
            var s = 0.0;
            foreach (var v in a) s += v;
            return s;
        }
        if (a.Length <= 128)
        {
            Span<double> r = stackalloc double[8];
            for (var j = 0; j < 8; j++) r[j] = a[j];
            var i = 8;
            for (; i < a.Length - a.Length % 8; i += 8)
                for (var j = 0; j < 8; j++) r[j] += a[i + j];
            var res = (r[0] + r[1] + (r[2] + r[3])) + (r[4] + r[5] + (r[6] + r[7]));
            for (; i < a.Length; i++) res += a[i];
            return res;
        }
        var half = a.Length / 2;
        half -= half % 8;
        return PairwiseSum(a[..half]) + PairwiseSum(a[half..]);
    }
}
