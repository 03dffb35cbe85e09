using System.Diagnostics;
using System.Text.Json.Nodes;
using RdBridge.Cli;
using RdBridge.Configuration;
using RdBridge.Server;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.RdAgentHarness;

/// <summary>
/// Microsoft RD-Agent's own loops, run offline by <c>drive_rdagent.py</c> in the Debian trixie chroot that
/// <c>scripts/rdagent-chroot.sh</c> builds (and caches outside the repository), with RD-Agent's source from
/// <c>../shared/fixtures/real/rdagent-src</c> mounted read-only: a factor run (loops that finish and one that fails
/// with an exception), a model run, a quant run, and a factor run stopped after <c>coding</c>. RdBridge then runs
/// <c>init</c> on that tree, which RD-Agent wrote under <c>/out/RD-Agent</c> in the chroot: the config maps that prefix
/// to the folder here, as for RD-Agent in WSL or Docker. What the tests need of the stopped run is taken there; then
/// the run is resumed with RD-Agent's own <c>LoopBase.load</c> and RdBridge runs <c>sync</c>.
/// Everything is generated in the test's temporary folder; the record (<c>record.json</c>) says what RD-Agent was fed
/// and logged.
/// </summary>
public sealed class HarnessRun : IDisposable
{
    public const string StoredRoot = "/out/RD-Agent";

    public TempDir Dir { get; } = new();
    public TestStore Aistock { get; }
    public string Root => Dir["out/RD-Agent"];
    public string Config => Dir["rdbridge.json"];
    public RdBridgeSettings Settings => SettingsLoader.Load(Config);

    /// <summary>The record after the stopped run was resumed (every loop finished or failed).</summary>
    public JsonObject Record { get; }
    /// <summary>The record while the "resumed" run was stopped after <c>coding</c> of loop 0.</summary>
    public JsonObject RecordWhileRunning { get; }
    public (int Code, string Out, string Err) Init { get; }
    public (int Code, string Out, string Err) Sync { get; }
    /// <summary><c>show loop</c> of the stopped loop, and its registry workspaces, before the resume.</summary>
    public (int Code, string Out, string Err) ShowWhileRunning { get; }
    public IReadOnlyList<string> RegistryWorkspacesWhileRunning { get; }
    /// <summary>The loop catalog as export wrote it before the resume.</summary>
    public JsonArray LoopCatalogWhileRunning { get; }
    /// <summary>The stopped loop's row in AIstock's loop table before the resume: status, payload.</summary>
    public List<object?[]> StoreRowsWhileRunning { get; }
    /// <summary>The consumer API's loop list of the stopped loop's task run before the resume (its body).</summary>
    public string ApiLoopsWhileRunning { get; }

    public HarnessRun()
    {
        Directory.CreateDirectory(Dir["out"]);
        Drive("produce");
        RecordWhileRunning = ReadRecord();
        Aistock = TestStore.Create(TestStore.Default, Dir);
        var config = new JsonObject
        {
            ["rdagent"] = new JsonObject { ["root"] = "out/RD-Agent", ["strategiesLib"] = "rd-strategies-lib" },
            ["pathMap"] = new JsonObject { [StoredRoot] = "out/RD-Agent" },
            ["aistock"] = new JsonObject { ["root"] = "AIstock", ["database"] = Aistock.Setting },
        };
        File.WriteAllText(Config, config.ToJsonString());
        Init = Cli("init");
        var stopped = Run(RecordWhileRunning, "resumed");
        ShowWhileRunning = Cli("show", "loop", (string)stopped["folder"]!, "0", "--json");
        RegistryWorkspacesWhileRunning = Db.Rows(Settings.RegistryPath,
                $"SELECT workspace_id FROM workspaces WHERE task_run_id = '{stopped["folder"]}' AND loop_id = 0")
            .Select(r => (string)r[0]!).ToList();
        LoopCatalogWhileRunning = Catalog("loop");
        StoreRowsWhileRunning = Aistock.Rows("SELECT status, payload FROM aistock_loop_catalog "
            + $"WHERE task_run_id = '{stopped["folder"]}' AND loop_id = 0");
        using (var server = new RunningServer(Settings, ServeRole.Consumer))
        {
            ApiLoopsWhileRunning = RunningServer.Text(
                server.Get($"api/rdagent/loops?task_run_id={stopped["folder"]}&page_size=500"));
        }
        Drive("resume");
        Record = ReadRecord();
        Sync = Cli("sync");
    }

    public static string Script => Path.Combine(Paths.RepoRoot, "scripts", "rdagent-chroot.sh");
    public static string HarnessFolder => Path.Combine(Paths.RepoRoot, "tests", "RdBridge.Tests", "RdAgentHarness");

    /// <summary>
    /// Runs the driver in the chroot; the script builds the chroot first when its cache is missing, and fails (never
    /// skips) when it cannot.
    /// </summary>
    private void Drive(string command)
    {
        var psi = new ProcessStartInfo(Script) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     "run", "--ro-bind", $"{RealData.Path("rdagent-src")}:/opt/rdagent-src",
                     "--ro-bind", $"{HarnessFolder}:/harness", "--bind", $"{Dir["out"]}:/out",
                     "--env", "PYTHONPATH=/harness:/opt/rdagent-src", "--env", "PYTHONDONTWRITEBYTECODE=1",
                     "--", "python3", "/harness/drive_rdagent.py", command, StoredRoot,
                 })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0,
            $"RD-Agent's harness ({command}) failed, exit {p.ExitCode}:\n{stderr.Result}\n{stdout.Result}");
    }

    private JsonObject ReadRecord() => JsonNode.Parse(File.ReadAllText(Dir["out/record.json"]))!.AsObject();

    public (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Program.Run([.. args, "--config", Config], o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>One of the record's task runs by its name in answers.py (factor, model, quant, resumed).</summary>
    public static JsonObject Run(JsonObject record, string name) =>
        record["runs"]!.AsArray().Select(r => r!.AsObject()).Single(r => (string)r["name"]! == name);

    public JsonObject Run(string name) => Run(Record, name);

    /// <summary>Every loop of the record with its task run id (the log folder's name, as RD-Agent named it).</summary>
    public IEnumerable<(string TaskRun, JsonObject Loop)> Loops() =>
        Record["runs"]!.AsArray().SelectMany(r => r!["loops"]!.AsArray()
            .Select(l => ((string)r["folder"]!, l!.AsObject())));

    /// <summary>The records of <c>rdagent_data/&lt;kind&gt;_catalog.json</c> (kind: factor, model, strategy, loop).
    /// </summary>
    public JsonArray Catalog(string kind)
    {
        var list = kind switch { "factor" => "factors", "model" => "models", "strategy" => "strategies", _ => "loops" };
        var file = Path.Combine(Settings.CatalogDirectory, $"{kind}_catalog.json");
        return JsonNode.Parse(File.ReadAllText(file))![list]!.AsArray();
    }

    /// <summary>The path this machine reads for a path RD-Agent logged inside the chroot.</summary>
    public string Local(string stored) =>
        Path.Combine(Root, Path.GetRelativePath(StoredRoot, stored));

    public void Dispose()
    {
        Aistock.Dispose();
        Dir.Dispose();
    }
}
