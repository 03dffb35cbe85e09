using RdBridge.Configuration;

namespace RdBridge.Setup;

/// <summary>One inferred <c>pathMap</c> entry and the evidence for it.</summary>
/// <param name="StoredPrefix">the prefix as the registry or log spelled it (the first example's spelling)</param>
/// <param name="Matched">how many sampled stored paths it resolves to an existing folder</param>
/// <param name="Example">one stored path it covers, and the local folder that path was found at</param>
public sealed record InferredEntry(string StoredPrefix, string LocalPrefix, int Matched, string Example,
    string ExampleLocal);

/// <summary>A stored path (or a stored prefix) that fits more than one local folder: setup will not guess.</summary>
/// <param name="Candidates">the folders it fits</param>
/// <param name="Options">for each, the path map entry that would choose it</param>
public sealed record AmbiguousPath(string Stored, IReadOnlyList<string> Candidates,
    IReadOnlyList<KeyValuePair<string, string>> Options);

/// <summary>
/// Infers the <c>pathMap</c> from stored workspace paths and the folders that exist under the RD-Agent folder the user
/// named: a stored path's last segments are matched, right to left, against a folder found under the root with the
/// same name, and what does not match on the stored side is the stored prefix, on the local side the local prefix.
/// Only what the evidence shows is inferred; two candidate folders for one path are reported, never picked.
/// </summary>
public sealed record PathMapInference(
    IReadOnlyList<InferredEntry> Entries, IReadOnlyList<string> AlreadyLocal, IReadOnlyList<string> Unmatched,
    IReadOnlyList<AmbiguousPath> Ambiguous)
{
    /// <summary>How deep under the root a workspace folder is looked for (RD-Agent's default is two levels).</summary>
    public const int SearchDepth = 6;

    /// <summary>A bound on the folders visited, so a root that is a whole disk does not take minutes.</summary>
    public const int MaxFoldersVisited = 200_000;

    public bool IsAmbiguous => Ambiguous.Count > 0;

    /// <summary>Nothing resolves: neither an inferred entry nor a path that is already local.</summary>
    public bool NothingMatched => Entries.Count == 0 && AlreadyLocal.Count == 0 && Unmatched.Count > 0;

    public static PathMapInference Infer(IEnumerable<string> storedPaths, string root)
    {
        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var stored = storedPaths.Where(p => !string.IsNullOrWhiteSpace(p)).Distinct(StringComparer.Ordinal).ToList();
        var alreadyLocal = new List<string>();
        var toMatch = new List<(string Stored, string[] Segments)>();
        foreach (var s in stored)
        {
            var canonical = PathMap.Canonical(s);
            // A path of this machine that exists needs no entry (upstream RD-Agent run where it is read).
            if (canonical.StartsWith('/') && !PathMap.IsDrivePath(canonical) && Directory.Exists(canonical)
                && StoredSpellings.Of(s) == StoredSpelling.Posix)
            {
                alreadyLocal.Add(s);
                continue;
            }
            var segments = Segments(s);
            if (segments.Length > 0) toMatch.Add((s, segments));
        }

        var found = FoldersNamed(root, toMatch.Select(m => m.Segments[^1]).ToHashSet(StringComparer.Ordinal));
        var votes = new Dictionary<string, List<(string Stored, string Prefix, string Local, string Found)>>(
            StringComparer.Ordinal);
        var unmatched = new List<string>();
        var ambiguous = new List<AmbiguousPath>();
        foreach (var (s, segments) in toMatch)
        {
            var fits = (found.GetValueOrDefault(segments[^1]) ?? [])
                .Select(folder => Align(s, segments, root, folder))
                .Where(a => a is not null).Select(a => a!.Value)
                .DistinctBy(a => (Canonical: PathMap.Canonical(a.Prefix), a.Local)).ToList();
            if (fits.Count == 0)
            {
                unmatched.Add(s);
                continue;
            }
            if (fits.Count > 1)
            {
                var ordered = fits.OrderBy(f => f.Found, StringComparer.Ordinal).ToList();
                ambiguous.Add(new AmbiguousPath(s, ordered.Select(f => f.Found).ToList(),
                    ordered.Select(f => new KeyValuePair<string, string>(f.Prefix, f.Local)).ToList()));
                continue;
            }
            var key = PathMap.Canonical(fits[0].Prefix);
            if (!votes.TryGetValue(key, out var list)) votes[key] = list = [];
            list.Add((s, fits[0].Prefix, fits[0].Local, fits[0].Found));
        }

        var entries = new List<InferredEntry>();
        foreach (var (key, list) in votes.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            var locals = list.Select(v => v.Local).Distinct(StringComparer.Ordinal).ToList();
            if (locals.Count > 1)
            {
                // One stored prefix, two local homes: the tree holds the same workspaces in two places.
                var ordered = locals.Order(StringComparer.Ordinal).ToList();
                ambiguous.Add(new AmbiguousPath(list[0].Prefix, ordered,
                    ordered.Select(l => new KeyValuePair<string, string>(list[0].Prefix, l)).ToList()));
                continue;
            }
            entries.Add(new InferredEntry(list[0].Prefix, locals[0], list.Count, list[0].Stored, list[0].Found));
        }
        return new PathMapInference(entries, alreadyLocal, unmatched, ambiguous);
    }

    /// <summary>
    /// The stored prefix and local prefix that make <paramref name="stored"/> land on <paramref name="folder"/>:
    /// segments equal from the right, never climbing above the root (the user named it as RD-Agent's folder).
    /// </summary>
    private static (string Prefix, string Local, string Found)? Align(string stored, string[] segments, string root,
        string folder)
    {
        var relative = Path.GetRelativePath(root, folder).Split(Path.DirectorySeparatorChar);
        var comparison = PathMap.IsDrivePath(PathMap.Canonical(stored))
            ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var k = 0;
        while (k < relative.Length && k < segments.Length - 1
               && string.Equals(segments[^(k + 1)], relative[^(k + 1)], comparison))
        {
            k++;
        }
        if (k == 0) return null;
        var local = relative.Length == k ? root : Path.Combine([root, .. relative[..^k]]);
        return (TrimSegments(stored, k), local, folder);
    }

    /// <summary>The path's segments, whichever separator it was stored with.</summary>
    private static string[] Segments(string stored) =>
        stored.Trim().Split('/', '\\').Where(s => s.Length > 0).ToArray();

    /// <summary>The stored path without its last <paramref name="count"/> segments, in its own spelling.</summary>
    private static string TrimSegments(string stored, int count)
    {
        var p = stored.Trim().TrimEnd('/', '\\');
        for (var i = 0; i < count; i++)
        {
            var cut = p.LastIndexOfAny(['/', '\\']);
            p = cut <= 0 ? p[..Math.Max(cut, 0)] : p[..cut].TrimEnd('/', '\\');
        }
        return p;
    }

    /// <summary>Every folder under the root (breadth first, bounded) whose name is one of the wanted ones.</summary>
    private static Dictionary<string, List<string>> FoldersNamed(string root, HashSet<string> names)
    {
        var found = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (names.Count == 0 || !Directory.Exists(root)) return found;
        var queue = new Queue<(string Dir, int Depth)>();
        queue.Enqueue((root, 0));
        var visited = 0;
        var options = new EnumerationOptions
        {
            IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint, RecurseSubdirectories = false,
        };
        while (queue.Count > 0 && visited < MaxFoldersVisited)
        {
            var (dir, depth) = queue.Dequeue();
            foreach (var child in Directory.EnumerateDirectories(dir, "*", options))
            {
                visited++;
                var name = Path.GetFileName(child);
                if (names.Contains(name))
                {
                    if (!found.TryGetValue(name, out var list)) found[name] = list = [];
                    list.Add(child);
                    continue;   // a workspace's own folders are not other workspaces
                }
                if (depth + 1 < SearchDepth && !name.StartsWith('.')) queue.Enqueue((child, depth + 1));
            }
        }
        return found;
    }
}
