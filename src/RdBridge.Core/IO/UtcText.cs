using System.Globalization;

namespace RdBridge.IO;

/// <summary>
/// Every timestamp RdBridge writes, in one place: ISO-8601 UTC with milliseconds in its databases, with microseconds in
/// catalogs (as the Python tools' <c>isoformat()</c> writes them), whole seconds for file times in the registry (as the
/// fork's tools record them), and a compact stamp for file and folder names.
/// </summary>
public static class UtcText
{
    public static string Now() => Format(DateTimeOffset.UtcNow);

    public static string Format(DateTimeOffset t) => Utc(t, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    public static string FormatMicroseconds(DateTimeOffset t) => Utc(t, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'");

    public static string FormatSeconds(DateTimeOffset t) => Utc(t, "yyyy-MM-dd'T'HH:mm:ss'Z'");

    /// <summary>For names: sorts in time order and holds no character a file system refuses.</summary>
    public static string FileStamp(DateTimeOffset t) => Utc(t, "yyyyMMdd-HHmmss-fff");

    private static string Utc(DateTimeOffset t, string format) => t.UtcDateTime.ToString(format, CultureInfo.InvariantCulture);
}
