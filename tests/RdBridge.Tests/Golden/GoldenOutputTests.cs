using RdBridge.Cli;
using RdBridge.Tests.Discovery;

namespace RdBridge.Tests.Golden;

/// <summary>
/// Golden master: what <c>init</c> and <c>import</c> write from fixed input — bundles, catalogs, the strategy
/// library and every row of AIstock's SQLite database — is held byte for byte (the run's times aside) against the
/// golden files under <c>Golden/expected/</c>, which the build of an earlier commit wrote
/// (<c>scripts/golden.sh --update</c>).
/// Python's sqlite3 and hashlib read the output (<c>golden_dump.py</c>), not RdBridge's readers. A deliberate change
/// of output regenerates the golden files in the same commit, with the reason in its message.
/// </summary>
public class GoldenOutputTests
{
    /// <summary>Set to 1 by <c>scripts/golden.sh --update</c>: the run's output replaces the golden files.</summary>
    public const string UpdateVariable = "RDBRIDGE_GOLDEN_UPDATE";

    /// <summary>The seed compare-builds.sh and golden.sh use: the same input on every run and every OS.</summary>
    public const string Seed = "7";

    private static string Expected => Path.Combine(Paths.RepoRoot, "tests", "RdBridge.Tests", "Golden", "expected");

    private static string Dump => Path.Combine(Paths.RepoRoot, "tests", "RdBridge.Tests", "Golden", "golden_dump.py");

    [Fact]
    public void Sample_through_init_writes_the_golden_output() => Check("sample", []);

    [Fact]
    public void Upstream_log_sample_through_init_writes_the_golden_output() =>
        Check("upstream-log", ["--flavor", "upstream", "--no-registry"]);

    [Fact, RealData]
    public void Fork_catalogs_imported_give_the_golden_rows() =>
        Check("fork-catalogs", [], Paths.Fixture("rdagent-aistock-fork/tmp"));

    /// <summary>
    /// Runs the case as scripts/golden.sh does with a built binary: a sample of the fixed seed, then init, or the
    /// fork's catalogs imported into the sample's AIstock root.
    /// </summary>
    private static void Check(string name, string[] sampleArgs, string? forkCatalogs = null)
    {
        using var dir = new TempDir();
        var run = dir["run"];
        Cli(["sample", "--seed", Seed, "--out", run, .. sampleArgs]);
        var config = Path.Combine(run, "rdbridge.json");
        if (forkCatalogs is null)
        {
            Cli(["init", "--config", config]);
        }
        else
        {
            var fork = Directory.CreateDirectory(Path.Combine(run, "fork")).FullName;
            foreach (var catalog in Directory.GetFiles(forkCatalogs, "*_catalog.json"))
                File.Copy(catalog, Path.Combine(fork, Path.GetFileName(catalog)));
            Cli(["import", "--catalogs", fork, "--config", config]);
        }

        var actual = dir["dump"];
        UpstreamRdAgent.RunPython([Dump, run, actual]);
        var expected = Path.Combine(Expected, name);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            if (Directory.Exists(expected)) Directory.Delete(expected, recursive: true);
            CopyTree(actual, expected);
            return;
        }

        var differences = Differences(expected, actual);
        Assert.True(differences.Count == 0,
            $"'{name}' wrote other output than its golden files ({expected}):\n" +
            string.Join("\n", differences.Take(20)) +
            (differences.Count > 20 ? $"\n… and {differences.Count - 20} more files" : "") +
            "\nA deliberate change: run scripts/golden.sh --update and commit the golden files with the reason.");
    }

    /// <summary>Whatever exit code the run ends with, its output is what the golden files hold; the code is
    /// said when it is not 0, for a reader of a failure.</summary>
    private static void Cli(string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Program.Run(args, o, e);
        if (code != 0) Console.Error.WriteLine($"rdbridge {args[0]} exited {code}: {e}");
    }

    /// <summary>One entry a differing file: only on one side, or its first differing line on each side.</summary>
    internal static List<string> Differences(string expected, string actual)
    {
        static SortedSet<string> Files(string root) => Directory.Exists(root)
            ? new(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')), StringComparer.Ordinal)
            : new(StringComparer.Ordinal);
        var (want, got) = (Files(expected), Files(actual));
        var differences = new List<string>();
        differences.AddRange(want.Except(got).Select(f => $"{f}: in the golden files, not written by this run"));
        differences.AddRange(got.Except(want).Select(f => $"{f}: written by this run, not in the golden files"));
        foreach (var file in want.Intersect(got))
        {
            // Lines, not bytes: a checkout that turns line ends into CRLF changes no golden line.
            var a = File.ReadAllLines(Path.Combine(expected, file));
            var b = File.ReadAllLines(Path.Combine(actual, file));
            var first = Enumerable.Range(0, Math.Max(a.Length, b.Length))
                .FirstOrDefault(i => i >= a.Length || i >= b.Length || a[i] != b[i], -1);
            if (first < 0) continue;
            var (x, y) = (first < a.Length ? a[first] : null, first < b.Length ? b[first] : null);
            // A database row is long: both sides are shown from a little before the first character that differs.
            var column = x is null || y is null ? 0
                : Enumerable.Range(0, Math.Min(x.Length, y.Length)).FirstOrDefault(i => x[i] != y[i],
                    Math.Min(x.Length, y.Length));
            differences.Add($"{file} line {first + 1}, column {column + 1}:\n  golden: {Around(x, column)}\n" +
                $"  now:    {Around(y, column)}");
        }
        return differences;
    }

    /// <summary>The line's start (a row's table and key) and the text around the column.</summary>
    private static string Around(string? line, int column)
    {
        if (line is null) return "(end of file)";
        var start = column <= 200 ? 0 : column - 100;
        var text = line[start..Math.Min(line.Length, start + 300)];
        return (start > 0 ? line[..100] + " … " : "") + text + (start + 300 < line.Length ? " …" : "");
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
