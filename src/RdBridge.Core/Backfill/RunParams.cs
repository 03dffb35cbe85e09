using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>
/// What the run actually used, from the params Qlib logged for it: RD-Agent's templates leave <c>test_end</c> null and
/// pass the real date at run time, and Qlib logs the flattened task (<c>dataset.kwargs.segments.test =
/// [datetime.date(2017, 1, 1), datetime.date(2020, 8, 1)]</c>, the <c>record</c> list with the backtest window).
/// The rendered template comes first; params fill what it left null and win where the two disagree. Each change is
/// returned as a sentence for the record.
/// </summary>
public static partial class RunParams
{
    public static IReadOnlyList<string> Apply(WorkflowConfig config, MlflowRun run)
    {
        var notes = new List<string>();
        if (config.Get("task.dataset.kwargs.segments") is JsonObject segments)
        {
            foreach (var name in new[] { "train", "valid", "test" })
            {
                if (Dates(run.Param($"dataset.kwargs.segments.{name}")) is { Count: 2 } dates)
                    ApplyPair(segments, name, dates, $"segments.{name}", notes);
            }
        }

        if (config.Backtest is { } backtest && BacktestDates(run.Param("record")) is { } window)
        {
            if (window.Start is not null) ApplyOne(backtest, "start_time", window.Start, "backtest.start_time", notes);
            if (window.End is not null) ApplyOne(backtest, "end_time", window.End, "backtest.end_time", notes);
        }
        ApplyTask(config, run, notes);
        return notes;
    }

    /// <summary>
    /// The model and dataset as the run used them: RD-Agent renders its model template from environment variables
    /// (<c>n_epochs</c>, <c>lr</c>, <c>dataset_cls</c>, <c>num_features</c>, <c>num_timesteps</c>, <c>step_len</c>…)
    /// that exist only while <c>qrun</c> runs, so the template in the workspace leaves them null or at a default.
    /// Qlib logged the task flattened (<c>model.kwargs.lr</c>, <c>model.kwargs.pt_model_kwargs.num_features</c>,
    /// <c>dataset.class</c>): each plain value is set at its place under <c>task</c>. The handler (feature lists) and
    /// the segments (read above, as dates) are not taken from here, and nor is a list or dict Qlib logged as its repr.
    /// </summary>
    private static void ApplyTask(WorkflowConfig config, MlflowRun run, List<string> notes)
    {
        if (config.Get("task") is not JsonObject task) return;
        foreach (var (key, text) in run.Params.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!(key.StartsWith("model.", StringComparison.Ordinal)
                    || key.StartsWith("dataset.", StringComparison.Ordinal))
                || key.StartsWith("dataset.kwargs.handler", StringComparison.Ordinal)
                || key.StartsWith("dataset.kwargs.segments", StringComparison.Ordinal)
                || PythonScalar(text) is not { } value)
            {
                continue;
            }
            var parts = key.Split('.');
            var node = task;
            foreach (var part in parts[..^1])
            {
                if (node[part] is not JsonObject next)
                {
                    if (node[part] is not null) { node = null; break; }
                    next = new JsonObject();
                    node[part] = next;
                }
                node = next;
            }
            if (node is null) continue;
            var last = parts[^1];
            var before = node[last];
            if (before is JsonArray or JsonObject || JsonNode.DeepEquals(before, value.Node)) continue;
            notes.Add(before is null
                ? $"{key} {value.Text} from the MLflow params (the template left it null)"
                : $"{key} {value.Text} from the MLflow params (the template said {before.ToJsonString()})");
            node[last] = value.Node;
        }
    }

    /// <summary>A param's value as the plain Python value Qlib logged (<c>str(value)</c>): None, a bool, an int, a
    /// float or text; null for a list, tuple or dict repr.</summary>
    private static (JsonNode? Node, string Text)? PythonScalar(string text)
    {
        if (text.Length == 0 || text[0] is '[' or '(' or '{') return null;
        if (text == "None") return (null, text);
        if (text is "True" or "False") return (JsonValue.Create(text == "True"), text);
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return (JsonValue.Create(l), text);
        if (FloatText().IsMatch(text)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return (JsonValue.Create(d), text);
        }
        return (JsonValue.Create(text), text);
    }

    private static void ApplyPair(JsonObject segments, string name, IReadOnlyList<string> dates, string label,
        List<string> notes)
    {
        if (segments[name] is not JsonArray { Count: 2 } pair)
        {
            segments[name] = new JsonArray(dates[0], dates[1]);
            notes.Add($"{label} [{dates[0]}, {dates[1]}] from the MLflow params (the template had none)");
            return;
        }
        for (var i = 0; i < 2; i++)
        {
            var template = Date(WorkflowConfig.Text(pair[i]));
            if (template == dates[i]) continue;
            notes.Add(template is null
                ? $"{label}[{i}] {dates[i]} from the MLflow params (the template left it null)"
                : $"{label}[{i}] {dates[i]} from the MLflow params (the template said {template})");
            pair[i] = dates[i];
        }
    }

    private static void ApplyOne(JsonObject o, string key, string date, string label, List<string> notes)
    {
        var template = Date(WorkflowConfig.Text(o[key]));
        if (template == date) return;
        notes.Add(template is null
            ? $"{label} {date} from the MLflow params (the template left it null)"
            : $"{label} {date} from the MLflow params (the template said {template})");
        o[key] = date;
    }

    /// <summary>
    /// The dates of a logged Python value: <c>datetime.date(y, m, d)</c>, <c>'2017-01-01'</c>, <c>Timestamp('…')</c>.
    /// </summary>
    public static IReadOnlyList<string>? Dates(string? repr)
    {
        if (repr is null) return null;
        var dates = new List<string>();
        foreach (Match m in DateValue().Matches(repr))
        {
            if (m.Groups["y"].Success)
            {
                int Part(string g) => int.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
                dates.Add(string.Create(CultureInfo.InvariantCulture, $"{Part("y"):D4}-{Part("m"):D2}-{Part("d"):D2}"));
            }
            else
            {
                dates.Add(m.Groups["iso"].Value);
            }
        }
        return dates;
    }

    private static (string? Start, string? End)? BacktestDates(string? record)
    {
        if (record is null) return null;
        var at = record.IndexOf("'backtest':", StringComparison.Ordinal);
        if (at < 0) return null;
        var tail = record[at..];
        string? One(string key)
        {
            var m = Regex.Match(tail, $"'{key}':\\s*(datetime\\.date\\([^)]*\\)|Timestamp\\('[^']*'\\)|'[^']*')");
            return m.Success ? Dates(m.Groups[1].Value) is { Count: 1 } d ? d[0] : null : null;
        }
        return (One("start_time"), One("end_time"));
    }

    private static string? Date(string? text) => text is { Length: >= 10 } && DateOnly.TryParseExact(text[..10],
        "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) ? text[..10] : null;

    [GeneratedRegex(
        @"datetime\.date\((?<y>\d{4}),\s*(?<m>\d{1,2}),\s*(?<d>\d{1,2})\)|'(?<iso>\d{4}-\d{2}-\d{2})[^']*'")]
    private static partial Regex DateValue();

    [GeneratedRegex(@"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")]
    private static partial Regex FloatText();
}
