using System.Text;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;

namespace RdBridge.Tests.Verify;

/// <summary>
/// Issue 26, point 19: what verify, import, sync, backfill and export say names the right thing, once, with the true
/// figures. Each test asserts the exact text, built from the input.
/// </summary>
public sealed class GuideMessagesTests
{
    private static JsonObject First(SyncedSample s, CatalogKind kind) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(s.Settings.CatalogDirectory, CatalogFile.FileName(kind))))!
            [CatalogFile.ListName(kind)]![0]!.AsObject();

    [Fact]
    public void Verify_names_a_loop_by_its_task_run_and_loop_not_by_its_strategy()
    {
        using var copy = SyncedSample.Copy("rdagent", TestStore.Default);
        var loop = copy.FirstLoop;
        var workspace = copy.Settings.PathMap.Map((string?)loop["workspace_path"]).Local!;
        Directory.Move(workspace, workspace + ".moved");

        var result = copy.Check("link.workspace_files");

        Assert.Equal($"1 unreachable: {loop["task_run_id"]}/{loop["loop_id"]}: {workspace} missing", result.Detail);
    }

    [Fact]
    public void Verify_names_a_strategy_link_by_the_strategy_not_by_its_model()
    {
        using var copy = SyncedSample.Copy("rdagent", TestStore.Default);
        var strategy = First(copy, CatalogKind.Strategy);
        Assert.NotNull(strategy["model_id"]); // the record names a model too: that is not what it is
        copy.EditExported(CatalogKind.Strategy, r => r["loop_id"] = 999);

        var result = copy.Check("link.strategy_loop");

        Assert.Equal($"1 broken link, e.g. {strategy["strategy_id"]} → {strategy["task_run_id"]}/999", result.Detail);
    }

    [Fact]
    public void Verify_lists_a_broken_link_once_when_the_provenance_repeats_it()
    {
        using var copy = SyncedSample.Copy("rdagent", TestStore.Default);
        var factor = First(copy, CatalogKind.Factor);
        // The record and its provenance entry for the same loop both point to a loop that does not exist.
        copy.EditExported(CatalogKind.Factor, r => r["loop_id"] = 999);
        copy.EditProvenance(p =>
        {
            if ((string?)p["factor_id"] == (string?)factor["factor_id"]
                && (long?)p["loop_id"] == (long?)factor["loop_id"])
            {
                p["loop_id"] = 999;
            }
        });

        var result = copy.Check("link.factor_loop");

        Assert.Equal($"1 broken link, e.g. {factor["factor_id"]} → {factor["task_run_id"]}/999", result.Detail);
    }

    [Fact]
    public void Verify_says_the_paths_when_only_the_workspace_paths_differ()
    {
        using var copy = SyncedSample.Copy("rdagent", TestStore.Default);
        var loop = copy.FirstLoop;
        var registryPath = (string)loop["workspace_path"]!; // as exported from the registry, before the edit
        copy.EditExported(CatalogKind.Loop, r => r["workspace_path"] = "/elsewhere/ws");

        var result = copy.Check("link.loop_workspace");

        Assert.Equal($"1 wrong: {loop["task_run_id"]}/{loop["loop_id"]}: workspace {loop["workspace_id"]} is at " +
            $"/elsewhere/ws in the catalog, at {registryPath} in the registry", result.Detail);
    }

    [Fact]
    public void Import_reports_a_json_error_at_its_true_byte_offset()
    {
        using var copy = SyncedSample.Copy("rdagent", TestStore.Default);
        var path = Path.Combine(copy.Settings.CatalogDirectory, CatalogFile.FileName(CatalogKind.Loop));
        var bytes = File.ReadAllBytes(path);
        // A guard on the input: the edit below needs a byte past 3,000 and a line well into the file.
        Assert.True(bytes.Length > 4000 && bytes.Count(b => b == '\n') > 20, "a long, multi-line catalog");
        // Past byte 3,000, the first property name loses its opening quote: the error is at that byte.
        var at = Array.IndexOf(bytes, (byte)'"', Encoding.UTF8.GetString(bytes).IndexOf("\n", 3000) + 1);
        var line = bytes.Take(at).Count(b => b == '\n') + 1;
        bytes[at] = (byte)'@';
        File.WriteAllBytes(path, bytes);

        var (code, output, _) = Cli(copy, "import");

        Assert.Equal(1, code);
        Assert.Contains($"{path} is not valid JSON near byte {at} (line {line}): ", output);
    }

    [Fact]
    public void Import_reports_a_catalog_cut_short_as_truncated_at_its_end()
    {
        using var copy = SyncedSample.Copy("rdagent", TestStore.Default);
        var path = Path.Combine(copy.Settings.CatalogDirectory, CatalogFile.FileName(CatalogKind.Loop));
        var bytes = File.ReadAllBytes(path);
        // Cut after 3,000 bytes, inside the loops list.
        File.WriteAllBytes(path, bytes[..3000]);

        var (code, output, _) = Cli(copy, "import");

        Assert.Equal(1, code);
        Assert.DoesNotContain("near byte 128", output);
        Assert.Contains($"{path} ends at byte 3000", output);
    }

    private static (int, string, string) Cli(SyncedSample s, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = RdBridge.Cli.Program.Run([.. args, "--config", s.Config], o, e);
        return (code, o.ToString(), e.ToString());
    }
}
