using System.Security.Cryptography;
using RdBridge.IO;

namespace RdBridge.Tests.Bundles;

public class HashingWriteStreamTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    public void Passes_on_every_byte_in_order_and_hashes_them_whatever_the_write_sizes(int bufferSize)
    {
        var data = new byte[50_000];
        new Random(7).NextBytes(data);
        using var sink = new MemoryStream();
        string digest;
        long written;
        using (var hashing = new HashingWriteStream(sink, bufferSize))
        {
            // Writes smaller than, equal to and larger than the buffer, and an empty one.
            var at = 0;
            foreach (var n in new[] { 1, 999, 1000, 0, 1001, 3, 4000, 17 }.Concat(Enumerable.Repeat(700, 100)))
            {
                var take = Math.Min(n, data.Length - at);
                hashing.Write(data, at, take);
                at += take;
            }
            hashing.Write(data, at, data.Length - at);
            hashing.Flush();
            digest = hashing.HexDigest();
            written = hashing.BytesWritten;
        }
        Assert.Equal(data, sink.ToArray());
        Assert.Equal(data.Length, written);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), digest);
    }

    [Fact]
    public void Disposing_writes_what_is_still_buffered()
    {
        using var sink = new MemoryStream();
        using (var hashing = new HashingWriteStream(sink, 4096)) hashing.Write([1, 2, 3]);
        Assert.Equal(new byte[] { 1, 2, 3 }, sink.ToArray());
    }
}
