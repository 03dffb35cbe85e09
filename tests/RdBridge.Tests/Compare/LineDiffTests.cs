using System.Diagnostics;
using RdBridge.Compare;

namespace RdBridge.Tests.Compare;

/// <summary>
/// The code diff of the compare page: GNU diff's unified format, the shortest edit script, and its bounds.
/// </summary>
public class LineDiffTests
{
    private static string Numbered(int count, Func<int, string>? line = null) =>
        string.Concat(Enumerable.Range(1, count).Select(i => (line?.Invoke(i) ?? $"line {i}") + "\n"));

    /// <summary>What GNU diff -u prints for the two texts, without its two file header lines.</summary>
    private static string GnuDiff(string oldText, string newText)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["a"], oldText);
        File.WriteAllText(dir["b"], newText);
        var start = new ProcessStartInfo("diff", ["-u", dir["a"], dir["b"]]) { RedirectStandardOutput = true };
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return string.Concat(output.Split('\n').Skip(2).Select(l => l + "\n")).TrimEnd('\n') + "\n";
    }

    private static string Mine(string oldText, string newText)
    {
        var text = LineDiff.Format("a", "b", LineDiff.Unified(oldText, newText)!);
        return string.Concat(text.Split('\n').Skip(2).Select(l => l + "\n")).TrimEnd('\n') + "\n";
    }

    public static TheoryData<string, string> Cases => new()
    {
        // One line changed in the middle: one hunk with three lines of context each side.
        { Numbered(10), Numbered(10, i => i == 5 ? "five" : $"line {i}") },
        // A line added at the top and one removed at the end, far apart: two hunks.
        { Numbered(20), "new first\n" + Numbered(19) },
        // Two changes six lines apart share a hunk (their contexts touch).
        { Numbered(20), Numbered(20, i => i is 5 or 12 ? $"changed {i}" : $"line {i}") },
        // From nothing, and to nothing.
        { "", Numbered(3) },
        { Numbered(3), "" },
        // A workflow config's strategy change.
        {
            "strategy:\n    kwargs:\n        topk: 50\n        n_drop: 5\n",
            "strategy:\n    kwargs:\n        topk: 30\n        n_drop: 5\n"
        },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Unified_diff_reads_as_GNU_diff_u_writes_it(string oldText, string newText) =>
        Assert.Equal(GnuDiff(oldText, newText), Mine(oldText, newText));

    [Fact]
    public void Edit_script_is_the_shortest_and_rebuilds_both_files()
    {
        var random = new Random(7);
        for (var round = 0; round < 40; round++)
        {
            string[] a = [.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => "x" + random.Next(0, 6))];
            string[] b = [.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => "x" + random.Next(0, 6))];
            var script = LineDiff.Script(a, b, 1000)!;
            Assert.Equal(a, script.Where(l => l.Op != '+').Select(l => l.Text));
            Assert.Equal(b, script.Where(l => l.Op != '-').Select(l => l.Text));
            // The longest common subsequence by the textbook table: the script keeps exactly that many lines.
            var lcs = new int[a.Length + 1, b.Length + 1];
            for (var i = 1; i <= a.Length; i++)
            {
                for (var j = 1; j <= b.Length; j++)
                    lcs[i, j] = a[i - 1] == b[j - 1] ? lcs[i - 1, j - 1] + 1 : Math.Max(lcs[i - 1, j], lcs[i, j - 1]);
            }

            Assert.Equal(lcs[a.Length, b.Length], script.Count(l => l.Op == ' '));
        }
    }

    [Fact]
    public void Identical_files_have_no_hunks()
    {
        Assert.Empty(LineDiff.Unified(Numbered(50), Numbered(50))!);
        Assert.Empty(LineDiff.Unified("a\r\nb\r\n", "a\nb\n")!);
    }

    [Fact]
    public void Files_over_the_size_or_line_cap_or_with_too_many_changes_are_too_large_to_diff()
    {
        Assert.Null(LineDiff.Unified(new string('x', LineDiff.MaxBytes + 1), "x"));
        Assert.Null(LineDiff.Unified(Numbered(LineDiff.MaxLines + 1, _ => "a"), ""));
        // Every line different: n lines take 2n edits. One line more than the cap allows is refused (how fast is
        // bench/'s business, not a unit test's); exactly the cap still diffs, into one hunk that removes every old
        // line and adds every new one.
        var half = LineDiff.MaxEdits / 2;
        Assert.Null(LineDiff.Unified(Numbered(half + 1, i => $"a{i}"), Numbered(half + 1, i => $"b{i}")));
        var hunk = Assert.Single(LineDiff.Unified(Numbered(half, i => $"a{i}"), Numbered(half, i => $"b{i}"))!);
        Assert.Equal($"@@ -1,{half} +1,{half} @@", hunk.Header);
        Assert.Equal(Enumerable.Range(1, half).Select(i => $"a{i}"),
            hunk.Lines.Where(l => l.Op == '-').Select(l => l.Text));
        Assert.Equal(Enumerable.Range(1, half).Select(i => $"b{i}"),
            hunk.Lines.Where(l => l.Op == '+').Select(l => l.Text));
    }
    [Fact]
    public void Texts_differing_only_in_line_endings_say_so_and_name_each_side_s_endings()
    {
        Assert.True(LineDiff.OnlyLineEndingsDiffer("a\nb\n", "a\r\nb\r\n"));
        Assert.True(LineDiff.OnlyLineEndingsDiffer("a\nb\n", "a\nb"));
        Assert.True(LineDiff.OnlyLineEndingsDiffer("a\rb\r", "a\nb\n"));
        Assert.False(LineDiff.OnlyLineEndingsDiffer("a\nb\n", "a\nb\n"));
        Assert.False(LineDiff.OnlyLineEndingsDiffer("a\nb\n", "a\nc\n"));
        Assert.False(LineDiff.OnlyLineEndingsDiffer("a\nb\n", "a\n\nb\n"));
        Assert.Equal("LF", LineDiff.LineEndings("a\nb\n"));
        Assert.Equal("CRLF", LineDiff.LineEndings("a\r\nb\r\n"));
        Assert.Equal("CR", LineDiff.LineEndings("a\rb\r"));
        Assert.Equal("mixed", LineDiff.LineEndings("a\r\nb\n"));
        Assert.Equal("LF, no final line end", LineDiff.LineEndings("a\nb"));
        Assert.Equal("none", LineDiff.LineEndings("a"));
    }

    [Fact]
    public void A_sub_workspace_file_no_factor_names_is_paired_across_loops_by_its_name_same_bytes_first()
    {
        var a = new Dictionary<string, string>
        {
            ["model.py (w1)"] = "workspaces/w1/model.py", ["model.py (w2)"] = "workspaces/w2/model.py",
            ["factor.py (alpha)"] = "workspaces/w3/factor.py", ["conf.yaml"] = "workspaces/e1/conf.yaml",
        };
        var b = new Dictionary<string, string>
        {
            ["model.py (w8)"] = "workspaces/w8/model.py", ["model.py (w9)"] = "workspaces/w9/model.py",
            ["factor.py (beta)"] = "workspaces/w7/factor.py", ["conf.yaml"] = "workspaces/e2/conf.yaml",
        };
        var sha = new Dictionary<string, string>
        {
            ["workspaces/w1/model.py"] = "s1", ["workspaces/w2/model.py"] = "s2",
            ["workspaces/w8/model.py"] = "s2", ["workspaces/w9/model.py"] = "s3",
        };
        var (pa, pb) = CodeFilePairs.Pair(a, b, p => sha.GetValueOrDefault(p, ""), p => sha.GetValueOrDefault(p, ""));
        // w2 and w8 hold the same bytes; w1 and w9 are what is left of model.py on each side.
        Assert.Equal("workspaces/w2/model.py", pa["model.py (w2 ↔ w8)"]);
        Assert.Equal("workspaces/w8/model.py", pb["model.py (w2 ↔ w8)"]);
        Assert.Equal("workspaces/w9/model.py", pb["model.py (w1 ↔ w9)"]);
        // Different factors stay apart; files matched by name stay as they were.
        Assert.True(pa.ContainsKey("factor.py (alpha)") && pb.ContainsKey("factor.py (beta)"));
        Assert.Equal(["conf.yaml", "factor.py (alpha)", "model.py (w1 ↔ w9)", "model.py (w2 ↔ w8)"],
            pa.Keys.Order(StringComparer.Ordinal));
    }
}
