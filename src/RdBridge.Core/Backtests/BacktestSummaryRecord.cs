using System.Globalization;
using System.Text.Json.Serialization;

namespace RdBridge.Backtests;

/// <summary>
/// The <c>summary</c> of <c>backtest_report.json</c>, and the core of a loop catalog's <c>backtest</c> field: what a
/// researcher reads first off a curve. Numbers that are not finite are written as null.
/// </summary>
public record BacktestSummaryRecord
{
    public string? FirstDay { get; init; }
    public string? LastDay { get; init; }
    public int TradingDays { get; init; }
    public double? FinalExcessReturnWithoutCost { get; init; }
    public double? FinalExcessReturnWithCost { get; init; }
    public double? FinalBenchmarkReturn { get; init; }
    public double? MaxDrawdown { get; init; }
    public RiskRecord? WithoutCost { get; init; }
    public RiskRecord? WithCost { get; init; }

    public static T From<T>(BacktestSummary s) where T : BacktestSummaryRecord, new() => new()
    {
        FirstDay = s.FirstDay is { } f ? Day(f) : null,
        LastDay = s.LastDay is { } l ? Day(l) : null,
        TradingDays = s.TradingDays,
        FinalExcessReturnWithoutCost = Finite(s.FinalExcessReturnWithoutCost),
        FinalExcessReturnWithCost = Finite(s.FinalExcessReturnWithCost),
        FinalBenchmarkReturn = Finite(s.FinalBenchmarkReturn),
        MaxDrawdown = Finite(s.MaxDrawdown),
        WithoutCost = RiskRecord.From(s.WithoutCost),
        WithCost = RiskRecord.From(s.WithCost),
    };

    /// <summary>A day as yyyy-MM-dd, with the time only when the report is intraday.</summary>
    internal static string Day(DateTime d) => d.TimeOfDay == TimeSpan.Zero
        ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
        : d.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);

    internal static double? Finite(double? v) => v is { } d && double.IsFinite(d) ? d : null;
}

/// <summary>Qlib's risk analysis of one excess-return curve.</summary>
public sealed record RiskRecord
{
    public double? Mean { get; init; }
    public double? Std { get; init; }
    public double? AnnualizedReturn { get; init; }
    public double? InformationRatio { get; init; }
    public double? MaxDrawdown { get; init; }

    public static RiskRecord From(RiskAnalysis r) => new()
    {
        Mean = BacktestSummaryRecord.Finite(r.Mean),
        Std = BacktestSummaryRecord.Finite(r.Std),
        AnnualizedReturn = BacktestSummaryRecord.Finite(r.AnnualizedReturn),
        InformationRatio = BacktestSummaryRecord.Finite(r.InformationRatio),
        MaxDrawdown = BacktestSummaryRecord.Finite(r.MaxDrawdown),
    };
}

/// <summary>
/// How <c>backtest_report.json</c>'s typed parts are written: source-generated, no reflection. (The catalogs' context,
/// <c>Catalogs/CatalogJson</c>, sits in a folder above this one and cannot be used here.)
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BacktestSummaryRecord))]
internal sealed partial class BacktestJson : JsonSerializerContext;
