namespace RdBridge.IO;

/// <summary>
/// A path of this machine as catalogs, bundle manifests and the registry views hold it: parts joined by '/' on every
/// OS, so the same files give the same bytes whichever OS wrote them. Only this OS's own separator becomes '/': on
/// Linux a '\' is an ordinary character of a file name (RD-Agent under WSL can write one), and taking it for a
/// separator would name a file that does not exist. Paths that came from elsewhere (the registry, a log written on
/// Windows) are another matter: <c>Configuration/PathMap</c> reads both separators there.
/// </summary>
public static class PortablePath
{
    /// <summary><paramref name="localPath"/> with this OS's separator written as '/'.</summary>
    public static string Of(string localPath) =>
        Path.DirectorySeparatorChar == '/' ? localPath : localPath.Replace(Path.DirectorySeparatorChar, '/');

    /// <summary><paramref name="path"/> relative to <paramref name="root"/>, '/'-separated ("../" when outside).
    /// </summary>
    public static string Relative(string root, string path) => Of(Path.GetRelativePath(root, path));

    /// <summary>Whether a path <see cref="Relative"/> gave leaves its root (or is on another drive).</summary>
    public static bool IsOutside(string relative) =>
        relative == ".." || relative.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(relative);

    /// <summary>What is said of a listed entry <see cref="NameLost"/> finds.</summary>
    public const string NameNotUtf8 = "its name is not valid UTF-8, so it cannot be opened by name; rename it";

    /// <summary>
    /// Whether a listed entry's name did not survive decoding: a Linux name is bytes, and one that is not UTF-8 reaches
    /// .NET with U+FFFD in place of the bad bytes, a name no file has. (A name that really holds U+FFFD still exists.)
    /// </summary>
    public static bool NameLost(string name, string fullPath) =>
        name.Contains('\uFFFD') && !Path.Exists(fullPath) && !new FileInfo(fullPath).Exists;
}
