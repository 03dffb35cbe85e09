using System.Globalization;
using RdBridge.IO;
using RdBridge.Metadata;

namespace RdBridge.Backfill;

/// <summary>
/// The metrics of one Qlib run, read from <c>qlib_res.csv</c>: a two-column metric/value list (header <c>,0</c>) in no
/// fixed order. Canonical keys name what each number is; the information ratio stays the information ratio.
/// </summary>
public sealed record QlibMetrics(IReadOnlyDictionary<string, double?> Raw, IReadOnlyList<string> Problems)
{
    public double? this[string canonical]
    {
        get
        {
            foreach (var (c, q) in MetricNames.Canonical)
                if (c == canonical) return Raw.TryGetValue(q, out var v) ? v : null;
            return Raw.TryGetValue(canonical, out var raw) ? raw : null;
        }
    }

    /// <summary>The canonical metrics that are present, in a fixed order.</summary>
    public IEnumerable<KeyValuePair<string, double?>> Canonical()
    {
        foreach (var (c, q) in MetricNames.Canonical)
            if (Raw.TryGetValue(q, out var v)) yield return new(c, v);
    }

    public bool IsEmpty => Raw.Count == 0;
}

public static class QlibResults
{
    public const string FileName = "qlib_res.csv";

    /// <summary>
    /// Reads the file whole, at most <see cref="ReadLimits.QlibResults"/> bytes: a file that is larger, or not a
    /// regular file at all, is reported as this loop's problem instead of being read.
    /// </summary>
    public static QlibMetrics Read(string path)
    {
        string text;
        try { text = RegularFile.ReadAllText(path, ReadLimits.QlibResults); }
        catch (FileRefusedException e)
        {
            return new QlibMetrics(new SortedDictionary<string, double?>(StringComparer.Ordinal),
                [$"{FileName} {e.Reason}; its metrics were not read"]);
        }
        return Parse(new StringReader(text), path);
    }

    public static QlibMetrics Parse(TextReader reader, string source = QlibResults.FileName)
    {
        var raw = new SortedDictionary<string, double?>(StringComparer.Ordinal);
        var problems = new List<string>();
        string? line;
        var lineNo = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            if (line.Contains('\0'))
            {
                problems.Add($"{source} line {lineNo} holds binary data; the file is not a qlib_res.csv");
                break;
            }
            var comma = line.LastIndexOf(',');
            if (comma < 0)
            {
                problems.Add($"{source} line {lineNo} has no comma: '{Clip(line)}'");
                continue;
            }
            var name = Unquote(line[..comma].Trim());
            var valueText = line[(comma + 1)..].Trim();
            if (lineNo == 1 && name.Length == 0) continue; // the header ",0"
            if (name.Length == 0)
            {
                problems.Add($"{source} line {lineNo} has no metric name");
                continue;
            }
            if (!TryParseValue(valueText, out var value))
            {
                problems.Add($"{source} line {lineNo}: value '{Clip(valueText)}' of metric '{name}' is not a number");
                continue;
            }
            if (raw.ContainsKey(name))
                problems.Add($"{source} line {lineNo}: metric '{name}' appears twice; the last value is kept");
            raw[name] = value;
        }
        if (raw.Count == 0 && problems.Count == 0)
            problems.Add($"{source} holds no metrics");
        return new QlibMetrics(raw, problems);
    }

    private static bool TryParseValue(string text, out double? value)
    {
        value = null;
        var t = Unquote(text);
        if (t.Length == 0 || t.Equals("nan", StringComparison.OrdinalIgnoreCase)) return true;
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            value = double.IsFinite(d) ? d : null;
            return true;
        }
        if (t.Equals("inf", StringComparison.OrdinalIgnoreCase) || t.Equals("-inf", StringComparison.OrdinalIgnoreCase))
            return true;
        return false;
    }

    private static string Unquote(string s) =>
        s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1].Replace("\"\"", "\"") : s;
    private static string Clip(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
