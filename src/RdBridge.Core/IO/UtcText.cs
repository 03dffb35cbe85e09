using System.Globalization;

namespace RdBridge.IO;

/// <summary>The one timestamp format RdBridge writes into databases: ISO-8601 UTC with milliseconds.</summary>
public static class UtcText
{
    public static string Now() => Format(DateTimeOffset.UtcNow);
    public static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
