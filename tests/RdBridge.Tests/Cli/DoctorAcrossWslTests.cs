namespace RdBridge.Tests.Cli;

/// <summary>doctor's warning about a SQLite file reached across WSL, where its locks do not hold.</summary>
public class DoctorAcrossWslTests
{
    [Theory]
    [InlineData(@"\\wsl$\Ubuntu\home\quant\RD-Agent-main\RDagentDB\registry.sqlite", @"\\wsl$")]
    [InlineData(@"\\wsl.localhost\Ubuntu-22.04\home\quant\RDagentDB\registry.sqlite", @"\\wsl$")]
    [InlineData("/mnt/f/Dev/RD-Agent-main/RDagentDB/registry.sqlite", "drive F:, reached from WSL through /mnt/f")]
    public void A_registry_across_wsl_gets_a_warning_pointing_to_the_two_machine_setup(string path, string where)
    {
        var finding = RdBridge.Doctor.Doctor.AcrossWsl(path);
        Assert.NotNull(finding);
        Assert.True(finding.Warning);
        Assert.True(finding.Ok);
        Assert.Contains(path, finding.Detail);
        Assert.Contains(where, finding.Detail);
        Assert.Contains("serve --role publisher", finding.Detail);
        Assert.Contains("Two machines", finding.Detail);
    }

    [Theory]
    [InlineData("/home/quant/RD-Agent-main/RDagentDB/registry.sqlite")]
    [InlineData(@"F:\Dev\RD-Agent-main\RDagentDB\registry.sqlite")]
    [InlineData("/mnt/data/RD-Agent-main/RDagentDB/registry.sqlite")]
    public void A_registry_on_its_own_side_gets_no_warning(string path) =>
        Assert.Null(RdBridge.Doctor.Doctor.AcrossWsl(path));

    [Fact]
    public void Doctor_prints_the_warning_with_an_exclamation_mark_before_the_registry_checks()
    {
        using var sample = new Sample();
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sample.Config))!;
        // A registry path doctor cannot open is still judged by where it is: the warning comes first.
        config["rdagent"]!["registry"] = "/mnt/f/Dev/RD-Agent-main/RDagentDB/registry.sqlite";
        File.WriteAllText(sample.Config, config.ToJsonString());
        var (_, output, _) = sample.Cli("doctor");
        Assert.Contains("! SQLite across WSL", output);
        Assert.Contains("/mnt/f", output);
    }
}
