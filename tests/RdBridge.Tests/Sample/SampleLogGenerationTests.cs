using System.Text.Json.Nodes;
using RdBridge.Sample;
using RdBridge.Tests.Discovery;

namespace RdBridge.Tests.SampleLogs;

/// <summary>
/// <c>rdbridge sample</c> writes the RD-Agent log of every generation users have; read by CPython and pandas, and
/// by discovery on a copy without a registry, it says what the sample's own registry says. Expected values come from
/// the sample's files (its registry, its qlib_res.csv files, its log read by CPython), never from RdBridge's output.
/// </summary>
public class SampleLogGenerationTests
{
    public static TheoryData<string> Generations => new() { "v0.3", "v0.5", "v0.8", "head" };

    private static SampleLogGeneration Parse(string g) => SampleLog.Parse(g);

    [Theory, MemberData(nameof(Generations))]
    public void Every_log_pickle_is_what_CPython_and_pandas_read_and_each_result_is_its_workspaces_qlib_res_csv(
        string generation)
    {
        using var sample = new Sample(taskRuns: 3, loops: 4, seed: 11, store: "sqlite", generation: Parse(generation));
        var root = sample.Settings.RdAgentRoot;
        var read = JsonNode.Parse(UpstreamRdAgent.RunPython([
            Path.Combine(Paths.RepoRoot, "tests", "RdBridge.Tests", "Sample", "read_sample_log.py"),
            Path.GetDirectoryName(UpstreamRdAgent.Script)!, root, SampleGenerator.StoredRoot,
        ]))!;
        var pickles = Directory.EnumerateFiles(sample.Settings.LogRoot, "*.pkl", SearchOption.AllDirectories).Count();
        Assert.Equal(pickles, (int)read["pickles"]!);
        var results = read["results"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.All(results, r => Assert.True((bool)r["equal"]!, $"{r["pickle"]}: Series differs from qlib_res.csv"));
        // Every loop with results logged its metrics, as a Series, on its own experiment workspace.
        var withResults = Db.Rows(sample.Settings.RegistryPath, """
                SELECT w.workspace_id FROM loops l JOIN workspaces w
                  ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id
                WHERE l.has_result = 1 AND w.workspace_role = 'experiment_workspace'
                """).Select(r => (string)r[0]!).ToHashSet();
        var logged = results.Select(r => ((string)r["workspace"]!).Replace('\\', '/').Split('/')[^1]).ToHashSet();
        Assert.NotEmpty(withResults); // a guard: the Subset below holds for an empty set too
        Assert.Subset(logged, withResults);
        // fin_factor's loop 0 ran the Alpha20 baseline first: two charts in its running step.
        var log = sample.Settings.LogRoot;
        var charts = Directory.EnumerateDirectories(log, "Quantitative Backtesting Chart", SearchOption.AllDirectories)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.pkl", SearchOption.AllDirectories)).ToList();
        // One chart a loop with results, and one more for each baseline run (the registry's baseline workspaces).
        var baselines = Db.Scalar(sample.Settings.RegistryPath,
            "SELECT count(*) FROM workspaces WHERE workspace_role = 'baseline_workspace'");
        Assert.Equal(withResults.Count + baselines, charts.Count);

        var loopFolders = Directory.EnumerateDirectories(log, "Loop_*", SearchOption.AllDirectories).ToList();
        var steps = loopFolders.SelectMany(Directory.EnumerateDirectories).Select(Path.GetFileName).ToHashSet();
        switch (generation)
        {
            case "v0.3":
                Assert.Empty(loopFolders);
                Assert.All(Directory.EnumerateDirectories(log),
                    run => Assert.True(Directory.Exists(Path.Combine(run, "r", "hypothesis generation"))));
                break;
            case "v0.5":
                Assert.Contains(loopFolders, l => Directory.Exists(Path.Combine(l, "direct_exp_gen", "r")));
                Assert.DoesNotContain("time_info",
                    Directory.EnumerateDirectories(log, "*", SearchOption.AllDirectories).Select(Path.GetFileName));
                break;
            default:
                Assert.Equal(generation == "head", steps.Contains("record"));
                Assert.Contains(loopFolders, l => Directory.Exists(Path.Combine(l, "feedback", "time_info")));
                break;
        }
    }

    /// <summary>The sample registry's loops, keyed by log folder name and loop id, with their workspaces by role.
    /// </summary>
    private static Dictionary<(string Folder, long Loop), (string Status, bool Result, string Workspaces)> Loops(
        string registry, bool byLogFolder)
    {
        var loops = new Dictionary<(string, long), (string, bool, string)>();
        foreach (var r in Db.Rows(registry,
                     "SELECT task_run_id, loop_id, status, has_result, log_dir FROM loops ORDER BY 1, 2"))
        {
            var folder = byLogFolder ? ((string)r[4]!).Replace('\\', '/').Split('/')[^1] : (string)r[0]!;
            var ws = Db.Rows(registry, $"""
                    SELECT workspace_role, workspace_id FROM workspaces
                    WHERE task_run_id = '{r[0]}' AND loop_id = {r[1]} ORDER BY 1, 2
                    """).Select(w => $"{w[0]}:{w[1]}");
            loops[(folder, (long)r[1]!)] = ((string)r[2]!, (long)r[3]! == 1, string.Join(" ", ws));
        }
        return loops;
    }

    [Theory, MemberData(nameof(Generations))]
    public void Init_without_a_registry_builds_the_samples_registry_from_its_log_bundles_each_loop_and_verifies(
        string generation)
    {
        var g = Parse(generation);
        using var original = new Sample(taskRuns: 3, loops: 4, seed: 5, store: "sqlite", generation: g);
        using var upstream = new Sample(taskRuns: 3, loops: 4, seed: 5, store: "sqlite", generation: g,
            noRegistry: true);
        Assert.False(File.Exists(upstream.Settings.RegistryPath));

        var (code, output, err) = upstream.Cli("init");
        Assert.True(code == 0, output + err);
        var lines = output.Split('\n');
        Assert.Contains($"  · created the registry {upstream.Settings.RegistryPath} in the fork's schema from the log",
            lines);
        // Every check listed is ticked, and the summary counts exactly those.
        var ticked = lines.Count(l => l.StartsWith("  ✓ ", StringComparison.Ordinal));
        Assert.Contains($"verification passed: {ticked} of {Words.N(ticked, "check", "checks")}", lines);

        var expected = Loops(original.Settings.RegistryPath, byLogFolder: true);
        var found = Loops(upstream.Settings.RegistryPath, byLogFolder: false);
        Assert.Equal(expected.Keys.Order(), found.Keys.Order());
        var lastLoop = expected.Keys.Max(k => k.Loop);
        foreach (var (key, want) in expected)
        {
            var got = found[key];
            // A v0.3 log says nothing more of a skipped last loop than of one still running: no feedback, no next loop.
            var status = generation == "v0.3" && want.Status == "failed" && key.Loop == lastLoop
                ? "running" : want.Status;
            Assert.Equal(status, got.Status);
            // A loop's workspaces are recorded as soon as its coder's result names them, running or not.
            Assert.Equal(want.Workspaces, got.Workspaces);
            Assert.Equal(want.Result, got.Result);
            var bundle = Path.Combine(upstream.Settings.BundleDirectory, $"bundle_{key.Folder}_{key.Loop}.tar.gz");
            if (want.Result)
            {
                var own = want.Workspaces.Split(' ').Where(w => !w.StartsWith("baseline", StringComparison.Ordinal))
                    .Select(w => w.Split(':')[1]).ToHashSet();
                Assert.Equal(own, BundleArchive.WorkspaceIds(bundle));
                // Backfill found the loop's logged feedback in this generation's layout.
                var experiment = want.Workspaces.Split(' ')
                    .Single(w => w.StartsWith("experiment", StringComparison.Ordinal));
                var feedback = JsonNode.Parse(File.ReadAllText(Path.Combine(upstream.Settings.RdAgentRoot,
                    "git_ignore_folder", "RD-Agent_workspace", experiment.Split(':')[1], "feedback.json")))!;
                Assert.Equal("log", (string?)feedback["source"]);
            }
            else
            {
                Assert.False(File.Exists(bundle), $"{key} has no results and must not be bundled");
            }
        }

        var again = upstream.Cli("init");
        Assert.True(again.Code == 0, again.Out + again.Err);
        // A whole line of the output (the stage lines before it list what was examined).
        Assert.Contains("init run #2: nothing changed — every file, bundle and row was already up to date",
            again.Out.Split('\n'));
    }

    [Fact]
    public void The_same_seed_gives_a_byte_identical_tree()
    {
        static Dictionary<string, byte[]> Tree(string dir) =>
            Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
                .ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);
        foreach (var (generation, noRegistry) in new[] { ((SampleLogGeneration?)null, false),
                     (SampleLogGeneration.V03, true) })
        {
            using var a = new TempDir();
            using var b = new TempDir();
            foreach (var dir in new[] { a.Path, b.Path })
            {
                new SampleGenerator(new SampleOptions(dir, TaskRuns: 4, LoopsPerTaskRun: 3, Seed: 3,
                    PickleKilobytes: 1, LogGeneration: generation, NoRegistry: noRegistry)).Generate();
            }
            var first = Tree(a.Path);
            var second = Tree(b.Path);
            Assert.Equal(first.Keys.Order(), second.Keys.Order());
            Assert.Contains(first.Keys, k => k.EndsWith(".pkl", StringComparison.Ordinal) && k.Contains("log"));
            foreach (var (file, bytes) in first)
                Assert.True(bytes.AsSpan().SequenceEqual(second[file]), $"{file} differs between two runs");
        }
    }
}
