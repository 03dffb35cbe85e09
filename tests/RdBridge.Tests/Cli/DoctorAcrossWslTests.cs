namespace RdBridge.Tests.Cli;

/// <summary>doctor's warning about a SQLite file reached across WSL, where its locks do not hold.</summary>
public class DoctorAcrossWslTests
{
    [Theory]
    [InlineData(@"\\wsl$\Ubuntu\home\quant\RD-Agent-main\RDagentDB\registry.sqlite",
        @"on WSL's disk, reached from Windows through \\wsl$")]
    [InlineData(@"\\wsl.localhost\Ubuntu-22.04\home\quant\RDagentDB\registry.sqlite",
        @"on WSL's disk, reached from Windows through \\wsl$")]
    [InlineData("/mnt/f/Dev/RD-Agent-main/RDagentDB/registry.sqlite",
        "on Windows drive F:, reached from WSL through /mnt/f")]
    public void A_registry_across_wsl_gets_a_warning_pointing_to_the_two_machine_setup(string path, string where)
    {
        var finding = RdBridge.Doctor.Doctor.AcrossWsl(path);
        Assert.NotNull(finding); // a guard: its fields are compared exactly below
        Assert.Equal("SQLite across WSL", finding.Item);
        Assert.True(finding.Warning);
        Assert.True(finding.Ok);
        // The path as configured, where it is, why that is unsafe, and the two-machine setup that avoids it.
        Assert.Equal($"'{path}' is {where}: SQLite's file locks are not reliable there, so reading it while "
            + "RD-Agent writes can see a half-written database. Run RdBridge on RD-Agent's side of WSL ('rdbridge "
            + "serve --role publisher' inside WSL) and the consumer on Windows over HTTP: README, \"Two machines\"",
            finding.Detail);
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
        var registry = "/mnt/f/Dev/RD-Agent-main/RDagentDB/registry.sqlite";
        var lines = OutputLines.Of(output).ToList();
        var warning = lines.IndexOf($"! {"SQLite across WSL",-18} '{registry}' is on Windows drive F:, reached "
            + "from WSL through /mnt/f: SQLite's file locks are not reliable there, so reading it while RD-Agent "
            + "writes can see a half-written database. Run RdBridge on RD-Agent's side of WSL ('rdbridge serve "
            + "--role publisher' inside WSL) and the consumer on Windows over HTTP: README, \"Two machines\"");
        Assert.True(warning >= 0, output); // a guard: where it stands is checked next
        // Just before the registry checks: the line right above the first of them.
        var firstRegistryCheck = lines.FindIndex(l => l.Length > 2
            && l[2..].StartsWith("registry", StringComparison.Ordinal));
        Assert.Equal(warning + 1, firstRegistryCheck);
    }
}
