using System.Security.Cryptography;
using RdBridge.Bundles;

namespace RdBridge.Tests.Bundles;

public class BundleSpoolTests
{
    [Fact]
    public void Files_that_fit_are_kept_and_larger_ones_are_only_hashed()
    {
        var dir = Directory.CreateTempSubdirectory("rdbridge-spool-");
        try
        {
            var small = Path.Combine(dir.FullName, "small.bin");
            var large = Path.Combine(dir.FullName, "large.bin");
            var empty = Path.Combine(dir.FullName, "empty.bin");
            var smallBytes = RandomNumberGenerator.GetBytes(600);
            var largeBytes = RandomNumberGenerator.GetBytes(5_000);
            File.WriteAllBytes(small, smallBytes);
            File.WriteAllBytes(large, largeBytes);
            File.WriteAllBytes(empty, []);

            var spool = new BundleSpool(1_024);
            Assert.Equal((Convert.ToHexStringLower(SHA256.HashData(smallBytes)), 600L), spool.Read(small));
            Assert.Equal((Convert.ToHexStringLower(SHA256.HashData(largeBytes)), 5_000L), spool.Read(large));
            Assert.Equal((Convert.ToHexStringLower(SHA256.HashData([])), 0L), spool.Read(empty));

            Assert.True(spool.TryGet(small, out var kept));
            Assert.Equal(smallBytes, kept.ToArray());
            Assert.False(spool.TryGet(large, out _));
            Assert.True(spool.TryGet(empty, out var none));
            Assert.Equal(0, none.Length);

            spool.Clear();
            Assert.False(spool.TryGet(small, out _));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
