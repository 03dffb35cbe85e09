using Microsoft.Playwright;
using RdBridge.Server;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.Ui;

/// <summary>Catalog text is data: markup in it is shown as the characters it is, never parsed or run.</summary>
[Collection("browser")]
public class CatalogTextTests(Chromium chromium)
{
    private const string HostileName = "<script>window.__pwned = 'name'</script>Alpha";
    private const string HostileDescription = "<img src=x onerror=\"window.__pwned = 'description'\">恶意描述 &amp; 中文";
    private const string HostileFeedback = "<img src=x onerror=\"window.__pwned = 'feedback'\"><b>反馈</b>";

    [Fact]
    public async Task Markup_in_catalog_values_is_shown_as_text_and_never_runs()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        var factorId = (string)sample.Aistock
            .Rows("SELECT factor_id FROM aistock_factor_catalog ORDER BY ic DESC LIMIT 1")[0][0]!;
        var loop = sample.Aistock
            .Rows("SELECT task_run_id, loop_id FROM aistock_loop_catalog ORDER BY loop_id LIMIT 1")[0];
        static string Sql(string s) => "'" + s.Replace("'", "''") + "'";
        // Written into the stored records directly, in each store's own JSON functions.
        var (name, description, tag, feedback, action) = (Sql(HostileName), Sql(HostileDescription),
            Sql("<b>tag</b>"), Sql(HostileFeedback), Sql("<i>factor</i>"));
        var factorPayload = sample.Aistock.IsPostgres
            ? $"payload || jsonb_build_object('name', {name}::text, 'description_cn', {description}::text, " +
                $"'tags', jsonb_build_array({tag}::text))"
            : $"json_set(payload, '$.name', {name}, '$.description_cn', {description}, '$.tags', json_array({tag}))";
        var loopPayload = sample.Aistock.IsPostgres
            ? $"jsonb_set(payload || jsonb_build_object('action', {action}::text), " +
                $"'{{summary_texts,execution}}', to_jsonb({feedback}::text))"
            : $"json_set(payload, '$.summary_texts.execution', {feedback}, '$.action', {action})";
        sample.Aistock.Exec($"UPDATE aistock_factor_catalog SET name = {name}, description_cn = {description}, " +
            $"payload = {factorPayload} WHERE factor_id = {Sql(factorId)}");
        sample.Aistock.Exec($"UPDATE aistock_loop_catalog SET payload = {loopPayload} " +
            $"WHERE task_run_id = {Sql((string)loop[0]!)} AND loop_id = {loop[1]}");

        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);
        await using var ui = await chromium.OpenAsync(server.Url);
        var page = ui.Page;
        await page.GotoAsync("/rdagent/factors?q=__pwned");
        await Assertions.Expect(page.Locator("#total")).ToHaveAttributeAsync("data-total", "1");
        var row = page.Locator("#catalog tbody tr");
        Assert.Equal(HostileName,
            await row.Locator("td.name").EvaluateAsync<string>("td => td.firstChild.textContent"));
        Assert.Equal(HostileDescription, await row.Locator("td.name .sub").TextContentAsync());
        Assert.Equal("<b>tag</b>", await row.Locator("td:nth-child(3)").TextContentAsync());
        Assert.Equal(0, await page.Locator("#catalog img, #catalog script, #catalog b").CountAsync());

        await page.GotoAsync($"/rdagent/loops/{loop[0]}/{loop[1]}");
        await page.Locator("#feedback").WaitForAsync();
        Assert.Contains(HostileFeedback, await page.Locator("#feedback dd").AllTextContentsAsync());
        Assert.Equal(0, await page.Locator("main img, main script, #feedback b").CountAsync());
        await Assertions.Expect(page.Locator(".page-head .badge").First).ToHaveTextAsync("<i>factor</i>");
        await ui.ScreenshotAsync("catalog-text-escaped");

        // Nothing ran: an onerror would have fired by now (the page has loaded and rendered twice).
        Assert.Null(await page.EvaluateAsync<string?>("window.__pwned ?? null"));
    }
}
