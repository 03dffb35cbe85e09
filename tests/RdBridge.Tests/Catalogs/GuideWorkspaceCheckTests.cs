using System.Diagnostics;
using System.Text.Json.Nodes;
using RdBridge.Tests.Store;

namespace RdBridge.Tests.Catalogs;

/// <summary>
/// Issue 26, point 18: the guide's step 6.3 script checks <c>workspace_path</c> from the loop catalog; where the
/// registry spelled it for another machine (the sample's registry says <c>F:/Dev/…</c>) it prints
/// <c>Workspace: False</c> for a workspace that is present. The loop catalog says where the workspace is on the
/// exporting machine (<c>workspace_local_path</c>), and the guide's script reading that field, as the README says,
/// finds every workspace and its metadata files.
/// </summary>
public sealed class GuideWorkspaceCheckTests
{
    /// <summary>The Python of step 6.3's <c>python -c "…"</c>, as the shell hands it to Python.</summary>
    private static string Script()
    {
        var bash = GuideText.Blocks("#### 6.3 验证文件系统关联", "bash").Single();
        var start = bash.IndexOf("python -c \"", StringComparison.Ordinal) + "python -c \"".Length;
        var end = bash.LastIndexOf('"');
        // Inside double quotes the shell turns \\ into \ (the script's print of '\\n').
        return bash[start..end].Replace("\\\\", "\\");
    }

    private static string RunPython(string script, string cwd)
    {
        var psi = new ProcessStartInfo("python3") { WorkingDirectory = cwd, RedirectStandardOutput = true,
            RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr.Result);
        return output;
    }

    [Fact, RealData]
    public void The_guide_s_6_3_check_finds_each_workspace_through_workspace_local_path()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var (code, output, error) = sample.Cli("init");
        Assert.True(code == 0, output + error);
        var root = sample.Settings.AistockRoot;
        var loops = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "rdagent_data", "loop_catalog.json")))!
            ["loops"]!.AsArray().Take(3).Select(l => l!.AsObject()).ToList();
        Assert.All(loops, l => Assert.StartsWith("F:/Dev/", (string?)l["workspace_path"]));
        var script = Script();

        // Verbatim: the registry's spelling does not open on this machine (checked below, loop by loop).
        var verbatim = RunPython(script, root);

        // As the README says: the local path where the catalog has one.
        const string Guide = "workspace_path = loop.get('workspace_path')";
        Assert.Contains(Guide, script); // a guard: the replacement below must find the guide's line
        var local = RunPython(script.Replace(Guide,
            "workspace_path = loop.get('workspace_local_path') or loop.get('workspace_path')"), root);
        var expected = new List<string> { "验证文件系统关联:", "" };
        var expectedVerbatim = new List<string> { "验证文件系统关联:", "" };
        foreach (var l in loops)
        {
            expected.Add($"Loop: {l["task_run_id"]}/{l["loop_id"]}");
            expectedVerbatim.Add($"Loop: {l["task_run_id"]}/{l["loop_id"]}");
            expectedVerbatim.Add("  Workspace: False");
            // The workspace on this machine, found without RdBridge's path map: the folder of the registry's
            // workspace id (the last segment of its F:/Dev/… spelling) under the sample's workspace root.
            var dir = Path.Combine(sample.Settings.WorkspaceRoot,
                ((string)l["workspace_path"]!).TrimEnd('/', '\\').Split('/', '\\')[^1]);
            Assert.True(Directory.Exists(dir), dir);
            var relative = (string)l["workspace_local_path"]!;
            Assert.False(Path.IsPathRooted(relative), relative);
            Assert.Equal(Path.GetFullPath(dir), Path.GetFullPath(Path.Combine(root, relative)));
            expected.Add("  Workspace: True");
            foreach (var meta in new[] { "factor_meta.json", "model_meta.json", "strategy_meta.json" })
                expected.Add($"    {meta}: {(File.Exists(Path.Combine(dir, meta)) ? "True" : "False")}");
            var bundle = Path.Combine(root, "rdagent_assets", "bundles", $"{l["asset_bundle_id"]}.tar.gz");
            expected.Add($"  Asset Bundle: {(File.Exists(bundle) ? "True" : "False")}");
            Assert.True(File.Exists(bundle));
            expected.Add($"    文件数: {TarMembers(bundle)}");
            expected.Add("");
            // The bundle is found either way: its path does not come from the registry.
            expectedVerbatim.AddRange(expected.TakeLast(3));
        }
        Assert.Equal(expected, local.TrimEnd('\n').Split('\n').Append("").ToList());
        Assert.Equal(expectedVerbatim, verbatim.TrimEnd('\n').Split('\n').Append("").ToList());
    }

    /// <summary>How many members Python's tarfile lists in a bundle (the guide's own count).</summary>
    private static string TarMembers(string bundle) => RunPython(
        $"import tarfile\nwith tarfile.open({System.Text.Json.JsonSerializer.Serialize(bundle)}, 'r:gz') as t:" +
        "\n    print(len(t.getnames()))", Path.GetTempPath()).Trim();
}
