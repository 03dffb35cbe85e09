namespace RdBridge.Discovery;

/// <summary>A workspace a loop's experiment names, as RD-Agent's machine wrote its path.</summary>
public sealed record DiscoveredWorkspace(string WorkspaceId, string StoredPath, string Role, string StepName)
{
    public const string Experiment = "experiment_workspace";
    public const string Sub = "sub_workspace";
    /// <summary>The Alpha20 baseline fin_factor runs in loop 0 (an experiment without sub-tasks).</summary>
    public const string Baseline = "baseline_workspace";
}

/// <summary>What one loop's log says: the registry's loop columns plus the hypothesis and decision.</summary>
public sealed record DiscoveredLoop(
    long LoopId, string Status, string? Action, string? Hypothesis, bool? Decision,
    DateTimeOffset? Started, DateTimeOffset? Ended, string? ErrorType, string? ErrorMessage,
    IReadOnlyList<DiscoveredWorkspace> Workspaces)
{
    public const string Running = "running";
    public const string Success = "success";
    public const string Failed = "failed";

    public bool IsFinished => Status != Running;

    /// <summary>The last step RD-Agent logged anything in for the loop: where a running loop is, where a failed one
    /// stopped.</summary>
    public string? Step { get; init; }
}

/// <summary>A log pickle discovery could not use, with its path.</summary>
public sealed record UnusablePickle(string Path, string Message);

/// <summary>The outcome of reading one loop folder.</summary>
public sealed record LoopReading(DiscoveredLoop? Loop, IReadOnlyList<UnusablePickle> Broken, bool BeingWritten)
{
    /// <summary>Whether the loop can be recorded now (nothing broken, nothing half-written).</summary>
    public bool Usable => Loop is not null && Broken.Count == 0 && !BeingWritten;
}
