using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace RdBridge.Workspaces;

/// <summary>
/// What a stat of a file says without opening it: size, modification time, change time and inode (file id). Two stats
/// that agree mean the file was not replaced or rewritten in between, short of someone forging all four.
/// </summary>
internal static class FileStat
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private static bool _statxMissing = !OperatingSystem.IsLinux();

    [DllImport("libc", EntryPoint = "statx")]
    private static extern int Statx(
        int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    [ThreadStatic] private static byte[]? _buffer;

    /// <summary>The stat of <paramref name="path"/> as text, or null when there is none (gone, unreadable).</summary>
    public static string? Of(string path)
    {
        if (!_statxMissing)
        {
            var b = _buffer ??= new byte[256];
            try
            {
                if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, b) != 0) return null;
            }
            catch (EntryPointNotFoundException)
            {
                _statxMissing = true;
                return Portable(path);
            }
            // struct statx: stx_ino at 32, stx_size at 40, stx_ctime at 96 and stx_mtime at 112 (seconds, nanoseconds).
            var s = b.AsSpan();
            return string.Join(' ',
                BinaryPrimitives.ReadUInt64LittleEndian(s[32..]), BinaryPrimitives.ReadUInt64LittleEndian(s[40..]),
                BinaryPrimitives.ReadInt64LittleEndian(s[112..]), BinaryPrimitives.ReadUInt32LittleEndian(s[120..]),
                BinaryPrimitives.ReadInt64LittleEndian(s[96..]), BinaryPrimitives.ReadUInt32LittleEndian(s[104..]));
        }
        return Portable(path);
    }

    // Elsewhere .NET gives size and times but no file id; a rewrite that keeps size and both times goes unseen there.
    private static string? Portable(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) return null;
        return $"{info.Length} {info.LastWriteTimeUtc.Ticks} {info.CreationTimeUtc.Ticks}";
    }
}
