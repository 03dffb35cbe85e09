using System.Globalization;
using System.Text.Json;
using RdBridge.IO;
using RdBridge.Pickles;

namespace RdBridge.Backtests;

/// <summary>
/// <c>backtest_report.json</c>: the report in columns (dates, each input column, each derived curve) plus its summary.
/// Compact JSON in a fixed key order, so the same report gives the same bytes on every machine; NaN is written as null.
/// </summary>
/// <summary>Where a report came from: <c>ret.pkl</c> or <c>mlflow:&lt;run_id&gt;</c>, and that file's sha256.</summary>
public sealed record BacktestSource(string Name, string Sha256);

public static class BacktestReportJson
{
    public const string FileName = "backtest_report.json";
    public const string Format = "rdbridge.backtest_report/1";

    /// <summary>
    /// Streams the report: a long intraday report has millions of numbers, which a JSON node tree would hold (and
    /// format) many times slower. Keys come in a fixed order, numbers in .NET's shortest round-trip form.
    /// </summary>
    public static void Write(Stream stream, BacktestReport report) => Write(stream, report, null);

    /// <summary>As <see cref="Write(Stream, BacktestReport)"/>, naming the file the report was read from.</summary>
    public static void Write(Stream stream, BacktestReport report, BacktestSource? source)
    {
        var options = new JsonWriterOptions { Encoder = CanonicalJson.FileWriterOptions.Encoder };
        using var w = new Utf8JsonWriter(stream, options);
        w.WriteStartObject();
        w.WriteString("format", Format);
        if (source is not null)
        {
            w.WriteString("source", source.Name);
            w.WriteString("source_sha256", source.Sha256);
        }
        w.WriteNumber("trading_days", report.Dates.Count);
        w.WriteStartArray("dates");
        foreach (var d in report.Dates) w.WriteStringValue(Date(d));
        w.WriteEndArray();
        w.WriteStartArray("columns");
        foreach (var c in report.Columns) w.WriteStringValue(c);
        w.WriteEndArray();
        w.WriteStartObject("values");
        foreach (var c in report.Columns)
        {
            w.WritePropertyName(c);
            Column(w, report.Data[c]);
            w.Flush(); // the writer holds what it has not flushed: one column at a time at most
        }
        w.WriteEndObject();
        w.WriteStartObject("derived");
        Numbers(w, "excess_return_without_cost", report.Curves.ExcessReturnWithoutCost);
        Numbers(w, "excess_return_with_cost", report.Curves.ExcessReturnWithCost);
        Numbers(w, "benchmark_return", report.Curves.BenchmarkReturn);
        Numbers(w, "drawdown", report.Curves.Drawdown);
        w.WriteEndObject();
        w.WritePropertyName("summary");
        JsonSerializer.Serialize(w, BacktestSummaryRecord.From<BacktestSummaryRecord>(report.Summary),
            BacktestJson.Default.BacktestSummaryRecord);
        w.WriteEndObject();
        w.Flush();
        stream.WriteByte((byte)'\n');
    }

    public static byte[] ToBytes(BacktestReport report, BacktestSource? source = null)
    {
        using var buffer = new MemoryStream();
        Write(buffer, report, source);
        return buffer.ToArray();
    }

    /// <summary>Writes the file atomically: a reader sees the old report or the new one, never half of one.</summary>
    public static void Write(string path, BacktestReport report) =>
        AtomicFile.Write(path, stream => Write(stream, report));

    private static string Date(DateTime d) => BacktestSummaryRecord.Day(d);

    private static void Number(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v)) w.WriteNumberValue(v);
        else w.WriteNullValue();
    }

    private static void Numbers(Utf8JsonWriter w, string name, IReadOnlyList<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) Number(w, v);
        w.WriteEndArray();
        w.Flush();
    }

    private static void Column(Utf8JsonWriter w, PandasColumn column)
    {
        w.WriteStartArray();
        switch (column)
        {
            case FloatColumn f: foreach (var v in f.Values) Number(w, v); break;
            case IntColumn i: foreach (var v in i.Values) w.WriteNumberValue(v); break;
            case BoolColumn b: foreach (var v in b.Values) w.WriteBooleanValue(v); break;
            case DateTimeColumn t:
                foreach (var v in t.Values)
                    if (v is { } d) w.WriteStringValue(Date(d)); else w.WriteNullValue();
                break;
            case ObjectColumn o:
                foreach (var v in o.Values)
                {
                    switch (v)
                    {
                        case null: w.WriteNullValue(); break;
                        case string s: w.WriteStringValue(s); break;
                        case long l: w.WriteNumberValue(l); break;
                        case double d: Number(w, d); break;
                        case bool b: w.WriteBooleanValue(b); break;
                        default: w.WriteStringValue(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
                    }
                }

                break;
        }
        w.WriteEndArray();
    }
}
