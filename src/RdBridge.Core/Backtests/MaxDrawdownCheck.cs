using System.Globalization;

namespace RdBridge.Backtests;

/// <summary>
/// Whether the max drawdown recomputed from the curve agrees with the one Qlib logged
/// (<c>qlib_res.csv</c>'s <c>1day.excess_return_with_cost.max_drawdown</c>); when it does not, the curve and the
/// metrics come from different runs or one of them was edited.
/// </summary>
public sealed record MaxDrawdownCheck(double? Recomputed, double? Reported, bool Agrees, string Message)
{
    public const string QlibMetric = "1day.excess_return_with_cost.max_drawdown";

    /// <summary>Qlib logs full doubles; the tolerance only absorbs a summation order or a printed rounding.</summary>
    public const double DefaultTolerance = 1e-6;

    public static MaxDrawdownCheck Of(BacktestReport report, double? reported, double tolerance = DefaultTolerance)
    {
        var mine = report.Summary.WithCost.MaxDrawdown;
        static string F(double? v) => v?.ToString("R", CultureInfo.InvariantCulture) ?? "none";
        if (reported is null)
            return new(mine, null, false, $"{QlibMetric} is not in the metrics; the curve's max drawdown is {F(mine)}");
        if (mine is null)
            return new(null, reported, false, $"the curve has no days to recompute {QlibMetric} ({F(reported)}) from");
        var agrees = Math.Abs(mine.Value - reported.Value) <= tolerance;
        return new(mine, reported, agrees, agrees
            ? $"the curve's max drawdown {F(mine)} matches {QlibMetric} {F(reported)}"
            : $"the curve's max drawdown {F(mine)} differs from {QlibMetric} {F(reported)} " +
              $"by more than {F(tolerance)}");
    }
}
