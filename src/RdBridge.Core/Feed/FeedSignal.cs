using System.Globalization;

namespace RdBridge.Feed;

/// <summary>
/// What lets a consumer learn of a publisher's change at once instead of on a clock: a token that moves on each time a
/// publish changes what the feed serves, and a wait for it to move (the long poll of
/// <c>GET /api/rdagent/feed/changes</c>). The token names this process, so a consumer holding one from before a restart
/// sees it as moved and syncs.
/// </summary>
public sealed class FeedSignal
{
    private readonly string _instance = Guid.NewGuid().ToString("N")[..12];
    private readonly Lock _gate = new();
    private long _generation;
    private TaskCompletionSource _moved = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Token
    {
        get
        {
            lock (_gate) return $"{_instance}.{_generation.ToString(CultureInfo.InvariantCulture)}";
        }
    }

    /// <summary>The feed changed: every waiter is answered.</summary>
    public void Moved()
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            _generation++;
            done = _moved;
            _moved = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        done.TrySetResult();
    }

    /// <summary>The token once it differs from <paramref name="after"/>, or the same token after
    /// <paramref name="wait"/>.</summary>
    public async Task<string> WaitAsync(string? after, TimeSpan wait, CancellationToken cancel)
    {
        Task moved;
        lock (_gate)
        {
            var token = $"{_instance}.{_generation.ToString(CultureInfo.InvariantCulture)}";
            if (after != token) return token;
            moved = _moved.Task;
        }
        try { await moved.WaitAsync(wait, cancel); }
        catch (TimeoutException) { }
        return Token;
    }
}
