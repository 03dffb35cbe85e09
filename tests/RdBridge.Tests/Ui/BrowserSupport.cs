using Microsoft.Playwright;
using RdBridge.Server;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.Ui;

/// <summary>The browser tests share one headless Chromium and run one at a time (the machines have two
/// cores).</summary>
[CollectionDefinition("browser", DisableParallelization = true)]
public sealed class BrowserCollection : ICollectionFixture<Chromium>;

/// <summary>
/// Debian's Chromium (/usr/bin/chromium, installed by test.sh) driven by Playwright, launched as NOTES.md says; no
/// browser is downloaded. Screenshots go to UI_TEST_SCREENSHOTS (test.sh: artifacts/screenshots) or
/// bin/…/screenshots.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";
    private IPlaywright? _playwright;
    public IBrowser Browser { get; private set; } = null!;

    public static string ScreenshotFolder =>
        Environment.GetEnvironmentVariable("UI_TEST_SCREENSHOTS") is { Length: > 0 } d
            ? d
            : Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"{ExecutablePath} is missing: run the tests with ./test.sh, which installs Debian's chromium package");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
    }

    /// <summary>A fresh browser context (own localStorage) on a server; script errors on the page fail the test at
    /// dispose.</summary>
    public async Task<UiPage> OpenAsync(Uri server)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = server.ToString(), ViewportSize = new() { Width = 1440, Height = 900 }, AcceptDownloads = true,
            Locale = "zh-CN",
        });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        var ui = new UiPage(context, page);
        page.PageError += (_, e) => ui.Errors.Add("page error: " + e);
        page.Console += (_, m) =>
        {
            if (m.Type == "error" && !m.Text.Contains("status of 4", StringComparison.Ordinal))
                ui.Errors.Add("console: " + m.Text);
        };
        return ui;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
    }
}

/// <summary>One open page, its script errors, and screenshots kept as test artifacts.</summary>
public sealed class UiPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;
    public List<string> Errors { get; } = [];

    public async Task<string> ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(Chromium.ScreenshotFolder);
        var path = Path.Combine(Chromium.ScreenshotFolder, name + ".png");
        await Page.ScreenshotAsync(new() { Path = path, FullPage = true });
        return path;
    }

    /// <summary>Runs <paramref name="body"/> with the UI's view module bound to <c>v</c>; returns its value as
    /// JSON.</summary>
    public async Task<System.Text.Json.JsonElement> ViewAsync(string body, object? arg = null) =>
        await Page.EvaluateAsync<System.Text.Json.JsonElement>(
            $"async (arg) => {{ const v = await import('/rdagent/assets/view.js'); {body} }}", arg);

    public async ValueTask DisposeAsync()
    {
        await context.CloseAsync();
        Assert.True(Errors.Count == 0, "the page reported errors:\n" + string.Join("\n", Errors));
    }
}

/// <summary>A generated sample after init, served as a consumer (the same machine holds RD-Agent, so verify
/// works).</summary>
public sealed class ServedSample : IDisposable
{
    public Sample Sample { get; }
    public RunningServer Server { get; }

    public ServedSample()
    {
        Sample = new Sample(taskRuns: 2, loops: 4);
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
