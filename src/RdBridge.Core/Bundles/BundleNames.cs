namespace RdBridge.Bundles;

/// <summary>Rules for bundle ids used as file and folder names.</summary>
public static class BundleNames
{
    /// <summary>Letters, digits, '_', '-', '.'; not starting with a dot. Anything else could name a path, so it is refused.</summary>
    public static bool IsSafeId(string id) =>
        id.Length is > 0 and <= 200 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') && !id.StartsWith('.');
}
