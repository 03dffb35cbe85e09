using System.Globalization;

namespace RdBridge.IO;

/// <summary>
/// Every timestamp RdBridge writes, in one place: ISO-8601 UTC with milliseconds in its databases, with microseconds in
/// catalogs (as the Python tools' <c>isoformat()</c> writes them), whole seconds for file times in the registry (as the
/// fork's tools record them), a compact stamp for file and folder names, and RD-Agent's own log names.
/// </summary>
public static class UtcText
{
    public static string Now() => Format(DateTimeOffset.UtcNow);

    public static string Format(DateTimeOffset t) => Utc(t, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    public static string FormatMicroseconds(DateTimeOffset t) => Utc(t, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'");

    public static string FormatSeconds(DateTimeOffset t) => Utc(t, "yyyy-MM-dd'T'HH:mm:ss'Z'");

    /// <summary>For names: sorts in time order and holds no character a file system refuses.</summary>
    public static string FileStamp(DateTimeOffset t) => Utc(t, "yyyyMMdd-HHmmss-fff");

    /// <summary>How RD-Agent names a log folder and each log pickle: its UTC time as <c>%Y-%m-%d_%H-%M-%S-%f</c>.
    /// </summary>
    private const string RdAgentStampFormat = "yyyy-MM-dd_HH-mm-ss-ffffff";

    public static string RdAgentStamp(DateTimeOffset t) => Utc(t, RdAgentStampFormat);

    /// <summary>The time an RD-Agent log name (without its extension) stands for; null when it is not one.</summary>
    public static DateTimeOffset? ParseRdAgentStamp(string name) =>
        DateTimeOffset.TryParseExact(name, RdAgentStampFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;

    // ISO 8601 as RdBridge, Python's isoformat() and SQLite's datetime() write it: 'T' or a space between date and
    // time, an optional fraction, and Z, an offset, or nothing (a time without an offset is UTC, as every writer of the
    // registry and the catalogs records it).
    private static readonly string[] IsoFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd",
    ];

    /// <summary>
    /// Reads an ISO-8601 time as the instant it names: <c>2026-01-01T20:42:37+08:00</c> and
    /// <c>2026-01-01T12:42:37Z</c> are the same instant. Times are compared as instants, never as text.
    /// </summary>
    public static bool TryParse(string? text, out DateTimeOffset time)
    {
        time = default;
        return text is not null && DateTimeOffset.TryParseExact(text.Trim(), IsoFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out time);
    }

    /// <summary>
    /// As <see cref="TryParse"/>; a text that is not such a time is a usage error naming <paramref name="what"/>.
    /// </summary>
    public static DateTimeOffset Parse(string text, string what) =>
        TryParse(text, out var time) ? time : throw new TimeFormatException(
            $"{what} '{text}' is not an ISO-8601 time; write it as 2026-01-01T00:00:00Z or with an offset, " +
            "2026-01-01T08:00:00+08:00");

    private static string Utc(DateTimeOffset t, string format) =>
        t.UtcDateTime.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>
/// A time given on the command line or in a request cannot be read; the message shows how to write it. Exit code 2.
/// </summary>
public sealed class TimeFormatException(string message) : RdBridgeException(message, ExitCodes.UsageError);
