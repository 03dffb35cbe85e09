namespace RdBridge.IO;

/// <summary>
/// The one way RdBridge writes a file: into a temporary sibling, flushed, then renamed over the target,
/// so a crash never leaves a half-written file under the real name.
/// </summary>
public static class AtomicFile
{
    public static string TempPathFor(string target) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>Writes through <paramref name="write"/> and renames into place.</summary>
    public static void Write(string target, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        var temp = TempPathFor(target);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 128 * 1024))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteBytes(string target, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(target, s => s.Write(copy));
    }

    public static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
