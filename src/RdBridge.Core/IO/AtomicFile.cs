namespace RdBridge.IO;

/// <summary>
/// The one way RdBridge writes a file: into a temporary sibling, flushed to disk, then renamed over the target,
/// so a crash never leaves a half-written file under the real name.
/// </summary>
public static class AtomicFile
{
    /// <summary>A fully written temporary file that <see cref="Commit"/> makes durable and renames to <c>Target</c>.</summary>
    public sealed record Pending(string Temp, string Target);

    public static string TempPathFor(string target) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>Writes through <paramref name="write"/> and renames into place.</summary>
    public static void Write(string target, Action<Stream> write) => Commit(WriteTemporary(target, write));

    /// <summary>
    /// The first half of <see cref="Write"/>: the content goes to a temporary sibling, without waiting for the disk.
    /// Splitting lets a caller that writes many files keep computing while another thread waits for each fsync.
    /// </summary>
    public static Pending WriteTemporary(string target, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        var temp = TempPathFor(target);
        try
        {
            // 64 KB stays below the large-object heap (85,000 bytes), so the buffer of each of thousands of files is
            // reclaimed by the next young-generation collection instead of piling up until a full one.
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
            write(stream);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        return new Pending(temp, target);
    }

    /// <summary>
    /// The second half: the temporary file reaches the disk before it takes the real name. With
    /// <paramref name="durable"/> false it is only renamed: for derived files that every reader checks and the next
    /// run rewrites (after a power cut such a file may be empty, never half of an older one).
    /// </summary>
    public static void Commit(Pending pending, bool durable = true)
    {
        try
        {
            if (durable)
            {
                using var stream = new FileStream(pending.Temp, FileMode.Open, FileAccess.Write, FileShare.None, bufferSize: 0);
                stream.Flush(flushToDisk: true);
            }
            File.Move(pending.Temp, pending.Target, overwrite: true);
        }
        catch
        {
            TryDelete(pending.Temp);
            throw;
        }
    }

    public static void WriteBytes(string target, ReadOnlySpan<byte> bytes, bool durable = true)
    {
        var copy = bytes.ToArray();
        Commit(WriteTemporary(target, s => s.Write(copy)), durable);
    }

    public static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
