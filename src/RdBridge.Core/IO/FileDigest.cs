using System.Security.Cryptography;

namespace RdBridge.IO;

/// <summary>The one place RdBridge computes SHA-256 digests of files and bytes.</summary>
public static class FileDigest
{
    private const int BufferSize = 128 * 1024;

    /// <summary>The digest of a regular file; anything else (a FIFO, a device) is refused, never opened.</summary>
    public static string Sha256OfFile(string path)
    {
        using var stream = RegularFile.OpenRead(path, bufferSize: 0);
        return Sha256OfStream(stream);
    }

    public static string Sha256OfStream(Stream stream)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                sha.AppendData(buffer, 0, read);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// Hashes a file in one read and, when the whole file fits in <paramref name="room"/>, leaves its bytes there, so
    /// a caller that needs the digest before it can use the content (a bundle's manifest precedes its files) does not
    /// read the file twice. <c>Kept</c> says whether the bytes are in <c>room[..Length]</c>. With the length the
    /// directory listing gave (<paramref name="listedLength"/>) a small file takes a single read; the digest and length
    /// always describe the bytes actually read, even when the file changed since it was listed.
    /// </summary>
    public static (string Sha256, long Length, bool Kept) Sha256OfFileKeeping(
        string path, Span<byte> room, long listedLength = long.MaxValue)
    {
        // A handle and positional reads rather than a FileStream: a bundle run opens tens of thousands of small files,
        // and the stream's extra system calls per file (another stat, read-ahead advice, a read that finds the end)
        // cost more kernel time than the reading itself.
        using var handle = RegularFile.OpenHandle(path);
        var length = 0;
        while (length < room.Length)
        {
            var request = room.Length - length;
            var read = RandomAccess.Read(handle, room.Slice(length, request), length);
            length += read;
            // A short read past the listed length is the end of the file. Before it, it may only be a network file
            // system's transfer limit (WSL's drvfs, SMB), so reading goes on until a read returns nothing.
            if (read == 0 || (read < request && length >= listedLength))
                return (Sha256OfBytes(room[..length]), length, true);
        }

        // Larger than the room: hash what was read, then the rest, and let the caller read it again when it needs it.
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(room[..length]);
        long total = length;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = RandomAccess.Read(handle, buffer, total)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                total += read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        // A file that exactly filled the room is kept too.
        return (Convert.ToHexStringLower(sha.GetHashAndReset()), total, total == length);
    }

    public static string Sha256OfBytes(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256OfText(string text) => Sha256OfBytes(System.Text.Encoding.UTF8.GetBytes(text));
}

/// <summary>
/// A stream wrapper that hashes everything written through it, so a copy is verified in one pass. With a
/// <c>bufferSize</c> it also gathers small writes into a pooled block before passing them on, so the stream below
/// needs no buffer of its own (a bundle run writes thousands of archives, each of which allocated one).
/// </summary>
public sealed class HashingWriteStream(Stream inner, int bufferSize = 0) : Stream
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[]? _buffer = bufferSize > 0 ? System.Buffers.ArrayPool<byte>.Shared.Rent(bufferSize) : null;
    private int _buffered;
    public long BytesWritten { get; private set; }
    public string HexDigest() => Convert.ToHexStringLower(_sha.GetHashAndReset());

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _sha.AppendData(buffer);
        BytesWritten += buffer.Length;
        if (_buffer is null) { inner.Write(buffer); return; }
        if (_buffered + buffer.Length > _buffer.Length) WriteBuffered();
        if (buffer.Length >= _buffer.Length)
        {
            inner.Write(buffer);
        }
        else
        {
            buffer.CopyTo(_buffer.AsSpan(_buffered));
            _buffered += buffer.Length;
        }
    }

    private void WriteBuffered()
    {
        if (_buffered == 0) return;
        inner.Write(_buffer.AsSpan(0, _buffered));
        _buffered = 0;
    }

    public override void Flush()
    {
        WriteBuffered();
        inner.Flush();
    }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => BytesWritten;
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_buffer is { } b)
            {
                try { WriteBuffered(); }
                finally
                {
                    _buffer = null;
                    System.Buffers.ArrayPool<byte>.Shared.Return(b);
                }
            }
            _sha.Dispose();
        }
        base.Dispose(disposing);
    }
}
