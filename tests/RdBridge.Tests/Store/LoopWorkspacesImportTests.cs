using System.Text.Json.Nodes;
using RdBridge.Configuration;
using RdBridge.Show;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// Issue 25, point 4: the fork's loop catalog lists a loop once per workspace (30 entries for 8 loops). That is one
/// loop with all its workspaces: imported without a problem line, every workspace id and path of the input in the
/// database, and shown as the loop's workspaces by the API. Run on both stores.
/// </summary>
public sealed class LoopWorkspacesImportTests : IDisposable
{
    private readonly TempDir _dir = new();
    private static string ForkLoops => Paths.Fixture("rdagent-aistock-fork/tmp/loop_catalog.json");

    public void Dispose() => _dir.Dispose();

    /// <summary>The input read with the BCL's JSON nodes: each loop's workspaces in file order.</summary>
    private static Dictionary<string, List<(string? Id, string? Path)>> WorkspacesInFile(string path)
    {
        var byLoop = new Dictionary<string, List<(string?, string?)>>();
        foreach (var entry in JsonNode.Parse(File.ReadAllText(path))!["loops"]!.AsArray())
        {
            var key = $"{entry!["task_run_id"]}/{entry["loop_id"]}";
            if (!byLoop.TryGetValue(key, out var list)) byLoop[key] = list = [];
            list.Add(((string?)entry["workspace_id"], (string?)entry["workspace_path"]));
        }
        return byLoop;
    }

    private (int Code, string Output, RdBridgeSettings Settings, TestStore Db) Import(string kind, string catalogs)
    {
        var db = TestStore.Create(kind, _dir);
        var config = _dir["rdbridge.json"];
        File.WriteAllText(config, new JsonObject
        {
            ["aistock"] = new JsonObject { ["root"] = "AIstock", ["database"] = db.Setting },
        }.ToJsonString());
        var o = new StringWriter();
        var code = RdBridge.Cli.Program.Run(["import", "--catalogs", catalogs, "--config", config], o, o);
        return (code, o.ToString(), SettingsLoader.Load(config, rdAgentOptional: true), db);
    }

    /// <summary>The catalog file each problem line (✗) names.</summary>
    private static string[] Problems(string output) => output.Split('\n')
        .Where(l => l.Contains('✗'))
        .Select(l => l.Trim().TrimStart('✗').Trim().Split(':')[0])
        .ToArray();

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void The_forks_loop_catalog_imports_as_one_loop_with_all_its_workspaces(string kind)
    {
        // The fork's three catalogs as it wrote them (it writes no model catalog).
        Directory.CreateDirectory(_dir["incoming"]);
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(ForkLoops)!, "*_catalog.json"))
            File.Copy(file, _dir["incoming/" + Path.GetFileName(file)]);
        var expected = WorkspacesInFile(ForkLoops);
        Assert.Equal((8, 30), (expected.Count, expected.Values.Sum(w => w.Count))); // as the issue counts them

        var (code, output, settings, db) = Import(kind, _dir["incoming"]);
        using (db)
        {
            // The one problem is the model catalog the fork does not write.
            Assert.Equal(["model_catalog.json"], Problems(output));
            // Every workspace id and path of the input, per loop and in the file's order, in the stored payloads.
            var stored = db.Rows("SELECT task_run_id, loop_id, payload FROM aistock_loop_catalog")
                .ToDictionary(r => $"{r[0]}/{r[1]}", r => JsonNode.Parse(Convert.ToString(r[2])!)!);
            Assert.Equal(expected.Keys.Order(), stored.Keys.Order());
            foreach (var (loop, workspaces) in expected)
            {
                var listed = stored[loop]["workspaces"]!.AsArray()
                    .Select(w => ((string?)w!["workspace_id"], (string?)w["workspace_path"])).ToList();
                Assert.Equal(workspaces, listed);
            }

            // The API's loop view (the lineage) shows them as the loop's workspaces.
            using var store = AistockStores.Open(settings, migrate: false);
            var (first, firstWorkspaces) = expected.First(e => e.Value.Count > 1);
            var parts = first.Split('/');
            var view = new LinkageQuery(settings, store).Loop(parts[0], long.Parse(parts[1]))!;
            Assert.Equal(firstWorkspaces.Select(w => w.Id),
                view["loop"]!["workspaces"]!.AsArray().Select(w => (string?)w!["workspace_id"]));

            // A second import of the same file changes nothing.
            var o = new StringWriter();
            RdBridge.Cli.Program.Run(
                ["import", "--catalogs", _dir["incoming"], "--config", _dir["rdbridge.json"]], o, o);
            Assert.Equal(["model_catalog.json"], Problems(o.ToString()));
        }
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_loop_listed_twice_on_the_same_workspace_is_still_a_repeat_named_in_a_problem_line(string kind)
    {
        JsonObject Entry(string workspace, double? ic) => new()
        {
            ["task_run_id"] = "tr1", ["loop_id"] = 0, ["workspace_id"] = workspace,
            ["metrics"] = ic is null ? new JsonObject() : new JsonObject { ["IC"] = ic },
        };
        Directory.CreateDirectory(_dir["incoming"]);
        File.WriteAllText(_dir["incoming/loop_catalog.json"], new JsonObject
        {
            ["loops"] = new JsonArray(Entry("ws_a", 0.04), Entry("ws_b", null), Entry("ws_a", null)),
        }.ToJsonString());

        var (code, output, _, db) = Import(kind, _dir["incoming"]);
        using (db)
        {
            Assert.Equal(1, code);
            // The repeat on ws_a, the loop's first and so experiment workspace here: the one line of the loop file.
            var file = _dir["incoming/loop_catalog.json"];
            Assert.Equal([$"  ✗ loop_catalog.json: loop tr1/0 appears more than once in the catalog with the same "
                    + $"workspace; the record on its experiment workspace ws_a was kept [{file}]"],
                output.Split('\n').Where(l => l.StartsWith("  ✗ loop_catalog.json: ", StringComparison.Ordinal)));
            var payload = JsonNode.Parse(Convert.ToString(db.Rows("SELECT payload FROM aistock_loop_catalog")[0][0])!)!;
            Assert.Equal(0.04, (double)payload["metrics"]!["IC"]!);
            Assert.Equal(["ws_a", "ws_b"],
                payload["workspaces"]!.AsArray().Select(w => (string)w!["workspace_id"]!).ToArray());
        }
    }
}
