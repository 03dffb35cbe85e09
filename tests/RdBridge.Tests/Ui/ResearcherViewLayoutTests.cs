using System.Globalization;
using Microsoft.Playwright;

namespace RdBridge.Tests.Ui;

/// <summary>Issue 21's export and layout points: CSV with its header row, the favicon, no page wider than the
/// window at 1024 and 1440 px.</summary>
public partial class ResearcherViewTests
{
    [Fact]
    public async Task The_task_run_CSV_has_a_header_and_every_loop_the_icon_is_served_and_no_page_overflows()
    {
        using (var icon = fixture.Server.Get("/favicon.ico"))
        {
            Assert.Equal(200, (int)icon.StatusCode);
            Assert.StartsWith("image/", icon.Content.Headers.ContentType!.MediaType);
        }

        var run = fixture.RunningTaskRun;
        var loops = RegistryLoops(run);
        await using var ui = await chromium.OpenAsync(fixture.Server.Url);
        var page = ui.Page;
        await page.GotoAsync($"/rdagent/runs/{run}");
        await page.Locator("#run-curves[data-lines]").WaitForAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#run-csv").ClickAsync());
        var lines = File.ReadAllText(await download.PathAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        // A header naming the columns, then one row per loop the registry holds, running and failed ones included.
        // (The metric columns between depend on the metrics chosen; the ends do not.)
        Assert.StartsWith("loop_id,state,action,decision,", lines[0]);
        Assert.EndsWith(",hypothesis", lines[0]);
        Assert.Equal(loops.Select(l => Convert.ToInt64(l[0]).ToString(CultureInfo.InvariantCulture)),
            lines.Skip(1).Select(l => l.Split(',')[0]));

        var loop = Sample.Aistock.Rows("SELECT task_run_id, loop_id FROM aistock_loop_catalog " +
            "WHERE asset_bundle_id IS NOT NULL ORDER BY task_run_id, loop_id LIMIT 1")[0];
        foreach (var width in new[] { 1024, 1440 })
        {
            await page.SetViewportSizeAsync(width, 900);
            foreach (var path in new[] { "/rdagent/loops", $"/rdagent/runs/{run}",
                         $"/rdagent/loops/{(string)loop[0]!}/{Convert.ToInt64(loop[1])}" })
            {
                await page.GotoAsync(path);
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
                var (scroll, client) = (await page.EvaluateAsync<int>("document.documentElement.scrollWidth"),
                    await page.EvaluateAsync<int>("document.documentElement.clientWidth"));
                // What sticks out, named in the failure: the innermost elements whose right edge is past the window.
                var wide = scroll == client ? "" : await page.EvaluateAsync<string>(
                    "w => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w" +
                    " && ![...e.children].some((c) => c.getBoundingClientRect().right > w)).slice(0, 5)" +
                    ".map((e) => `${e.tagName}#${e.id}.${e.className?.baseVal ?? e.className}`).join(', ')", client);
                // Nothing sticks out: the page is exactly as wide as the window (it is never narrower).
                Assert.True(scroll == client, $"{path} at {width} px is {scroll} px wide: {wide}");
            }
        }
    }
}
