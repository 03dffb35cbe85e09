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
        Assert.Contains("+ registry", output);
        Assert.Contains("will be created by init", output);
        foreach (var folder in new[] { "production_bundles", "rdagent_data", "rdagent_assets" })
            Assert.Contains(folder, output);
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
        Assert.DoesNotContain("RD-Agent root", output);
        Assert.Contains("AIstock database", output);
    }
}
