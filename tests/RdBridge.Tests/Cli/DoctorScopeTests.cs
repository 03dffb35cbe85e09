using System.Text.Json.Nodes;
using RdBridge.Sample;

namespace RdBridge.Tests.Cli;

/// <summary>doctor checks what the configuration's role needs and calls nothing init creates a failure.</summary>
public class DoctorScopeTests
{
    [Fact]
    public void On_an_upstream_tree_without_registry_doctor_passes_and_says_what_init_will_create()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork, noRegistry: true);
        Directory.Delete(s.Dir["RD-Agent-main/git_ignore_folder/RD-Agent_workspace"], recursive: true);
        var (code, output, _) = s.Cli("doctor");
        Assert.True(code == 0, output);
        // What init creates, each by its path (the registry from the log folder), marked "+", never as a failure.
        var lines = OutputLines.Of(output);
        Assert.Contains($"+ {"registry",-18} '{s.Dir["RD-Agent-main/RDagentDB/registry.sqlite"]}' will be created by "
            + $"init from RD-Agent's log ({s.Dir["RD-Agent-main/log"]})", lines);
        foreach (var (item, folder) in new[] { ("production_bundles", "RD-Agent-main/production_bundles"),
            ("rdagent_data", "RD-Agent-main/rdagent_data"), ("AIstock catalogs", "AIstock/rdagent_data"),
            ("rdagent_assets", "AIstock/rdagent_assets/bundles") })
        {
            Assert.Contains($"+ {item,-18} '{s.Dir[folder]}' will be created by init", lines);
        }
        Assert.Contains($"! {"workspace folder",-18} '{s.Dir["RD-Agent-main/git_ignore_folder/RD-Agent_workspace"]}' "
            + "does not exist (set rdagent.workspaceRoot if workspaces live elsewhere)", lines);
        // A missing folder is never ticked.
        Assert.DoesNotContain(output.Split('\n'), l => l.StartsWith('✓') && l.Contains("does not exist"));
        Assert.Contains(output.Split('\n'), l => l.StartsWith("! workspace folder", StringComparison.Ordinal));
    }

    [Fact]
    public void On_a_consumer_only_machine_doctor_checks_no_rdagent_folder()
    {
        using var s = new Sample();
        var config = JsonNode.Parse(File.ReadAllText(s.Config))!;
        config.AsObject().Remove("rdagent");
        config.AsObject().Remove("pathMap");
        config["sources"] = new JsonArray("http://127.0.0.1:9");
        File.WriteAllText(s.Config, config.ToJsonString());
        var (code, output, err) = s.Cli("doctor");
        Assert.True(code == 0, output + err);
        // Only the AIstock side, item by item; the database line's detail names the store and its schema (the
        // store's own tests check those), so only its item is compared here.
        var lines = OutputLines.Of(output);
        Assert.Equal([$"✓ {"AIstock root",-18} {s.Dir["AIstock"]}",
            $"+ {"AIstock catalogs",-18} '{s.Dir["AIstock/rdagent_data"]}' will be created by init",
            $"+ {"rdagent_assets",-18} '{s.Dir["AIstock/rdagent_assets/bundles"]}' will be created by init"],
            lines.Take(3));
        Assert.StartsWith($"✓ {"AIstock database",-18} ", lines[3]);
        Assert.Equal([""], lines.Skip(4)); // and nothing after it
    }
}
