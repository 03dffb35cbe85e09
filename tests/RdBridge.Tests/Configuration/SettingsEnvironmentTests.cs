using System.Collections;
using System.Diagnostics;
using RdBridge.Configuration;

namespace RdBridge.Tests.Configuration;

/// <summary>
/// Only <c>RDBRIDGE_&lt;SECTION&gt;__&lt;KEY&gt;</c> variables of rdbridge.json's sections are settings.
/// </summary>
public sealed class SettingsEnvironmentTests
{
    [Fact]
    public void Environment_variables_that_name_no_setting_are_not_read_as_settings()
    {
        var read = SettingsLoader.SettingsFromEnvironment(new Hashtable
        {
            ["RDBRIDGE_DEBUG"] = "1",
            ["RDBRIDGE_"] = "x",
            ["RDBRIDGE_AISTOCK"] = "x",
            ["RDBRIDGE_TOOL__HOME"] = "/opt",
            ["RDBRIDGE_AISTOCK__ROOT"] = "/data/AIstock",
            ["RDBRIDGE_SERVER__URLS"] = "http://127.0.0.1:5000",
            ["PATH"] = "/usr/bin",
        }).ToList();
        Assert.Equal([new("AISTOCK:ROOT", "/data/AIstock"), new("SERVER:URLS", "http://127.0.0.1:5000")],
            read.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)).ToList());
    }

    [Fact]
    public void RDBRIDGE_DEBUG_the_error_messages_ask_for_does_not_break_any_command()
    {
        using var sample = new Sample(taskRuns: 1, loops: 1, store: "sqlite");
        var cli = Path.Combine(AppContext.BaseDirectory, "rdbridge.dll");
        var psi = new ProcessStartInfo("dotnet", [cli, "sync-status", "--config", sample.Config])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        psi.Environment["RDBRIDGE_DEBUG"] = "1";
        psi.Environment["RDBRIDGE_AISTOCK__DATABASE"] = sample.Dir["elsewhere/aistock.db"];
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd(); // a few lines: neither pipe fills
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {stdout}{stderr}");
        Assert.DoesNotContain("unknown configuration section", stderr);
        // A variable that is a setting still is one: the store was created where it says.
        Assert.True(File.Exists(sample.Dir["elsewhere/aistock.db"]));
    }
}
