using System.Diagnostics;
using System.Text.Json.Nodes;
using RdBridge.Cli;
using RdBridge.Configuration;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// An upstream RD-Agent directory for one test: its log and workspaces written by <c>write_log.py</c> with the
/// machine's CPython and pandas (Debian's <c>/usr/bin/python3</c>), no registry, an empty AIstock root and an
/// rdbridge.json whose pathMap maps the paths as RD-Agent's machine stored them (<c>/mnt/f/Dev/RD-Agent-main</c>)
/// to this folder.
/// </summary>
public sealed class UpstreamRdAgent : IDisposable
{
    public const string StoredRoot = "/mnt/f/Dev/RD-Agent-main";
    public const string Python = "/usr/bin/python3";

    public TempDir Dir { get; } = new();
    public TestStore Aistock { get; }
    public string Root => Dir["RD-Agent-main"];
    public string Config => Dir["rdbridge.json"];
    public RdBridgeSettings Settings => SettingsLoader.Load(Config);
    public string Registry => Settings.RegistryPath;

    /// <summary>What the fixture wrote: per run its folder, generation, scenario and loops.</summary>
    public JsonArray Manifest { get; }

    /// <param name="runs">GENERATION:SCENARIO:LOOPS:FOLDER per task run (see write_log.py)</param>
    public UpstreamRdAgent(string[] runs, bool running = false, bool fail = false, int noise = 3)
    {
        Directory.CreateDirectory(Root);
        var args = new List<string> { Script, Root };
        args.AddRange(runs);
        var noiseText = noise.ToString(System.Globalization.CultureInfo.InvariantCulture);
        args.AddRange(["--stored-root", StoredRoot, "--noise", noiseText]);
        if (running) args.Add("--running");
        if (fail) args.Add("--fail");
        Manifest = (JsonArray)JsonNode.Parse(RunPython(args))!;
        Aistock = TestStore.Create(TestStore.Default, Dir);
        var config = new JsonObject
        {
            ["rdagent"] = new JsonObject { ["root"] = "RD-Agent-main", ["strategiesLib"] = "rd-strategies-lib" },
            ["pathMap"] = new JsonObject { [StoredRoot] = "RD-Agent-main" },
            ["aistock"] = new JsonObject { ["root"] = "AIstock", ["database"] = Aistock.Setting },
        };
        File.WriteAllText(Config, config.ToJsonString());
    }

    public static string Script => Path.Combine(Paths.RepoRoot, "tests", "RdBridge.Tests", "Discovery", "write_log.py");

    /// <summary>Runs a Python snippet or script with the pandas-enabled interpreter and returns its output.</summary>
    public static string RunPython(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{Python} failed (is Debian's python3-pandas installed?): {stderr.Result}");
        return stdout.Result;
    }

    public (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Program.Run([.. args, "--config", Config], o, e);
        return (code, o.ToString(), e.ToString());
    }

    public string LogFolder(string folder) => Path.Combine(Root, "log", folder);

    /// <summary>The one pickle of a tag in a loop (any step, any old tag segment).</summary>
    public string Pickle(string folder, long loop, string tag) =>
        Directory.EnumerateFiles(Path.Combine(LogFolder(folder), $"Loop_{loop}"), "*.pkl", SearchOption.AllDirectories)
            .Single(f => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(f)))! == tag);

    public IEnumerable<JsonObject> Loops(int run = 0) => Manifest[run]!["loops"]!.AsArray().Select(l => l!.AsObject());

    public static IEnumerable<string> Ids(JsonObject loop, params string[] roles) =>
        roles.SelectMany(r => loop["workspaces"]?[r]?.AsArray().Select(x => (string)x!) ?? []);

    public void Dispose()
    {
        Aistock.Dispose();
        Dir.Dispose();
    }
}
