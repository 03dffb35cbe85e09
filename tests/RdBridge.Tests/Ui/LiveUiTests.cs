using Microsoft.Playwright;
using RdBridge.Server;
using RdBridge.Tests.Serve;
using RdBridge.Watch;

namespace RdBridge.Tests.Ui;

/// <summary>
/// live.js in real Chromium against a live <c>serve</c>: while the page stays open, RD-Agent finishes a loop, the
/// server syncs it by itself, and the page shows the sync's progress and then the new loop — without a reload.
/// </summary>
[Collection("browser")]
public class LiveUiTests(Chromium chromium)
{
    private static readonly LiveOptions Fast = new(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2),
        TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(200));

    [Fact]
    public async Task The_loops_page_shows_a_sync_in_progress_and_then_the_finished_loop_without_a_reload()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var s = sample.Settings;
        HeldLoop.HoldBack(s);
        var held = Db.Rows(s.RegistryPath, "SELECT task_run_id, loop_id FROM held_loops")
            .Select(r => $"/rdagent/loops/{r[0]}/{r[1]}").Single();
        using var server = new LiveServer(s, ServeRole.Consumer, Fast);
        // The first run after the loop finishes waits at its select stage until the page has shown it running, so
        // even a fast sync cannot end between two of the page's event reads.
        using var shown = new ManualResetEventSlim();
        var paused = 0;
        server.Service.Stage += (run, stage) =>
        {
            if (run > 1 && stage.Stage == "select" && Interlocked.Exchange(ref paused, 1) == 0)
                Assert.True(shown.Wait(TimeSpan.FromMinutes(3)), "the page never showed the running sync");
        };
        server.Start();
        Assert.Equal(1, server.NextRun().Run.Number); // the start-up run, before the loop finished

        await using var ui = await chromium.OpenAsync(server.Url);
        var page = ui.Page;
        await page.GotoAsync("/rdagent/loops");
        await page.Locator("#total[data-total]").WaitForAsync();
        Assert.Equal(0, await page.Locator($"#catalog a[href='{held}']").CountAsync());
        // A mark on this document: a reload would lose it. Every text the badge shows is recorded.
        await page.EvaluateAsync("""
            () => {
              window.__sameDocument = true;
              window.__badgeSeen = [];
              new MutationObserver(() => {
                const b = document.querySelector('#live-badge');
                if (b) window.__badgeSeen.push([b.style.display, b.textContent]);
              }).observe(document.body, { attributes: true, childList: true, subtree: true, characterData: true });
            }
            """);

        HeldLoop.Release(s, DateTime.UtcNow.ToString("o"));
        var badge = page.Locator("#live-badge");
        await Assertions.Expect(badge).ToBeVisibleAsync(new() { Timeout = 120_000 });
        await Assertions.Expect(badge).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(
            @"^Syncing 同步中 #\d+: .*\d+%$"));
        shown.Set();

        // The run ends; the catalog's change redraws the list with the finished loop, and the badge goes away.
        await Assertions.Expect(page.Locator($"#catalog a[href='{held}']")).ToHaveCountAsync(1,
            new() { Timeout = 120_000 });
        await Assertions.Expect(badge).ToBeHiddenAsync(new() { Timeout = 120_000 });
        var sameDocument = await page.EvaluateAsync<bool>("() => window.__sameDocument === true");
        Assert.True(sameDocument, "the page reloaded");
        var seen = await page.EvaluateAsync<string[][]>("() => window.__badgeSeen");
        Assert.Contains(seen, b => b[0] == "block" && b[1].StartsWith("Syncing 同步中 #", StringComparison.Ordinal));
        Assert.Equal(int.Parse(await page.Locator("#total").GetAttributeAsync("data-total") ?? "-1"),
            Convert.ToInt32(sample.Aistock.Scalar("SELECT count(*) FROM aistock_loop_catalog")));
        await ui.ScreenshotAsync("loops-after-live-sync");
    }
}
