using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Tests.Compare;

namespace RdBridge.Tests.Serve;

/// <summary>
/// GET /api/rdagent/loops/{t}/{l}/backtest and GET /api/rdagent/compare, and the compare verb, on a sample whose loops
/// carry backtest reports written by the test (expected values are read from those files, not from RdBridge).
/// </summary>
public class BacktestApiTests(ComparedSample compared) : IClassFixture<ComparedSample>
{
    private RunningServer Server => compared.Server;

    private static JsonElement Json(HttpResponseMessage r) =>
        JsonDocument.Parse(RunningServer.Text(r)).RootElement.Clone();

    private static double[] Series(JsonElement bt, string name) =>
        [.. bt.GetProperty("series").GetProperty(name).EnumerateArray().Select(v => v.GetDouble())];

    private static double[] Numbers(JsonNode? array) => [.. array!.AsArray().Select(v => (double)v!)];

    [Fact]
    public void Backtest_of_a_short_report_has_every_day_and_the_curve_the_workspace_file_holds()
    {
        var loop = compared.Loops[1];
        var report = loop.Report;
        var response = Server.Get($"api/rdagent/loops/{loop.TaskRunId}/{loop.LoopId}/backtest");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bt = Json(response);
        Assert.False(bt.GetProperty("decimated").GetBoolean());
        Assert.Equal(report["dates"]!.AsArray().Select(d => (string)d!),
            bt.GetProperty("dates").EnumerateArray().Select(d => d.GetString()));
        string[] derived = ["excess_return_with_cost", "excess_return_without_cost", "benchmark_return", "drawdown"];
        foreach (var name in derived)
            Assert.Equal(Numbers(report["derived"]![name]), Series(bt, name));
        Assert.Equal(Numbers(report["values"]!["turnover"]), Series(bt, "turnover"));
        Assert.Equal($"workspaces/{loop.WorkspaceId}/backtest_report.json", bt.GetProperty("file").GetString());
    }

    [Fact]
    public void Backtest_of_a_long_report_is_thinned_keeping_the_ends_and_the_drawdown_trough_and_full_gives_every_day()
    {
        var loop = compared.Loops[0];
        var report = loop.Report;
        var dates = report["dates"]!.AsArray().Select(d => (string)d!).ToList();
        var drawdown = Numbers(report["derived"]!["drawdown"]);
        var withCost = Numbers(report["derived"]!["excess_return_with_cost"]);
        Assert.Equal(SampleBacktests.LongReportDays, dates.Count);

        var bt = Json(Server.Get($"api/rdagent/loops/{loop.TaskRunId}/{loop.LoopId}/backtest"));
        Assert.True(bt.GetProperty("decimated").GetBoolean());
        var shown = bt.GetProperty("dates").EnumerateArray().Select(d => d.GetString()!).ToList();
        Assert.InRange(shown.Count, 100, 800); // the point budget; the days that must survive are checked below
        Assert.Equal(dates.Count, bt.GetProperty("trading_days").GetInt32());
        Assert.Equal(dates[0], shown[0]);
        Assert.Equal(dates[^1], shown[^1]);
        Assert.Equal(shown.Order(StringComparer.Ordinal), shown); // still in date order
        // The deepest drawdown and the highest with-cost point survive the thinning, with their values.
        var trough = Array.IndexOf(drawdown, drawdown.Min());
        var top = Array.IndexOf(withCost, withCost.Max());
        var at = shown.IndexOf(dates[trough]);
        Assert.Contains(dates[trough], shown);
        Assert.Equal(drawdown.Min(), bt.GetProperty("series").GetProperty("drawdown")[at].GetDouble());
        Assert.Contains(dates[top], shown);

        var full = Json(Server.Get($"api/rdagent/loops/{loop.TaskRunId}/{loop.LoopId}/backtest?full=1"));
        Assert.False(full.GetProperty("decimated").GetBoolean());
        Assert.Equal(dates, full.GetProperty("dates").EnumerateArray().Select(d => d.GetString()!));
        Assert.Equal(withCost, Series(full, "excess_return_with_cost"));
    }

    [Fact]
    public void Backtest_of_an_unknown_loop_or_a_loop_without_a_report_is_404_with_a_reason()
    {
        var unknown = Server.Get("api/rdagent/loops/nosuchrun/7/backtest");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var missing = Json(unknown);
        Assert.Equal("no such loop", missing.GetProperty("title").GetString());
        Assert.Equal("AIstock has no loop nosuchrun/7; sync, or check the ids",
            missing.GetProperty("detail").GetString());

        var last = compared.Loops[^1];
        Assert.False(File.Exists(last.ReportPath));
        var none = Server.Get($"api/rdagent/loops/{last.TaskRunId}/{last.LoopId}/backtest");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        var problem = Json(none);
        Assert.Equal("no backtest report", problem.GetProperty("title").GetString());
        Assert.Equal($"bundle 'bundle_{last.TaskRunId}_{last.LoopId}' carries no backtest_report.json for loop "
            + $"{last.TaskRunId}/{last.LoopId}; backfill writes it from the loop's ret.pkl",
            problem.GetProperty("detail").GetString());
    }

    [Fact]
    public void Compare_gives_metric_deltas_the_config_change_factor_sets_a_code_diff_and_both_curves()
    {
        var (a, b) = (compared.A, compared.B);
        var response = Server.Get($"api/rdagent/compare?a={a.Key}&b={b.Key}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var c = JsonNode.Parse(RunningServer.Text(response))!;

        // Metric deltas: B minus A, from the loop catalog rows.
        var rows = compared.Sample.Aistock.Rows(
            "SELECT task_run_id, loop_id, annualized_return FROM aistock_loop_catalog WHERE " +
            $"(task_run_id = '{a.TaskRunId}' AND loop_id = {a.LoopId}) " +
            $"OR (task_run_id = '{b.TaskRunId}' AND loop_id = {b.LoopId})");
        double Ann(SampleLoop l) =>
            Convert.ToDouble(rows.Single(r => (string)r[0]! == l.TaskRunId && Convert.ToInt64(r[1]) == l.LoopId)[2]);
        var ann = c["metrics"]!.AsArray().Single(m => (string?)m!["name"] == "annualized_return")!;
        Assert.Equal(Ann(a), (double)ann["a"]!);
        Assert.Equal(Ann(b), (double)ann["b"]!);
        Assert.Equal(Ann(b) - Ann(a), (double)ann["delta"]!, 12);

        // The config change the test made, in the strategy section, key by key.
        var topk = c["config"]!["changes"]!.AsArray()
            .Single(ch => (string?)ch!["path"] == "port_analysis_config.strategy.kwargs.topk")!;
        Assert.Equal("strategy", (string?)topk["section"]);
        Assert.Equal(("changed", "50", "30"), ((string?)topk["kind"], (string?)topk["before"], (string?)topk["after"]));

        // The YAML's unified diff shows the same change as a removed and an added line.
        var configName = Path.GetFileName((string?)c["config"]!["b_file"]);
        var yaml = c["code"]!.AsArray().First(f => (string?)f!["file"] == configName)!;
        Assert.Equal("changed", (string?)yaml["status"]);
        var lines = yaml["hunks"]!.AsArray().SelectMany(h => h!["lines"]!.AsArray())
            .Select(l => ((string?)l![0], (string?)l[1])).ToList();
        Assert.Contains(lines, l => l.Item1 == "-" && l.Item2!.Trim() == "topk: 50");
        Assert.Contains(lines, l => l.Item1 == "+" && l.Item2!.Trim() == "topk: 30");

        // Factor sets by fingerprint: what the catalog says each loop found.
        string[] FactorIds(SampleLoop l) => [.. compared.Sample.Aistock
            .Rows("SELECT factor_id, task_run_id, loop_id FROM aistock_factor_provenance")
            .Where(r => (string?)r[1] == l.TaskRunId && Convert.ToInt64(r[2]) == l.LoopId)
            .Select(r => (string)r[0]!).Distinct()];
        var fa = FactorIds(a);
        var fb = FactorIds(b);
        string[] Ids(string kind) => [.. c["factors"]![kind]!.AsArray().Select(f => (string)f!["factor_id"]!).Order()];
        Assert.Equal(fb.Except(fa).Order(), Ids("added"));
        Assert.Equal(fa.Except(fb).Order(), Ids("removed"));
        Assert.Equal(fa.Intersect(fb).Order(), Ids("kept"));

        // Both curves, with the final values the reports hold.
        foreach (var (side, loop) in new[] { ("a", a), ("b", b) })
        {
            Assert.Equal(Numbers(loop.Report["derived"]!["excess_return_with_cost"])[^1],
                Numbers(c["curves"]![side]!["series"]!["excess_return_with_cost"])[^1]);
        }
    }

    [Fact]
    public void Compare_with_a_malformed_loop_is_400_and_with_an_unknown_loop_is_404()
    {
        var malformed = Server.Get($"api/rdagent/compare?a=nocolon&b={compared.B.Key}");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var unknown = Server.Get($"api/rdagent/compare?a=nosuchrun:1&b={compared.B.Key}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("AIstock has no loop nosuchrun/1; sync, or check the ids (the loops page lists them)",
            Json(unknown).GetProperty("detail").GetString());
    }

    [Fact]
    public void Compare_verb_prints_the_deltas_and_the_diff_and_its_json_matches_the_api()
    {
        var (a, b) = (compared.A, compared.B);
        var (code, output, err) = compared.Sample.Cli("compare", a.Key, b.Key);
        Assert.True(code == 0, output + err);
        var lines = output.Split('\n');
        Assert.Contains("Metrics (b - a)", lines); // the section's heading, a whole line of the output
        // Headed columns, returns in percent: each loop's annualized return as AIstock's loop table holds it.
        Assert.Matches(@"\n  metric +a +b +b - a\n", output);
        double Ar(string taskRun, long loop) => Convert.ToDouble(compared.Sample.Aistock.Rows(
            "SELECT annualized_return FROM aistock_loop_catalog " +
            $"WHERE task_run_id = '{taskRun}' AND loop_id = {loop}")[0][0], CultureInfo.InvariantCulture);
        string Pct(double x) => (x * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";
        var line = output.Split('\n')
            .First(l => l.TrimStart().StartsWith("annualized_return ", StringComparison.Ordinal));
        Assert.Equal(["annualized_return", Pct(Ar(a.TaskRunId, a.LoopId)), Pct(Ar(b.TaskRunId, b.LoopId))],
            line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..3]);
        // The change the test made, in the strategy section, as a line of its own.
        Assert.Contains("  [strategy] port_analysis_config.strategy.kwargs.topk: 50 → 30", lines);
        Assert.Contains(output.Split('\n'), l => l.StartsWith('-') && l.Trim('-', ' ') == "topk: 50");

        var (jcode, json, jerr) = compared.Sample.Cli("compare", a.Key, b.Key, "--json");
        Assert.True(jcode == 0, jerr);
        var api = RunningServer.Text(Server.Get($"api/rdagent/compare?a={a.Key}&b={b.Key}"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(api), JsonNode.Parse(json)));

        var (missing, _, merr) = compared.Sample.Cli("compare", "nosuchrun:1", b.Key);
        Assert.Equal(ExitCodes.ItemFailures, missing);
        // A whole line of the error output, naming the loop and what to do.
        Assert.Contains("error: AIstock has no loop nosuchrun/1; sync, or check the ids (the loops page lists them)",
            merr.Split('\n'));
        Assert.Equal(ExitCodes.UsageError, compared.Sample.Cli("compare", "nocolon", b.Key).Code);
    }

    [Fact]
    public void On_a_consumer_the_compare_verb_and_the_backtest_api_read_the_publisher_s_bundles_from_the_asset_cache()
    {
        IReadOnlyList<SampleLoop> loops = [];
        using var m = new TwoMachines(taskRuns: 2, loops: 3, beforePublish: p => loops = SampleBacktests.Prepare(p));
        var (code, output, err) = m.Consumer("sync");
        Assert.True(code == 0, output + err);
        var (a, b) = (SampleBacktests.A(loops), SampleBacktests.B(loops));

        // The consumer has no RD-Agent directory: everything comes from its database and its asset cache.
        var (ccode, json, cerr) = m.Consumer("compare", a.Key, b.Key, "--json");
        Assert.True(ccode == 0, cerr);
        var c = JsonNode.Parse(json)!;
        Assert.Equal(("gpu1", "gpu1"), ((string?)c["a"]!["origin"], (string?)c["b"]!["origin"]));
        Assert.Contains(c["config"]!["changes"]!.AsArray(),
            ch => (string?)ch!["path"] == "port_analysis_config.strategy.kwargs.topk" && (string?)ch["after"] == "30");
        Assert.Equal(Numbers(b.Report["derived"]!["excess_return_with_cost"])[^1],
            Numbers(c["curves"]!["b"]!["series"]!["excess_return_with_cost"])[^1]);

        using var server = new RunningServer(m.ConsumerSettings, RdBridge.Server.ServeRole.Consumer);
        var bt = Json(server.Get($"api/rdagent/loops/{a.TaskRunId}/{a.LoopId}/backtest"));
        Assert.Equal(Numbers(a.Report["derived"]!["drawdown"]), Series(bt, "drawdown"));
    }
}
