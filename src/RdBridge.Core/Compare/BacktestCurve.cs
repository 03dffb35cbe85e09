using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.IO;

namespace RdBridge.Compare;

/// <summary>
/// A loop's backtest curve cannot be read or compared; the message names the loop or file and what to do.
/// </summary>
public sealed class CompareException(string message) : RdBridgeException(message, ExitCodes.ItemFailures);

/// <summary>
/// A loop's backtest curve as <c>backtest_report.json</c> holds it (written by backfill from Qlib's
/// <c>report_normal_1day.pkl</c>): one date per trading day and, per day, the cumulative excess return without and
/// with cost, the benchmark's cumulative return and the drawdown (null where the day's input was NaN), plus the
/// daily turnover when the report has it, and the summary as the file states it.
/// </summary>
public sealed record BacktestCurve(
    IReadOnlyList<string> Dates,
    IReadOnlyDictionary<string, IReadOnlyList<double?>> Series,
    JsonObject? Summary)
{
    public const string FileName = "backtest_report.json";

    /// <summary>The curves the charts draw, in the order they are drawn.</summary>
    public static readonly IReadOnlyList<string> SeriesNames =
        ["excess_return_without_cost", "excess_return_with_cost", "benchmark_return", "drawdown", "turnover"];

    /// <summary>
    /// Decades of daily rows with a dozen columns are a few megabytes; anything far larger is not a report.
    /// </summary>
    public const long MaxFileBytes = 64L * 1024 * 1024;

    /// <summary>What a chart gets by default: enough for any screen, little enough for a fast page.</summary>
    public const int DisplayPoints = 800;

    public int TradingDays => Dates.Count;

    public static BacktestCurve Read(string path)
    {
        var size = new FileInfo(path).Length;
        if (size > MaxFileBytes)
        {
            throw new CompareException($"'{path}' is {size:N0} bytes, more than a backtest report can be " +
                $"({MaxFileBytes:N0}); run backfill again to rewrite it");
        }

        return Parse(RegularFile.ReadAllBytes(path, MaxFileBytes), path);
    }

    /// <summary>
    /// Reads the report's dates and curves; a file of another shape, or longer than a curve may be
    /// (<see cref="ReadLimits.CurveRows"/>), is refused with its path. Parsed as a <see cref="JsonDocument"/> (a few
    /// bytes per number) rather than a node tree (about a hundred), so a long curve stays within the memory budget.
    /// </summary>
    public static BacktestCurve Parse(ReadOnlySpan<byte> json, string path)
    {
        string Not(string why) => $"'{path}' is not a backtest report: {why}; run backfill again to rewrite it";
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json.ToArray()); }
        catch (JsonException e) { throw new CompareException(Not($"it is not JSON ({e.Message})")); }
        using var _ = doc;
        var o = doc.RootElement;
        if (o.ValueKind != JsonValueKind.Object) throw new CompareException(Not("it is not a JSON object"));
        if (!o.TryGetProperty("dates", out var dateArray) || dateArray.ValueKind != JsonValueKind.Array)
            throw new CompareException(Not("it has no 'dates' list"));
        var rows = dateArray.GetArrayLength();
        if (rows > ReadLimits.CurveRows)
        {
            throw new CompareException($"'{path}' has {rows:N0} rows, more than the {ReadLimits.CurveRows:N0} a " +
                "backtest curve may have; it was not read (RDBRIDGE_CURVE_ROWS raises the limit)");
        }

        var dates = dateArray.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.String ? d.GetString()!
            : throw new CompareException(Not("a date is not a text"))).ToList();
        if (!o.TryGetProperty("derived", out var derived) || derived.ValueKind != JsonValueKind.Object)
            throw new CompareException(Not("it has no 'derived' curves"));
        var hasValues = o.TryGetProperty("values", out var values) && values.ValueKind == JsonValueKind.Object;
        var series = new Dictionary<string, IReadOnlyList<double?>>(StringComparer.Ordinal);
        foreach (var name in SeriesNames)
        {
            if (!derived.TryGetProperty(name, out var node) && !(hasValues && values.TryGetProperty(name, out node)))
                continue;
            if (node.ValueKind != JsonValueKind.Array || node.GetArrayLength() != dates.Count)
            {
                throw new CompareException(Not($"'{name}' is not a list of {IO.Counted.Of(dates.Count, "number")}, "
                    + "one per date"));
            }
            series[name] = node.EnumerateArray().Select(x => x.ValueKind switch
            {
                JsonValueKind.Null => (double?)null,
                JsonValueKind.Number => x.GetDouble(),
                _ => throw new CompareException(Not($"'{name}' holds something other than numbers")),
            }).ToList();
        }
        foreach (var required in SeriesNames.Take(4))
            if (!series.ContainsKey(required)) throw new CompareException(Not($"it has no '{required}' curve"));
        var summary = o.TryGetProperty("summary", out var sum) && sum.ValueKind == JsonValueKind.Object
            ? JsonNode.Parse(sum.GetRawText()) as JsonObject : null;
        return new BacktestCurve(dates, series, summary);
    }

    /// <summary>The last number of a curve (null when it has none), as the summary's final values are read.</summary>
    public double? Final(string name) =>
        Series.TryGetValue(name, out var s) ? s.LastOrDefault(v => v is not null) : null;

    /// <summary>
    /// The days a chart of at most <paramref name="maxPoints"/> points keeps: the first and the last, and in each of
    /// equal buckets of days the lowest and the highest value of every curve, so peaks and drawdown troughs survive.
    /// All days when there are no more than <paramref name="maxPoints"/>.
    /// </summary>
    public IReadOnlyList<int> DisplayDays(int maxPoints = DisplayPoints)
    {
        var n = Dates.Count;
        if (n <= Math.Max(maxPoints, 2)) return Enumerable.Range(0, n).ToList();
        var curves = Series.Values.ToList();
        var buckets = Math.Max(1, (maxPoints - 2) / (2 * Math.Max(1, curves.Count)));
        var keep = new SortedSet<int> { 0, n - 1 };
        var inner = n - 2;
        for (var b = 0; b < buckets; b++)
        {
            var from = 1 + (int)((long)inner * b / buckets);
            var to = 1 + (int)((long)inner * (b + 1) / buckets);
            foreach (var curve in curves)
            {
                int lo = -1, hi = -1;
                for (var i = from; i < to; i++)
                {
                    if (curve[i] is not { } v) continue;
                    if (lo < 0 || v < curve[lo]!.Value) lo = i;
                    if (hi < 0 || v > curve[hi]!.Value) hi = i;
                }
                if (lo >= 0) keep.Add(lo);
                if (hi >= 0) keep.Add(hi);
            }
        }
        return keep.ToList();
    }

    /// <summary>
    /// The curve for a chart: every day with <paramref name="full"/>, else the <see cref="DisplayDays"/>.
    /// </summary>
    public JsonObject ToJson(bool full, int maxPoints = DisplayPoints)
    {
        var days = full ? Enumerable.Range(0, Dates.Count).ToList() : DisplayDays(maxPoints);
        var series = new JsonObject();
        foreach (var name in SeriesNames)
        {
            if (Series.TryGetValue(name, out var s))
                series[name] = new JsonArray([.. days.Select(i => s[i] is { } v ? JsonValue.Create(v) : null)]);
        }

        return new JsonObject
        {
            ["trading_days"] = Dates.Count,
            ["points"] = days.Count,
            ["decimated"] = days.Count < Dates.Count,
            ["dates"] = new JsonArray([.. days.Select(i => (JsonNode?)JsonValue.Create(Dates[i]))]),
            ["series"] = series,
            ["summary"] = Summary?.DeepClone(),
        };
    }
}
