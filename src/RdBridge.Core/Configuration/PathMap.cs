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
    private readonly IReadOnlyList<string>? _roots;

    /// <param name="entries">stored prefix → local prefix, in any of the three spellings</param>
    /// <param name="baseDirectory">where relative stored paths resolve (the RD-Agent root)</param>
    /// <param name="roots">the folders a mapped path must stay inside once <c>..</c> and links are resolved
    /// (<c>rdagent.root</c>, its log root and the workspace roots; each entry's local prefix is added, since mapping a
    /// prefix to a folder says that folder holds RD-Agent's files); null checks nothing</param>
    public PathMap(IEnumerable<KeyValuePair<string, string>> entries, string baseDirectory,
        IEnumerable<string>? roots = null)
    {
        _roots = roots?.Concat(entries.Select(e => e.Value))
            .Select(r => Resolved(Path.GetFullPath(r))).Distinct().ToList();
        _entries = entries
            .Select(e => (From: Canonical(e.Key), To: e.Value))
            .OrderByDescending(e => e.From.Length)
            .ThenBy(e => e.From, StringComparer.Ordinal)
            .ToList();
        _baseDirectory = baseDirectory;
    }

    public IReadOnlyList<(string From, string To)> Entries => _entries;

    /// <summary>
    /// Keys that are one stored prefix under <see cref="Canonical"/> (<c>F:\Dev\X</c>, <c>F:/Dev/X</c>,
    /// <c>/mnt/f/Dev/X</c>) yet map to different local folders, each as a sentence naming both keys and both
    /// targets. Which one would win depends on ordering the user cannot see, so a loader refuses them; the same
    /// prefix given twice with the same target is no conflict.
    /// </summary>
    public static IReadOnlyList<string> Conflicts(IEnumerable<KeyValuePair<string, string>> entries)
    {
        var conflicts = new List<string>();
        foreach (var group in entries.GroupBy(e => Canonical(e.Key), StringComparer.Ordinal))
        {
            var first = group.First();
            foreach (var other in group.Skip(1).Where(e => !SameFolder(e.Value, first.Value)))
            {
                conflicts.Add($"pathMap keys '{first.Key}' → '{first.Value}' and '{other.Key}' → '{other.Value}' " +
                    $"are the same stored path '{group.Key}' mapped to different local folders");
            }
        }
        return conflicts;
    }

    private static bool SameFolder(string a, string b) => string.Equals(
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)),
        OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

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
        {
            p = char.ToLowerInvariant(wsl.Groups[1].Value[0]) + ":/" + p[wsl.Length..].TrimStart('/');
        }
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

    public static bool IsDrivePath(string canonical) =>
        canonical.Length >= 3 && canonical[1] == ':' && canonical[2] == '/';

    /// <summary>The folders mapped paths must stay inside (empty when nothing is checked).</summary>
    public IReadOnlyList<string> Roots => _roots ?? [];

    /// <summary>
    /// Maps a stored path to a local one, or says why it cannot. A path that leaves the roots (through <c>..</c> or a
    /// link) is refused: the registry is input, and following it would read or write another folder of this machine.
    /// </summary>
    public MappedPath Map(string? stored)
    {
        var mapped = Translate(stored);
        if (mapped.Local is null || _roots is null) return mapped;
        var real = Resolved(mapped.Local);
        if (_roots.Any(root => IsInside(real, root))) return mapped;
        return new MappedPath(mapped.Stored, null,
            $"'{mapped.Stored}' leads to '{real}', outside rdagent.root, the workspace roots and the pathMap's " +
                $"local folders ({string.Join(", ", _roots)}); " +
            "it is neither read nor written — if that folder is yours, add it to rdagent.workspaceRoot in " +
                "rdbridge.json");
    }

    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
        ? StringComparison.OrdinalIgnoreCase
        : StringComparison.Ordinal;

    private static bool IsInside(string path, string root)
    {
        var r = Path.TrimEndingDirectorySeparator(root);
        return path.Equals(r, PathComparison)
            || (path.StartsWith(r, PathComparison)
                && (path[r.Length] == Path.DirectorySeparatorChar || r.EndsWith(Path.DirectorySeparatorChar)));
    }

    /// <summary>
    /// The full path with every link along it replaced by its target, as the operating system would follow it; the
    /// part that does not exist yet is kept as written (it can hold no link).
    /// </summary>
    public static string Resolved(string fullPath) => Resolved(fullPath, 0);

    /// <param name="hops">links followed so far, counted across the nested resolutions of link targets too, so two
    /// links that point at each other end the resolution instead of the process's stack</param>
    private static string Resolved(string fullPath, int hops)
    {
        var current = Path.GetPathRoot(fullPath) ?? "";
        var parts = fullPath[current.Length..]
            .Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            // '..' leaves the folder reached so far, links already followed, as the operating system does: judged
            // by its spelling, "root/../elsewhere" would look inside root.
            if (parts[i] == ".") continue;
            if (parts[i] == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            var next = Path.Combine(current, parts[i]);
            FileSystemInfo info = new FileInfo(next);
            if (info.LinkTarget is null)
            {
                current = next;
                continue;
            }
            if (++hops > 40) return next; // a loop of links: it leads nowhere readable
            var target = Path.GetFullPath(info.LinkTarget, current);
            // The target may itself hold links: resolve it from its own root.
            current = Resolved(target, hops);
        }
        return Path.TrimEndingDirectorySeparator(current.Length == 0 ? fullPath : current);
    }

    private MappedPath Translate(string? stored)
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
                $"'{stored}' is a Windows path and no pathMap entry covers it; add one to rdbridge.json, e.g. " +
                    $"\"pathMap\": {{ \"{string.Join('/', canonical.Split('/').Take(3))}\": \"/local/path\" }}");
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

/// <summary>
/// A stored path and where it lives on this machine (null when it cannot be mapped, with the reason).
/// </summary>
public sealed record MappedPath(string Stored, string? Local, string? Problem)
{
    public bool IsResolved => Local is not null;
}
