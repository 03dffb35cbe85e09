using System.Buffers;
using System.Buffers.Binary;

namespace RdBridge.Registry;

/// <summary>A row of <c>task_runs</c>.</summary>
public sealed record TaskRun(
    string TaskRunId, string? Scenario, string? Status, string? LogTracePath, string? CreatedAtUtc);

/// <summary>
/// A row of <c>loops</c>, with its task run's scenario and log path. <see cref="WorkspaceId"/> and
/// <see cref="WorkspacePath"/> name the loop's experiment workspace (the guide's columns; backfill keeps them current).
/// </summary>
public sealed record LoopRow(
    string TaskRunId, long LoopId, string? Action, string? Status, bool HasResult, string? LogDir,
    string? StartedAtUtc, string? EndedAtUtc, string? ErrorType, string? ErrorMessage,
    string? AssetBundleId, bool IsSolidified, string? MaterializationStatus, string? UpdatedAtUtc,
    string? Scenario, string? LogTracePath, string? WorkspaceId = null, string? WorkspacePath = null)
{
    public string Key => $"{TaskRunId}/{LoopId}";
    /// <summary>The id the guide gives a loop's bundle.</summary>
    public string BundleId => Layout.BundleId.For(TaskRunId, LoopId);
    public string StrategyId => $"strategy_{TaskRunId}_{LoopId}";

    public DateTimeOffset? Time =>
        ParseTime(StartedAtUtc) ?? ParseTime(EndedAtUtc) ?? ParseTime(UpdatedAtUtc);

    internal static DateTimeOffset? ParseTime(string? text) => IO.UtcText.TryParse(text, out var t) ? t : null;
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
public sealed record BundleRow(
    string TaskRunId, long LoopId, string BundleId, string BundlePath, string? ContentDigest, string? ArchiveSha256,
    long? SizeBytes, long? FileCount);

/// <summary>A row of <c>artifacts</c> as backfill registers it (version 'v1', status 'present').</summary>
public sealed record ArtifactRow(
    string ArtifactId, string TaskRunId, long? LoopId, string WorkspaceId, string Type, string Name, bool Primary,
    string EntryPath);

/// <summary>A row of <c>artifact_files</c>: one file of an artifact with its digest, size and mtime.</summary>
public sealed record ArtifactFileRow(
    string FileId, string ArtifactId, string WorkspaceId, string Path, string Sha256, long Size, string MtimeUtc,
    string Kind);

/// <summary>A row of <c>factor_registry</c>: a factor a bundle holds.</summary>
public sealed record FactorRegistryRow(string Name, string? Expression, string? PerformanceJson, string WorkspaceId);

/// <summary>What the bundle stage records of a loop's bundle: its <c>production_bundles</c> row, factors.</summary>
public sealed record BundleRecord(
    string TaskRunId, long LoopId, string BundleId, string BundlePath, string ContentDigest, string ArchiveSha256,
    long SizeBytes, long FileCount, IReadOnlyList<FactorRegistryRow> Factors);

/// <summary>A built bundle with when its row last changed (what the publisher's feed lists).</summary>
public sealed record BuiltBundleRow(
    string BundleId, string TaskRunId, long LoopId, string ArchiveSha256, long SizeBytes, string ChangedAt);

/// <summary>A new <c>task_runs</c> row, as RD-Agent writes it (the sample generator plays RD-Agent).</summary>
public sealed record NewTaskRun(
    string TaskRunId, string Scenario, string Status, string CreatedAtUtc, string RdAgentVersion, string LogTracePath);

/// <summary>A new <c>workspaces</c> row, as RD-Agent writes it.</summary>
public sealed record NewWorkspace(WorkspaceRow Row, string CreatedAtUtc);

/// <summary>
/// A row the registry holds but RdBridge cannot use (a NULL id, text in an integer column, a second row with the same
/// key): named with its table and key, skipped, and reported by the stage that read it.
/// </summary>
public sealed record BadRow(string Table, string Key, string Reason, string Registry = "")
{
    public string Item => $"{Table} row {Key}";
    /// <summary>What was worked around and where: the registry file is named, so the fix can be made there.</summary>
    public string Message => $"{Reason}; the row is skipped, fix or delete it in the registry " +
        (Registry.Length > 0 ? $"'{Registry}'" : "");
    public override string ToString() => $"{Item}: {Message}";
}

/// <summary>What the last successful run recorded of one loop (see <c>LoopFingerprints</c>).</summary>
public sealed record LoopState(string TaskRunId, long LoopId, LoopDigest Fingerprint)
{
    public string Key => $"{TaskRunId}/{LoopId}";
}

/// <summary>
/// A loop's SHA-256 digest as two numbers. A sync keeps one per loop from its start to its end; as hex text each was
/// a 154-byte string on the heap, as this it is 32 bytes inside the table that holds it (issue 22, point 4). The
/// registry stores it as lowercase hex (<see cref="ToString"/>), as it always did.
/// </summary>
public readonly record struct LoopDigest(UInt128 High, UInt128 Low)
{
    public static LoopDigest Of(ReadOnlySpan<byte> sha256) => new(
        BinaryPrimitives.ReadUInt128BigEndian(sha256[..16]),
        BinaryPrimitives.ReadUInt128BigEndian(sha256[16..32]));

    /// <summary>Reads what <see cref="ToString"/> wrote; anything else (a row edited by hand) is no digest.</summary>
    public static LoopDigest? Parse(string hex)
    {
        Span<byte> bytes = stackalloc byte[32];
        // 64 digits decoded completely are 32 bytes.
        if (hex.Length != 64 || Convert.FromHexString(hex, bytes, out _, out _) != OperationStatus.Done) return null;
        return Of(bytes);
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[32];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt128BigEndian(bytes[16..], Low);
        return Convert.ToHexStringLower(bytes);
    }
}

/// <summary>Which loops a command works on.</summary>
public sealed record LoopSelection
{
    public string? TaskRunId { get; init; }
    public long? LoopId { get; init; }
    public DateTimeOffset? StartDate { get; init; }
    public DateTimeOffset? EndDate { get; init; }
    public DateTimeOffset? ChangedSince { get; init; }
    public int? MaxLoops { get; init; }

    /// <summary>
    /// Only these loops (by <see cref="LoopRow.Key"/>): what <c>sync</c> found changed on disk or in the registry since
    /// its last successful run. Null means no such limit.
    /// </summary>
    public IReadOnlySet<string>? Keys { get; init; }

    public static LoopSelection All { get; } = new();

    public bool Matches(LoopRow loop)
    {
        if (TaskRunId is not null && loop.TaskRunId != TaskRunId) return false;
        if (LoopId is not null && loop.LoopId != LoopId) return false;
        if (Keys is not null && !Keys.Contains(loop.Key)) return false;
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
