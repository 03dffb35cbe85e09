using System.Security.Cryptography;
using System.Text.Json.Nodes;
using RdBridge.Cli;
using RdBridge.Sample;
using RdBridge.Verify;

namespace RdBridge.Tests.Setup;

/// <summary>
/// From the user's own two folders to a passing init: <c>rdbridge setup</c> infers the path map from what is on disk,
/// and a wrong first guess stops before it writes anything.
/// </summary>
public class SetupTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string Registry(Sample s) => s.Dir["RD-Agent-main/RDagentDB/registry.sqlite"];

    /// <summary>Setup into a config in a folder of its own (the user's plain working folder), then init there.
    /// </summary>
    private static (string Config, (int Code, string Out, string Err) Setup) SetUp(Sample s, TempDir work,
        params string[] extra)
    {
        File.Delete(s.Config);
        var config = work["rdbridge.json"];
        var setup = Run(["setup", "--rdagent", s.Dir["RD-Agent-main"], "--aistock", s.Dir["AIstock"],
            "--strategies", s.Dir["rd-strategies-lib"], "--config", config, .. extra]);
        return (config, setup);
    }

    private static void InitPasses(string config)
    {
        var init = Run("init", "--config", config);
        Assert.True(init.Code == 0, init.Out + init.Err);
        // Every item of the checklist (ChecklistTests pins it to the guide's 25) was run and passed.
        Assert.Contains($"verification passed: {Checks.All.Count} of {Words.N(Checks.All.Count, "check", "checks")}",
            OutputLines.Of(init.Out));
    }

    /// <summary>The stored prefix of a workspace path: what precedes RD-Agent's workspace folders.</summary>
    private static string StoredPrefix(string stored)
    {
        var p = stored.Replace('\\', '/');
        return p[..p.IndexOf("/git_ignore_folder/", StringComparison.Ordinal)];
    }

    [Fact]
    public void Init_with_a_wrong_path_map_on_the_fork_layout_leaves_the_registry_as_it_was_and_names_the_path_map()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        var config = JsonNode.Parse(File.ReadAllText(s.Config))!;
        config["pathMap"] = new JsonObject { ["F:/Dev/RDAgent"] = "RD-Agent-main" };   // the user's first guess
        File.WriteAllText(s.Config, config.ToJsonString());
        var before = Sha256(Registry(s));
        // SQLite's own sidecars of a WAL database opened read-only (-wal empty, -shm its index) are no change.
        string[] Files() => Directory.GetFiles(s.Dir.Path, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("-shm", StringComparison.Ordinal)
                && !(f.EndsWith("-wal", StringComparison.Ordinal) && new FileInfo(f).Length == 0))
            .Order(StringComparer.Ordinal).ToArray();
        var files = Files();

        var (code, _, err) = s.Cli("init");

        Assert.Equal(2, code);
        Assert.Equal(before, Sha256(Registry(s)));
        // Nothing else either: no AIstock database, no backup, no lock file.
        Assert.Equal(files, Files());
        // The whole message: the failed check with the example the registry stores first (by workspace id), and
        // the fix naming the entry that works — the stored prefix as the registry spells it and the local folder.
        var stored = Db.Rows(Registry(s), "SELECT workspace_path FROM workspaces ORDER BY workspace_id")
            .Select(r => (string)r[0]!).ToList();
        var prefix = stored[0][..StoredPrefix(stored[0]).Length];
        // The hint spells the drive as the path map compares it: lower case.
        var drive = string.Join('/', StoredPrefix(stored[0]).Split('/').Take(3));
        drive = char.ToLowerInvariant(drive[0]) + drive[1..];
        var local = s.Dir["RD-Agent-main"];
        Assert.Equal("error: preflight: the run cannot succeed, so nothing was written:\n"
            + "  ✗ path map: none of the "
            + Words.N(stored.Count, "sampled workspace path", "sampled workspace paths")
            + " resolves with the pathMap; "
            + $"e.g. '{stored[0]}' → '{stored[0]}' is a Windows path and no pathMap entry covers it; add one to "
            + $"rdbridge.json, e.g. \"pathMap\": {{ \"{drive}\": \"/local/path\" }}\n"
            + $"    → set \"pathMap\": {{ \"{prefix.Replace(@"\", @"\\")}\": \"{local}\" }} in {s.Config} "
            + $"(inferred from the folders under {local}), or let 'rdbridge setup' write it\n",
            err);
    }

    [Fact]
    public void Setup_on_the_fork_layout_without_its_config_infers_the_path_map_and_init_passes()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        using var work = new TempDir();
        var (config, setup) = SetUp(s, work);
        Assert.True(setup.Code == 0, setup.Out + setup.Err);
        var written = JsonNode.Parse(File.ReadAllText(config))!["pathMap"]!.AsObject();
        var stored = Db.Rows(Registry(s), "SELECT workspace_path FROM workspaces").Select(r => (string)r[0]!).ToList();
        var entry = Assert.Single(written);
        Assert.Equal(StoredPrefix(stored[0]), entry.Key.Replace('\\', '/'));
        Assert.Equal(s.Dir["RD-Agent-main"], (string)entry.Value!);
        // It says what it found and why, and what comes next: each line whole, its counts and examples read from
        // the registry (workspaces by id, then the task runs' log folders by id, as setup samples them).
        var logs = Db.Rows(Registry(s), "SELECT log_trace_path FROM task_runs ORDER BY task_run_id")
            .Select(r => (string)r[0]!).ToList();
        var ordered = Db.Rows(Registry(s), "SELECT workspace_path FROM workspaces ORDER BY workspace_id")
            .Select(r => (string)r[0]!).Concat(logs).ToList();
        var backslashed = ordered.Where(p => p.Contains('\\')).ToList();
        var slashed = ordered.Where(p => !p.Contains('\\')).ToList();
        var taskRuns = Db.Rows(Registry(s), "SELECT count(*) FROM task_runs")[0][0];
        var loops = Db.Rows(Registry(s), "SELECT count(*) FROM loops")[0][0];
        var lines = OutputLines.Of(setup.Out);
        Assert.Equal($"RD-Agent folder {s.Dir["RD-Agent-main"]}:", lines[0]);
        Assert.Equal($"  registry {Registry(s)} (the AIstock fork's): "
            + $"{Words.N((long)taskRuns!, "task run", "task runs")}, {Words.N((long)loops!, "loop", "loops")}",
            lines[1]);
        Assert.Equal((2L, 8L), ((long)taskRuns!, (long)loops!));
        Assert.Contains($@"  stored paths F:\…      {backslashed.Count,4}  e.g. {backslashed[0]}", lines);
        Assert.Contains($"  stored paths F:/…      {slashed.Count,4}  e.g. {slashed[0]}", lines);
        Assert.Contains($"path map '{entry.Key}' → '{s.Dir["RD-Agent-main"]}'", lines);
        var example = ordered[0].Replace('\\', '/');
        var matched = ordered.Count == 1 ? "1 sampled stored path ends in a folder"
            : $"{ordered.Count} sampled stored paths end in folders";
        Assert.Contains($"  why: {matched} found there, e.g. '{ordered[0]}' "
            + $"is '{Path.Combine(s.Dir["RD-Agent-main"], example[(StoredPrefix(example).Length + 1)..])}'", lines);
        // The output ends with where the configuration went and what to run next.
        Assert.Equal([$"wrote {config}",
                "next: rdbridge init   (then 'rdbridge serve' from this folder opens the UI on this data)"],
            lines.SkipWhile(l => l != $"wrote {config}").Where(l => l.Length > 0));
        InitPasses(config);
    }

    [Fact]
    public void Setup_run_again_on_a_configured_folder_shows_the_config_and_changes_nothing()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        using var work = new TempDir();
        var (config, _) = SetUp(s, work);
        var before = File.ReadAllBytes(config);
        var again = Run("setup", "--config", config);
        Assert.Equal(0, again.Code);
        // The config shown line by line under the note, and no "to change it" (no folders were given this time).
        Assert.Equal([$"already configured: {config} — nothing changed",
            .. File.ReadAllText(config).TrimEnd().Split('\n').Select(l => "  " + l),
            "next: rdbridge init", ""], OutputLines.Of(again.Out));
        Assert.Contains($"\"root\": \"{s.Dir["RD-Agent-main"]}\"", again.Out);
        Assert.Equal(before, File.ReadAllBytes(config));
    }

    [Fact]
    public void Setup_on_a_log_only_tree_infers_the_path_map_from_the_log_and_init_creates_the_registry()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork, noRegistry: true);
        using var work = new TempDir();
        var (config, setup) = SetUp(s, work);
        Assert.True(setup.Code == 0, setup.Out + setup.Err);
        // The task runs and loops counted from the log folders on disk (run folders holding Loop_N folders).
        var runs = Directory.GetDirectories(s.Dir["RD-Agent-main/log"]);
        var loops = runs.Sum(r => Directory.GetDirectories(r, "Loop_*").Length);
        Assert.Equal((2, 8), (runs.Length, loops));
        Assert.Equal($"  log only (upstream RD-Agent writes no registry): "
            + $"{Words.N(runs.Length, "task run", "task runs")}, {Words.N(loops, "loop", "loops")} in "
            + "log/; init creates the registry from it", OutputLines.Of(setup.Out)[1]);
        Assert.Single(JsonNode.Parse(File.ReadAllText(config))!["pathMap"]!.AsObject());
        InitPasses(config);
        Assert.True(File.Exists(Registry(s)));
    }

    public static readonly TheoryData<string> Spellings =
        new(@"F:\Dev\RD-Agent-main", "F:/Dev/RD-Agent-main", "/mnt/f/Dev/RD-Agent-main",
            @"\\wsl$\Ubuntu\home\quant\RD-Agent-main");

    [Theory]
    [MemberData(nameof(Spellings))]
    public void Setup_infers_the_path_map_whichever_spelling_the_registry_stored(string prefix)
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        var registry = Registry(s);
        string Respell(string stored)
        {
            var p = stored.Replace('\\', '/');
            var rest = p[(p.IndexOf("/RD-Agent-main", StringComparison.Ordinal) + "/RD-Agent-main".Length)..];
            return prefix + (prefix.Contains('\\') ? rest.Replace('/', '\\') : rest);
        }
        foreach (var row in Db.Rows(registry, "SELECT workspace_id, workspace_path FROM workspaces"))
        {
            Db.Exec(registry, $"UPDATE workspaces SET workspace_path = '{Respell((string)row[1]!)}' " +
                $"WHERE workspace_id = '{row[0]}'");
        }
        foreach (var row in Db.Rows(registry, "SELECT task_run_id, log_trace_path FROM task_runs"))
        {
            Db.Exec(registry, $"UPDATE task_runs SET log_trace_path = '{Respell((string)row[1]!)}' " +
                $"WHERE task_run_id = '{row[0]}'");
        }
        Assert.All(Db.Rows(registry, "SELECT workspace_path FROM workspaces"),
            r => Assert.StartsWith(prefix, (string)r[0]!));
        using var work = new TempDir();
        var (config, setup) = SetUp(s, work);
        Assert.True(setup.Code == 0, setup.Out + setup.Err);
        var entry = Assert.Single(JsonNode.Parse(File.ReadAllText(config))!["pathMap"]!.AsObject());
        Assert.Equal(prefix, entry.Key);
        Assert.Equal(s.Dir["RD-Agent-main"], (string)entry.Value!);
        InitPasses(config);
        // No task run or loop was added under another spelling.
        Assert.Equal(2L, Db.Rows(registry, "SELECT count(*) FROM task_runs")[0][0]);
        Assert.Equal(8L, Db.Rows(registry, "SELECT count(*) FROM loops")[0][0]);
    }

    [Fact]
    public void Setup_refuses_an_ambiguous_tree_naming_the_paths_and_the_flag_settles_it()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        var stored = (string)Db.Rows(Registry(s), "SELECT workspace_path FROM workspaces ORDER BY workspace_id")[0][0]!;
        var id = stored.Replace('\\', '/').Split('/')[^1];
        var original = s.Dir[$"RD-Agent-main/git_ignore_folder/RD-Agent_workspace/{id}"];
        // A copy of the workspace folder elsewhere under the root: the same stored path fits two folders.
        var copy = s.Dir[$"RD-Agent-main/old_copy/RD-Agent_workspace/{id}"];
        Directory.CreateDirectory(copy);
        File.WriteAllText(Path.Combine(copy, "README.txt"), "an old copy");
        using var work = new TempDir();
        var (config, setup) = SetUp(s, work);
        Assert.Equal(2, setup.Code);
        Assert.False(File.Exists(config));
        // The stored path and both folders it fits, in order, and the error naming the --map that picks each: the
        // stored prefix as the registry spells it with the RD-Agent folder, or one level deeper with the copy's.
        var lines = OutputLines.Of(setup.Out).ToList();
        var at = lines.IndexOf($"  '{stored}' fits more than one folder:");
        Assert.True(at >= 0, setup.Out); // a guard: the exact lines follow
        Assert.Equal([$"    {original}", $"    {copy}"], lines[(at + 1)..(at + 3)]);
        var prefix = stored[..StoredPrefix(stored).Length];
        var separator = stored.Contains('\\') ? '\\' : '/';
        Assert.Equal("error: the path map is ambiguous (above): say which folder holds RD-Agent's workspaces with "
            + "--map STORED_PREFIX=LOCAL_FOLDER, one of "
            + $"--map \"{prefix}={s.Dir["RD-Agent-main"]}\" or "
            + $"--map \"{prefix}{separator}git_ignore_folder={s.Dir["RD-Agent-main/old_copy"]}\"; "
            + "nothing was written\n",
            setup.Err);

        var again = Run("setup", "--rdagent", s.Dir["RD-Agent-main"], "--aistock", s.Dir["AIstock"], "--strategies",
            s.Dir["rd-strategies-lib"], "--config", config, "--map", $"F:/Dev/RD-Agent-main={s.Dir["RD-Agent-main"]}");
        Assert.True(again.Code == 0, again.Out + again.Err);
        // Every stored path (workspaces, then log folders) whose rest after the prefix exists under the folder.
        var all = Db.Rows(Registry(s), "SELECT workspace_path FROM workspaces").Select(r => (string)r[0]!)
            .Concat(Db.Rows(Registry(s), "SELECT log_trace_path FROM task_runs").Select(r => (string)r[0]!)).ToList();
        const string root = "F:/Dev/RD-Agent-main/";
        Assert.All(all, p => Assert.StartsWith(root, p.Replace('\\', '/')));
        var resolving = all.Count(p => Path.Exists(Path.Combine(s.Dir["RD-Agent-main"],
            p.Replace('\\', '/')[root.Length..])));
        var againLines = OutputLines.Of(again.Out);
        var mapLine = againLines.ToList().IndexOf(
            $"path map 'F:/Dev/RD-Agent-main' → '{s.Dir["RD-Agent-main"]}' (given by --map)");
        Assert.True(mapLine >= 0, again.Out); // a guard: the exact line follows
        Assert.Equal($"  {resolving} of {Words.N(all.Count, "sampled stored path", "sampled stored paths")} "
            + (resolving == 1 ? "resolves" : "resolve") + " with it", againLines[mapLine + 1]);
        InitPasses(config);
    }

    [Fact]
    public void Setup_from_a_plain_empty_folder_with_an_aistock_folder_yet_to_exist_ends_in_a_passing_init()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        using var work = new TempDir();
        File.Delete(s.Config);
        var aistock = work["AIstock-new"];
        var config = work["rdbridge.json"];
        var setup = Run("setup", "--rdagent", s.Dir["RD-Agent-main"], "--aistock", aistock, "--config", config);
        Assert.True(setup.Code == 0, setup.Out + setup.Err);
        Assert.Contains($"AIstock folder {aistock} (does not exist yet: init creates it)",
            OutputLines.Of(setup.Out));
        InitPasses(config);
        Assert.True(File.Exists(Path.Combine(aistock, "aistock.db")));
    }

    [Fact]
    public void Discovery_adds_no_task_run_or_loop_the_registry_has_under_another_spelling_of_its_log_folder()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        var registry = Registry(s);
        // The fork stored its log folders through \\wsl$, which the sample's path map (F:/Dev/…) does not cover.
        foreach (var row in Db.Rows(registry, "SELECT task_run_id, log_trace_path FROM task_runs"))
        {
            var name = ((string)row[1]!).Replace('\\', '/').Split('/')[^1];
            Db.Exec(registry, $@"UPDATE task_runs SET log_trace_path = '\\wsl$\Ubuntu\rd\log\{name}' " +
                $"WHERE task_run_id = '{row[0]}'");
        }
        var (code, output, err) = s.Cli("discover");
        Assert.True(code == 0, output + err);
        Assert.Equal(2L, Db.Rows(registry, "SELECT count(*) FROM task_runs")[0][0]);
        Assert.Equal(8L, Db.Rows(registry, "SELECT count(*) FROM loops")[0][0]);
    }
}
