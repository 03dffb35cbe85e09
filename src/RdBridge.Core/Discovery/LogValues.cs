using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using RdBridge.IO;
using RdBridge.Pickles;

namespace RdBridge.Discovery;

/// <summary>
/// Reads the few values discovery needs out of RD-Agent's pickled objects (class name + state as plain data): texts,
/// booleans, paths (<c>pathlib</c> objects), tz-aware datetimes. Only named attributes are followed, never a whole
/// object graph, so a deeply nested or self-referencing pickle costs nothing here.
/// </summary>
public static class LogValues
{
    /// <summary>An attribute of an object (its pickled <c>__dict__</c>), or a key of a dict.</summary>
    public static object? Get(object? value, string name) => value switch
    {
        PickledObject o => o[name],
        Dictionary<object, object?> d => d.TryGetValue(name, out var v) ? v : null,
        _ => null,
    };

    public static string? ClassName(object? value) => (value as PickledObject)?.ClassName;

    /// <summary>Whether the object's class has this name (the last dotted part).</summary>
    public static bool IsClass(object? value, string suffix) =>
        ClassName(value) is { } c && (c == suffix || c.EndsWith("." + suffix, StringComparison.Ordinal));

    public static string? Text(object? value) => value as string;

    public static bool? Bool(object? value) => value switch
    {
        bool b => b,
        long l => l != 0,
        _ => null,
    };

    public static IReadOnlyList<object?> Items(object? value) => value switch
    {
        List<object?> l => l,
        object?[] t => t,
        _ => [],
    };

    /// <summary>
    /// A workspace path as RD-Agent's machine wrote it: a plain string, or a <c>pathlib</c> path, which pickles as its
    /// class and its parts (<c>('/', 'home', …)</c>, or <c>('F:\\', 'Dev', …)</c> from Windows).
    /// </summary>
    public static string? PathText(object? value)
    {
        if (value is string s) return s;
        if (value is not PickledObject { ClassName: var cls } o
            || !cls.StartsWith("pathlib.", StringComparison.Ordinal))
        {
            return null;
        }

        var parts = o.Arguments.Count == 1 && o.Arguments[0] is object?[] nested ? nested : o.Arguments;
        var texts = parts.OfType<string>().ToList();
        if (texts.Count == 0 || texts.Count != parts.Count) return null;
        // As Python's str() of the path prints it: a Windows path's parts are joined by a backslash, so the text is
        // the same whether the registry or the log gave it.
        var separator = cls is "pathlib.WindowsPath" or "pathlib.PureWindowsPath" ? "\\" : "/";
        var first = texts[0];
        var rest = string.Join(separator, texts.Skip(1));
        if (rest.Length == 0) return first;
        return first.EndsWith('/') || first.EndsWith('\\') ? first + rest : first + separator + rest;
    }

    /// <summary>
    /// A <c>datetime.datetime</c>: pickled as its class with the 10-byte state (year as two bytes, month, day, hour,
    /// minute, second, microsecond as three bytes) and, when tz-aware, a <c>datetime.timezone</c> of a timedelta.
    /// </summary>
    public static DateTimeOffset? Time(object? value)
    {
        if (value is not PickledObject { ClassName: "datetime.datetime" } o || o.Arguments.Count == 0
            || o.Arguments[0] is not byte[] { Length: 10 } b)
        {
            return null;
        }

        try
        {
            var local = new DateTime(b[0] * 256 + b[1], b[2], b[3], b[4], b[5], b[6], DateTimeKind.Unspecified)
                .AddTicks(((b[7] << 16) | (b[8] << 8) | b[9]) * 10L);
            var offset = o.Arguments.Count > 1 ? Offset(o.Arguments[1]) : TimeSpan.Zero;
            return new DateTimeOffset(local, offset ?? TimeSpan.Zero).ToUniversalTime();
        }
        catch (Exception e) when (e is ArgumentException or OverflowException)
        {
            // A date or offset out of range (a timedelta of 10^15 days) is not a time: the pickle is reported as not
            // the dict it should be, never the run's OverflowException.
            return null;
        }
    }

    // datetime.timezone(datetime.timedelta(days, seconds, microseconds)); anything else counts as UTC, which is what
    // RD-Agent writes (datetime.now(timezone.utc)).
    private static TimeSpan? Offset(object? tz)
    {
        if (tz is not PickledObject { ClassName: "datetime.timezone" } z || z.Arguments.Count == 0
            || z.Arguments[0] is not PickledObject { ClassName: "datetime.timedelta" } d)
        {
            return null;
        }

        long Part(int i) => d.Arguments.Count > i && d.Arguments[i] is long v ? v : 0;
        var span = TimeSpan.FromDays(Part(0)) + TimeSpan.FromSeconds(Part(1)) + TimeSpan.FromTicks(Part(2) * 10);
        // ±14:00 inclusive, as DateTimeOffset holds it: UTC+14:00 (the Line Islands) is an offset in use.
        return span.Duration() <= TimeSpan.FromHours(14) ? span : null;
    }

    /// <summary>
    /// A settings dict as JSON, for <c>task_runs.params_json</c>: plain values as they are, anything else as its class
    /// name. A pickle is a graph, not a tree: one dict can be reached many times, or hold itself, so the walk is
    /// bounded
    /// in depth, items per container and nodes in all (<see cref="JsonNodes"/>); what is left out is written "…", and
    /// a container met again inside itself is written "(recursion)".
    /// </summary>
    public static JsonNode? Json(object? value) => new JsonWalk().Node(value, 0);

    /// <summary>Most values <see cref="Json"/> writes for one settings object (RD-Agent's: about 100).</summary>
    public const int JsonNodes = 5000;

    private sealed class JsonWalk
    {
        // A dict or list is drawn with its first entries, and says how many more it has: a cut that is not marked
        // reads as the whole value.
        private const int Shown = 200;

        private static JsonNode More(int count, string what) =>
            JsonValue.Create($"({(count - Shown).ToString("N0", CultureInfo.InvariantCulture)} more {what} not shown)");

        private readonly HashSet<object> _open = new(ReferenceEqualityComparer.Instance);
        private int _nodes;

        public JsonNode? Node(object? value, int depth)
        {
            if (++_nodes > JsonNodes || depth > 8) return JsonValue.Create("…");
            if (value is Dictionary<object, object?> or List<object?> or object?[] && !_open.Add(value!))
                return JsonValue.Create("(recursion)");
            try
            {
                return Plain(value, depth);
            }
            finally
            {
                if (value is not null) _open.Remove(value);
            }
        }

        private JsonNode? Plain(object? value, int depth) => value switch
        {
            null => null,
            string s => JsonValue.Create(s.Length > 4000 ? s[..4000] + "…" : s),
            bool b => JsonValue.Create(b),
            long l => JsonValue.Create(l),
            double d => double.IsFinite(d)
                ? JsonValue.Create(d) : JsonValue.Create(d.ToString(CultureInfo.InvariantCulture)),
            Dictionary<object, object?> dict => new JsonObject(dict.Take(Shown)
                .Where(kv => kv.Key is string)
                .OrderBy(kv => (string)kv.Key, StringComparer.Ordinal)
                .Select(kv => new KeyValuePair<string, JsonNode?>((string)kv.Key, Node(kv.Value, depth + 1)))
                .Concat(dict.Count > Shown
                    ? new[] { new KeyValuePair<string, JsonNode?>("…", More(dict.Count, "entries")) } : [])
                .ToList()),
            List<object?> or object?[] => new JsonArray(Items(value).Take(Shown).Select(v => Node(v, depth + 1))
                .Concat(Items(value).Count > Shown ? new[] { More(Items(value).Count, "items") } : []).ToArray()),
            byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes.AsSpan(0, Math.Min(bytes.Length, 256)))),
            PickledObject o => PathText(o) is { } p ? JsonValue.Create(p)
                : Time(o) is { } t ? JsonValue.Create(IO.UtcText.FormatMicroseconds(t))
                : JsonValue.Create(o.ClassName),
            _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
        };
    }

    /// <summary>A short, printable description of what a pickle held, for a problem message.</summary>
    public static string Describe(object? value)
    {
        var text = value switch
        {
            null => "None",
            PickledObject o => o.Arguments.Count > 0 ? $"{o.ClassName}(…)" : o.ClassName,
            string s => $"a str of {Counted.Of(s.Length, "character")}",
            Dictionary<object, object?> d => $"a dict of {Counted.Of(d.Count, "entry", "entries")}",
            List<object?> l => $"a list of {Counted.Of(l.Count, "item")}",
            object?[] t => $"a tuple of {Counted.Of(t.Length, "item")}",
            _ => Pandas.Describe(value),
        };
        var sb = new StringBuilder();
        foreach (var c in text.Take(120)) sb.Append(char.IsControl(c) ? '?' : c);
        return sb.ToString();
    }
}
