namespace RdBridge.Watch;

/// <summary>Where a change was seen: RD-Agent's log tree or its registry.</summary>
public enum ChangeKind { Log, Registry }

/// <summary>
/// Tells when RD-Agent writes: a file or folder under the log tree, or the registry. Events are hints, never the
/// truth: the sync they start compares what is on disk with what it recorded. A watch that cannot promise to see every
/// write says so (<see cref="Unreliable"/>) or reports the writes it lost (<see cref="Lost"/>); either way the live
/// sync falls back to a stat scan.
/// </summary>
public interface IChangeWatch : IDisposable
{
    /// <summary>Raised from any thread, with the path written.</summary>
    event Action<ChangeKind, string>? Changed;

    /// <summary>Raised when events were dropped (the kernel's queue overflowed, the watch broke): why.</summary>
    event Action<string>? Lost;

    /// <summary>Why events on these folders cannot be trusted (a network or WSL drive), or null if they
    /// can.</summary>
    string? Unreliable { get; }
}
