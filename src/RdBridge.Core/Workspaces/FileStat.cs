using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

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

    /// <summary>
    /// Appends the stat of <paramref name="path"/> to <paramref name="text"/> as numbers, or "-" when there is none
    /// (gone, unreadable).
    /// </summary>
    public static void Append(StringBuilder text, string path)
    {
        if (!_statxMissing)
        {
            var b = _buffer ??= new byte[256];
            try
            {
                if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, b) != 0)
                {
                    text.Append('-');
                    return;
                }
                // struct statx: stx_ino at 32, stx_size at 40, stx_ctime at 96, stx_mtime at 112 (seconds, then
                // nanoseconds).
                var s = b.AsSpan();
                text.Append(BinaryPrimitives.ReadUInt64LittleEndian(s[32..])).Append(' ')
                    .Append(BinaryPrimitives.ReadUInt64LittleEndian(s[40..])).Append(' ')
                    .Append(BinaryPrimitives.ReadInt64LittleEndian(s[112..])).Append('.')
                    .Append(BinaryPrimitives.ReadUInt32LittleEndian(s[120..])).Append(' ')
                    .Append(BinaryPrimitives.ReadInt64LittleEndian(s[96..])).Append('.')
                    .Append(BinaryPrimitives.ReadUInt32LittleEndian(s[104..]));
                return;
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                _statxMissing = true;
            }
        }
        // Elsewhere .NET gives size and times but no file id; a rewrite keeping size and both times goes unseen there.
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            text.Append('-');
        }
        else
        {
            text.Append(info.Length).Append(' ').Append(info.LastWriteTimeUtc.Ticks).Append(' ')
            .Append(info.CreationTimeUtc.Ticks);
        }
    }
}
