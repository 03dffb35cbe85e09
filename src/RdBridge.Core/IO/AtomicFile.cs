namespace RdBridge.IO;

/// <summary>
/// The one way RdBridge writes a file: into a temporary sibling, flushed to disk, then renamed over the target,
/// so a crash never leaves a half-written file under the real name.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// A fully written temporary file that <see cref="Commit"/> makes durable and renames to <c>Target</c>.
    /// </summary>
    public sealed record Pending(string Temp, string Target);

    public static string TempPathFor(string target) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!,
            $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>
    /// Why no file can be created in <paramref name="folder"/> (a read-only mount, permissions), or null when one can:
    /// asked by creating one, since mode bits do not tell (root ignores them; a read-only mount keeps them).
    /// </summary>
    public static string? WhyNotWritable(string folder)
    {
        try
        {
            using var _ = new FileStream(TempPathFor(Path.Combine(folder, ".rdbridge-write-probe")), FileMode.CreateNew,
                FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return e.Message; }
    }

    /// <summary>Writes through <paramref name="write"/> and renames into place.</summary>
    public static void Write(string target, Action<Stream> write) => Commit(WriteTemporary(target, write));

    /// <summary>
    /// The first half of <see cref="Write"/>: the content goes to a temporary sibling, without waiting for the disk.
    /// Splitting lets a caller that writes many files keep computing while another thread waits for each fsync.
    /// </summary>
    /// <param name="bufferSize">The file stream's buffer: 0 when <paramref name="write"/> buffers (or writes once)
    /// itself, which spares a 64 KB array per file.</param>
    public static Pending WriteTemporary(string target, Action<Stream> write, int bufferSize = 64 * 1024)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        var temp = TempPathFor(target);
        try
        {
            // 64 KB stays below the large-object heap (85,000 bytes), so the buffer of each of thousands of files is
            // reclaimed by the next young-generation collection instead of piling up until a full one.
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize);
            write(stream);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        return new Pending(temp, target);
    }

    /// <summary>The second half: the temporary file reaches the disk before it takes the real name.</summary>
    public static void Commit(Pending pending)
    {
        try { FlushToDisk(pending.Temp); }
        catch
        {
            TryDelete(pending.Temp);
            throw;
        }
        MoveIntoPlace(pending);
    }

    /// <summary>
    /// The durable half of <see cref="Commit"/> for many files at once; <see cref="MoveIntoPlace"/> then gives each
    /// its name. On Linux one <c>syncfs</c> covers the whole group: an fsync per file costs a data write, an inode
    /// write and a disk-cache flush each, and in a virtual machine every one of those requests is an exit to the host
    /// (a bundle run spent a fifth of a core on them). On failure the files are left for the caller to delete.
    /// </summary>
    public static void FlushGroupToDisk(IReadOnlyList<Pending> group)
    {
        if (group.Count > 1 && SyncFileSystemOf(group[0].Temp)) return;
        foreach (var p in group) FlushToDisk(p.Temp);
    }

    /// <summary>Renames a flushed temporary file over its target; on failure the temporary file is deleted.</summary>
    public static void MoveIntoPlace(Pending pending)
    {
        try
        {
            RetryWhileHeldOpen(() => File.Move(pending.Temp, pending.Target, overwrite: true), pending.Target,
                retry: OperatingSystem.IsWindows());
        }
        catch
        {
            TryDelete(pending.Temp);
            throw;
        }
    }

    /// <summary>The waits between tries of a rename Windows refused because another program holds the target.</summary>
    internal static readonly TimeSpan[] HeldOpenWaits =
        [.. new[] { 20, 50, 100, 200, 400, 800 }.Select(ms => TimeSpan.FromMilliseconds(ms))];

    /// <summary>
    /// On Windows a rename over a file that another process has open (an antivirus scan, Explorer's preview, an
    /// editor) fails with a sharing violation or access denied until that process lets go, usually within
    /// milliseconds. Such a rename is tried again for about 1.5 s, then reported naming the file.
    /// </summary>
    internal static void RetryWhileHeldOpen(Action rename, string target, bool retry)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                rename();
                return;
            }
            catch (Exception e) when (retry && IsHeldOpen(e))
            {
                if (attempt == HeldOpenWaits.Length)
                {
                    throw new IOException(
                        $"'{target}' is held open by another program (antivirus, Explorer, an editor?) and could " +
                        $"not be replaced after {attempt + 1} tries; close it and run again", e);
                }

                Thread.Sleep(HeldOpenWaits[attempt]);
            }
        }
    }

    // ERROR_ACCESS_DENIED (5), ERROR_SHARING_VIOLATION (32), ERROR_LOCK_VIOLATION (33), as .NET reports them.
    private static bool IsHeldOpen(Exception e) =>
        e is UnauthorizedAccessException || (e is IOException && (e.HResult & 0xFFFF) is 32 or 33);

    private static void FlushToDisk(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None, bufferSize: 0);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Writes back everything pending on the file system holding <paramref name="path"/>; false where that cannot be
    /// done.
    /// </summary>
    private static bool SyncFileSystemOf(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return syncfs((int)handle.DangerousGetHandle()) == 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EntryPointNotFoundException
                                      or DllNotFoundException)
        {
            return false; // each file is then flushed on its own
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int syncfs(int fd);

    public static void WriteBytes(string target, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Commit(WriteTemporary(target, s => s.Write(copy), bufferSize: 0));
    }

    /// <summary>
    /// Temporary files of <see cref="WriteTemporary"/> in <paramref name="folder"/> whose writing process is gone (the
    /// process id is part of the name): a run killed between writing and renaming left them.
    /// </summary>
    public static IReadOnlyList<string> AbandonedTemporariesIn(string folder)
    {
        if (!Directory.Exists(folder)) return [];
        var found = new List<string>();
        // And the strategy library's index of an earlier RdBridge, named "….tmp.index".
        foreach (var file in Directory.EnumerateFiles(folder, ".*.tmp")
                     .Concat(Directory.EnumerateFiles(folder, ".*.tmp.index")))
        {
            var parts = Path.GetFileName(file).Split('.');
            if (parts[^1] == "index") parts = parts[..^1];
            // "", name parts…, pid, guid, "tmp"
            if (parts.Length < 5 || parts[^2].Length != 32 || !int.TryParse(parts[^3], out var pid)) continue;
            if (pid != Environment.ProcessId && !IsAlive(pid)) found.Add(file);
        }
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    public static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
