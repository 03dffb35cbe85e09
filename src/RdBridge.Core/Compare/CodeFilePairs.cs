namespace RdBridge.Compare;

/// <summary>
/// Which code file of loop A is compared with which of loop B. Files are matched by the name the comparison gives
/// them; a sub-workspace file that no factor names (a model's <c>model.py</c>) is named after its sub-workspace,
/// whose id differs in every loop, so on its own it would read as one file removed and another added. Such files
/// left unmatched are paired by file name: same bytes first, then the one left on each side.
/// </summary>
public static class CodeFilePairs
{
    /// <param name="a">Loop A's files: compared name → bundle path (<c>workspaces/&lt;id&gt;/&lt;file&gt;</c>).</param>
    /// <param name="shaA">A file's sha256 in A's manifest (empty when unknown).</param>
    public static (Dictionary<string, string> A, Dictionary<string, string> B) Pair(
        IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b,
        Func<string, string> shaA, Func<string, string> shaB)
    {
        var ra = new Dictionary<string, string>(a, StringComparer.Ordinal);
        var rb = new Dictionary<string, string>(b, StringComparer.Ordinal);
        var onlyA = a.Keys.Where(k => !b.ContainsKey(k) && ByWorkspace(k, a[k])).Order(StringComparer.Ordinal).ToList();
        var onlyB = b.Keys.Where(k => !a.ContainsKey(k) && ByWorkspace(k, b[k])).Order(StringComparer.Ordinal).ToList();
        foreach (var group in onlyA.GroupBy(k => FileName(a[k]), StringComparer.Ordinal))
        {
            var left = group.ToList();
            var right = onlyB.Where(k => FileName(b[k]) == group.Key).ToList();
            void Join(string ka, string kb)
            {
                var key = $"{group.Key} ({Workspace(a[ka])} ↔ {Workspace(b[kb])})";
                ra.Remove(ka);
                rb.Remove(kb);
                ra[key] = a[ka];
                rb[key] = b[kb];
                left.Remove(ka);
                right.Remove(kb);
            }
            foreach (var ka in left.ToList())
            {
                var sha = shaA(a[ka]);
                if (sha.Length == 0) continue;
                if (right.FirstOrDefault(kb => shaB(b[kb]) == sha) is { } same) Join(ka, same);
            }
            if (left.Count == 1 && right.Count == 1) Join(left[0], right[0]);
        }
        return (ra, rb);
    }

    private static string FileName(string path) => path[(path.LastIndexOf('/') + 1)..];
    private static string Workspace(string path) => path.Split('/') is { Length: >= 3 } p ? p[1] : "";

    // Named after its sub-workspace ("model.py (<workspace id>)"), not after a factor.
    private static bool ByWorkspace(string key, string path) =>
        key == $"{FileName(path)} ({Workspace(path)})";
}
