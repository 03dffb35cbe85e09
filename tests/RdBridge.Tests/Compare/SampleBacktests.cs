using System.Globalization;
using System.Text.Json.Nodes;
using RdBridge.Server;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.Compare;

/// <summary>One loop's experiment workspace in the sample and the report written into it.</summary>
public sealed record SampleLoop(string TaskRunId, long LoopId, string Action, string WorkspaceId, string Folder)
{
    public string Key => $"{TaskRunId}:{LoopId}";
    public string ReportPath => Path.Combine(Folder, "backtest_report.json");
    public JsonObject Report => JsonNode.Parse(File.ReadAllText(ReportPath))!.AsObject();
}

/// <summary>
/// Until backfill writes <c>backtest_report.json</c> itself (the pickles branch), the tests write one into each loop's
/// experiment workspace before <c>init</c>, in the shape that branch writes (<c>rdbridge.backtest_report/1</c>): dates,
/// Qlib's daily columns, the derived cumulative curves and a summary. They also make loops A and B differ in their
/// workflow config (topk 50 → 30), which the sample generator does not do yet.
/// </summary>
public static class SampleBacktests
{
    public const int LongReportDays = 2_000;

    /// <summary>
    /// Writes the reports (the first loop's is long, the last loop gets none) and returns the loops in order.
    /// </summary>
    public static IReadOnlyList<SampleLoop> Prepare(Sample sample)
    {
        var loops = Db.Rows(sample.Settings.RegistryPath,
                "SELECT w.task_run_id, w.loop_id, l.action, w.workspace_id FROM workspaces w JOIN loops l " +
                "ON l.task_run_id = w.task_run_id AND l.loop_id = w.loop_id " +
                "WHERE w.workspace_role = 'experiment_workspace' ORDER BY 1, 2")
            .Select(r => new SampleLoop((string)r[0]!, Convert.ToInt64(r[1]), (string)r[2]!, (string)r[3]!,
                Path.Combine(sample.Dir.Path, "RD-Agent-main", "git_ignore_folder", "RD-Agent_workspace",
                    (string)r[3]!)))
            .ToList();
        // A precondition of the setup, not a check: a long first loop, two factor loops A and B, a last loop.
        Assert.True(loops.Count >= 4, "the sample has too few loops for these tests");
        for (var i = 0; i < loops.Count - 1; i++)
        {
            Assert.True(Directory.Exists(loops[i].Folder), loops[i].Folder);
            var days = i == 0 ? LongReportDays : 240 + 10 * i;
            File.WriteAllText(loops[i].ReportPath, Report(days, seed: i).ToJsonString());
        }
        // Backfill would write each loop's report from its curve (ret.pkl, else MLflow's report): without them the
        // reports written here stay, and the last loop has none.
        foreach (var loop in loops)
        {
            File.Delete(Path.Combine(loop.Folder, "ret.pkl"));
            foreach (var report in Directory.EnumerateFiles(loop.Folder, "report_normal_1day.pkl",
                         SearchOption.AllDirectories))
            {
                File.Delete(report);
            }
        }
        // B's strategy keeps 30 stocks instead of 50: a config change the compare page must show, in the YAML diff too.
        var b = B(loops);
        var changed = 0;
        foreach (var yaml in Directory.EnumerateFiles(b.Folder, "conf*.yaml"))
        {
            var text = File.ReadAllText(yaml);
            if (!text.Contains("topk: 50", StringComparison.Ordinal)) continue;
            File.WriteAllText(yaml, text.Replace("topk: 50", "topk: 30", StringComparison.Ordinal));
            changed++;
        }
        // A precondition of the setup: the compare tests check the diff line by line from the files themselves.
        Assert.True(changed > 0, "no workflow config with topk: 50 in loop B's workspace");
        return loops;
    }

    /// <summary>
    /// The two loops the compare tests compare: the first two factor loops with a report after the long one, so both
    /// have the same workflow config file to diff (in the seed-42 sample they are in different task runs).
    /// </summary>
    public static SampleLoop A(IReadOnlyList<SampleLoop> loops) => FactorLoops(loops)[0];
    public static SampleLoop B(IReadOnlyList<SampleLoop> loops) => FactorLoops(loops)[1];

    private static List<SampleLoop> FactorLoops(IReadOnlyList<SampleLoop> loops) =>
        [.. loops.Skip(1).Take(loops.Count - 2).Where(l => l.Action == "factor")];

    /// <summary>
    /// A report of <paramref name="days"/> weekdays from 2020-01-02, returns drawn from a seeded generator.
    /// </summary>
    public static JsonObject Report(int days, int seed)
    {
        var random = new Random(seed);
        var dates = new List<string>();
        var day = new DateTime(2020, 1, 2);
        while (dates.Count < days)
        {
            if (day.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
                dates.Add(day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            day = day.AddDays(1);
        }
        double[] Draw(double mean, double spread) =>
            [.. Enumerable.Range(0, days).Select(_ => mean + spread * (random.NextDouble() - 0.5))];
        var ret = Draw(0.0006, 0.03);
        var bench = Draw(0.0003, 0.028);
        var cost = Draw(0.00015, 0.0001);
        var turnover = Draw(0.1, 0.05);
        double[] without = new double[days], with = new double[days];
        double[] benchmark = new double[days], drawdown = new double[days];
        double s1 = 0, s2 = 0, s3 = 0, peak = double.NegativeInfinity;
        for (var i = 0; i < days; i++)
        {
            s1 += ret[i] - bench[i];
            s2 += ret[i] - bench[i] - cost[i];
            s3 += bench[i];
            without[i] = s1;
            with[i] = s2;
            benchmark[i] = s3;
            peak = Math.Max(peak, s2);
            drawdown[i] = s2 - peak;
        }
        static JsonArray A(IEnumerable<double> v) => new([.. v.Select(x => (JsonNode?)JsonValue.Create(x))]);
        return new JsonObject
        {
            ["format"] = "rdbridge.backtest_report/1",
            ["trading_days"] = days,
            ["dates"] = new JsonArray([.. dates.Select(d => (JsonNode?)d)]),
            ["columns"] = new JsonArray("return", "bench", "cost", "turnover"),
            ["values"] = new JsonObject
            {
                ["return"] = A(ret), ["bench"] = A(bench), ["cost"] = A(cost), ["turnover"] = A(turnover),
            },
            ["derived"] = new JsonObject
            {
                ["excess_return_without_cost"] = A(without),
                ["excess_return_with_cost"] = A(with),
                ["benchmark_return"] = A(benchmark),
                ["drawdown"] = A(drawdown),
            },
            ["summary"] = new JsonObject
            {
                ["first_day"] = dates[0],
                ["last_day"] = dates[^1],
                ["trading_days"] = days,
                ["final_excess_return_without_cost"] = without[^1],
                ["final_excess_return_with_cost"] = with[^1],
                ["final_benchmark_return"] = benchmark[^1],
                ["max_drawdown"] = drawdown.Min(),
            },
        };
    }
}

/// <summary>A sample with backtest reports and two differing loops, after init, served as a consumer.</summary>
public sealed class ComparedSample : IDisposable
{
    public Sample Sample { get; }
    public IReadOnlyList<SampleLoop> Loops { get; }
    public RunningServer Server { get; }
    public SampleLoop A => SampleBacktests.A(Loops);
    public SampleLoop B => SampleBacktests.B(Loops);

    public ComparedSample()
    {
        Sample = new Sample(taskRuns: 2, loops: 3);
        Loops = SampleBacktests.Prepare(Sample);
        var (code, output, err) = Sample.Cli("init");
        Assert.True(code == 0, output + err);
        Server = new RunningServer(Sample.Settings, ServeRole.Consumer);
    }

    public void Dispose()
    {
        Server.Dispose();
        Sample.Dispose();
    }
}
