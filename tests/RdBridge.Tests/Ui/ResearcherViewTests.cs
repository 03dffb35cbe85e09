using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using RdBridge.Server;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.Ui;

/// <summary>
/// A sample of ten task runs × 30 loops (the size issue 21 asks for) with failed loops, one loop RD-Agent is still
/// running (a registry row without results, as the fork writes it at a loop's start), after init, served as a
/// consumer on the RD-Agent machine.
/// </summary>
public sealed class ResearcherSample : IDisposable
{
    public Sample Sample { get; }
    public RunningServer Server { get; }
    public string RunningTaskRun { get; }
    public long RunningLoop { get; }
    /// <summary>Two model loops whose model sub-workspaces hold the same <c>model.py</c>, the second's
    /// <c>read_exp_res.py</c> in CRLF (<see cref="LoopPageCases"/>).</summary>
    public (string A, string B) SameModelLoops { get; }

    public ResearcherSample()
    {
        Sample = new Sample(taskRuns: 10, loops: 30);
        LoopPageCases.WriteDailyIc(Sample);
        SameModelLoops = LoopPageCases.SameModelCode(Sample);
        var (code, output, err) = Sample.Cli("init");
        Assert.True(code == 0, output + err);
        var registry = Sample.Settings.RegistryPath;
        RunningTaskRun = (string)Db.Rows(registry, "SELECT task_run_id FROM loops ORDER BY task_run_id LIMIT 1")[0][0]!;
        RunningLoop = Db.Scalar(registry, $"SELECT max(loop_id) + 1 FROM loops WHERE task_run_id = '{RunningTaskRun}'");
        Db.Exec(registry, $"""
            CREATE TEMP TABLE next_loop AS SELECT * FROM loops WHERE task_run_id = '{RunningTaskRun}'
              ORDER BY loop_id DESC LIMIT 1;
            UPDATE next_loop SET loop_id = {RunningLoop}, status = 'running', has_result = 0, error_type = NULL,
              error_message = NULL, asset_bundle_id = NULL, ended_at_utc = NULL;
            INSERT INTO loops SELECT * FROM next_loop;
            """);
        Server = new RunningServer(Sample.Settings, ServeRole.Consumer);
    }

    public void Dispose()
    {
        Server.Dispose();
        Sample.Dispose();
    }
}

/// <summary>
/// The researcher's view (issue 21) in Chromium: task runs as pages that tell their story, every loop with its
/// status, factors as research objects. Expected values are read from the registry, the AIstock database and the
/// bundles' files with SQL and JSON readers of their own.
/// </summary>
[Collection("browser")]
public partial class ResearcherViewTests(Chromium chromium, ResearcherSample fixture) : IClassFixture<ResearcherSample>
{
    private Sample Sample => fixture.Sample;
    private string Registry => Sample.Settings.RegistryPath;

    private List<object?[]> RegistryLoops(string taskRun) => Db.Rows(Registry,
        $"SELECT loop_id, status, has_result, error_type, error_message FROM loops WHERE task_run_id = '{taskRun}' " +
        "ORDER BY loop_id");

    private string? Hypothesis(string taskRun, long loop) => Db.Rows(Registry,
        $"SELECT hypothesis FROM rdbridge_discovery WHERE task_run_id = '{taskRun}' AND loop_id = {loop}")
        .Select(r => r[0] as string).FirstOrDefault();

    [Fact]
    public async Task Task_runs_index_lists_every_run_with_its_loops_by_status_and_filters_by_id_prefix_or_name()
    {
        var runs = Db.Rows(Registry, "SELECT DISTINCT task_run_id FROM loops ORDER BY 1").Select(r => (string)r[0]!)
            .ToList();
        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        await page.GotoAsync("/rdagent/runs");
        await page.Locator("#runs tbody tr").First.WaitForAsync();
        var shown = await page.Locator("#runs tbody tr").EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.run)");
        Assert.Equal(runs, shown.Order(StringComparer.Ordinal));

        foreach (var run in runs)
        {
            var loops = RegistryLoops(run);
            var row = page.Locator($"#runs tr[data-run='{run}']");
            var cells = await row.Locator("td").AllInnerTextsAsync();
            Assert.Equal(loops.Count.ToString(CultureInfo.InvariantCulture), cells[5]);
            // One badge per status the registry holds, in the order of the status names.
            Assert.Equal(loops.GroupBy(l => (string)l[1]!).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => $"{g.Key} {g.Count()}"),
                await row.Locator("td span.badge").AllInnerTextsAsync());
            var withResults = Sample.Aistock.Scalar(
                $"SELECT count(*) FROM aistock_loop_catalog WHERE task_run_id = '{run}' " +
                "AND asset_bundle_id IS NOT NULL");
            Assert.Equal(withResults.ToString(CultureInfo.InvariantCulture), cells[7]);
            var accepted = Sample.Aistock.Scalar(
                $"SELECT count(*) FROM aistock_loop_catalog WHERE task_run_id = '{run}' " +
                "AND CAST(decision AS INTEGER) = 1");
            Assert.Equal(accepted.ToString(CultureInfo.InvariantCulture), cells[8]);
            // The best value and the first loop that reached it.
            var values = Sample.Aistock.Rows($"SELECT loop_id, annualized_return FROM aistock_loop_catalog " +
                    $"WHERE task_run_id = '{run}' AND annualized_return IS NOT NULL ORDER BY loop_id")
                .Select(r => (Loop: Convert.ToInt64(r[0]), Value: Convert.ToDouble(r[1], CultureInfo.InvariantCulture)))
                .ToList();
            var best = values.Max(v => v.Value);
            Assert.Equal((best * 100).ToString("F2", CultureInfo.InvariantCulture) + "% loop "
                + values.First(v => v.Value == best).Loop.ToString(CultureInfo.InvariantCulture), cells[9]);
        }
        // The running loop is counted under its status.
        Assert.Single(await page.Locator($"#runs tr[data-run='{fixture.RunningTaskRun}'] td span.badge")
            .AllInnerTextsAsync(), b => b == "running 1");
        await ui.ScreenshotAsync("task-runs");

        // A prefix of an id finds its run; so does a word of its name (the first hypothesis, from the log).
        var prefix = runs[1][..5];
        await page.Locator("#search").FillAsync(prefix);
        await page.WaitForFunctionAsync(
            $"() => [...document.querySelectorAll('#runs tbody tr')].every(r => r.dataset.run.startsWith('{prefix}'))");
        Assert.Equal(runs.Count(r => r.StartsWith(prefix, StringComparison.Ordinal)),
            await page.Locator("#runs tbody tr").CountAsync());
        var first = Hypothesis(runs[2], 0)!;
        var word = first.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
        await page.Locator("#search").FillAsync(word);
        await page.WaitForURLAsync("**/rdagent/runs?q=*");
        await page.Locator($"#runs tr[data-run='{runs[2]}']").WaitForAsync();
    }

    [Fact]
    public async Task Task_run_page_tells_the_story_of_every_loop_with_one_request_for_all_curves()
    {
        var run = fixture.RunningTaskRun;
        var loops = RegistryLoops(run);
        // Loops with results: failed and running loops are in AIstock's loop table too, without a bundle.
        var stored = Sample.Aistock.Rows($"SELECT loop_id, decision, annualized_return, asset_bundle_id " +
            $"FROM aistock_loop_catalog WHERE task_run_id = '{run}' AND asset_bundle_id IS NOT NULL ORDER BY loop_id");
        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        var curveRequests = new List<string>();
        page.Request += (_, r) =>
        {
            if (r.Url.Contains("/curves", StringComparison.Ordinal)
                || r.Url.Contains("/backtest", StringComparison.Ordinal))
            {
                curveRequests.Add(r.Url);
            }
        };
        // The page opens from a prefix of the id.
        await page.GotoAsync($"/rdagent/runs/{run[..8]}");
        await page.Locator("#run-curves[data-lines]").WaitForAsync();

        // Every loop the registry holds, in order, each with where it stands and its hypothesis from the log.
        var items = await page.Locator("#story li").EvaluateAllAsync<string[][]>(
            "ls => ls.map(l => [l.dataset.loop, l.dataset.state, l.innerText])");
        Assert.Equal(loops.Select(l => Convert.ToInt64(l[0]).ToString(CultureInfo.InvariantCulture)),
            items.Select(i => i[0]));
        var inCatalog = stored.Select(s => Convert.ToInt64(s[0])).ToHashSet();
        foreach (var (l, item) in loops.Zip(items))
        {
            var id = Convert.ToInt64(l[0]);
            var status = (string)l[1]!;
            var expected = inCatalog.Contains(id) ? "results" : status == "success" ? "no results" : status;
            Assert.Equal(expected, item[1]);
            if (Hypothesis(run, id) is { } h) Assert.Contains(h, item[2]);
            if (l[4] is string error) Assert.Contains(error, item[2]);
        }
        var runningLoop = fixture.RunningLoop.ToString(CultureInfo.InvariantCulture);
        Assert.Equal("running", items.Single(i => i[0] == runningLoop)[1]);

        // Best so far: one dot per loop with a value, the first the baseline, the line never falling.
        var dots = await page.Locator("#best-chart circle").EvaluateAllAsync<string[][]>(
            "cs => cs.map(c => [c.dataset.loop, c.dataset.value, c.dataset.best, c.dataset.sota, " +
            "c.getAttribute('class')])");
        var withValue = stored.Where(s => s[2] is not null).ToList();
        Assert.Equal(withValue.Select(s => Convert.ToInt64(s[0]).ToString(CultureInfo.InvariantCulture)),
            dots.Select(d => d[0]));
        var runningMax = double.NegativeInfinity;
        var first = true;
        foreach (var (s, d) in withValue.Zip(dots))
        {
            // A dot's marks: accepted (SOTA) from the decision, the first loop the baseline, "improved" when the
            // loop beat every earlier value.
            var value = Convert.ToDouble(s[2], CultureInfo.InvariantCulture);
            Assert.Equal("dot-loop" + (Convert.ToInt64(s[1]) == 1 ? " sota" : "") + (first ? " baseline" : "")
                + (first || value > runningMax ? " improved" : ""), d[4]);
            first = false;
            runningMax = Math.Max(runningMax, value);
            Assert.Equal(runningMax, double.Parse(d[2], CultureInfo.InvariantCulture), 12);
            Assert.Equal(Convert.ToInt64(s[1]) == 1 ? "true" : "false", d[3]);
        }

        // Curves: one request for all of them; SOTA loops bold, the rest faint; each ends where its report ends.
        Assert.Equal($"{fixture.Server.Url}api/rdagent/task-runs/{run}/curves", Assert.Single(curveRequests));
        var lines = await page.Locator("#run-curves-chart path.loop-line").EvaluateAllAsync<string[][]>(
            "ps => ps.map(p => [p.dataset.loop, p.dataset.sota, p.dataset.final, p.getAttribute('class')])");
        Assert.Equal(stored.Count, lines.Length);
        // The best loop: the first to reach the highest value.
        var top = withValue.MaxBy(s => Convert.ToDouble(s[2], CultureInfo.InvariantCulture))![0];
        foreach (var s in stored)
        {
            var line = lines.Single(x => x[0] == Convert.ToInt64(s[0]).ToString(CultureInfo.InvariantCulture));
            var sota = Convert.ToInt64(s[1]) == 1;
            Assert.Equal(sota ? "true" : "false", line[1]);
            var bold = Equals(s[0], top) ? (sota ? "best sota" : "best") : sota ? "sota" : "faint";
            Assert.Equal("curve loop-line " + bold, line[3]);
            Assert.Equal(LastReportValue((string)s[3]!), double.Parse(line[2], CultureInfo.InvariantCulture), 12);
        }
        await ui.ScreenshotAsync("task-run-story");

        // The loop table sorts numbers as numbers.
        await page.Locator("#run-loops th button[data-sort=annualized_return]").ClickAsync();
        var order = await page.Locator("#run-loops tbody tr").EvaluateAllAsync<string[]>(
            "rs => rs.map(r => r.dataset.loop)");
        var expectedOrder = stored.Where(s => s[2] is not null)
            .OrderBy(s => Convert.ToDouble(s[2], CultureInfo.InvariantCulture))
            .Select(s => Convert.ToInt64(s[0]).ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expectedOrder, order.Take(withValue.Count));
    }

    /// <summary>The last day's cumulative excess return with cost, read from the bundle's report with
    /// System.Text.Json.</summary>
    private double LastReportValue(string bundleId)
    {
        var dir = Path.Combine(Sample.Settings.AssetCacheDirectory, bundleId, "workspaces");
        var report = Directory.GetFiles(dir, "backtest_report.json", SearchOption.AllDirectories).Single();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(report));
        var values = FindArray(doc.RootElement, "excess_return_with_cost")!.Value.EnumerateArray()
            .Where(v => v.ValueKind == JsonValueKind.Number).ToList();
        return values[^1].GetDouble();
    }

    private static JsonElement? FindArray(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name == name && p.Value.ValueKind == JsonValueKind.Array) return p.Value;
            if (FindArray(p.Value, name) is { } found) return found;
        }
        return null;
    }

    [Fact]
    public async Task A_loop_without_results_has_a_page_with_its_hypothesis_status_and_error()
    {
        var failed = Db.Rows(Registry, "SELECT task_run_id, loop_id, error_type, error_message FROM loops " +
            "WHERE status = 'failed' ORDER BY task_run_id, loop_id LIMIT 1")[0];
        var (run, loop) = ((string)failed[0]!, Convert.ToInt64(failed[1]));
        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        await page.GotoAsync($"/rdagent/loops/{run}/{loop}");
        await Assertions.Expect(page.Locator("#loop-state")).ToContainTextAsync("failed");
        await Assertions.Expect(page.Locator("#loop-hypothesis")).ToHaveTextAsync(Hypothesis(run, loop)!);
        await Assertions.Expect(page.Locator("#loop-facts")).ToContainTextAsync((string)failed[3]!);
        await Assertions.Expect(page.Locator("#loop-facts")).ToContainTextAsync((string)failed[2]!);

        await page.GotoAsync($"/rdagent/loops/{fixture.RunningTaskRun}/{fixture.RunningLoop}");
        await Assertions.Expect(page.Locator("#loop-state")).ToContainTextAsync("running");
        await Assertions.Expect(page.Locator("#no-results-note")).ToBeVisibleAsync();

        // A loop with results names its hypothesis and offers the comparisons a researcher makes.
        var accepted = Sample.Aistock.Rows("SELECT task_run_id, loop_id FROM aistock_loop_catalog " +
            "WHERE CAST(decision AS INTEGER) = 1 " +
            "AND loop_id > 0 ORDER BY task_run_id, loop_id LIMIT 1")[0];
        var (arun, aloop) = ((string)accepted[0]!, Convert.ToInt64(accepted[1]));
        await page.GotoAsync($"/rdagent/loops/{arun}/{aloop}");
        await Assertions.Expect(page.Locator("#loop-hypothesis")).ToContainTextAsync(Hypothesis(arun, aloop)!);
        var previous = Sample.Aistock.Scalar("SELECT max(loop_id) FROM aistock_loop_catalog " +
            $"WHERE task_run_id = '{arun}' AND loop_id < {aloop} AND asset_bundle_id IS NOT NULL");
        Assert.EndsWith($"a={arun}%3A{previous}&b={arun}%3A{aloop}",
            await page.Locator("#compare-previous").GetAttributeAsync("href"));
        // Every node of the lineage graph is a link.
        var nodes = await page.Locator("#lineage g.node")
            .EvaluateAllAsync<string[]>("gs => gs.map(g => g.dataset.node)");
        Assert.Equal(["bundle", "cache", "factors", "loop", "manifest", "model", "strategy", "task_run", "workspace"],
            nodes.Order(StringComparer.Ordinal));
        Assert.Equal(nodes.Length, await page.Locator("#lineage a.node-link[href] g.node").CountAsync());
    }

    [Fact]
    public async Task Factor_page_shows_its_code_inline_where_it_was_found_and_whose_metrics_it_carries()
    {
        var row = Sample.Aistock.Rows("SELECT factor_id, name, payload FROM aistock_factor_catalog " +
            "WHERE source = 'rdagent_generated' ORDER BY occurrences DESC, factor_id LIMIT 1")[0];
        var factorId = (string)row[0]!;
        var record = JsonNode.Parse((string)row[2]!)!;
        var codeFile = Path.Combine(Sample.Settings.AssetCacheDirectory, (string)record["asset_bundle_id"]!,
            (string)record["code_path"]!);
        // Its loops as the exported factor_provenance.json lists them, in loop order.
        var provenance = JsonNode.Parse(File.ReadAllText(Path.Combine(Sample.Settings.CatalogDirectory,
                "factor_provenance.json")))!["provenance"]!.AsArray()
            .Where(p => (string?)p!["factor_id"] == factorId)
            .OrderBy(p => (string)p!["task_run_id"]!, StringComparer.Ordinal).ThenBy(p => (long)p!["loop_id"]!)
            .ToList();

        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        await page.GotoAsync($"/rdagent/factors?q={Uri.EscapeDataString((string)row[1]!)}");
        await page.Locator($"#catalog a[href='/rdagent/factors/{factorId}']").First.ClickAsync();
        await page.Locator("#factor-code").WaitForAsync();
        Assert.Equal(File.ReadAllText(codeFile).ReplaceLineEndings("\n"),
            (await page.Locator("#factor-code").TextContentAsync())!.ReplaceLineEndings("\n"));
        // As many keywords highlighted as CPython's tokenizer finds in the file.
        var keywords = int.Parse(RdBridge.Tests.Discovery.UpstreamRdAgent.RunPython(["-c", """
            import io, keyword, sys, tokenize
            src = open(sys.argv[1], encoding="utf-8").read()
            tokens = tokenize.generate_tokens(io.StringIO(src).readline)
            print(sum(1 for t in tokens if t.type == tokenize.NAME and keyword.iskeyword(t.string)))
            """, codeFile]).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(keywords, await page.Locator("#factor-code .tok-keyword").CountAsync());
        await Assertions.Expect(page.Locator("#metrics-meaning"))
            .ToContainTextAsync($"loop {(long)record["loop_id"]!}");
        // The table is drawn when its rows arrive: waited for, not read at once (PostgreSQL answers later).
        await Assertions.Expect(page.Locator("#found-in tbody tr")).ToHaveCountAsync(Math.Min(100, provenance.Count));
        var foundIn = await page.Locator("#found-in tbody tr").EvaluateAllAsync<string[]>(
            "rs => rs.map(r => r.dataset.loop)");
        // A factor every loop uses names the first 100 loops; the heading counts them all.
        Assert.Equal(provenance.Take(100).Select(p => $"{(string)p!["task_run_id"]!}:{(long)p["loop_id"]!}"),
            foundIn);
        await Assertions.Expect(page.Locator("h2", new() { HasText = "Found in" }))
            .ToContainTextAsync($"({Words.N(provenance.Count, "loop", "loops")}");
        foreach (var p in provenance.Take(100))
        {
            if (Hypothesis((string)p!["task_run_id"]!, (long)p["loop_id"]!) is { } h)
                await Assertions.Expect(page.Locator("#found-in")).ToContainTextAsync(h);
        }
        // The top of the page (description, metrics, code, the first loops it was found in): at this size the whole
        // found-in table is thousands of pixels long.
        Directory.CreateDirectory(Chromium.ScreenshotFolder);
        await page.SetViewportSizeAsync(1440, 1800);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder, "factor-page.png") });

        // The raw code is text the browser shows, not an attachment.
        using var raw = fixture.Server.Get($"/api/rdagent/factors/{factorId}/code");
        Assert.Equal("text/plain", raw.Content.Headers.ContentType!.MediaType);
        Assert.Equal("inline", raw.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal(File.ReadAllBytes(codeFile), RunningServer.Bytes(raw));
    }

    [Fact]
    public async Task Loop_page_draws_Qlib_s_report_panels_from_the_backtest_its_bundle_holds()
    {
        var row = Sample.Aistock.Rows("SELECT task_run_id, loop_id, asset_bundle_id FROM aistock_loop_catalog " +
            "WHERE annualized_return IS NOT NULL ORDER BY task_run_id, loop_id LIMIT 1")[0];
        var (run, loop) = ((string)row[0]!, Convert.ToInt64(row[1]));
        var workspaces = Path.Combine(Sample.Settings.AssetCacheDirectory, (string)row[2]!, "workspaces");
        var report = Directory.GetFiles(workspaces, "backtest_report.json", SearchOption.AllDirectories).Single();
        var retPkl = Path.Combine(Path.GetDirectoryName(report)!, "ret.pkl");
        // Monthly excess return with cost as Qlib's report computes it, by pandas from the loop's own ret.pkl.
        var monthly = JsonNode.Parse(Discovery.UpstreamRdAgent.RunPython(["-c", """
            import json, sys, pandas as pd
            r = pd.read_pickle(sys.argv[1])
            x = r["return"] - r["bench"] - r["cost"]
            m = x.groupby([x.index.year, x.index.month]).sum()
            print(json.dumps({f"{y}-{mo}": float(v) for (y, mo), v in m.items()}))
            """, retPkl]))!.AsObject();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(report));
        var summary = doc.RootElement.GetProperty("summary");

        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        await page.GotoAsync($"/rdagent/loops/{run}/{loop}");
        await page.Locator("#monthly-returns").WaitForAsync();
        foreach (var (key, value) in monthly)
        {
            var (year, month) = (key.Split('-')[0], int.Parse(key.Split('-')[1], CultureInfo.InvariantCulture));
            var cell = page.Locator($"#monthly-returns tr[data-year='{year}'] td").Nth(month - 1);
            Assert.Equal(((double)value! * 100).ToString("F1", CultureInfo.InvariantCulture) + "%",
                await cell.InnerTextAsync());
        }
        // The risk analysis as Qlib prints it, both cost columns, from the report's summary.
        var ir = page.Locator("#risk-analysis tr[data-risk=information_ratio] td");
        Assert.Equal(summary.GetProperty("without_cost").GetProperty("information_ratio").GetDouble()
            .ToString("F6", CultureInfo.InvariantCulture), await ir.Nth(0).InnerTextAsync());
        Assert.Equal(summary.GetProperty("with_cost").GetProperty("information_ratio").GetDouble()
            .ToString("F6", CultureInfo.InvariantCulture), await ir.Nth(1).InnerTextAsync());
        // The deepest drawdown's span is shaded and ends on the day of the report's lowest drawdown.
        var span = page.Locator("#max-dd-span");
        await span.WaitForAsync();
        var dd = FindArray(doc.RootElement, "drawdown")!.Value.EnumerateArray()
            .Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToList();
        var dates = doc.RootElement.GetProperty("dates").EnumerateArray().Select(d => d.GetString()).ToList();
        var trough = dd.IndexOf(dd.Where(double.IsFinite).Min());
        Assert.Equal(dates[trough], await span.GetAttributeAsync("data-to"));
        await Assertions.Expect(page.Locator("#turnover-chart")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#ic-chart")).ToBeVisibleAsync();
        // Tall enough for the whole panel, so the tables' sticky headers stay on their tables in the picture.
        await page.SetViewportSizeAsync(1440, 2400);
        await page.Locator("#qlib-panels").ScrollIntoViewIfNeededAsync();
        Directory.CreateDirectory(Chromium.ScreenshotFolder);
        await page.Locator("#qlib-panels").ScreenshotAsync(new() { Path = Path.Combine(Chromium.ScreenshotFolder,
            "qlib-panels.png") });
    }

    [Fact]
    public async Task Compare_takes_up_to_eight_loops_picked_in_the_loops_table()
    {
        var picked = Sample.Aistock.Rows("SELECT task_run_id, loop_id, annualized_return FROM aistock_loop_catalog " +
            "WHERE asset_bundle_id IS NOT NULL ORDER BY task_run_id, loop_id LIMIT 3");
        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        await page.GotoAsync("/rdagent/loops?sort=loop_id&order=asc&page_size=500");
        await page.Locator("#total[data-total]").WaitForAsync();
        foreach (var p in picked)
            await page.Locator($"input.pick[value='{(string)p[0]!}:{Convert.ToInt64(p[1])}']").CheckAsync();
        await page.Locator("#compare-button").ClickAsync();
        await page.Locator("#compare-many").WaitForAsync();
        var row = await page.Locator("#compare-many tr[data-metric=annualized_return] td").AllInnerTextsAsync();
        Assert.Equal(picked.Select(p => (Convert.ToDouble(p[2], CultureInfo.InvariantCulture) * 100)
            .ToString("F2", CultureInfo.InvariantCulture) + "%"), row);
        await Assertions.Expect(page.Locator("#compare-many-chart path.curve")).ToHaveCountAsync(picked.Count);
    }

    [Fact]
    public void The_api_filters_by_decision_and_id_prefix_and_refuses_unknown_parameters_by_name()
    {
        using var bad = fixture.Server.Get("/api/rdagent/loops?decision=true&decisoin=1&colour=red");
        Assert.Equal(400, (int)bad.StatusCode);
        var detail = (string)JsonNode.Parse(RunningServer.Text(bad))!["detail"]!;
        // Both unknown names in order, and every parameter the route takes.
        Assert.Equal("parameters 'colour', 'decisoin' are not known here; use q, task_run_id, loop_id, source, origin, "
            + "tag, decision, status, started_from, started_before, sort, order, page, page_size", detail);
        using var badRuns = fixture.Server.Get("/api/rdagent/task-runs?sort=loops&size=3");
        Assert.Equal(400, (int)badRuns.StatusCode);
        Assert.Equal("parameter 'size' is not known here; use q, scenario, metric, sort, order",
            (string)JsonNode.Parse(RunningServer.Text(badRuns))!["detail"]!);

        var accepted = JsonNode.Parse(RunningServer.Text(fixture.Server.Get("/api/rdagent/loops?decision=true")))!;
        Assert.Equal(Sample.Aistock.Scalar(
                "SELECT count(*) FROM aistock_loop_catalog WHERE CAST(decision AS INTEGER) = 1"),
            (long)accepted["total"]!);
        var prefix = fixture.RunningTaskRun[..6];
        var byPrefix = JsonNode.Parse(RunningServer.Text(fixture.Server.Get(
            $"/api/rdagent/loops?task_run_id={prefix}&page_size=500")))!;
        Assert.Equal(Sample.Aistock.Scalar(
            $"SELECT count(*) FROM aistock_loop_catalog WHERE substr(task_run_id, 1, 6) = '{prefix}'"),
            (long)byPrefix["total"]!);

        // Models within a task run in loop order, numbers as numbers.
        var models = JsonNode.Parse(RunningServer.Text(fixture.Server.Get(
            "/api/rdagent/models?sort=task_run_id&order=asc&page_size=500")))!["items"]!.AsArray();
        var expected = Sample.Aistock.Rows("SELECT task_run_id, loop_id FROM aistock_model_catalog " +
            "ORDER BY task_run_id, loop_id, model_id").Select(r => $"{r[0]}/{Convert.ToInt64(r[1])}");
        Assert.Equal(expected, models.Select(m => $"{(string)m!["task_run_id"]!}/{(long)m["loop_id"]!}"));

        // The story's curves: one per loop with results, each thinned to the points asked for.
        var curves = JsonNode.Parse(RunningServer.Text(fixture.Server.Get(
            $"/api/rdagent/task-runs/{fixture.RunningTaskRun}/curves?points=40")))!;
        Assert.Equal(Sample.Aistock.Scalar(
            $"SELECT count(*) FROM aistock_loop_catalog WHERE task_run_id = '{fixture.RunningTaskRun}' " +
            "AND asset_bundle_id IS NOT NULL"),
            curves["curves"]!.AsArray().Count);
        // At most the points asked for, not exactly: the thinning keeps the ends and the extremes it meets.
        Assert.All(curves["curves"]!.AsArray(), c => Assert.InRange(c!["values"]!.AsArray().Count, 2, 40));
    }
}
