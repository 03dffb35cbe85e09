using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace RdBridge.Tests.Ui;

/// <summary>
/// The pages as a user sees them in Chromium, on a generated sample after init, served by rdbridge itself.
/// </summary>
[Collection("browser")]
public class PageTests(Chromium chromium, ServedSample served) : IClassFixture<ServedSample>
{
    private Sample Sample => served.Sample;

    private static async Task<int> Total(IPage page)
    {
        var total = page.Locator("#total[data-total]");
        await total.WaitForAsync();
        return int.Parse((await total.GetAttributeAsync("data-total"))!);
    }

    /// <summary>Waits until the table has loaded what the current URL asks for.</summary>
    private static async Task Loaded(IPage page) =>
        await page.WaitForFunctionAsync("() => document.querySelector('#catalog') && " +
            "!document.querySelector('#catalog').hasAttribute('aria-busy') && " +
            "document.querySelector('#total[data-total]')");

    [Fact]
    public async Task Factors_page_pages_sorts_searches_and_filters_on_the_server_and_shows_Chinese_unchanged()
    {
        await using var ui = await chromium.OpenAsync(served.Server.Url);
        var page = ui.Page;
        await page.GotoAsync("/rdagent/factors");
        await Loaded(page);
        Assert.Equal("utf-8", (await page.EvaluateAsync<string>("document.characterSet")).ToLowerInvariant());
        var total = await Total(page);
        Assert.Equal(Sample.Aistock.Scalar("SELECT count(*) FROM aistock_factor_catalog"), total);
        Assert.Equal(Math.Min(50, total), await page.Locator("#catalog tbody tr").CountAsync());
        await ui.ScreenshotAsync("factors");

        // By default sorted by how many loops found a factor (a property of the factor itself; IC is the finding
        // loop's), as the database sorts.
        var most = (string)Sample.Aistock.Rows(
            "SELECT name FROM aistock_factor_catalog ORDER BY occurrences DESC, factor_id DESC LIMIT 1")[0][0]!;
        Assert.Equal(most, await page.Locator("#catalog tbody tr:first-child td.name")
            .EvaluateAsync<string>("td => td.firstChild.textContent"));

        // Clicking the IC header sorts by it, highest first; again flips the order; the URL keeps the state.
        await page.Locator("th button[data-sort=ic]").ClickAsync();
        await page.WaitForURLAsync("**/rdagent/factors?sort=ic");
        await Loaded(page);
        var best = (string)Sample.Aistock.Rows(
            "SELECT name FROM aistock_factor_catalog ORDER BY ic DESC, factor_id DESC LIMIT 1")[0][0]!;
        Assert.Equal(best, await page.Locator("#catalog tbody tr:first-child td.name")
            .EvaluateAsync<string>("td => td.firstChild.textContent"));
        await page.Locator("th button[data-sort=ic]").ClickAsync();
        await page.WaitForURLAsync("**/rdagent/factors?sort=ic&order=asc");
        await Loaded(page);
        var worst = (string)Sample.Aistock.Rows("SELECT name FROM aistock_factor_catalog WHERE ic IS NOT NULL " +
            "ORDER BY ic ASC, factor_id ASC LIMIT 1")[0][0]!;
        Assert.Equal(worst, await page.Locator("#catalog tbody tr:first-child td.name")
            .EvaluateAsync<string>("td => td.firstChild.textContent"));

        // Paging: 10 a page, the second page starts at row 11.
        await page.GotoAsync("/rdagent/factors?page_size=10&page=2");
        await Loaded(page);
        await Assertions.Expect(page.Locator("#total"))
            .ToHaveTextAsync($"11–20 of {total.ToString("N0", CultureInfo.InvariantCulture)} 条");
        Assert.Equal(10, await page.Locator("#catalog tbody tr").CountAsync());

        // Search matches the Chinese description, and the description shows as the same characters.
        var (name, description) = Sample.Aistock.Rows("SELECT name, description_cn FROM aistock_factor_catalog " +
                "WHERE description_cn IS NOT NULL ORDER BY name LIMIT 1")
            .Select(r => ((string)r[0]!, (string)r[1]!)).Single();
        var chinese = new string(description.Where(c => c >= '\u4e00' && c <= '\u9fff').Take(4).ToArray());
        Assert.NotEmpty(chinese); // a guard on the sample: the search below needs Chinese characters to type
        await page.GotoAsync("/rdagent/factors");
        await Loaded(page);
        await page.Locator("#search").FillAsync(chinese);
        await page.WaitForURLAsync("**/rdagent/factors?q=*");
        await Loaded(page);
        var expected = Sample.Aistock.Scalar("SELECT count(*) FROM aistock_factor_catalog " +
            $"WHERE description_cn LIKE '%{chinese}%' OR name LIKE '%{chinese}%'");
        Assert.Equal(expected, await Total(page));
        // The rows are the matching factors, each with its description whole (one page holds them all).
        var matching = Sample.Aistock.Rows("SELECT description_cn FROM aistock_factor_catalog " +
            $"WHERE description_cn LIKE '%{chinese}%' OR name LIKE '%{chinese}%'").Select(r => (string)r[0]!).ToList();
        Assert.InRange(matching.Count, 1, 50); // a guard on the sample: the default page of 50 shows every match
        Assert.Equal(matching.Order(StringComparer.Ordinal),
            (await page.Locator("#catalog tbody td.name .sub").AllTextContentsAsync()).Order(StringComparer.Ordinal));

        // Filters: source and tag, checked against the database.
        await page.GotoAsync("/rdagent/factors?source=qlib_alpha158&tag=base&page_size=100");
        await Loaded(page);
        Assert.Equal(Sample.Aistock.Scalar(
            "SELECT count(*) FROM aistock_factor_catalog WHERE source = 'qlib_alpha158'"), await Total(page));
        Assert.All(await page.Locator("#catalog tbody tr td:nth-child(2)").AllTextContentsAsync(),
            s => Assert.Equal("qlib_alpha158", s));
        await page.Locator("input[name=source]").FillAsync("rdagent_generated");
        await page.Locator("input[name=tag]").FillAsync("");
        await page.Locator("input[name=tag]").PressAsync("Enter");
        await page.WaitForURLAsync("**/rdagent/factors?source=rdagent_generated&page_size=100");
        await Loaded(page);
        Assert.Equal(Sample.Aistock.Scalar(
            "SELECT count(*) FROM aistock_factor_catalog WHERE source = 'rdagent_generated'"), await Total(page));

        // Provenance links lead to the loop that found the factor.
        var link = page.Locator("#catalog tbody tr:first-child td.prov a").First;
        var href = (await link.GetAttributeAsync("href"))!;
        await link.ClickAsync();
        await page.WaitForURLAsync("**" + href);
        await page.Locator("#lineage").WaitForAsync();
    }

    [Fact]
    public async Task Models_strategies_and_loops_pages_show_their_own_columns()
    {
        await using var ui = await chromium.OpenAsync(served.Server.Url);
        var page = ui.Page;
        foreach (var (kind, table, headers) in new[]
        {
            ("models", "aistock_model_catalog", new[] { "Type", "Preprocessing" }),
            ("strategies", "aistock_strategy_catalog", new[] { "Class", "topk", "n_drop" }),
            ("loops", "aistock_loop_catalog", new[] { "Action", "Decision", "Ann. return", "IC", "Max DD", "Bundle" }),
        })
        {
            await page.GotoAsync($"/rdagent/{kind}");
            await Loaded(page);
            Assert.Equal(Sample.Aistock.Scalar($"SELECT count(*) FROM {table}"), await Total(page));
            var heads = await page.Locator("#catalog thead th").AllTextContentsAsync();
            foreach (var h in headers) Assert.Contains(heads, t => t.StartsWith(h, StringComparison.Ordinal));
            await ui.ScreenshotAsync(kind);
        }
        // Every loop's bundle is extracted in the asset cache after init.
        var bundles = await page.Locator("#catalog tbody td:last-child").AllTextContentsAsync();
        Assert.All(bundles, b => Assert.Equal("✓ cached 已缓存", b));
    }

    [Fact]
    public async Task Loop_detail_draws_the_verified_lineage_lists_the_manifest_files_and_a_file_downloads()
    {
        var row = Sample.Aistock.Rows("SELECT task_run_id, loop_id, payload FROM aistock_loop_catalog " +
            "WHERE action = 'factor' ORDER BY 1, 2")[0];
        var (taskRun, loopId) = ((string)row[0]!, Convert.ToInt64(row[1]));
        var loop = JsonNode.Parse((string)row[2]!)!;
        var bundleId = (string)loop["asset_bundle_id"]!;
        var manifestPath = Path.Combine(Sample.Settings.AssetCacheDirectory, bundleId, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        var files = manifest["files"]!.AsArray()
            .Select(f => (Path: (string)f!["path"]!, Size: (long)f["size"]!, Sha: (string)f["sha256"]!)).ToList();

        await using var ui = await chromium.OpenAsync(served.Server.Url);
        var page = ui.Page;
        await page.GotoAsync($"/rdagent/loops/{taskRun}/{loopId}");
        await page.Locator("#lineage").WaitForAsync();

        // The lineage: every node of the chain drawn, every link verified, in the graph and in the table.
        Assert.Equal("true", await page.Locator("#lineage-verified").GetAttributeAsync("data-verified"));
        var nodes = await page.Locator("#lineage g.node")
            .EvaluateAllAsync<string[]>("gs => gs.map(g => g.dataset.node)");
        Assert.Equal(["bundle", "cache", "factors", "loop", "manifest", "model", "strategy", "task_run", "workspace"],
            nodes.Order());
        Assert.Equal(0, await page.Locator("#lineage g.edge.bad").CountAsync());
        // The chain's nine links, each drawn once.
        var edges = await page.Locator("#lineage g.edge")
            .EvaluateAllAsync<string[]>("gs => gs.map(g => g.dataset.from + '>' + g.dataset.to)");
        Assert.Equal(["bundle>cache", "bundle>manifest", "loop>bundle", "loop>factors", "loop>model", "loop>strategy",
            "loop>workspace", "task_run>loop", "workspace>bundle"], edges.Order(StringComparer.Ordinal));
        Assert.Equal(edges.Length, await page.Locator("#links tbody tr[data-ok=true]").CountAsync());
        // The links' details name what was checked: the loop's task run and the bundle its record names.
        Task<string?> Detail(string from, string to) =>
            page.Locator($"#links tr[data-from={from}][data-to={to}] td:nth-child(3)").TextContentAsync();
        Assert.Equal($"{taskRun} → loop {loopId}", await Detail("task_run", "loop"));
        Assert.Equal(bundleId, await Detail("loop", "bundle"));
        Assert.Equal("the bundle holds the loop's workspace", await Detail("workspace", "bundle"));

        // The file list is the manifest's: same paths, sizes and hashes, in the same order.
        var shown = await page.Locator("#files tbody tr").EvaluateAllAsync<string[][]>(
            "rows => rows.map(r => [r.dataset.path, r.cells[2].textContent, " +
                "r.querySelector('a').getAttribute('href')])");
        Assert.Equal(files.Select(f => f.Path), shown.Select(s => s[0]));
        Assert.Equal(files.Select(f => f.Sha), shown.Select(s => s[1]));

        // The feedback renders as the same Chinese characters the catalog holds.
        var texts = loop["summary_texts"]!.AsObject().Select(kv => (string?)kv.Value ?? "").Where(t => t.Length > 0)
            .ToList();
        // A guard on the sample (some text is Chinese); the texts are compared whole below.
        Assert.Contains(texts, t => t.Any(c => c >= '\u4e00' && c <= '\u9fff'));
        Assert.Equal(texts, await page.Locator("#feedback dd").AllTextContentsAsync());
        await ui.ScreenshotAsync("loop-detail");

        // One file downloads with the bytes the manifest hashed.
        var pick = files.First(f =>
            f.Path.EndsWith(".yaml", StringComparison.Ordinal) || f.Path.EndsWith(".py", StringComparison.Ordinal));
        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.Locator($"#files tr[data-path='{pick.Path}'] a").ClickAsync());
        var saved = await download.PathAsync();
        var bytes = await File.ReadAllBytesAsync(saved!);
        Assert.Equal(pick.Size, bytes.Length);
        Assert.Equal(pick.Sha, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
        Assert.Equal(Path.GetFileName(pick.Path), download.SuggestedFilename);
    }

    [Fact]
    public async Task Sync_page_lists_the_runs_and_verify_page_runs_the_checklist()
    {
        await using var ui = await chromium.OpenAsync(served.Server.Url);
        var page = ui.Page;
        await page.GotoAsync("/rdagent/sync");
        await page.Locator("#sync-runs tbody tr.succeeded").First.WaitForAsync();
        var runs = Sample.Aistock.Scalar("SELECT count(*) FROM rdbridge_sync_runs");
        Assert.Equal(runs, await page.Locator("#sync-runs tbody tr").CountAsync());
        // Each row's run number, mode and status are the run's row in the database, newest first.
        var expectedRuns = Sample.Aistock.Rows("SELECT id, mode, status FROM rdbridge_sync_runs ORDER BY id DESC")
            .Select(r => $"#{r[0]}|{r[1]}|{r[2]}");
        Assert.Equal(expectedRuns, (await page.Locator("#sync-runs tbody tr").EvaluateAllAsync<string[]>(
            "rows => rows.map(r => [0, 1, 2].map(i => r.cells[i].textContent).join('|'))")));
        await ui.ScreenshotAsync("sync");

        await page.Locator("nav.main a[data-page=verify]").ClickAsync();
        await page.Locator("#verify-button").ClickAsync();
        await page.Locator("#verify-summary").WaitForAsync();
        Assert.Equal("true", await page.Locator("#verify-summary").GetAttributeAsync("data-passed"));
        Assert.Equal(0, await page.Locator("#verify-result tr.fail").CountAsync());
        Assert.Equal(25, await page.Locator("#verify-result tr.pass").CountAsync());
        // Every catalog's records all carry their bundle id in this sample: rows and rows with an id agree, 100%.
        var coverage = await page.Locator("#coverage tbody tr").EvaluateAllAsync<string[][]>(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent))");
        Assert.Equal(["factor", "loop", "model", "strategy"], coverage.Select(c => c[0]).Order(StringComparer.Ordinal));
        Assert.All(coverage, c => Assert.Equal([c[1], "100%"], new[] { c[2], c[3] }));
        await ui.ScreenshotAsync("verify");
    }
}
