using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RdBridge.Backfill;

/// <summary>
/// What a factor needs as input: the price/volume fields it reads and how many past days it looks at, found in
/// its expression or code (the Python tool guessed the window from the name alone).
/// </summary>
public sealed partial record InputSchema(IReadOnlyList<string> RequiredFields, int? LookbackDays, string LookbackSource)
{
    private static readonly string[] FieldOrder = ["open", "high", "low", "close", "volume", "vwap", "factor"];

    public static InputSchema FromExpression(string expression)
    {
        var fields = DollarField().Matches(expression).Select(m => m.Groups[1].Value.ToLowerInvariant());
        var windows = LastArgument().Matches(expression).Select(m => int.Parse(m.Groups[1].Value)).Where(w => w > 0)
            .ToList();
        return new InputSchema(Ordered(fields), windows.Count > 0 ? windows.Max() : 1,
            windows.Count > 0 ? "expression windows" : "no window: same-day fields");
    }

    public static InputSchema FromCode(string code, string factorName)
    {
        var fields = QuotedField().Matches(code).Select(m => m.Groups[1].Value.ToLowerInvariant())
            .Concat(DollarField().Matches(code).Select(m => m.Groups[1].Value.ToLowerInvariant()))
            .Where(f => FieldOrder.Contains(f) || f.Length <= 12);
        var windows = CodeWindow().Matches(code).Select(m => int.Parse(m.Groups["n"].Value)).Where(w => w > 0).ToList();
        if (windows.Count > 0) return new InputSchema(Ordered(fields), windows.Max(), "code windows");
        var suffix = NameWindow().Match(factorName);
        if (suffix.Success)
        {
            return new InputSchema(Ordered(fields), int.Parse(suffix.Groups[1].Value),
                "factor name (no window found in code)");
        }

        return new InputSchema(Ordered(fields), null, "unknown: no window in code or name");
    }

    private static IReadOnlyList<string> Ordered(IEnumerable<string> fields) =>
        fields.Distinct().OrderBy(f => Array.IndexOf(FieldOrder, f) is var i && i >= 0 ? i : FieldOrder.Length)
            .ThenBy(f => f, StringComparer.Ordinal).ToList();

    public JsonObject ToJson() => new()
    {
        ["required_fields"] = new JsonArray(RequiredFields.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray()),
        ["lookback_days"] = LookbackDays,
        ["lookback_source"] = LookbackSource,
        ["index_type"] = "MultiIndex(datetime, instrument)",
        ["freq"] = "1d",
    };

    [GeneratedRegex(@"\$([A-Za-z_]\w*)")] private static partial Regex DollarField();
    [GeneratedRegex(@"[""']\$([A-Za-z_]\w*)[""']")] private static partial Regex QuotedField();
    [GeneratedRegex(@",\s*(-?\d+)\s*\)")] private static partial Regex LastArgument();
    [GeneratedRegex(@"(?:rolling|shift|pct_change|diff)\(\s*(?:window\s*=\s*|periods\s*=\s*)?(?<n>\d+)"
        + @"|ewm\(\s*span\s*=\s*(?<n>\d+)")]
    private static partial Regex CodeWindow();
    [GeneratedRegex(@"(\d+)\s*[dD]$")] private static partial Regex NameWindow();
}
