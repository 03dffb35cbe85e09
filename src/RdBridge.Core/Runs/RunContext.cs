using RdBridge.Configuration;

namespace RdBridge.Runs;

/// <summary>A terminal line that shows a stage's progress in place.</summary>
public interface IProgressDisplay
{
    void Update(string stage, long done, long? total, string detail);
    /// <summary>Clears the line, so the next output starts on a clean one.</summary>
    void Clear();
}

/// <summary>
/// What every stage gets: the settings, where to say what it is doing, and the hook that runs once before the first
/// change.
/// </summary>
public sealed class RunContext(
    RdBridgeSettings settings, Action<string>? progress = null, IProgressDisplay? display = null)
{
    private Action? _beforeFirstChange;
    private int _changed;

    /// <summary>
    /// Where a long stage says how far it got: a live bar in a terminal, or (no display) a plain line every 500 loops,
    /// which is what a log or CI wants.
    /// </summary>
    public void Tick(string stage, long done, long? total, string detail)
    {
        if (display is not null) display.Update(stage, done, total, detail);
        else if (done % 500 == 0)
            progress?.Invoke($"[{stage}] … {done}{(total is null ? "" : $"/{total}")} loops, {detail}");
    }

    public RdBridgeSettings Settings { get; } = settings;
    public CancellationToken Cancellation { get; init; }

    public void Progress(string line) => progress?.Invoke(line);

    /// <summary>Told of each file a stage wrote (<c>--verbose</c> lists them, as the guide's output does).</summary>
    public Action<string>? FileWritten { get; init; }

    public void Wrote(string path) => FileWritten?.Invoke(path);

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
