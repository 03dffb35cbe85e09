using System.Text.RegularExpressions;

namespace RdBridge.Tests.Architecture;

/// <summary>
/// Keeps the suite's assertions exact. An assertion that only says "something" happened (not empty, not null, a
/// count above zero, a fragment of a message, an exception's type) lets a wrong answer pass; where the exact value
/// can be read from the test's input it must be asserted. Where it cannot (a time, a port, an operating system's
/// wording, a precondition before an exact check), the line or the one above says why in a comment, so a reader
/// can judge it. Sleeps, stopwatches and empty catches are held to the same rule: a test waits on an event, leaves
/// speed to bench/, and never drops an exception unread.
/// </summary>
public class AssertionStrengthTests
{
    private static readonly Regex Weak = new(
        @"Assert\.(NotEmpty|NotNull|InRange|NotEqual)(<[^(]*>)?\("
        + @"|Assert\.True\([^;]*(>=|<=|>|<)"
        + @"|Assert\.Contains\("""
        + @"|Thread\.Sleep\(|Task\.Delay\(|Stopwatch"
        + @"|catch\s*(\([^)]*\))?\s*\{\s*\}",
        RegexOptions.CultureInvariant);

    // A statement that only checks a type: its value is thrown away (used as a cast, the value is checked after).
    private static readonly Regex TypeAlone = new(
        @"^\s*Assert\.(IsType|IsAssignableFrom)<[^(]*>\([^;]*\);\s*$", RegexOptions.CultureInvariant);

    // A statement that starts with Assert.Throws… throws its exception away unless it reads the message.
    private static readonly Regex ThrowsStatement = new(
        @"^\s*(await\s+)?Assert\.Throws(Any)?(Async)?<[^>]+>\(", RegexOptions.CultureInvariant);

    /// <summary>The line numbers (1-based) of a file's weak assertions that no comment explains.</summary>
    public static IReadOnlyList<int> Unexplained(IReadOnlyList<string> lines)
    {
        var found = new List<int>();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            // A lambda's arrow is not a comparison.
            var weak = Weak.IsMatch(line.Replace("=>", "")) || ThrowsWithoutMessage(lines, i)
                || (TypeAlone.IsMatch(line) && StartsStatement(lines, i));
            var explained = line.Contains("//") || (i > 0 && lines[i - 1].TrimStart().StartsWith("//"));
            if (weak && !explained) found.Add(i + 1);
        }
        return found;
    }

    private static bool StartsStatement(IReadOnlyList<string> lines, int i)
    {
        var before = lines.Take(i).Select(l => l.Trim()).LastOrDefault(l => l.Length > 0 && !l.StartsWith("//"));
        return before is null || before.EndsWith(';') || before.EndsWith('{') || before.EndsWith('}');
    }

    private static bool ThrowsWithoutMessage(IReadOnlyList<string> lines, int i)
    {
        if (!ThrowsStatement.IsMatch(lines[i])) return false;
        var statement = string.Join(" ", lines.Skip(i).Take(6));
        var end = statement.IndexOf(';');
        return !(end < 0 ? statement : statement[..(end + 1)]).Contains(".Message");
    }

    [Fact]
    public void Every_weak_assertion_of_the_suite_says_why_it_cannot_be_exact()
    {
        var root = Path.Combine(Paths.RepoRoot, "tests", "RdBridge.Tests");
        var unexplained = new List<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).Order())
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            // Build output, and this folder, whose tests name the patterns they look for.
            if (relative.StartsWith("bin/") || relative.StartsWith("obj/") || relative.StartsWith("Architecture/"))
            {
                continue;
            }
            var lines = File.ReadAllLines(file);
            unexplained.AddRange(Unexplained(lines).Select(n => $"{relative}:{n}: {lines[n - 1].Trim()}"));
        }
        Assert.True(unexplained.Count == 0,
            $"{unexplained.Count} weak assertions without a comment saying why the exact value cannot be asserted "
            + $"(assert the value read from the input, or say why not):\n{string.Join("\n", unexplained.Take(60))}");
    }

    [Theory]
    [InlineData("Assert.NotEmpty(rows);")]
    [InlineData("Assert.NotNull(record);")]
    [InlineData("Assert.True(count > 0);")]
    [InlineData("Assert.True(rows.Count >= 20, \"too few\");")]
    [InlineData("Assert.InRange(elapsed, 0, 500);")]
    [InlineData("Assert.Contains(\"refused\", message);")]
    [InlineData("Assert.IsType<JsonObject>(node);")]
    [InlineData("Assert.IsType<List<object?>>(PickleReader.Read(flood));")]
    [InlineData("Assert.IsAssignableFrom<JsonException>(e.InnerException);")]
    [InlineData("Thread.Sleep(1500);")]
    [InlineData("await Task.Delay(200);")]
    [InlineData("var watch = Stopwatch.StartNew();")]
    [InlineData("try { File.Delete(p); } catch { }")]
    [InlineData("catch (IOException) {}")]
    [InlineData("Assert.Throws<FormatException>(() => Read(text));")]
    [InlineData("await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(url));")]
    public void A_weak_assertion_without_a_comment_is_found(string line)
    {
        Assert.Equal([2], Unexplained(["var x = 1;", "        " + line]));
    }

    [Theory]
    [InlineData("Assert.NotEmpty(rows); // a precondition: the equality below is not of two empty lists")]
    [InlineData("Assert.Equal(3, rows.Count);")]
    [InlineData("Assert.True(rows.All(r => r.Ok));")]
    [InlineData("Assert.Contains(expectedLine, lines);")]
    [InlineData("var read = Assert.IsType<PickledObject>(PickleReader.Read(pickle));")]
    [InlineData("Assert.Equal([0L, 1, 2, 3], Assert.IsType<IntColumn>(frame.Index.Values).Values);")]
    [InlineData("var e = Assert.Throws<FormatException>(() => Read(text));")]
    [InlineData("Assert.Equal(\"x\", Assert.Throws<FormatException>(() => Read(text)).Message);")]
    public void An_exact_or_explained_assertion_is_not_found(string line)
    {
        Assert.Empty(Unexplained(["var x = 1;", line]));
    }

    [Fact]
    public void A_type_check_continuing_a_statement_is_a_cast_not_a_check_alone()
    {
        string[] lines = ["Assert.Equal(expected,", "    Assert.IsType<FloatColumn>(frame.Data[name]).Values);"];
        Assert.Empty(Unexplained(lines));
    }

    [Fact]
    public void A_comment_on_the_line_above_explains_the_line_below_only()
    {
        string[] lines =
        [
            "// the port is the one the system chose",
            "Assert.NotEqual(0, port);",
            "Assert.NotEqual(0, other);",
        ];
        Assert.Equal([3], Unexplained(lines));
    }

    [Fact]
    public void A_throws_statement_over_several_lines_counts_as_reading_its_message_only_when_it_does()
    {
        string[] discarded = ["Assert.Throws<FormatException>(() =>", "    Read(text));"];
        string[] read = ["Assert.Equal(expected, Assert.Throws<FormatException>(() =>", "    Read(text)).Message);"];
        string[] readBelow = ["Assert.Throws<FormatException>(() =>", "    Read(text)).Message.Length;"];
        Assert.Equal([1], Unexplained(discarded));
        Assert.Empty(Unexplained(read));
        Assert.Empty(Unexplained(readBelow));
    }
}
