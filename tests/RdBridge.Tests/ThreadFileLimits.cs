using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace RdBridge.Tests;

/// <summary>
/// Runs code on a thread of its own whose access to files is cut down, for the tests of what RdBridge does when a
/// folder it found cannot be listed. The limits are the thread's alone (Linux keeps credentials and, once unshared,
/// the file descriptor table per thread), so the tests that run in parallel in this process are not touched; the code
/// under test must run synchronously on that thread. Linux only: the tests are never run on Windows (the Wine checks
/// of scripts/windows-check.sh run the CLI, not this suite), and elsewhere these throw rather than skip.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ThreadFileLimits
{
    /// <summary>
    /// Runs <paramref name="action"/> so that a file's or folder's mode holds for it, as for a user without
    /// privileges: a folder of mode 000 cannot be listed. The suite runs as root with every capability, and root lists
    /// such a folder (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); those two are taken out of the thread's effective set
    /// and given back afterwards. The user stays the same, so everything else the test wrote (its own files, of its
    /// own modes) stays as readable as before. Run as another user, the two are not there and nothing is taken.
    /// Either way a folder of mode 000 is tried first, and if it can still be listed this throws: the test would prove
    /// nothing. (setfsuid(65534) drops them too, but makes the thread another user than the owner of the test's
    /// files, so their folders' modes for others decide whether the rest can be read at all.)
    /// </summary>
    public static T WithFileModesEnforced<T>(Func<T> action)
    {
        EnsureLinux();
        return OnOwnThread(() =>
        {
            using var probe = new TempDir();
            var locked = probe["locked"];
            Directory.CreateDirectory(locked);
            File.SetUnixFileMode(locked, UnixFileMode.None);
            var held = Capabilities();
            SetCapabilities(held with { Effective = held.Effective & ~DacOverrides });
            try
            {
                if ((Capabilities().Effective & DacOverrides) != 0 || CanList(locked))
                {
                    throw new InvalidOperationException(
                        "the test thread still lists a folder of mode 000: file access could not be dropped");
                }
                return action();
            }
            finally
            {
                SetCapabilities(held);
                if (Capabilities().Effective != held.Effective)
                {
                    throw new InvalidOperationException("the test thread's capabilities were not given back");
                }
                File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            }
        });
    }

    /// <summary>
    /// Runs <paramref name="action"/> with no file descriptor left to open: every open, opendir included, fails with
    /// EMFILE (an <see cref="IOException"/>, "Too many open files"), while stat and the like still work. The thread
    /// first takes a file descriptor table of its own (unshare(CLONE_FILES)) and fills it to the limit, so the rest of
    /// the process goes on opening files; the filler descriptors are closed afterwards, and the thread's table (copies
    /// of the process's descriptors, which stay open there) goes when the thread ends. Throws if the table cannot be
    /// made its own or filled. The action must not use a descriptor another thread opens meanwhile (it is not in this
    /// table), nor leave a handle it opened to be closed elsewhere (its number means another file there); with every
    /// open failing, code that only reads what it is given does neither. The table grows to the process's limit
    /// (.NET raises the soft limit to the hard one: 20,000 on the build machine, at most fs.nr_open, 1,048,576 by
    /// default), a few megabytes at most.
    /// </summary>
    public static T WithNoFileDescriptorLeft<T>(Func<T> action)
    {
        EnsureLinux();
        return OnOwnThread(() =>
        {
            if (unshare(CloneFiles) != 0)
            {
                throw new InvalidOperationException(
                    $"unshare(CLONE_FILES) failed: errno {Marshal.GetLastPInvokeError()}");
            }
            var fillers = new List<int>();
            try
            {
                var first = open("/dev/null", 0);
                if (first < 0)
                {
                    throw new InvalidOperationException("/dev/null cannot be opened");
                }
                fillers.Add(first);
                int fd;
                while ((fd = dup(first)) >= 0)
                {
                    fillers.Add(fd);
                }
                if (Marshal.GetLastPInvokeError() != EmFile)
                {
                    throw new InvalidOperationException(
                        $"filling the file descriptor table stopped with errno {Marshal.GetLastPInvokeError()}");
                }
                return action();
            }
            finally
            {
                foreach (var fd in fillers)
                {
                    close(fd);
                }
            }
        });
    }

    /// <summary>Runs <paramref name="action"/> on a new thread (a new OS thread that ends with it) and gives back its
    /// result or throws its exception here.</summary>
    private static T OnOwnThread<T>(Func<T> action)
    {
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try { result = action(); }
            catch (Exception e) { error = ExceptionDispatchInfo.Capture(e); }
        });
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }

    private static void EnsureLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("per-thread file access limits are a Linux feature");
        }
    }

    private static bool CanList(string folder)
    {
        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(folder).GetEnumerator();
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    // linux/capability.h: the 64-bit capability sets (version 3) are two 32-bit words; both overrides are in the first.
    private const uint CapabilityVersion3 = 0x20080522;
    private const uint DacOverrides = (1u << 1) | (1u << 2); // CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    private const int CloneFiles = 0x400;
    private const int EmFile = 24;

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader { public uint Version; public int Pid; }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData { public uint Effective, Permitted, Inheritable; }

    private readonly record struct LowWord(uint Effective, CapData[] Data);

    /// <summary>The calling thread's capabilities (pid 0 is the calling thread, not the process).</summary>
    private static LowWord Capabilities()
    {
        var header = new CapHeader { Version = CapabilityVersion3 };
        var data = new CapData[2];
        if (capget(ref header, data) != 0)
        {
            throw new InvalidOperationException($"capget failed: errno {Marshal.GetLastPInvokeError()}");
        }
        return new LowWord(data[0].Effective, data);
    }

    private static void SetCapabilities(LowWord caps)
    {
        var header = new CapHeader { Version = CapabilityVersion3 };
        var data = (CapData[])caps.Data.Clone();
        data[0].Effective = caps.Effective;
        if (capset(ref header, data) != 0)
        {
            throw new InvalidOperationException($"capset failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int capget(ref CapHeader header, [In, Out] CapData[] data);

    [DllImport("libc", SetLastError = true)]
    private static extern int capset(ref CapHeader header, CapData[] data);

    [DllImport("libc", SetLastError = true)]
    private static extern int unshare(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int dup(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
