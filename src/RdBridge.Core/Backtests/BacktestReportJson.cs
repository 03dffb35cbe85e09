using System.Globalization;
using System.Text.Json.Nodes;
using RdBridge.IO;
using RdBridge.Pickles;

namespace RdBridge.Backtests;

/// <summary>
/// <c>backtest_report.json</c>: the report in columns (dates, each input column, each derived curve) plus its summary.
/// Compact canonical JSON, so the same report gives the same bytes on every machine; NaN is written as null.
/// </summary>
public static class BacktestReportJson
{
    public const string FileName = "backtest_report.json";
    public const string Format = "rdbridge.backtest_report/1";

    public static JsonObject ToJson(BacktestReport report)
    {
        var values = new JsonObject();
        foreach (var c in report.Columns) values[c] = Column(report.Data[c]);
        return new JsonObject
        {
            ["format"] = Format,
            ["trading_days"] = report.Dates.Count,
            ["dates"] = new JsonArray([.. report.Dates.Select(d => (JsonNode?)Date(d))]),
            ["columns"] = new JsonArray([.. report.Columns.Select(c => (JsonNode?)c)]),
            ["values"] = values,
            ["derived"] = new JsonObject
            {
                ["excess_return_without_cost"] = Numbers(report.Curves.ExcessReturnWithoutCost),
                ["excess_return_with_cost"] = Numbers(report.Curves.ExcessReturnWithCost),
                ["benchmark_return"] = Numbers(report.Curves.BenchmarkReturn),
                ["drawdown"] = Numbers(report.Curves.Drawdown),
            },
            ["summary"] = Summary(report.Summary),
        };
    }

    public static byte[] ToBytes(BacktestReport report)
    {
        var text = CanonicalJson.Canonical(ToJson(report)) + "\n";
        return System.Text.Encoding.UTF8.GetBytes(text);
    }

    /// <summary>Writes the file atomically: a reader sees the old report or the new one, never half of one.</summary>
    public static void Write(string path, BacktestReport report) => AtomicFile.WriteBytes(path, ToBytes(report));

    public static JsonObject Summary(BacktestSummary s) => new()
    {
        ["first_day"] = s.FirstDay is { } f ? Date(f) : null,
        ["last_day"] = s.LastDay is { } l ? Date(l) : null,
        ["trading_days"] = s.TradingDays,
        ["final_excess_return_without_cost"] = Number(s.FinalExcessReturnWithoutCost),
        ["final_excess_return_with_cost"] = Number(s.FinalExcessReturnWithCost),
        ["final_benchmark_return"] = Number(s.FinalBenchmarkReturn),
        ["max_drawdown"] = Number(s.MaxDrawdown),
        ["without_cost"] = Risk(s.WithoutCost),
        ["with_cost"] = Risk(s.WithCost),
    };

    private static JsonObject Risk(RiskAnalysis r) => new()
    {
        ["mean"] = Number(r.Mean),
        ["std"] = Number(r.Std),
        ["annualized_return"] = Number(r.AnnualizedReturn),
        ["information_ratio"] = Number(r.InformationRatio),
        ["max_drawdown"] = Number(r.MaxDrawdown),
    };

    /// <summary>A day as yyyy-MM-dd, with the time only when the report is intraday.</summary>
    private static string Date(DateTime d) => d.TimeOfDay == TimeSpan.Zero
        ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
        : d.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);

    private static JsonNode? Number(double? v) => v is { } d && double.IsFinite(d) ? JsonValue.Create(d) : null;

    private static JsonArray Numbers(IReadOnlyList<double> values) => new([.. values.Select(v => Number(v))]);

    private static JsonArray Column(PandasColumn column) => column switch
    {
        FloatColumn f => Numbers(f.Values),
        IntColumn i => new JsonArray([.. i.Values.Select(v => (JsonNode?)JsonValue.Create(v))]),
        BoolColumn b => new JsonArray([.. b.Values.Select(v => (JsonNode?)JsonValue.Create(v))]),
        DateTimeColumn t => new JsonArray([.. t.Values.Select(v => v is { } d ? (JsonNode?)Date(d) : null)]),
        ObjectColumn o => new JsonArray([.. o.Values.Select(v => v switch
        {
            null => null,
            string s => (JsonNode?)s,
            long l => JsonValue.Create(l),
            double d => Number(d),
            bool b => JsonValue.Create(b),
            _ => Convert.ToString(v, CultureInfo.InvariantCulture),
        })]),
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}
