using RdBridge.Configuration;

namespace RdBridge.Pipeline;

/// <summary>What every stage gets: the settings, where to say what it is doing, and the hook that runs once before the first change.</summary>
public sealed class RunContext(RdBridgeSettings settings, Action<string>? progress = null)
{
    private Action? _beforeFirstChange;
    private int _changed;

    public RdBridgeSettings Settings { get; } = settings;
    public CancellationToken Cancellation { get; init; }

    public void Progress(string line) => progress?.Invoke(line);

    /// <summary>
    /// Runs <paramref name="hook"/> right before the first write to the registry, the bundle folder or the strategies
    /// library — <c>init</c> takes its backup there, so a run that changes nothing leaves no new backup either.
    /// </summary>
    public void OnFirstChange(Action hook) => _beforeFirstChange = hook;

    public void BeforeChange()
    {
        if (Interlocked.Exchange(ref _changed, 1) == 0)
            _beforeFirstChange?.Invoke();
    }
}
