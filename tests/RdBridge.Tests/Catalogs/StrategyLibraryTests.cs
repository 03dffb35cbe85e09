using System.Diagnostics;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Runs;

namespace RdBridge.Tests.Catalogs;

public class StrategyLibraryTests
{
    [Fact]
    public void Hostile_ids_and_strings_cannot_break_the_generated_python()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "rd_strategies_lib", "generated.py");
        string[] ids = ["strategy_a\"b_1", "strategy_x\ny_2", "strategy_因子_3", "strategy_'''_4", "strategy_a_b_1"];
        var settings = new RdBridgeSettings
        {
            ConfigPath = "", RdAgentRoot = dir.Path, RegistryPath = "", LogRoot = "", WorkspaceRoot = "",
            PathMap = new PathMap([], dir.Path),
            BundleDirectory = "", CatalogDirectory = "", StrategiesLibRoot = dir.Path, BackupDirectory = "",
            AistockRoot = "", AistockDatabase = "",
            AistockCatalogDirectory = "", AssetCacheDirectory = "",
        };
        var report = new StageReport("export");
        using (var writer = new StrategyLibraryWriter(file))
        {
            foreach (var id in ids)
            {
                writer.Add(id, new JsonObject
                {
                    ["class"] = "TopkDropoutStrategy", ["note"] = $"id {id}\" ''' \\ end",
                    ["kwargs"] = new JsonObject { ["topk"] = 50, ["flag"] = true, ["none"] = null },
                });
            }

            writer.Finish(new RunContext(settings), report);
        }
        var script = "import json, rd_strategies_lib.generated as g\n" +
            "print(json.dumps({k: f() for k, f in g.STRATEGY_FUNCTIONS.items()}, ensure_ascii=False))";
        var psi = new ProcessStartInfo("python3", ["-c", script])
        {
            WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr);
        var result = JsonNode.Parse(stdout)!.AsObject();
        Assert.Equal(ids.Order(), result.Select(kv => kv.Key).Order());
        foreach (var id in ids)
        {
            Assert.Equal($"id {id}\" ''' \\ end", (string?)result[id]!["note"]);
            Assert.Equal(50, (int)result[id]!["kwargs"]!["topk"]!);
            Assert.True((bool)result[id]!["kwargs"]!["flag"]!);
            Assert.True(result[id]!["kwargs"]!.AsObject().TryGetPropertyValue("none", out var none));
            Assert.Null(none);
        }
    }
}
