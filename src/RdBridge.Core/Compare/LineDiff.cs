using System.Globalization;
using System.Text;

namespace RdBridge.Compare;

/// <summary>One line of a unified diff: ' ' kept, '-' only in the first file, '+' only in the second.</summary>
public readonly record struct DiffLine(char Op, string Text, int? OldNumber, int? NewNumber);

/// <summary>A run of changes with the lines of context around it, as <c>@@ -a,n +b,m @@</c> introduces it.</summary>
public sealed record DiffHunk(int OldStart, int OldCount, int NewStart, int NewCount, IReadOnlyList<DiffLine> Lines)
{
    public string Header => string.Create(CultureInfo.InvariantCulture,
        $"@@ -{Range(OldStart, OldCount)} +{Range(NewStart, NewCount)} @@");

    // As GNU diff -u writes it: "start,count", the count left out when it is 1, start-1 when the range is empty.
    private static string Range(int start, int count) => count switch
    {
        0 => string.Create(CultureInfo.InvariantCulture, $"{start - 1},0"),
        1 => start.ToString(CultureInfo.InvariantCulture),
        _ => string.Create(CultureInfo.InvariantCulture, $"{start},{count}"),
    };
}

/// <summary>
/// A line diff by Myers' O(ND) algorithm (the shortest edit script), bounded: files over <see cref="MaxBytes"/> or
/// <see cref="MaxLines"/> lines, or more than <see cref="MaxEdits"/> differing lines, are reported as too large to
/// diff instead of costing unbounded time and memory.
/// </summary>
public static class LineDiff
{
    public const int MaxBytes = 512 * 1024;
    public const int MaxLines = 20_000;
    public const int MaxEdits = 4_000;
    public const int Context = 3;

    /// <summary>The hunks between two texts, or null when they are too large to diff (the caller says so).</summary>
    public static IReadOnlyList<DiffHunk>? Unified(string oldText, string newText, int context = Context)
    {
        if (Encoding.UTF8.GetByteCount(oldText) > MaxBytes || Encoding.UTF8.GetByteCount(newText) > MaxBytes)
            return null;
        var a = Lines(oldText);
        var b = Lines(newText);
        if (a.Length > MaxLines || b.Length > MaxLines) return null;
        var script = Script(a, b, MaxEdits);
        return script is null ? null : Hunks(script, context);
    }

    /// <summary>
    /// True when the texts differ only in how their lines end (CRLF, CR or LF, and a final line end or none): a diff
    /// of their lines would be empty, yet the files are not the same bytes, and a reader should be told which.
    /// </summary>
    public static bool OnlyLineEndingsDiffer(string oldText, string newText) =>
        !string.Equals(oldText, newText, StringComparison.Ordinal)
        && string.Equals(WithoutLineEnds(oldText), WithoutLineEnds(newText), StringComparison.Ordinal);

    /// <summary>How a text ends its lines: <c>LF</c>, <c>CRLF</c>, <c>CR</c>, <c>mixed</c>, or <c>none</c> for
    /// a text without any; <c>, no final line end</c> is added when the last line has none.</summary>
    public static string LineEndings(string text)
    {
        int crlf = 0, lf = 0, cr = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n') { crlf++; i++; }
            else if (text[i] == '\r') { cr++; }
            else if (text[i] == '\n') { lf++; }
        }
        var kinds = (crlf > 0 ? 1 : 0) + (lf > 0 ? 1 : 0) + (cr > 0 ? 1 : 0);
        var kind = kinds switch { 0 => "none", > 1 => "mixed", _ => crlf > 0 ? "CRLF" : lf > 0 ? "LF" : "CR" };
        var finalEnd = text.Length == 0 || text[^1] is '\n' or '\r';
        return kinds > 0 && !finalEnd ? kind + ", no final line end" : kind;
    }

    private static string WithoutLineEnds(string text)
    {
        var one = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        return one.EndsWith('\n') ? one[..^1] : one;
    }

    /// <summary>The text's lines without their line ends; a final line end does not make an empty last line.</summary>
    public static string[] Lines(string text)
    {
        if (text.Length == 0) return [];
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        return lines[^1].Length == 0 ? lines[..^1] : lines;
    }

    /// <summary>
    /// The shortest edit script turning <paramref name="a"/> into <paramref name="b"/>; null beyond <paramref
    /// name="maxEdits"/>.
    /// </summary>
    public static IReadOnlyList<DiffLine>? Script(
        IReadOnlyList<string> a, IReadOnlyList<string> b, int maxEdits = MaxEdits)
    {
        // Equal lines share a number, so the inner loop compares integers.
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int Id(string s) => ids.TryGetValue(s, out var i) ? i : ids[s] = ids.Count;
        var x0 = a.Select(Id).ToArray();
        var y0 = b.Select(Id).ToArray();
        int n = x0.Length, m = y0.Length;
        var limit = Math.Min(maxEdits, n + m);
        var offset = limit + 1;
        var v = new int[2 * limit + 3];
        var trace = new List<int[]>();
        var found = -1;
        for (var d = 0; d <= limit && found < 0; d++)
        {
            trace.Add((int[])v.Clone());
            for (var k = -d; k <= d; k += 2)
            {
                var down = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]);
                var x = down ? v[offset + k + 1] : v[offset + k - 1] + 1;
                var y = x - k;
                while (x < n && y < m && x0[x] == y0[y]) { x++; y++; }
                v[offset + k] = x;
                if (x >= n && y >= m) { found = d; break; }
            }
        }
        if (found < 0) return null;

        // Walk back from the end through the saved frontiers, one edit per step.
        var reversed = new List<DiffLine>();
        int cx = n, cy = m;
        for (var d = found; d > 0; d--)
        {
            var prev = trace[d];
            var k = cx - cy;
            var prevK = k == -d || (k != d && prev[offset + k - 1] < prev[offset + k + 1]) ? k + 1 : k - 1;
            var px = prev[offset + prevK];
            var py = px - prevK;
            while (cx > px && cy > py) { cx--; cy--; reversed.Add(new(' ', a[cx], cx + 1, cy + 1)); }
            if (cx == px) { cy--; reversed.Add(new('+', b[cy], null, cy + 1)); }
            else { cx--; reversed.Add(new('-', a[cx], cx + 1, null)); }
        }
        while (cx > 0 && cy > 0) { cx--; cy--; reversed.Add(new(' ', a[cx], cx + 1, cy + 1)); }
        reversed.Reverse();
        return reversed;
    }

    /// <summary>Groups an edit script into hunks: changes closer than twice the context share one.</summary>
    public static IReadOnlyList<DiffHunk> Hunks(IReadOnlyList<DiffLine> script, int context = Context)
    {
        var hunks = new List<DiffHunk>();
        var i = 0;
        while (i < script.Count)
        {
            while (i < script.Count && script[i].Op == ' ') i++;
            if (i == script.Count) break;
            var start = Math.Max(0, i - context);
            var end = i;
            // Extend while the next change is within 2 × context kept lines.
            while (true)
            {
                while (end < script.Count && script[end].Op != ' ') end++;
                var next = end;
                while (next < script.Count && script[next].Op == ' ') next++;
                if (next < script.Count && next - end <= 2 * context) { end = next; continue; }
                end = Math.Min(script.Count, end + context);
                break;
            }
            var lines = script.Skip(start).Take(end - start).ToList();
            // A hunk's start is the number of its first line on each side (or, for a side with no lines in it, the
            // number of the line before it plus one, so an insertion at the top reads "-0,0").
            var oldStart = lines.FirstOrDefault(l => l.OldNumber is not null).OldNumber ?? OldBefore(script, start) + 1;
            var newStart = lines.FirstOrDefault(l => l.NewNumber is not null).NewNumber ?? NewBefore(script, start) + 1;
            var oldCount = lines.Count(l => l.Op != '+');
            var newCount = lines.Count(l => l.Op != '-');
            hunks.Add(new DiffHunk(oldStart, oldCount, newStart, newCount, lines));
            i = end;
        }
        return hunks;
    }

    private static int OldBefore(IReadOnlyList<DiffLine> s, int index)
    {
        for (var i = index - 1; i >= 0; i--) if (s[i].OldNumber is { } n) return n;
        return 0;
    }

    private static int NewBefore(IReadOnlyList<DiffLine> s, int index)
    {
        for (var i = index - 1; i >= 0; i--) if (s[i].NewNumber is { } n) return n;
        return 0;
    }

    /// <summary>The hunks as the text of a unified diff, with its two file header lines.</summary>
    public static string Format(string oldName, string newName, IReadOnlyList<DiffHunk> hunks)
    {
        var sb = new StringBuilder();
        sb.Append("--- ").Append(oldName).Append('\n').Append("+++ ").Append(newName).Append('\n');
        foreach (var h in hunks)
        {
            sb.Append(h.Header).Append('\n');
            foreach (var l in h.Lines) sb.Append(l.Op).Append(l.Text).Append('\n');
        }
        return sb.ToString();
    }
}
