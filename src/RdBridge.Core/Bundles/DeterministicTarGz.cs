using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace RdBridge.Bundles;

/// <summary>
/// Writes a <c>.tar.gz</c> whose bytes depend only on the entries given: ustar headers with fixed owner, mode and
/// time, long ASCII names split into the ustar prefix field, PAX records only for names that are not ASCII or too long
/// for that, and a gzip header with no name, no time and a fixed OS byte. (The runtime's TarWriter puts its process
/// id into PAX header names, so it cannot be used here.)
/// </summary>
public sealed class DeterministicTarGz : IDisposable
{
    private const int Block = 512;
    private const int ChunkSize = 256 * 1024;
    /// <summary>2000-01-01T00:00:00Z: fixed, and late enough that no tool warns about a 1970 date.</summary>
    public const long FixedMtime = 946684800;

    private readonly Stream _output;
    private readonly DeflateStream _deflate;
    // Tar headers, padding and small files are short writes; coalescing them keeps calls into zlib few and large.
    // The buffer is rented, not allocated: a new quarter-megabyte array per bundle lands on the large-object heap,
    // which is collected rarely, so peak memory grew with the number of bundles written.
    private byte[]? _pending = System.Buffers.ArrayPool<byte>.Shared.Rent(ChunkSize);
    private int _pendingLength;
    private readonly Crc32 _crc = new();
    private long _uncompressed;
    // One header block reused for every entry: bundles hold tens of thousands of small files, and a fresh array,
    // string and LINQ pass per header showed up as garbage-collection time.
    private readonly byte[] _header = new byte[Block];
    private static readonly byte[] Zeros = new byte[Block * 2];
    private bool _finished;

    public DeterministicTarGz(Stream output, int compressionLevel = 6)
    {
        _output = output;
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown): the same on every machine.
        _output.Write([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
        _deflate = new DeflateStream(_output, new ZLibCompressionOptions { CompressionLevel = compressionLevel },
            leaveOpen: true);
    }

    public void AddBytes(string name, ReadOnlySpan<byte> content)
    {
        WriteHeader(name, content.Length);
        Write(content);
        Pad(content.Length);
    }

    /// <summary>
    /// Copies exactly <paramref name="length"/> bytes of <paramref name="content"/>, hashing them on the way.
    /// </summary>
    public string AddStream(string name, Stream content, long length)
    {
        WriteHeader(name, length);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(
            System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            var remaining = length;
            while (remaining > 0)
            {
                var read = content.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                if (read == 0)
                {
                    throw new IOException(
                        $"'{name}' became shorter while it was being packed (expected "
                            + $"{IO.Counted.Of(length, "byte")})");
                }

                sha.AppendData(buffer, 0, read);
                Write(buffer.AsSpan(0, read));
                remaining -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        if (content.ReadByte() >= 0)
        {
            throw new IOException($"'{name}' grew while it was being packed (expected "
                + $"{IO.Counted.Of(length, "byte")})");
        }
        Pad(length);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private void WriteHeader(string name, long size)
    {
        var largeSize = size > 0x1FFFFFFFF;
        var ustar = !largeSize && Ascii.IsValid(name);
        // Long ASCII names use the ustar prefix field (155 bytes, split at a '/'), as GNU tar's ustar format does:
        // workspace paths such as workspaces/<id>/mlruns/<experiment>/<run>/artifacts/… are mostly 100–150 bytes, and a
        // PAX record for each cost two more blocks and a string built per entry.
        var split = ustar && name.Length > 100 ? UstarSplit(name) : 0;
        if (ustar && (name.Length <= 100 || split > 0))
        {
            Write(Header(name, size, (byte)'0', split));
            return;
        }
        var records = new StringBuilder();
        records.Append(PaxRecord("path", name));
        if (largeSize)
            records.Append(PaxRecord("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var body = Encoding.UTF8.GetBytes(records.ToString());
        Write(Header(AsciiFallback("PaxHeaders/" + name), body.Length, (byte)'x'));
        Write(body);
        Pad(body.Length);
        Write(Header(AsciiFallback(name), largeSize ? 0 : size, (byte)'0'));
    }

    /// <summary>
    /// Where an ASCII name longer than 100 bytes splits into prefix and name fields: the last '/' that leaves at most
    /// 155 bytes before it and 1–100 after it. The longest prefix leaves the shortest name, so if it does not fit,
    /// nothing does. Returns 0 when the name cannot be split.
    /// </summary>
    private static int UstarSplit(string name)
    {
        if (name.Length > 256) return 0;
        var slash = name.LastIndexOf('/', Math.Min(name.Length - 2, 155));
        return slash > 0 && name.Length - slash - 1 <= 100 ? slash : 0;
    }

    private static string PaxRecord(string key, string value)
    {
        // "<length> key=value\n", where length counts its own digits.
        var payload = Encoding.UTF8.GetByteCount($" {key}={value}\n");
        var length = payload + 1;
        while (length.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + payload != length) length++;
        return $"{length} {key}={value}\n";
    }

    private static string AsciiFallback(string name)
    {
        var ascii = new string(name.Select(c => c is >= ' ' and < (char)0x7f ? c : '_').ToArray());
        return ascii.Length > 100 ? ascii[^100..] : ascii;
    }

    /// <summary>
    /// A ustar header block for an ASCII <paramref name="name"/> that fits the name field, or that goes into the prefix
    /// field up to the '/' at <paramref name="split"/> (from <see cref="UstarSplit"/>; 0 for no split).
    /// </summary>
    private byte[] Header(string name, long size, byte type, int split = 0)
    {
        var h = _header;
        Array.Clear(h);
        if (split > 0)
        {
            Encoding.ASCII.GetBytes(name.AsSpan(split + 1), h.AsSpan(0, 100));
            Encoding.ASCII.GetBytes(name.AsSpan(0, split), h.AsSpan(345, 155));
        }
        else
        {
            Encoding.ASCII.GetBytes(name, h.AsSpan(0, 100));
        }

        Octal(h, 100, 8, 0b110_100_100); // mode 0644
        Octal(h, 108, 8, 0);
        Octal(h, 116, 8, 0);
        Octal(h, 124, 12, size);
        Octal(h, 136, 12, FixedMtime);
        h[156] = type;
        "ustar\0"u8.CopyTo(h.AsSpan(257));
        "00"u8.CopyTo(h.AsSpan(263));
        Octal(h, 329, 8, 0);
        Octal(h, 337, 8, 0);
        h.AsSpan(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in h) sum += b;
        Octal(h, 148, 7, sum);
        h[155] = (byte)' ';
        return h;
    }

    /// <summary>Zero-padded octal digits and a NUL, as ustar fields are written.</summary>
    private static void Octal(byte[] h, int offset, int width, long value)
    {
        h[offset + width - 1] = 0;
        for (var i = offset + width - 2; i >= offset; i--)
        {
            h[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }
        if (value != 0) throw new ArgumentOutOfRangeException(nameof(value), "does not fit the ustar field");
    }

    private void Pad(long length)
    {
        var rest = (int)(length % Block);
        if (rest != 0) Write(Zeros.AsSpan(0, Block - rest));
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        _crc.Append(data);
        _uncompressed += data.Length;
        // The input reaches zlib in whole blocks of one size, whatever the sizes of the writes, so the compressed
        // bytes cannot depend on how entries were split into writes (as the BufferedStream used before did it for
        // writes of up to 128 KB).
        var pending = _pending ?? throw new ObjectDisposedException(nameof(DeterministicTarGz));
        while (!data.IsEmpty)
        {
            var n = Math.Min(data.Length, ChunkSize - _pendingLength);
            data[..n].CopyTo(pending.AsSpan(_pendingLength));
            _pendingLength += n;
            data = data[n..];
            if (_pendingLength == ChunkSize) FlushPending();
        }
    }

    private void FlushPending()
    {
        if (_pendingLength == 0) return;
        _deflate.Write(_pending.AsSpan(0, _pendingLength));
        _pendingLength = 0;
    }

    /// <summary>Writes the end-of-archive blocks and the gzip trailer.</summary>
    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        Write(Zeros);
        FlushPending();
        // A sync flush before the final block: bundles have always ended this way (it came with the BufferedStream
        // used before), and keeping it keeps every bundle byte-for-byte what earlier versions wrote.
        _deflate.Flush();
        _deflate.Dispose();
        Span<byte> trailer = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer[..4], _crc.GetCurrentHashAsUInt32());
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..],
            (uint)(_uncompressed & 0xFFFFFFFF));
        _output.Write(trailer);
    }

    public void Dispose()
    {
        _deflate.Dispose();
        if (_pending is { } pending)
        {
            _pending = null;
            System.Buffers.ArrayPool<byte>.Shared.Return(pending);
        }
    }
}
