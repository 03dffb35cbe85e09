using System.Text.RegularExpressions;

namespace RdBridge.Configuration;

/// <summary>
/// Translates paths as the RD-Agent writer stored them (<c>F:\Dev\…</c>, <c>F:/Dev/…</c>, <c>/mnt/f/Dev/…</c>)
/// into paths on this machine. The only path translation in RdBridge: every stage goes through it.
/// </summary>
public sealed partial class PathMap
{
    private readonly IReadOnlyList<(string From, string To)> _entries;
    private readonly string _baseDirectory;

    /// <param name="entries">stored prefix → local prefix, in any of the three spellings</param>
    /// <param name="baseDirectory">where relative stored paths resolve (the RD-Agent root)</param>
    public PathMap(IEnumerable<KeyValuePair<string, string>> entries, string baseDirectory)
    {
        _entries = entries
            .Select(e => (From: Canonical(e.Key), To: e.Value))
            .OrderByDescending(e => e.From.Length)
            .ThenBy(e => e.From, StringComparer.Ordinal)
            .ToList();
        _baseDirectory = baseDirectory;
    }

    public IReadOnlyList<(string From, string To)> Entries => _entries;

    /// <summary>
    /// One spelling for every way a path may have been stored: forward slashes, <c>/mnt/x/</c> and <c>X:\</c>
    /// both become <c>x:/</c>, no doubled or trailing slash.
    /// </summary>
    public static string Canonical(string path)
    {
        var p = path.Trim().Replace('\\', '/');
        p = DoubleSlash().Replace(p, "/");
        var wsl = WslDrive().Match(p);
        if (wsl.Success)
            p = char.ToLowerInvariant(wsl.Groups[1].Value[0]) + ":/" + p[wsl.Length..].TrimStart('/');
        else
        {
            var drive = WindowsDrive().Match(p);
            if (drive.Success)
                p = char.ToLowerInvariant(drive.Groups[1].Value[0]) + ":/" + p[drive.Length..].TrimStart('/');
        }
        if (p.Length > 1 && p.EndsWith('/') && !p.EndsWith(":/", StringComparison.Ordinal))
            p = p.TrimEnd('/');
        return p;
    }

    public static bool IsDrivePath(string canonical) => canonical.Length >= 3 && canonical[1] == ':' && canonical[2] == '/';

    /// <summary>Maps a stored path to a local one, or says why it cannot.</summary>
    public MappedPath Map(string? stored)
    {
        if (string.IsNullOrWhiteSpace(stored))
            return new MappedPath(stored ?? "", null, "the stored path is empty");
        var canonical = Canonical(stored);
        foreach (var (from, to) in _entries)
        {
            if (StartsWithSegment(canonical, from))
            {
                var rest = canonical[from.Length..].TrimStart('/');
                var local = rest.Length == 0 ? to : Path.Combine(to, rest.Replace('/', Path.DirectorySeparatorChar));
                return new MappedPath(stored, Path.GetFullPath(local), null);
            }
        }
        if (IsDrivePath(canonical))
        {
            if (OperatingSystem.IsWindows())
                return new MappedPath(stored, Path.GetFullPath(canonical), null);
            return new MappedPath(stored, null,
                $"'{stored}' is a Windows path and no pathMap entry covers it; add one to rdbridge.json, e.g. \"pathMap\": {{ \"{string.Join('/', canonical.Split('/').Take(3))}\": \"/local/path\" }}");
        }
        if (canonical.StartsWith('/'))
            return new MappedPath(stored, canonical, null);
        return new MappedPath(stored, Path.GetFullPath(Path.Combine(_baseDirectory, canonical)), null);
    }

    private static bool StartsWithSegment(string path, string prefix)
    {
        var comparison = IsDrivePath(prefix) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (!path.StartsWith(prefix, comparison)) return false;
        return path.Length == prefix.Length || path[prefix.Length] == '/' || prefix.EndsWith('/');
    }

    [GeneratedRegex("^/mnt/([a-zA-Z])(?=/|$)")] private static partial Regex WslDrive();
    [GeneratedRegex("^([a-zA-Z]):(?=/|$)")] private static partial Regex WindowsDrive();
    [GeneratedRegex("/{2,}")] private static partial Regex DoubleSlash();
}

/// <summary>A stored path and where it lives on this machine (null when it cannot be mapped, with the reason).</summary>
public sealed record MappedPath(string Stored, string? Local, string? Problem)
{
    public bool IsResolved => Local is not null;
}
