namespace RdBridge.Metadata;

/// <summary>
/// The metrics RdBridge names in its records and catalog columns, each with the Qlib name it is read from
/// (<c>qlib_res.csv</c>, MLflow). The information ratio stays the information ratio: it is not called a Sharpe ratio.
/// </summary>
public static class MetricNames
{
    public static readonly IReadOnlyList<(string Canonical, string QlibName)> Canonical =
    [
        ("ic", "IC"), ("icir", "ICIR"), ("rank_ic", "Rank IC"), ("rank_icir", "Rank ICIR"),
        ("annualized_return", "1day.excess_return_with_cost.annualized_return"),
        ("information_ratio", "1day.excess_return_with_cost.information_ratio"),
        ("max_drawdown", "1day.excess_return_with_cost.max_drawdown"),
        ("annualized_return_without_cost", "1day.excess_return_without_cost.annualized_return"),
        ("information_ratio_without_cost", "1day.excess_return_without_cost.information_ratio"),
        ("max_drawdown_without_cost", "1day.excess_return_without_cost.max_drawdown"),
    ];
}
