using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// <see cref="IdSpool"/> answers the same before and after its entries move to its scratch file: checked against a
/// dictionary given the same calls.
/// </summary>
public sealed class IdSpoolTests
{
    [Fact]
    public void Adds_sets_and_lookups_give_what_a_dictionary_gives_across_the_spill()
    {
        using var spool = new IdSpool(inMemory: 4);
        var expected = new Dictionary<UInt128, UInt128>();
        var ids = Enumerable.Range(0, 12).Select(i => ((UInt128)(ulong)i << 64) | (ulong.MaxValue - (ulong)i)).ToList();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            Assert.Equal(expected.TryAdd(id, (UInt128)i * 7), spool.TryAdd(id, (UInt128)i * 7));
            // The same id again: the first value stays.
            Assert.False(spool.TryAdd(id, 1));
            if (i % 3 == 0)
            {
                spool.Set(id, UInt128.MaxValue - (UInt128)i);
                expected[id] = UInt128.MaxValue - (UInt128)i;
            }
        }
        Assert.True(spool.Spilled);
        foreach (var id in ids)
        {
            Assert.True(spool.TryGetValue(id, out var value));
            Assert.Equal(expected[id], value);
        }
        Assert.False(spool.TryGetValue(12345, out var none));
        Assert.Equal(UInt128.Zero, none);
    }
}
