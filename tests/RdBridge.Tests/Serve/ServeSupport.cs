using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using RdBridge.Configuration;
using RdBridge.Server;

namespace RdBridge.Tests.Serve;

/// <summary>A real Kestrel server on 127.0.0.1 and a free port, stopped at the end of the test.</summary>
public sealed class RunningServer : IDisposable
{
    private readonly WebApplication _app;
    public Uri Url { get; }
    public HttpClient Client { get; }

    public RunningServer(RdBridgeSettings settings, ServeRole role, string host = "127.0.0.1")
    {
        _app = RdBridgeServer.Build(settings, role, [$"http://{host}:0"], logging: _ => { });
        _app.Start();
        Url = new Uri(_app.Urls.First().Replace("0.0.0.0", "127.0.0.1").TrimEnd('/') + "/");
        Client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
    }

    public HttpResponseMessage Get(string path) => Client.Send(new HttpRequestMessage(HttpMethod.Get, path));
    public HttpResponseMessage Post(string path) => Client.Send(new HttpRequestMessage(HttpMethod.Post, path));
    public static string Text(HttpResponseMessage r)
    {
        using var reader = new StreamReader(r.Content.ReadAsStream());
        return reader.ReadToEnd();
    }
    public static byte[] Bytes(HttpResponseMessage r)
    {
        using var ms = new MemoryStream();
        r.Content.ReadAsStream().CopyTo(ms);
        return ms.ToArray();
    }

    public void Dispose()
    {
        Client.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }
}

/// <summary>
/// The two-machine setup on one host: a publisher (an RD-Agent sample, published and served) and a consumer that has
/// only an AIstock root and the publisher as its source — the configuration the README shows.
/// </summary>
public sealed class TwoMachines : IDisposable
{
    public Sample Publisher { get; }
    public RunningServer PublisherServer { get; private set; } = null!;
    public TempDir ConsumerDir { get; } = new();
    public TestStore ConsumerDb { get; }
    public string ConsumerConfig => ConsumerDir["rdbridge.json"];
    public RdBridgeSettings ConsumerSettings => SettingsLoader.Load(ConsumerConfig);

    public TwoMachines(int taskRuns = 1, int loops = 3, string? store = null, Action<Sample>? beforePublish = null,
        string? token = null, IEnumerable<string>? extraSources = null)
    {
        Publisher = new Sample(taskRuns, loops);
        SetPublisher(Publisher.Config, "publishInterval", 0);
        beforePublish?.Invoke(Publisher);
        Publish();
        PublisherServer = new RunningServer(Publisher.Settings, ServeRole.Publisher);
        ConsumerDb = TestStore.Create(store ?? TestStore.Default, ConsumerDir);
        var sources = new JsonArray();
        foreach (var dead in extraSources ?? []) sources.Add(new JsonObject { ["name"] = "down", ["url"] = dead });
        sources.Add(new JsonObject { ["name"] = "gpu1", ["url"] = PublisherServer.Url.ToString() });
        var config = new JsonObject
        {
            ["aistock"] = new JsonObject
            {
                ["root"] = "AIstock",
                ["database"] = ConsumerDb.IsPostgres ? ConsumerDb.Setting : ConsumerDir["AIstock/aistock.db"],
            },
            ["sources"] = sources,
        };
        if (token is not null) config["server"] = new JsonObject { ["token"] = token };
        File.WriteAllText(ConsumerConfig, config.ToJsonString());
        if (!ConsumerDb.IsPostgres) ConsumerDb.Setting = ConsumerDir["AIstock/aistock.db"];
    }

    private static void SetPublisher(string config, string key, int value)
    {
        var node = JsonNode.Parse(File.ReadAllText(config))!;
        node["server"] ??= new JsonObject();
        node["server"]![key] = value;
        File.WriteAllText(config, node.ToJsonString());
    }

    public void Publish()
    {
        var (code, output, err) = Publisher.Cli("publish");
        Assert.True(code == 0, output + err);
    }

    public (int Code, string Out, string Err) Consumer(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = RdBridge.Cli.Program.Run([.. args, "--config", ConsumerConfig], o, e);
        return (code, o.ToString(), e.ToString());
    }

    public void Dispose()
    {
        PublisherServer?.Dispose();
        Publisher.Dispose();
        ConsumerDb.Dispose();
        ConsumerDir.Dispose();
    }
}
