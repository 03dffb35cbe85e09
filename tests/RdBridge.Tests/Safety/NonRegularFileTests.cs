using System.Text.Json.Nodes;
using RdBridge.Backfill;
using RdBridge.IO;

namespace RdBridge.Tests.Safety;

/// <summary>
/// Issue 13 #10: a FIFO, device or socket where a file is expected is skipped and said, never opened.
/// </summary>
public class NonRegularFileTests
{
    [Fact]
    public void A_fifo_a_character_device_and_a_socket_are_refused_without_blocking()
    {
        using var dir = new TempDir();
        Hostile.Fifo(dir["pipe"]);
        using var socket = Hostile.UnixSocket(dir["sock"]);
        File.WriteAllText(dir["plain.txt"], "ok");
        Assert.Equal($"'{dir["pipe"]}' is a FIFO (named pipe), not a regular file; it was not read",
            Hostile.Within(10, () => Assert.Throws<FileRefusedException>(() =>
                RegularFile.ReadAllBytes(dir["pipe"], 100))).Message);
        Assert.Equal("'/dev/zero' is a character device, not a regular file; it was not read",
            Assert.Throws<FileRefusedException>(() => FileDigest.Sha256OfFile("/dev/zero")).Message);
        Assert.Equal($"'{dir["sock"]}' is a socket, not a regular file; it was not read",
            Assert.Throws<FileRefusedException>(() => RegularFile.OpenRead(dir["sock"])).Message);
        Assert.Equal("ok"u8.ToArray(), RegularFile.ReadAllBytes(dir["plain.txt"], 100));
        Assert.Equal(FileKind.Missing, RegularFile.KindOf(dir["nothing"]));
    }

    [Fact]
    public void A_link_to_a_device_is_refused_and_a_link_to_a_regular_file_is_read()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["real.csv"], ",0\nIC,0.5\n");
        File.CreateSymbolicLink(dir["to-real.csv"], dir["real.csv"]);
        File.CreateSymbolicLink(dir["to-zero.csv"], "/dev/zero");
        Assert.Equal(0.5, QlibResults.Read(dir["to-real.csv"]).Raw["IC"]);
        var zero = Hostile.Within(10, () => QlibResults.Read(dir["to-zero.csv"]));
        Assert.True(zero.IsEmpty);
        Assert.Equal("qlib_res.csv is a character device, not a regular file; its metrics were not read",
            Assert.Single(zero.Problems));
    }

    [Fact]
    public void A_file_over_its_cap_is_refused_before_it_is_read()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["big"], new byte[2048]);
        var e = Assert.Throws<FileRefusedException>(() => RegularFile.ReadAllBytes(dir["big"], 1024));
        Assert.Equal($"'{dir["big"]}' holds 2,048 bytes, more than the 1,024 such a file may have; it was not read",
            e.Message);
        // At the cap the same file is read whole.
        Assert.Equal(2048, RegularFile.ReadAllBytes(dir["big"], 2048).Length);
    }

    [Fact]
    public void Init_skips_fifos_devices_and_sockets_in_workspaces_says_so_and_finishes()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var rows = Db.Rows(sample.Settings.RegistryPath,
            "SELECT l.task_run_id, l.loop_id, w.workspace_id FROM loops l " +
            "JOIN workspaces w ON w.task_run_id = l.task_run_id " +
            "AND w.loop_id = l.loop_id AND w.workspace_role = 'experiment_workspace' " +
            "WHERE l.has_result = 1 ORDER BY 1, 2");
        Assert.True(rows.Count >= 2); // a precondition: one loop to break, one to finish (each is checked below)
        var victim = (TaskRun: (string)rows[0][0]!, Loop: (long)rows[0][1]!, Ws: (string)rows[0][2]!);
        var ws = Path.Combine(sample.Settings.WorkspaceRoot, victim.Ws);
        File.Delete(Path.Combine(ws, "qlib_res.csv"));
        Hostile.Fifo(Path.Combine(ws, "qlib_res.csv"));
        var artifacts = Directory
            .EnumerateDirectories(Path.Combine(ws, "mlruns"), "artifacts", SearchOption.AllDirectories).First();
        Hostile.Fifo(Path.Combine(artifacts, "stuck.pkl"));
        File.CreateSymbolicLink(Path.Combine(ws, "conf_zero.yaml"), "/dev/zero");
        using var socket = Hostile.UnixSocket(Path.Combine(ws, "agent.sock"));
        var subs = Db.Rows(sample.Settings.RegistryPath,
            "SELECT workspace_id FROM workspaces WHERE workspace_role = 'sub_workspace'");
        string? subFactor = null;
        foreach (var sub in subs)
        {
            var factor = Path.Combine(sample.Settings.WorkspaceRoot, (string)sub[0]!, "factor.py");
            if (!File.Exists(factor)) continue;
            File.Delete(factor);
            Hostile.Fifo(factor);
            subFactor = (string)sub[0]!;
            break;
        }
        Assert.NotNull(subFactor); // a precondition: the sample has a factor sub-workspace

        var (code, output, _) = Hostile.Within(180, () => sample.Cli("init"));

        Assert.Equal(1, code);
        // The victim loop's two FIFOs the backfill reads, each with its workspace; the missing csv it then reports.
        var lines = output.Split('\n');
        var loop = $"{victim.TaskRun}/{victim.Loop}";
        Assert.Contains($"  ✗ {loop}: workspace {victim.Ws}: qlib_res.csv is a FIFO (named pipe), not a regular file; "
            + $"its metrics were not read [{ws}]", lines);
        var fifo = Path.Combine(sample.Settings.WorkspaceRoot, subFactor, "factor.py");
        Assert.Contains($"  ✗ {loop}: factor.py in sub-workspace {subFactor} cannot be read: '{fifo}' is a FIFO (named "
            + $"pipe), not a regular file; it was not read [{ws}]", lines);
        // Every loop is still bundled; the victim's bundle lists what was left out and why.
        foreach (var row in rows)
        {
            Assert.True(File.Exists(Path.Combine(sample.Settings.BundleDirectory, $"bundle_{row[0]}_{row[1]}.tar.gz")),
                $"bundle of {row[0]}/{row[1]}");
        }

        var manifest = RdBridge.Assets.SafeExtractor.ReadManifest(
            Path.Combine(sample.Settings.BundleDirectory, $"bundle_{victim.TaskRun}_{victim.Loop}.tar.gz"))!;
        var skipped = JsonNode.Parse(manifest)!["skipped"]!.AsArray()
            .Select(s => ((string)s!["path"]!, (string)s["reason"]!)).ToList();
        Assert.Contains(skipped, s =>
            s.Item1.EndsWith("/qlib_res.csv", StringComparison.Ordinal) && s.Item2.Contains("FIFO"));
        Assert.Contains(skipped, s =>
            s.Item1.EndsWith("/stuck.pkl", StringComparison.Ordinal) && s.Item2.Contains("FIFO"));
        Assert.Contains(skipped, s =>
            s.Item1.EndsWith("/agent.sock", StringComparison.Ordinal) && s.Item2.Contains("socket"));
    }

    [Fact]
    public void Verify_and_show_refuse_a_fifo_where_the_asset_cache_holds_a_manifest_and_finish()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        var (code, output, _) = sample.Cli("init");
        Assert.True(code == 0, output);
        var loop = Db.Rows(sample.Settings.RegistryPath,
            "SELECT task_run_id, loop_id, asset_bundle_id FROM loops WHERE has_result = 1 ORDER BY 1, 2")[0];
        var manifest = sample.Settings.AssetCache.ExtractedManifest((string)loop[2]!);
        Assert.True(File.Exists(manifest), manifest);
        File.Delete(manifest);
        Hostile.Fifo(manifest);

        // Before, the checks and the loop view opened the manifest with File.ReadAllBytes and waited for a writer.
        var verify = Hostile.Within(120, () => sample.Cli("verify"));
        Assert.Equal(1, verify.Code);
        Assert.Contains((string)loop[2]!, verify.Out);
        var show = Hostile.Within(60, () => sample.Cli("show", "loop", (string)loop[0]!,
            ((long)loop[1]!).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains((string)loop[2]!, show.Out);
        var bundle = Hostile.Within(60, () => sample.Cli("show", "bundle", (string)loop[2]!));
        Assert.Contains((string)loop[2]!, bundle.Out);
    }

    [Fact]
    public void A_fifo_among_log_pickles_is_named_and_never_opened()
    {
        // Before, pickles were opened with a plain FileStream, which waits for a writer on a FIFO: discover hung.
        using var dir = new TempDir();
        Hostile.Fifo(dir["2025-07-01_08-30-12-123456.pkl"]);
        var read = Hostile.Within(10, () =>
            RdBridge.Discovery.LogPickle.Read(dir["2025-07-01_08-30-12-123456.pkl"], DateTime.UtcNow));
        Assert.False(read.Ok);
        Assert.Equal($"cannot be read: '{dir["2025-07-01_08-30-12-123456.pkl"]}' is a FIFO (named pipe), not a regular "
            + "file; it was not read", read.Message);
    }
}
