using System.Collections.Concurrent;

namespace RdBridge.Store;

/// <summary>
/// Counts of catalog rows matching a filter, kept per table version. Paging through one filter asks for the same count
/// again and again, and counting (up to the cap) costs more than fetching the page itself. A count is filed under the
/// table version read before counting: any write to the table changes the version, so a kept count is never served for
/// changed data, and a count that raced with a commit is filed under the older version, which no later request asks
/// for. The server holds one for its lifetime; without one, every page counts afresh.
/// </summary>
public sealed class MatchCounts
{
    private const int Kept = 1024;
    private readonly ConcurrentDictionary<string, object> _counts = new();

    /// <summary>
    /// The kept figure under <paramref name="key"/>, else <paramref name="count"/>'s, kept for next time. A figure is
    /// one number, or several read by one statement (a count and the rows it read; what a sample kept of each filter).
    /// </summary>
    public T Get<T>(string key, Func<T> count) where T : notnull
    {
        if (_counts.TryGetValue(key, out var kept) && kept is T figure) return figure;
        var counted = count();
        if (_counts.Count >= Kept) _counts.Clear(); // old versions and rare filters go all at once; counting is cheap
        _counts[key] = counted;
        return counted;
    }
}
