using RdBridge.Backfill;

namespace RdBridge.Discovery;

/// <summary>Why a log pickle could not be used.</summary>
public enum PickleTrouble
{
    /// <summary>Read fine.</summary>
    None,
    /// <summary>Shorter than a whole pickle and young: RD-Agent is most likely writing it right now; read it next
    /// time.</summary>
    BeingWritten,
    /// <summary>Shorter than a whole pickle and old: the writer died mid-file.</summary>
    Truncated,
    /// <summary>Not a pickle RdBridge can read as data (corrupt, hostile or too large).</summary>
    Unreadable,
}

/// <summary>One log pickle as read: its value, or why there is none.</summary>
public sealed record LogPickle(string Path, object? Value, PickleTrouble Trouble, string? Message)
{
    /// <summary>The largest log pickle read; RD-Agent's experiments are kilobytes to a few megabytes.</summary>
    public const long MaxBytes = 256L * 1024 * 1024;

    /// <summary>A file younger than this that ends mid-pickle is taken to be still being written.</summary>
    public static readonly TimeSpan WritingWindow = TimeSpan.FromMinutes(10);

    public bool Ok => Trouble == PickleTrouble.None;

    /// <summary>
    /// Reads one pickle with RdBridge's data-only reader (nothing it names is imported or called) and tells a file that
    /// is still being written from one that is broken. Every failure of the reader on bad input becomes a
    /// <see cref="PickleTrouble"/>; the integrator can fold this into the reader's own error type.
    /// </summary>
    public static LogPickle Read(string path, DateTime nowUtc)
    {
        byte[] data;
        DateTime written;
        try
        {
            var info = new FileInfo(path);
            if (info.Length > MaxBytes)
                return new(path, null, PickleTrouble.Unreadable,
                    $"is {info.Length} bytes, more than the {MaxBytes / (1024 * 1024)} MB a log pickle may have");
            written = info.LastWriteTimeUtc;
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new(path, null, PickleTrouble.Unreadable, $"cannot be read: {e.Message}");
        }
        try
        {
            return new(path, PickleReader.Read(data), PickleTrouble.None, null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // pickle.dump ends every pickle with STOP ('.'); a file without it at its end was cut short.
            var cut = data.Length == 0 || data[^1] != (byte)'.';
            if (cut && nowUtc - written < WritingWindow)
                return new(path, null, PickleTrouble.BeingWritten, "is still being written");
            return cut
                ? new(path, null, PickleTrouble.Truncated,
                    $"is truncated ({data.Length} bytes, no end of pickle); RD-Agent stopped while writing it")
                : new(path, null, PickleTrouble.Unreadable, $"is not a pickle RdBridge reads as data ({Describe(e)})");
        }
    }

    private static string Describe(Exception e) => e switch
    {
        FormatException => e.Message,
        OverflowException or ArgumentOutOfRangeException or IndexOutOfRangeException =>
            "a length or position points outside the file",
        KeyNotFoundException => "it refers to an object it never stored",
        _ => $"malformed: {e.GetType().Name}",
    };
}
