namespace RdBridge.Layout;

/// <summary>Asset bundle ids: the one way a loop's id is formed, and which ids may name files and folders.</summary>
public static class BundleId
{
    /// <summary><c>bundle_&lt;task_run_id&gt;_&lt;loop_id&gt;</c>, as the guide names a loop's bundle.</summary>
    public static string For(string taskRunId, long loopId) => $"bundle_{taskRunId}_{loopId}";

    /// <summary>
    /// Letters, digits, '_', '-', '.'; not starting with a dot. Anything else could name a path, so it is refused.
    /// </summary>
    public static bool IsSafe(string? id) =>
        id is { Length: > 0 and <= 200 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
            && !id.StartsWith('.');
}
