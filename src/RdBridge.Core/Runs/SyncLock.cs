namespace RdBridge.Runs;

/// <summary>Another init/sync holds the lock; the message says which file and what to do.</summary>
public sealed class SyncBusyException(string message) : RdBridgeException(message, ExitCodes.ItemFailures);

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

    public void Dispose() => _file.Dispose();
}
