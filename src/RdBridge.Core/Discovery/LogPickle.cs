using RdBridge.Pickles;

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
    /// <summary>A file younger than this that ends mid-pickle is taken to be still being written.</summary>
    public static readonly TimeSpan WritingWindow = TimeSpan.FromMinutes(10);

    public bool Ok => Trouble == PickleTrouble.None;

    /// <summary>
    /// Reads one pickle with RdBridge's data-only reader (nothing it names is imported or called) and tells a file that
    /// is still being written (truncated and young) from one that is broken.
    /// </summary>
    public static LogPickle Read(string path, DateTime nowUtc)
    {
        try
        {
            return new(path, PickleReader.Read(PickleFile.ReadAllBytes(path, PickleKind.LoggedObject)),
                PickleTrouble.None, null);
        }
        catch (TruncatedPickleException e)
        {
            // A file dated further in the future than the window is not young: its date says nothing, and waiting
            // for it would wait forever (exit 0 on every run). Nearer dates (a clock a little ahead) run out.
            var written = File.GetLastWriteTimeUtc(path);
            var age = nowUtc - written;
            if (age < -WritingWindow)
            {
                var date = IO.UtcText.FormatSeconds(written);
                return new(path, null, PickleTrouble.Truncated, $"is truncated and dated in the future ({date}), " +
                    $"so it is not taken to be still being written ({e.Message})");
            }

            return age < WritingWindow
                ? new(path, null, PickleTrouble.BeingWritten, "is still being written")
                : new(path, null, PickleTrouble.Truncated,
                    $"is truncated; RD-Agent stopped while writing it ({e.Message})");
        }
        catch (PickleException e)
        {
            return new(path, null, PickleTrouble.Unreadable, $"is not a pickle RdBridge reads as data ({e.Message})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new(path, null, PickleTrouble.Unreadable, $"cannot be read: {e.Message}");
        }
    }
}
