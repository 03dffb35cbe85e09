namespace RdBridge.Registry;

/// <summary>A row of <c>task_runs</c>.</summary>
public sealed record TaskRun(string TaskRunId, string? Scenario, string? Status, string? LogTracePath, string? CreatedAtUtc);

/// <summary>A row of <c>loops</c>, with its task run's scenario and log path.</summary>
public sealed record LoopRow(
    string TaskRunId, long LoopId, string? Action, string? Status, bool HasResult, string? LogDir,
    string? StartedAtUtc, string? EndedAtUtc, string? ErrorType, string? ErrorMessage,
    string? AssetBundleId, bool IsSolidified, string? MaterializationStatus, string? UpdatedAtUtc,
    string? Scenario, string? LogTracePath)
{
    public string Key => $"{TaskRunId}/{LoopId}";
    /// <summary>The id the guide gives a loop's bundle.</summary>
    public string BundleId => Layout.BundleId.For(TaskRunId, LoopId);
    public string StrategyId => $"strategy_{TaskRunId}_{LoopId}";

    public DateTimeOffset? Time =>
        ParseTime(StartedAtUtc) ?? ParseTime(EndedAtUtc) ?? ParseTime(UpdatedAtUtc);

    internal static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}

/// <summary>A row of <c>workspaces</c>.</summary>
public sealed record WorkspaceRow(
    string WorkspaceId, string TaskRunId, long? LoopId, string? Role, string? ExperimentType,
    string? StepName, string? Status, string WorkspacePath)
{
    public bool IsExperiment => Role is not null && Role.StartsWith("experiment", StringComparison.OrdinalIgnoreCase);
    public bool IsSubWorkspace => Role is not null && Role.StartsWith("sub", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The statuses real registries hold for usable workspaces: the live workflow writes <c>success</c>, the scan
    /// tool <c>present</c>, older rows nothing at all. <c>failed</c> and <c>running</c> workspaces are not used.
    /// </summary>
    public bool IsUsable => Status is null || Status.Length == 0
        || Status.Equals("success", StringComparison.OrdinalIgnoreCase)
        || Status.Equals("present", StringComparison.OrdinalIgnoreCase)
        || Status.Equals("finished", StringComparison.OrdinalIgnoreCase)
        || Status.Equals("done", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A row of <c>production_bundles</c>.</summary>
public sealed record BundleRow(string TaskRunId, long LoopId, string BundleId, string BundlePath, string? ContentDigest, string? ArchiveSha256, long? SizeBytes, long? FileCount);

/// <summary>Which loops a command works on.</summary>
public sealed record LoopSelection
{
    public string? TaskRunId { get; init; }
    public long? LoopId { get; init; }
    public DateTimeOffset? StartDate { get; init; }
    public DateTimeOffset? EndDate { get; init; }
    public DateTimeOffset? ChangedSince { get; init; }
    public int? MaxLoops { get; init; }
    public static LoopSelection All { get; } = new();

    public bool Matches(LoopRow loop)
    {
        if (TaskRunId is not null && loop.TaskRunId != TaskRunId) return false;
        if (LoopId is not null && loop.LoopId != LoopId) return false;
        if (StartDate is not null || EndDate is not null)
        {
            var t = loop.Time;
            if (t is null) return false;
            if (StartDate is not null && t < StartDate) return false;
            // --end-date is a day: the whole day counts.
            if (EndDate is not null && t >= EndDate.Value.AddDays(1)) return false;
        }
        if (ChangedSince is not null)
        {
            var changed = LoopRow.ParseTime(loop.UpdatedAtUtc) ?? loop.Time;
            if (changed is not null && changed <= ChangedSince) return false;
        }
        return true;
    }
}
