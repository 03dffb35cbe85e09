using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace RdBridge.IO;

/// <summary>What a directory entry is. Only <see cref="Regular"/> files are ever opened for reading.</summary>
public enum FileKind { Missing, Regular, Directory, Fifo, CharacterDevice, BlockDevice, Socket, Other }

/// <summary>
/// A file RdBridge will not read: not a regular file (a FIFO would block the run forever, a device never ends), or
/// larger than the cap for its kind. An I/O condition of one file, so every stage's per-item handling reports it and
/// goes on with the next item.
/// </summary>
public sealed class FileRefusedException(string path, string reason)
    : IOException($"'{path}' {reason}; it was not read")
{
    public string FilePath { get; } = path;
    public string Reason { get; } = reason;
}

/// <summary>
/// The one way RdBridge opens a file it did not write: the entry is checked before opening (a FIFO, socket or device
/// is never opened), opened so that opening cannot block (O_NONBLOCK on Linux), and checked again on the open handle
/// (the entry may have been swapped in between). Symbolic links are followed only to a regular file.
/// </summary>
public static class RegularFile
{
    /// <summary>What <paramref name="path"/> is, following links; <see cref="FileKind.Missing"/> when absent.</summary>
    public static FileKind KindOf(string path)
    {
        if (OperatingSystem.IsLinux()) return Linux.KindOfPath(path);
        if (Directory.Exists(path)) return FileKind.Directory;
        if (!File.Exists(path)) return FileKind.Missing;
        return (File.GetAttributes(path) & FileAttributes.Device) != 0 ? FileKind.CharacterDevice : FileKind.Regular;
    }

    /// <summary>Whether <paramref name="path"/> is a regular file (or a link to one).</summary>
    public static bool Exists(string path) => KindOf(path) == FileKind.Regular;

    /// <summary>Words for a kind that was skipped, for the report.</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Fifo => "is a FIFO (named pipe), not a regular file",
        FileKind.CharacterDevice => "is a character device, not a regular file",
        FileKind.BlockDevice => "is a block device, not a regular file",
        FileKind.Socket => "is a socket, not a regular file",
        FileKind.Directory => "is a folder, not a file",
        FileKind.Missing => "does not exist",
        _ => "is not a regular file",
    };

    /// <summary>
    /// Opens a regular file for reading, or throws <see cref="FileRefusedException"/> saying what it is.
    /// </summary>
    public static SafeFileHandle OpenHandle(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            var kind = KindOf(path);
            if (kind is not (FileKind.Regular or FileKind.Missing))
                throw new FileRefusedException(path, Describe(kind));
            // Shared for writing and deletion: RD-Agent may hold a log or result file open while it is read.
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read,
                FileShare.ReadWrite | FileShare.Delete);
        }
        var before = Linux.KindOfPath(path);
        if (before == FileKind.Missing) throw new FileNotFoundException($"Could not find file '{path}'.", path);
        if (before != FileKind.Regular) throw new FileRefusedException(path, Describe(before));
        var handle = Linux.OpenNonBlocking(path);
        try
        {
            var after = Linux.KindOfHandle(handle);
            if (after != FileKind.Regular) throw new FileRefusedException(path, Describe(after));
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>A read stream over a regular file (see <see cref="OpenHandle"/>).</summary>
    public static FileStream OpenRead(string path, int bufferSize = 4096) =>
        new(OpenHandle(path), FileAccess.Read, bufferSize);

    /// <summary>The whole file, when it is regular and at most <paramref name="cap"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long cap)
    {
        using var handle = OpenHandle(path);
        var length = RandomAccess.GetLength(handle);
        if (length > cap) throw TooLarge(path, length, cap);
        var bytes = new byte[length];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
            if (n == 0) return bytes[..read]; // shrank while being read: what was there
            read += n;
        }
        // Grown since its length was taken: at most the cap is read, and a file that went over it is refused.
        var probe = new byte[1];
        if (length < cap && RandomAccess.Read(handle, probe, length) > 0)
            return ReadGrown(handle, path, cap);
        return bytes;
    }

    /// <summary>
    /// The whole file as UTF-8 text (without a byte-order mark), at most <paramref name="cap"/> bytes.
    /// </summary>
    public static string ReadAllText(string path, long cap)
    {
        var bytes = ReadAllBytes(path, cap);
        var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
    }

    public static FileRefusedException TooLarge(string path, long length, long cap) =>
        new(path, $"holds {length:N0} bytes, more than the {cap:N0} such a file may have");

    private static byte[] ReadGrown(SafeFileHandle handle, string path, long cap)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        long offset = 0;
        int n;
        while ((n = RandomAccess.Read(handle, chunk, offset)) > 0)
        {
            offset += n;
            if (offset > cap) throw TooLarge(path, offset, cap);
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Linux system calls .NET does not expose: <c>statx</c> gives the file type (its layout is the same on every
    /// architecture, unlike <c>struct stat</c>), and <c>open</c> takes O_NONBLOCK, so opening a FIFO returns at once.
    /// </summary>
    private static class Linux
    {
        private const int AtFdCwd = -100;
        private const int AtEmptyPath = 0x1000;
        private const uint StatxType = 0x1;
        private const int ModeOffset = 28;
        private const int ENOENT = 2, EACCES = 13, ENOTDIR = 20, ENAMETOOLONG = 36, ELOOP = 40;
        private const int ORdOnly = 0, ONonBlock = 0x800, OCloExec = 0x80000;

        [DllImport("libc", SetLastError = true)]
        private static extern int statx(int dirfd, byte[] path, int flags, uint mask, byte[] buffer);

        [DllImport("libc", SetLastError = true, EntryPoint = "open")]
        private static extern int Open(byte[] path, int flags, int mode);

        private static byte[] NulTerminated(string path) => Encoding.UTF8.GetBytes(path + "\0");

        public static FileKind KindOfPath(string path)
        {
            var buffer = new byte[256];
            if (statx(AtFdCwd, NulTerminated(path), 0, StatxType, buffer) == 0) return KindOfMode(buffer);
            var errno = Marshal.GetLastPInvokeError();
            if (errno is ENOENT or ENOTDIR or ELOOP or ENAMETOOLONG) return FileKind.Missing;
            throw new IOException($"cannot examine '{path}': {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        public static FileKind KindOfHandle(SafeFileHandle handle)
        {
            var buffer = new byte[256];
            var fd = (int)handle.DangerousGetHandle();
            if (statx(fd, [0], AtEmptyPath, StatxType, buffer) != 0)
            {
                throw new IOException($"cannot examine an open file: " +
                    $"{Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }

            return KindOfMode(buffer);
        }

        public static SafeFileHandle OpenNonBlocking(string path)
        {
            var fd = Open(NulTerminated(path), ORdOnly | ONonBlock | OCloExec, 0);
            if (fd >= 0) return new SafeFileHandle(fd, ownsHandle: true);
            var errno = Marshal.GetLastPInvokeError();
            var message = Marshal.GetPInvokeErrorMessage(errno);
            if (errno is ENOENT or ENOTDIR) throw new FileNotFoundException($"Could not find file '{path}'.", path);
            if (errno == EACCES)
                throw new UnauthorizedAccessException($"Access to the path '{path}' is denied ({message}).");
            throw new IOException($"cannot open '{path}': {message}");
        }

        private static FileKind KindOfMode(byte[] statxBuffer) =>
            KindOfMode(BitConverter.ToUInt16(statxBuffer, ModeOffset));

        private static FileKind KindOfMode(ushort mode) => (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
    }
}
