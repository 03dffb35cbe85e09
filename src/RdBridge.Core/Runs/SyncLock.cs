namespace RdBridge.Runs;

/// <summary>Another init/sync holds the lock; the message says which file and what to do.</summary>
public sealed class SyncBusyException(string message) : RdBridgeException(message, ExitCodes.ItemFailures);

/// <summary>The AIstock root cannot be written (read-only, or not ours): said at once, naming the folder.</summary>
public sealed class AistockRootNotWritableException(string message) : RdBridgeException(message, ExitCodes.UsageError);

/// <summary>
/// One init/sync at a time per AIstock root: an exclusive lock on a file (released by the OS if the process dies).
/// A second run waits a bounded time, then refuses.
/// </summary>
public sealed class SyncLock : IDisposable
{
    private readonly FileStream _file;
    private SyncLock(FileStream file) => _file = file;

    public static SyncLock Acquire(string path, TimeSpan wait)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                // Nothing is written into the file, so a run that changes nothing leaves it untouched too.
                return new SyncLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (Exception e) when (e is UnauthorizedAccessException
                || (e is IOException && IO.AtomicFile.WhyNotWritable(Path.GetDirectoryName(path)!) is not null))
            {
                // A folder RdBridge cannot write is no reason to wait: no other run can be holding the lock there.
                throw new AistockRootNotWritableException(NotWritable(Path.GetDirectoryName(path)!, e.Message));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
            catch (IOException)
            {
                throw new SyncBusyException(
                    $"another init/sync is running on this AIstock root (lock '{path}' held for more than " +
                    $"{wait.TotalSeconds:0} s); wait for it to finish, or check 'rdbridge sync-status'");
            }
        }
    }

    /// <summary>What a run says of an AIstock root it cannot write (the lock, preflight).</summary>
    public static string NotWritable(string root, string why) =>
        $"the AIstock root '{root}' cannot be written ({why}); RdBridge keeps its lock, catalogs and bundles there " +
        "— make the folder writable, or set aistock.root to one that is";

    public void Dispose() => _file.Dispose();
}
