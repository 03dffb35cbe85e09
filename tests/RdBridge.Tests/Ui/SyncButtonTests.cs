using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using RdBridge.Server;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.Ui;

/// <summary>The 同步 Catalog button against a real publisher: token prompt, live progress, and the table
/// refreshed.</summary>
[Collection("browser")]
public class SyncButtonTests(Chromium chromium)
{
    [Fact]
    public async Task Sync_button_asks_for_the_token_follows_the_sync_to_the_end_and_the_table_shows_the_new_rows()
    {
        // The consumer synced while loop 0 was still held back at the publisher; since then RD-Agent finished it.
        const string token = "ui-test-token";
        using var m = new TwoMachines(taskRuns: 1, loops: 3, token: token, beforePublish: p =>
            HeldLoop.HoldBack(p.Settings));
        var (code, output, err) = m.Consumer("sync");
        Assert.True(code == 0, output + err);
        var before = m.ConsumerDb.Rows("SELECT factor_id FROM aistock_factor_catalog").Select(r => (string)r[0]!)
            .ToHashSet();
        var cached = Directory.EnumerateFiles(m.ConsumerSettings.AssetCacheDirectory, "*.tar.gz")
            .Select(Path.GetFileName).ToHashSet();
        var at = DateTime.UtcNow.AddSeconds(2).ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        HeldLoop.Release(m.Publisher.Settings, at);
        m.Publish();
        var taskRun = (string)m.ConsumerDb.Rows("SELECT task_run_id FROM aistock_loop_catalog LIMIT 1")[0][0]!;

        using var server = new RunningServer(m.ConsumerSettings, ServeRole.Consumer);
        await using var ui = await chromium.OpenAsync(server.Url);
        var page = ui.Page;
        await page.GotoAsync("/rdagent/factors?page_size=100");
        await page.Locator("#total[data-total]").WaitForAsync();
        Assert.Equal(before.Count.ToString(), await page.Locator("#total").GetAttributeAsync("data-total"));
        await Assertions.Expect(page.Locator("#sync-button")).ToHaveTextAsync("同步 Catalog / Sync catalog");

        // Every state the panel goes through is recorded, so a fast sync cannot slip past the test.
        await page.EvaluateAsync("""
            () => {
              const panel = document.querySelector('#sync-panel');
              window.__syncSeen = [];
              new MutationObserver(() => window.__syncSeen.push(
                  [panel.dataset.phase, panel.dataset.status, document.querySelector('#sync-line').textContent]))
                .observe(panel, { attributes: true, childList: true, subtree: true, characterData: true });
            }
            """);

        // The server wants its token: the page asks for it, keeps it, and retries.
        await page.Locator("#sync-button").ClickAsync();
        await page.Locator("#token-dialog[open]").WaitForAsync();
        await page.Locator("#token-input").FillAsync(token);
        await page.Locator("#token-save").ClickAsync();

        await page.Locator("#sync-panel[data-phase=done]").WaitForAsync(new() { Timeout = 120_000 });
        Assert.Equal("succeeded", await page.Locator("#sync-panel").GetAttributeAsync("data-status"));
        Assert.Equal(token, await page.EvaluateAsync<string>("localStorage.getItem('rdbridge.token')"));
        var seen = await page.EvaluateAsync<string[][]>("window.__syncSeen.map((s) => s.map(String))");
        Assert.Contains(seen, s => s[0] == "running");
        Assert.Matches(@"^#\d+ succeeded 成功", await page.Locator("#sync-line").TextContentAsync());
        // The run's counts, stage by stage. The publisher's files say what the pull must have brought: its one new
        // bundle (of the size the file has) and the factors its catalog file holds that the consumer had not.
        // (The update and unchanged counts of the re-attributed factors are TwoMachineTests' concern.)
        var publisher = m.Publisher.Settings;
        var released = Assert.Single(Directory.EnumerateFiles(publisher.BundleDirectory, "*.tar.gz"),
            f => !cached.Contains(Path.GetFileName(f)));
        var published = JsonNode.Parse(File.ReadAllText(Path.Combine(publisher.CatalogDirectory,
                "factor_catalog.json")))!["factors"]!.AsArray()
            .ToDictionary(f => (string)f!["factor_id"]!, f => (string)f!["name"]!);
        var fresh = published.Keys.Except(before).ToList();
        var stages = await page.Locator("#sync-counts li").EvaluateAllAsync<string[][]>(
            "ls => ls.map(l => [l.querySelector('b').textContent, l.textContent])");
        Assert.Equal(["cleanup", "pull gpu1"], stages.Select(s => s[0]));
        Assert.Equal("cleanup nothing 无变化", stages[0][1]);
        Assert.Superset(new HashSet<string>
            {
                $"factors inserted {fresh.Count}", "loops inserted 1", "downloaded 1", "extracted 1",
                $"bytes downloaded {new FileInfo(released).Length.ToString("N0", CultureInfo.InvariantCulture)}",
            },
            stages[1][1]["pull gpu1 ".Length..].Split(", ").ToHashSet());

        // The table refreshed by itself: the database's new total, and the new factors among the rows.
        var after = m.ConsumerDb.Rows("SELECT factor_id, name FROM aistock_factor_catalog")
            .ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        // Every factor of the publisher's catalog file now, and the rows of the first sync kept (an import upserts;
        // releasing loop 0 re-attributes factors, which gives some new ids).
        Assert.Equal(before.Union(published.Keys).Order(StringComparer.Ordinal),
            after.Keys.Order(StringComparer.Ordinal));
        await Assertions.Expect(page.Locator("#total")).ToHaveAttributeAsync("data-total", after.Count.ToString());
        // One page of 100 holds every row: the names shown are the database's, the publisher's new ones among them.
        var names = await page.Locator("#catalog tbody td.name")
            .EvaluateAllAsync<string[]>("tds => tds.map(td => td.firstChild.textContent)");
        Assert.Equal(after.Values.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.All(fresh, id => Assert.Equal(published[id], after[id]));
        Assert.NotEmpty(fresh); // a guard on the sample: the held-back loop found factors no other loop had
        await ui.ScreenshotAsync("factors-after-sync");

        // The loops page shows the loop that was held back, with its bundle in the cache.
        await page.Locator("nav.main a[data-page=loops]").ClickAsync();
        var held = page.Locator("#catalog tbody tr",
            new() { Has = page.Locator($"a[href='/rdagent/loops/{taskRun}/0']") });
        await Assertions.Expect(held.Locator("td:last-child")).ToHaveTextAsync("✓ cached 已缓存");

        // A second click while nothing changed still runs, and ends, without asking for the token again.
        await page.Locator("nav.main a[data-page=sync]").ClickAsync();
        await page.Locator("#sync-runs tbody tr.succeeded").First.WaitForAsync();
        var runs = await page.Locator("#sync-runs tbody tr").CountAsync();
        await page.Locator("#sync-button").ClickAsync();
        await page.Locator("#sync-panel[data-phase=done]").WaitForAsync(new() { Timeout = 120_000 });
        Assert.Equal(0, await page.Locator("#token-dialog[open]").CountAsync());
        await Assertions.Expect(page.Locator("#sync-runs tbody tr")).ToHaveCountAsync(runs + 1);
        await ui.ScreenshotAsync("sync-after-runs");
    }
}
