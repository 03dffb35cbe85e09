using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using RdBridge.Tests.Discovery;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.Ui;

/// <summary>
/// The rest of the researcher's view (issue 21) on the same sample: daily IC and Rank IC, identical files in compare,
/// copyable numbers, and Verify's last run on open. Expected values come from pandas reading the bundle's pickles,
/// from the files' own bytes, and from the AIstock database.
/// </summary>
public partial class ResearcherViewTests
{
    private static double Num(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Daily_IC_and_Rank_IC_with_their_means_are_what_pandas_reads_from_the_bundle_s_pickles()
    {
        var row = Sample.Aistock.Rows("SELECT task_run_id, loop_id, asset_bundle_id FROM aistock_loop_catalog " +
            "WHERE asset_bundle_id IS NOT NULL ORDER BY task_run_id, loop_id LIMIT 1")[0];
        var (run, loop) = ((string)row[0]!, Convert.ToInt64(row[1]));
        var extracted = Path.Combine(Sample.Settings.AssetCacheDirectory, (string)row[2]!, "workspaces");
        var icPkl = Directory.GetFiles(extracted, "ic.pkl", SearchOption.AllDirectories).Single();
        var oracle = JsonNode.Parse(UpstreamRdAgent.RunPython(["-c", """
            import json, sys, math, pandas as pd
            out = {}
            for key, name in (("ic", "ic.pkl"), ("rank_ic", "ric.pkl")):
                s = pd.read_pickle(sys.argv[1] + "/" + name)
                out["dates"] = [d.strftime("%Y-%m-%d") for d in s.index]
                out[key] = [None if math.isnan(x) else float(x) for x in s.values]
                out[key + "_mean"] = float(s.mean())
                out[key + "_ir"] = float(s.mean() / s.std())
            print(json.dumps(out))
            """, Path.GetDirectoryName(icPkl)!]))!;

        // Every day, as pandas reads it; NaN days as gaps; the means and ICIR over the days with a value.
        var full = JsonNode.Parse(RunningServer.Text(
            fixture.Server.Get($"/api/rdagent/loops/{run}/{loop}/ic?full=1")))!;
        Assert.Equal(oracle["dates"]!.AsArray().Select(d => (string)d!),
            full["dates"]!.AsArray().Select(d => (string)d!));
        foreach (var key in new[] { "ic", "rank_ic" })
        {
            Assert.Equal(oracle[key]!.AsArray().Select(v => (double?)v), full["series"]![key]!.AsArray()
                .Select(v => (double?)v));
            Assert.Equal((double)oracle[$"{key}_mean"]!, (double)full["stats"]![key]!["mean"]!, 12);
            Assert.Equal((double)oracle[$"{key}_ir"]!, (double)full["stats"]![key]!["ir"]!, 12);
        }
        // Thinned for a chart by default, bounded like the backtest curve; an unknown parameter is refused by name.
        var thin = JsonNode.Parse(RunningServer.Text(fixture.Server.Get($"/api/rdagent/loops/{run}/{loop}/ic")))!;
        Assert.True((bool)thin["decimated"]!);
        var thinDates = thin["dates"]!.AsArray().Select(d => (string)d!).ToList();
        // The point budget is a ceiling (the thinning keeps the ends and the extremes it meets); the ends exactly.
        Assert.InRange(thinDates.Count, 2, 800);
        Assert.Equal((string)oracle["dates"]![0]!, thinDates[0]);
        Assert.Equal((string)oracle["dates"]!.AsArray()[^1]!, thinDates[^1]);
        Assert.Equal(oracle["dates"]!.AsArray().Count, (int)thin["trading_days"]!);
        using var bad = fixture.Server.Get($"/api/rdagent/loops/{run}/{loop}/ic?points=5");
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.Equal("parameter 'points' is not known here; use full",
            (string)JsonNode.Parse(RunningServer.Text(bad))!["detail"]!);

        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        await page.GotoAsync($"/rdagent/loops/{run}/{loop}");
        await page.Locator("#ic-chart").WaitForAsync();
        foreach (var key in new[] { "ic", "rank_ic" })
        {
            await Assertions.Expect(page.Locator($"#ic-means dd[data-series={key}] .copy-text"))
                .ToHaveTextAsync(((double)oracle[$"{key}_mean"]!).ToString("F4", CultureInfo.InvariantCulture));
            await Assertions.Expect(page.Locator($"#ic-chart path[data-series={key}]")).ToHaveCountAsync(1);
            // The mean drawn as a level across the chart.
            Assert.Equal((double)oracle[$"{key}_mean"]!, Num((await page.Locator(
                $"#ic-chart line.mean-line[data-series={key}]").GetAttributeAsync("data-mean"))!), 12);
        }
    }

    [Fact]
    public async Task Compare_shows_an_identical_model_py_as_identical_and_a_CRLF_copy_as_differing_in_line_endings()
    {
        var (a, b) = fixture.SameModelLoops;
        string Bundle(string key) => (string)Sample.Aistock.Rows("SELECT asset_bundle_id FROM aistock_loop_catalog " +
            $"WHERE task_run_id = '{key.Split(':')[0]}' AND loop_id = {key.Split(':')[1]}")[0][0]!;
        string[] Files(string key, string name) => Directory.GetFiles(
            Path.Combine(Sample.Settings.AssetCacheDirectory, Bundle(key), "workspaces"), name,
            SearchOption.AllDirectories);
        // The input as it is: one sub-workspace model.py on each side, the same bytes; read_exp_res.py the same
        // lines, LF in A and CRLF in B.
        string SubModel(string key) => Files(key, "model.py").Single(f =>
            !File.Exists(Path.Combine(Path.GetDirectoryName(f)!, "read_exp_res.py")));
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(SubModel(a))), SHA256.HashData(File.ReadAllBytes(SubModel(b))));
        var (runnerA, runnerB) = (File.ReadAllText(Files(a, "read_exp_res.py").Single()),
            File.ReadAllText(Files(b, "read_exp_res.py").Single()));
        Assert.DoesNotContain('\r', runnerA);
        Assert.Equal(runnerA.Replace("\n", "\r\n", StringComparison.Ordinal), runnerB);

        var api = JsonNode.Parse(RunningServer.Text(fixture.Server.Get(
            $"/api/rdagent/compare?a={Uri.EscapeDataString(a)}&b={Uri.EscapeDataString(b)}")))!;
        var code = api["code"]!.AsArray();
        var model = code.Single(c => ((string)c!["file"]!).StartsWith("model.py (", StringComparison.Ordinal))!;
        Assert.Equal("same", (string)model["status"]!);
        Assert.Equal(SubModel(a)[(Path.Combine(Sample.Settings.AssetCacheDirectory, Bundle(a)).Length + 1)..],
            (string)model["a_path"]!);
        var runner = code.Single(c => (string)c!["file"]! == "read_exp_res.py")!;
        Assert.Equal("line endings differ", (string)runner["status"]!);
        Assert.Equal("a LF, b CRLF", (string)runner["line_endings"]!);

        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        await page.GotoAsync($"/rdagent/compare?a={Uri.EscapeDataString(a)}&b={Uri.EscapeDataString(b)}");
        await page.Locator("#code-diffs").WaitForAsync();
        var modelDiff = page.Locator("#code-diffs details[data-file^='model.py (']");
        await Assertions.Expect(modelDiff).ToHaveCountAsync(1);
        await Assertions.Expect(modelDiff.Locator(".badge")).ToHaveTextAsync("same");
        Assert.Equal(0, await modelDiff.Locator(".line").CountAsync());
        var runnerDiff = page.Locator("#code-diffs details[data-file='read_exp_res.py']");
        await Assertions.Expect(runnerDiff.Locator(".badge")).ToHaveTextAsync("line endings differ");
        await Assertions.Expect(runnerDiff.Locator(".eol-note")).ToContainTextAsync("a LF, b CRLF");
        Assert.Equal(0, await runnerDiff.Locator(".line").CountAsync());
    }

    [Fact]
    public async Task Loop_page_ids_and_metric_values_copy_exactly_to_the_clipboard()
    {
        var row = Sample.Aistock.Rows("SELECT task_run_id, loop_id, asset_bundle_id, annualized_return " +
            "FROM aistock_loop_catalog WHERE annualized_return IS NOT NULL ORDER BY task_run_id, loop_id LIMIT 1")[0];
        var (run, loop) = ((string)row[0]!, Convert.ToInt64(row[1]));
        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await page.GotoAsync($"/rdagent/loops/{run}/{loop}");
        await page.Locator("#metrics").WaitForAsync();

        async Task<string> Copy(ILocator value)
        {
            await value.Locator("button.copy-value").ClickAsync();
            await Assertions.Expect(value.Locator("button.copy-value")).ToHaveAttributeAsync("data-copied", "true");
            return await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        }
        Assert.Equal(run, await Copy(page.Locator("#loop-ids [data-id=task_run_id]")));
        Assert.Equal((string)row[2]!, await Copy(page.Locator("dd[data-id=asset_bundle_id]")));
        // The value at full precision, not the rounded percentage shown.
        var metric = page.Locator("#metrics tr[data-metric=annualized_return] td");
        var shown = await metric.Locator(".copy-text").InnerTextAsync();
        Assert.Equal((Convert.ToDouble(row[3], CultureInfo.InvariantCulture) * 100)
            .ToString("F2", CultureInfo.InvariantCulture) + "%", shown);
        Assert.Equal(Convert.ToDouble(row[3], CultureInfo.InvariantCulture), Num(await Copy(metric)));
        // And the text itself selects as one piece.
        Assert.Equal("all", await metric.Locator(".copy-text")
            .EvaluateAsync<string>("e => getComputedStyle(e).userSelect"));
    }

    [Fact]
    public async Task Verify_page_shows_the_last_run_the_server_kept_with_its_time_without_pressing_the_button()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        using (var run = fixture.Server.Post("/api/rdagent/verify")) Assert.Equal(200, (int)run.StatusCode);
        var after = DateTimeOffset.UtcNow.AddSeconds(1);
        var kept = JsonNode.Parse(File.ReadAllText(
            Path.Combine(Sample.Settings.AistockRoot, ".rdbridge", "last-verify.json")))!;
        var at = (string)kept["ran_at_utc"]!;
        // A clock reading: only its place between the test's own two readings can be known.
        Assert.InRange(DateTimeOffset.Parse(at, CultureInfo.InvariantCulture), before, after);
        var checks = kept["result"]!["checks"]!.AsArray();
        var passed = checks.Count(c => (bool)c!["passed"]!);

        // A browser that never ran it (its own storage empty) sees it on open; nothing is posted.
        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        var posts = new List<string>();
        page.Request += (_, r) => { if (r.Method == "POST") posts.Add(r.Url); };
        await page.GotoAsync("/rdagent/verify");
        await page.Locator("#verify-last").WaitForAsync();
        Assert.Equal(at, await page.Locator("#verify-last").GetAttributeAsync("data-at"));
        Assert.Equal("page", (string)kept["ran_by"]!);
        await Assertions.Expect(page.Locator("#verify-last")).ToContainTextAsync("(this page)");
        await Assertions.Expect(page.Locator("#verify-last")).ToContainTextAsync(
            DateTimeOffset.Parse(at, CultureInfo.InvariantCulture).UtcDateTime
                .ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC");
        await Assertions.Expect(page.Locator("#verify-summary"))
            .ToContainTextAsync($"{passed} of {Words.N(checks.Count, "check", "checks")} passed");
        Assert.Equal(checks.Count, await page.Locator("#verify-result tr.pass, #verify-result tr.fail").CountAsync());
        Assert.Empty(posts);
    }
}
