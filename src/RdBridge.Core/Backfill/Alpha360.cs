namespace RdBridge.Backfill;

/// <summary>
/// The 360 features of Qlib's <c>Alpha360</c> handler: the last 60 days of close, open, high, low and vwap relative
/// to today's close, and of volume relative to today's volume, oldest first within each field.
/// </summary>
public static class Alpha360
{
    public static readonly IReadOnlyList<(string Name, string Expression)> Factors = Build();

    private static List<(string, string)> Build()
    {
        var list = new List<(string, string)>();
        foreach (var field in new[] { "close", "open", "high", "low", "vwap" })
            AddField(list, field, "$close");
        AddField(list, "volume", "($volume+1e-12)");
        return list;
    }

    private static void AddField(List<(string, string)> list, string field, string relativeTo)
    {
        var name = field.ToUpperInvariant();
        for (var day = 59; day >= 1; day--)
            list.Add(($"{name}{day}", $"Ref(${field}, {day})/{relativeTo}"));
        list.Add(($"{name}0", $"${field}/{relativeTo}"));
    }
}
