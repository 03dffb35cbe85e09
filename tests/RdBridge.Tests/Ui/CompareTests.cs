using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using RdBridge.Tests.Compare;

namespace RdBridge.Tests.Ui;

/// <summary>
/// Backtest curves and the compare page in Chromium, on a sample whose loops carry backtest reports the test wrote;
/// every expected value is read from those files or the catalog, never from RdBridge's answers.
/// </summary>
[Collection("browser")]
public class CompareTests(Chromium chromium, ComparedSample compared) : IClassFixture<ComparedSample>
{
    private static double Number(string? attribute) => double.Parse(attribute!, CultureInfo.InvariantCulture);

    private static double LastWithCost(SampleLoop loop) =>
        (double)loop.Report["derived"]!["excess_return_with_cost"]!.AsArray()[^1]!;

    private static string Pct(double v) => (v * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";

    [Fact]
    public async Task Loop_detail_draws_the_curve_with_every_day_its_final_value_the_drawdown_and_hover_values()
    {
        var loop = compared.A;
        var report = loop.Report;
        var dates = report["dates"]!.AsArray().Select(d => (string)d!).ToList();
        var withCost = report["derived"]!["excess_return_with_cost"]!.AsArray().Select(v => (double)v!).ToList();
        var drawdown = report["derived"]!["drawdown"]!.AsArray().Select(v => (double)v!).ToList();

        await using var ui = await chromium.OpenAsync(compared.Server.Url);
        var page = ui.Page;
        await page.GotoAsync($"/rdagent/loops/{loop.TaskRunId}/{loop.LoopId}");
        var curve = page.Locator("#backtest-chart path[data-series=excess_return_with_cost]");
        await curve.WaitForAsync();

        // One point per trading day of the report, ending at the report's final cumulative excess return with cost.
        Assert.Equal(dates.Count.ToString(CultureInfo.InvariantCulture), await curve.GetAttributeAsync("data-points"));
        var d = (await curve.GetAttributeAsync("d"))!;
        Assert.Equal(dates.Count, d.Count(c => c is 'M' or 'L'));
        Assert.Equal(withCost[^1], Number(await curve.GetAttributeAsync("data-final")));
        await Assertions.Expect(page.Locator("#backtest li[data-series=excess_return_with_cost] .final"))
            .ToHaveTextAsync(Pct(withCost[^1]));
        foreach (var series in new[] { "excess_return_without_cost", "benchmark_return" })
            Assert.Equal(1, await page.Locator($"#backtest-chart path[data-series={series}]").CountAsync());
        // The summary line: trading days, first and last day, and the deepest drawdown the report states.
        await Assertions.Expect(page.Locator("#backtest-span")).ToContainTextAsync(
            $"{Words.N(dates.Count, "trading day", "trading days")} 交易日 · {dates[0]} → {dates[^1]} · "
                + $"max drawdown 最大回撤 {Pct(drawdown.Min())}");
        var dd = page.Locator("#drawdown-chart path[data-series=drawdown]");
        Assert.Equal(dates.Count.ToString(CultureInfo.InvariantCulture), await dd.GetAttributeAsync("data-points"));
        Assert.Equal(drawdown[^1], Number(await dd.GetAttributeAsync("data-final")));

        // Hovering right of the last day (in the margin) reads out the last day and its values.
        var box = (await page.Locator("#backtest-chart").BoundingBoxAsync())!;
        await page.Locator("#backtest-chart")
            .HoverAsync(new() { Position = new() { X = box.Width - 4, Y = box.Height / 2 }, Force = true });
        var hover = page.Locator("#backtest-chart-hover text");
        await Assertions.Expect(hover.First).ToHaveTextAsync(dates[^1]);
        Assert.Contains(await hover.AllTextContentsAsync(),
            t => t.EndsWith(": " + Pct(withCost[^1]), StringComparison.Ordinal));
        await ui.ScreenshotAsync("loop-backtest");
        var shot = Path.Combine(Chromium.ScreenshotFolder, "loop-curve.png");
        await page.Locator("#backtest").ScreenshotAsync(new() { Path = shot });
    }

    [Fact]
    public async Task Task_run_page_overlays_every_loop_s_curve_with_the_accepted_loops_marked()
    {
        var taskRun = compared.A.TaskRunId;
        var withReport = compared.Loops.Where(l => l.TaskRunId == taskRun && File.Exists(l.ReportPath)).ToList();
        var accepted = compared.Sample.Aistock
            .Rows($"SELECT loop_id, decision FROM aistock_loop_catalog WHERE task_run_id = '{taskRun}'")
            .ToDictionary(r => Convert.ToInt64(r[0]), r => Convert.ToBoolean(r[1]));

        await using var ui = await chromium.OpenAsync(compared.Server.Url);
        var page = ui.Page;
        await page.GotoAsync($"/rdagent/runs/{taskRun}");
        await page.Locator("#run-curves figure").WaitForAsync();
        var curves = await page.Locator("#run-curves path.curve").EvaluateAllAsync<string[][]>(
            "ps => ps.map(p => [p.dataset.loop, p.dataset.sota, p.dataset.final])");
        Assert.Equal(withReport.Select(l => l.LoopId.ToString(CultureInfo.InvariantCulture)).Order(),
            curves.Select(c => c[0]).Order());
        foreach (var c in curves)
        {
            var loop = withReport.Single(l => l.LoopId.ToString(CultureInfo.InvariantCulture) == c[0]);
            Assert.Equal(accepted[loop.LoopId] ? "true" : "false", c[1]);
            Assert.Equal(LastWithCost(loop), Number(c[2]));
        }
        Assert.Equal(accepted.Count(kv => kv.Value && withReport.Any(l => l.LoopId == kv.Key)),
            await page.Locator("#run-curves path.curve.sota").CountAsync());
        // The loop without a report is named, and nothing else is written under the chart.
        var without = compared.Loops.Where(l => l.TaskRunId == taskRun && !File.Exists(l.ReportPath))
            .Select(l => l.LoopId).ToList();
        if (without.Count == 0)
        {
            Assert.Equal(1, await page.Locator("#run-curves > *").CountAsync());
        }
        else
        {
            await Assertions.Expect(page.Locator("#run-curves-missing"))
            .ToContainTextAsync($"loop {string.Join(", ", without)}");
        }

        Assert.DoesNotContain("null", await page.Locator("#run-curves").InnerTextAsync());
        await ui.ScreenshotAsync("task-run-curves");
    }

    [Fact]
    public async Task Two_loops_picked_in_the_loops_table_open_a_compare_page_with_metric_delta_config_change_and_diff()
    {
        var (a, b) = (compared.A, compared.B);
        double Ann(SampleLoop l) => Convert.ToDouble(compared.Sample.Aistock.Rows(
            "SELECT annualized_return FROM aistock_loop_catalog " +
            $"WHERE task_run_id = '{l.TaskRunId}' AND loop_id = {l.LoopId}")[0][0]);
        var delta = Ann(b) - Ann(a);

        await using var ui = await chromium.OpenAsync(compared.Server.Url);
        var page = ui.Page;
        await page.GotoAsync("/rdagent/loops");
        await page.Locator("#catalog tbody input.pick").First.WaitForAsync();
        Assert.True(await page.Locator("#compare-button").IsDisabledAsync());
        await page.Locator($"#catalog input.pick[value='{a.Key}']").CheckAsync();
        await page.Locator($"#catalog input.pick[value='{b.Key}']").CheckAsync();
        await page.Locator("#compare-button").ClickAsync();
        await page.WaitForURLAsync("**/rdagent/compare?a=*");
        Assert.Equal($"?a={Uri.EscapeDataString(a.Key)}&b={Uri.EscapeDataString(b.Key)}", new Uri(page.Url).Query);
        await page.Locator("#metric-deltas").WaitForAsync();

        // The metric delta, B minus A, as the catalog's numbers give it.
        await Assertions.Expect(page.Locator("#metric-deltas tr[data-metric=annualized_return] td.delta"))
            .ToHaveTextAsync((delta > 0 ? "+" : "") + Pct(delta));
        // The config change, in its section, with both values.
        var topk = page.Locator("#config-changes tr[data-path='port_analysis_config.strategy.kwargs.topk']");
        await Assertions.Expect(topk.Locator("td").Nth(0)).ToHaveTextAsync("strategy");
        await Assertions.Expect(topk.Locator("td").Nth(2)).ToHaveTextAsync("50");
        await Assertions.Expect(topk.Locator("td").Nth(3)).ToHaveTextAsync("30");
        // A code diff line on each side of the change.
        var removed = await page.Locator("#code-diffs .line.del").AllTextContentsAsync();
        var added = await page.Locator("#code-diffs .line.add").AllTextContentsAsync();
        Assert.Contains(removed, l => l.StartsWith('-') && l[1..].Trim() == "topk: 50");
        Assert.Contains(added, l => l.StartsWith('+') && l[1..].Trim() == "topk: 30");
        // Both loops' curves on one chart, each ending where its report ends.
        foreach (var (side, loop) in new[] { ("a", a), ("b", b) })
        {
            var path = page.Locator($"#compare-chart path.side-{side}[data-series=excess_return_with_cost]");
            Assert.Equal(LastWithCost(loop), Number(await path.GetAttributeAsync("data-final")));
        }
        await ui.ScreenshotAsync("compare");
    }

    [Fact]
    public async Task A_loop_without_a_report_says_so_on_its_page()
    {
        var last = compared.Loops[^1];
        await using var ui = await chromium.OpenAsync(compared.Server.Url);
        await ui.Page.GotoAsync($"/rdagent/loops/{last.TaskRunId}/{last.LoopId}");
        await Assertions.Expect(ui.Page.Locator("#backtest-missing")).ToContainTextAsync("backtest_report.json");
        Assert.Equal(0, await ui.Page.Locator("#backtest-chart").CountAsync());
    }

    [Fact]
    public async Task View_logic_puts_two_loops_on_one_time_axis_and_reads_hover_and_deltas_as_a_user_would()
    {
        await using var ui = await chromium.OpenAsync(compared.Server.Url);
        await ui.Page.GotoAsync("/rdagent/sync");
        var r = await ui.ViewAsync("""
            const a = { dates: ['2020-01-02', '2020-01-03', '2020-01-06'],
              series: { excess_return_with_cost: [0.01, null, -0.02] } };
            const b = { dates: ['2020-01-06', '2020-01-07'], series: { excess_return_with_cost: [0.05, 0.04] } };
            const withCost = v.RETURN_SERIES.slice(0, 1);
            const lines = [...v.curveLines(a, withCost, { cls: 'side-a' }),
              ...v.curveLines(b, withCost, { cls: 'side-b' })];
            const c = v.curveLayout(lines, 500, 200, { left: 50, right: 10, top: 10, bottom: 20 });
            return {
              counts: c.lines.map((l) => l.points.length),
              xs: c.lines.map((l) => l.points.map((p) => p.x)),
              finals: lines.map(v.finalValue),
              hover: v.hoverValues(c, v.timeAt(c, 440)).map((h) => [h.point.date, h.point.value]),
              deltas: v.metricDeltaRows([{ name: 'annualized_return', a: 0.05, b: 0.0732, delta: 0.0232 },
                { name: 'ic', a: 0.04, b: 0.03, delta: -0.01 }]),
              route: v.route('/rdagent/compare'), href: v.compareHref('t1:2', 't2:0'),
              key: v.parseLoopKey('ab:cd:12'), bad: v.parseLoopKey('x'),
            };
            """);
        // The null day is a gap, not a zero; both lines share the axis: 2020-01-06 is at the same x in each.
        Assert.Equal([2, 2], r.GetProperty("counts").EnumerateArray().Select(x => x.GetInt32()));
        var xs = r.GetProperty("xs");
        Assert.Equal(50, xs[0][0].GetDouble(), 6);
        Assert.Equal(xs[0][1].GetDouble(), xs[1][0].GetDouble(), 6);
        Assert.Equal(490, xs[1][1].GetDouble(), 6);
        Assert.Equal([-0.02, 0.04], r.GetProperty("finals").EnumerateArray().Select(x => x.GetDouble()));
        // x = 440 is nearer 2020-01-06 than 2020-01-07 (5 days over 440 units): line A's last day, line B's first.
        Assert.Equal("[[\"2020-01-06\",-0.02],[\"2020-01-06\",0.05]]", r.GetProperty("hover").GetRawText());
        Assert.Equal("+2.32%", r.GetProperty("deltas")[0].GetProperty("delta").GetString());
        Assert.Equal("up", r.GetProperty("deltas")[0].GetProperty("cls").GetString());
        Assert.Equal("-0.0100", r.GetProperty("deltas")[1].GetProperty("delta").GetString());
        Assert.Equal("compare", r.GetProperty("route").GetProperty("page").GetString());
        Assert.Equal("/rdagent/compare?a=t1%3A2&b=t2%3A0", r.GetProperty("href").GetString());
        Assert.Equal("ab:cd", r.GetProperty("key").GetProperty("taskRunId").GetString());
        Assert.Equal(12, r.GetProperty("key").GetProperty("loopId").GetInt32());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("bad").ValueKind);
    }
}
