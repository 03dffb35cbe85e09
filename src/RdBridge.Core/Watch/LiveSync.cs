using RdBridge.Configuration;

namespace RdBridge.Watch;

/// <summary>
/// How the live sync waits: <see cref="Quiet"/> without a new write ends a burst (at most <see cref="MaxDelay"/> after
/// its first write), a stat scan runs every <see cref="ScanInterval"/> when events cannot be trusted, and a run refused
/// because another sync holds the lock is tried again after <see cref="BusyRetry"/>.
/// </summary>
public sealed record LiveOptions(TimeSpan Quiet, TimeSpan MaxDelay, TimeSpan ScanInterval, TimeSpan BusyRetry)
{
    public static LiveOptions Default { get; } =
        new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2));

    /// <summary>The watch to use; null: the operating system's file events (<see cref="FileChangeWatch"/>).</summary>
    public Func<RdBridgeSettings, IChangeWatch>? Watch { get; init; }
}

/// <summary>What one run was for and how it went.</summary>
public enum LiveOutcome { Done, Busy }

/// <summary>One run of the live sync: its number, why it ran, and the scan that found the change (if
/// any).</summary>
public sealed record LiveRun(int Number, string Reason, int? FoundByScan);

/// <summary>
/// Runs the incremental sync when RD-Agent writes: events (or, when they cannot be trusted, a stat scan) mark the
/// sync as due; a burst of writes is one run (the run starts once the writes pause); runs never overlap (one loop runs
/// them, and the sync's own lock refuses a run while a cron or button sync holds it, which is then tried again). A
/// write during a run makes exactly one more run after it. The registry is also written by the sync itself, so a
/// registry event alone starts a run only when the registry differs from how the last run left it.
/// </summary>
public sealed class LiveSync(RdBridgeSettings settings, LiveOptions options, Func<CancellationToken, LiveOutcome> run)
    : IDisposable
{
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Lock _gate = new();
    private readonly List<string> _reasons = [];
    private bool _logChanged;
    private bool _registryChanged;
    private IChangeWatch? _watch;
    private string? _scanReason;
    private int _scans;

    /// <summary>A line for the server's log: how changes are watched, a fallback, a run's reason.</summary>
    public event Action<string>? Said;

    /// <summary>Raised after each stat scan with its number and whether it found a change.</summary>
    public event Action<int, bool>? Scanned;

    /// <summary>Raised just before a run starts, and after it ends.</summary>
    public event Action<LiveRun>? Starting;
    public event Action<LiveRun, LiveOutcome>? Finished;

    /// <summary>How changes are found: "file events", or the stat scan and why.</summary>
    public string Mode =>
        _scanReason is null ? "file events" : $"stat scan every {options.ScanInterval.TotalSeconds:0.#} s";

    public int Runs { get; private set; }

    /// <summary>Marks a run as due (a publisher announced a change, the API asked).</summary>
    public void Signal(string reason) => Note(null, reason);

    private void Note(ChangeKind? kind, string reason)
    {
        lock (_gate)
        {
            if (kind == ChangeKind.Registry) _registryChanged = true; else _logChanged = true;
            if (_reasons.Count < 3) _reasons.Add(reason);
        }
        if (_wake.CurrentCount == 0)
        {
            try { _wake.Release(); } catch (SemaphoreFullException) { } // already due
        }
    }

    public async Task RunAsync(bool watchLocal, CancellationToken stop)
    {
        ScanStamp? baseline = null;
        var registryAfterRun = "";
        if (watchLocal)
        {
            try
            {
                _watch = options.Watch?.Invoke(settings) ?? new FileChangeWatch(settings);
                _watch.Changed += (kind, path) => Note(kind, path);
                _watch.Lost += reason =>
                {
                    if (_scanReason is null)
                        Said?.Invoke($"file events were lost ({reason}); falling back to a stat scan");
                    _scanReason ??= reason;
                    Signal("file events lost");
                };
                _scanReason = _watch.Unreliable;
            }
            catch (Exception e) when (e is IOException or PlatformNotSupportedException or ArgumentException)
            {
                _scanReason = $"file events unavailable: {e.Message}";
            }
            Said?.Invoke(_scanReason is null
                ? $"watching {settings.LogRoot} and {settings.RegistryPath} for RD-Agent's writes (file events)"
                : $"watching {settings.LogRoot} and {settings.RegistryPath} by a stat scan every "
                    + $"{options.ScanInterval.TotalSeconds:0.#} s: {_scanReason}");
        }
        // What changed while the server was down is caught up first.
        Signal("start");
        int? foundByScan = null;
        while (!stop.IsCancellationRequested)
        {
            var scanning = watchLocal && _scanReason is not null;
            try
            {
                var due = await _wake.WaitAsync(scanning ? options.ScanInterval : Timeout.InfiniteTimeSpan, stop);
                if (!due)
                {
                    var now = StatScan.Take(settings);
                    var scan = ++_scans;
                    var found = baseline is not null && (now.Log != baseline.Log || now.Registry != registryAfterRun);
                    Scanned?.Invoke(scan, found);
                    if (!found) continue;
                    foundByScan = scan;
                }
                // A burst: wait until the writes pause, but no longer than MaxDelay from the first.
                var first = DateTime.UtcNow;
                while (DateTime.UtcNow - first < options.MaxDelay
                    && await _wake.WaitAsync(options.Quiet, stop)) { }
            }
            catch (OperationCanceledException) { return; }

            string reason;
            bool logChanged, registryChanged;
            lock (_gate)
            {
                reason = _reasons.Count == 0 ? "stat scan" : string.Join(", ", _reasons);
                logChanged = _logChanged || foundByScan is not null;
                registryChanged = _registryChanged;
                _reasons.Clear();
                _logChanged = _registryChanged = false;
            }
            // The sync writes the registry too: its own writes are no reason for another run.
            if (!logChanged && registryChanged && StatScan.RegistryStamp(settings) == registryAfterRun) continue;

            var number = Runs + 1;
            var current = new LiveRun(number, reason, foundByScan);
            var startStamp = scanning || (watchLocal && _scanReason is not null) ? StatScan.Take(settings) : null;
            Starting?.Invoke(current);
            LiveOutcome outcome;
            try { outcome = await Task.Run(() => run(stop), stop); }
            catch (OperationCanceledException) { return; }
            Finished?.Invoke(current, outcome);
            if (outcome == LiveOutcome.Busy)
            {
                // Another sync holds the lock: this one is still due.
                Note(logChanged ? ChangeKind.Log : ChangeKind.Registry, reason);
                try { await Task.Delay(options.BusyRetry, stop); } catch (OperationCanceledException) { return; }
                continue;
            }
            Runs = number;
            foundByScan = null;
            registryAfterRun = StatScan.RegistryStamp(settings);
            // The log as the run began to read it: a write after that is found by the next scan.
            if (startStamp is not null) baseline = startStamp;
            else if (watchLocal && _scanReason is not null) baseline = StatScan.Take(settings);
            else baseline = new ScanStamp("", registryAfterRun);
        }
    }

    public void Dispose()
    {
        _watch?.Dispose();
        _wake.Dispose();
    }
}
