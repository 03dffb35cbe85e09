using RdBridge.Discovery;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// RD-Agent's log layout as discovery walks it, on folders made here: which folders are runs and loops, in what order,
/// which pickle of a run-level tag is read, and the stamp that tells a changed loop. Written for the mutants Stryker
/// left alive in <c>LogTree</c> and <c>LogWalk</c> (bench/mutation-survivors.md, Discovery).
/// </summary>
public class LogTreeTests
{
    private static string Folder(TempDir dir, params string[] parts)
    {
        var path = Path.Combine([dir.Path, .. parts]);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string Pickle(TempDir dir, params string[] parts)
    {
        var path = Path.Combine([dir.Path, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0x80, 4, (byte)'N', (byte)'.']);   // pickle.dumps(None, protocol=4)
        return path;
    }

    [Fact]
    public void A_run_folder_is_one_with_loops_a_flat_log_or_the_run_s_settings_and_nothing_else_is()
    {
        using var dir = new TempDir();
        Assert.True(LogTree.IsRunFolder(Folder(dir, "a", "Loop_0")[..^"/Loop_0".Length]));
        Assert.True(LogTree.IsRunFolder(Path.GetDirectoryName(Folder(dir, "b", "r"))!));
        Assert.True(LogTree.IsRunFolder(Path.GetDirectoryName(Folder(dir, "c", "RDLOOP_SETTINGS"))!));
        Assert.True(LogTree.IsRunFolder(Path.GetDirectoryName(Folder(dir, "d", "scenario"))!));
        Assert.True(LogTree.IsRunFolder(Path.GetDirectoryName(Path.GetDirectoryName(Folder(dir, "e", "init",
            "scenario")))!));
        Assert.False(LogTree.IsRunFolder(Path.GetDirectoryName(Folder(dir, "f", "debug_llm"))!));
        Assert.False(LogTree.IsRunFolder(Folder(dir, "g")));
    }

    [Fact]
    public void Run_folders_are_listed_by_name_without_hidden_ones_and_the_session_folder()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { "2025-07-02_00-00-00-000000", ".trash", "__session__", "2025-07-01_00-00-00-0" })
            Folder(dir, name);
        Assert.Equal(["2025-07-01_00-00-00-0", "2025-07-02_00-00-00-000000"],
            LogTree.RunFolders(dir.Path).Select(Path.GetFileName).ToList());
        Assert.Empty(LogTree.RunFolders(dir["missing"]));
    }

    [Fact]
    public void Loops_come_by_number_not_by_name_and_misnamed_loop_folders_are_named_with_the_fix()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { "Loop_10", "Loop_9", "Loop_0", "Loop_00", "Loop_", "Loop_x1" })
            Folder(dir, "run", name);
        var walk = new LogWalk();
        var loops = LogTree.Loops(dir["run"], walk);
        Assert.Equal([0L, 9L, 10L], loops.Select(l => l.LoopId));
        Assert.Equal(dir["run/Loop_10"], loops[2].Path);
        var skipped = walk.NotWalked.ToDictionary(n => Path.GetFileName(n.Path), n => n.Why);
        Assert.Equal(["Loop_", "Loop_00", "Loop_x1"], skipped.Keys.Order(StringComparer.Ordinal));
        const string notALoop = "it is not a loop folder: RD-Agent names them Loop_<number>; move it out of the log";
        Assert.Equal(notALoop, skipped["Loop_"]);
        Assert.Equal(notALoop, skipped["Loop_x1"]);
        Assert.Equal("RD-Agent writes loop numbers without leading zeros (Loop_0); the folder was not read, so it " +
            "cannot be taken for Loop_0 or stand in for it — rename or remove it", skipped["Loop_00"]);
    }

    [Fact]
    public void A_loop_number_past_a_long_is_too_long_and_a_padded_one_that_fits_is_only_misspelt()
    {
        using var dir = new TempDir();
        // 10^19 does not fit a long (2^63 − 1 ≈ 9.2 × 10^18); 9 × 10^18 does, and with a leading zero it is misspelt.
        var tooLong = "1" + new string('0', 19);
        var padded = "09" + new string('0', 18);
        Folder(dir, "run", "Loop_" + tooLong);
        Folder(dir, "run", "Loop_" + padded);
        var walk = new LogWalk();
        Assert.Empty(LogTree.Loops(dir["run"], walk));
        var skipped = walk.NotWalked.ToDictionary(n => Path.GetFileName(n.Path), n => n.Why);
        Assert.Equal("its loop number has 20 digits, more than a loop id can hold; the folder was not read",
            skipped["Loop_" + tooLong]);
        Assert.StartsWith($"RD-Agent writes loop numbers without leading zeros (Loop_9{new string('0', 18)})",
            skipped["Loop_" + padded]);
    }

    [Fact]
    public void The_run_settings_read_are_the_newest_pickle_of_the_tag_else_the_one_under_init()
    {
        using var dir = new TempDir();
        Pickle(dir, "run", "RDLOOP_SETTINGS", "100", "2025-07-01_00-00-02-000000.pkl");
        var newest = Pickle(dir, "run", "RDLOOP_SETTINGS", "099", "2025-07-01_00-00-03-000000.pkl");
        Pickle(dir, "run", "RDLOOP_SETTINGS", "101", "2025-07-01_00-00-01-000000.pkl");
        var init = Pickle(dir, "run", "init", "scenario", "7", "2025-07-01_00-00-00-000000.pkl");
        Assert.Equal(newest, LogTree.RunFile(dir["run"], LogTree.LoopSettings));
        Assert.Equal(init, LogTree.RunFile(dir["run"], LogTree.Scenario));
        Folder(dir, "run", "scenario", "8");   // a tag folder with no pickle yet: the one under init is read
        Assert.Equal(init, LogTree.RunFile(dir["run"], LogTree.Scenario));
        Assert.Null(LogTree.RunFile(dir["run"], "absent"));
    }

    [Fact]
    public void A_loop_s_files_are_its_tags_pickles_in_time_order_with_evolving_steps_and_old_segments()
    {
        using var dir = new TempDir();
        var h = Pickle(dir, "Loop_0", "direct_exp_gen", "r", "hypothesis generation", "1",
            "2025-07-01_00-00-01-000000.pkl");
        var later = Pickle(dir, "Loop_0", "coding", "evo_loop_12", "evolving feedback", "1",
            "2025-07-01_00-00-03-000000.pkl");
        var earlier = Pickle(dir, "Loop_0", "coding", "evo_loop_3", "evolving code", "1",
            "2025-07-01_00-00-02-000000.pkl");
        var feedback = Pickle(dir, "Loop_0", "feedback", "feedback", "1", "2025-07-01_00-00-04-000000.pkl");
        // Never listed: LLM traffic, a folder that only looks like an evolving step, an untagged file.
        Pickle(dir, "Loop_0", "coding", "debug_llm", "1", "2025-07-01_00-00-05-000000.pkl");
        Pickle(dir, "Loop_0", "coding", "evo_loop_x", "evolving code", "1", "2025-07-01_00-00-05-000000.pkl");
        Pickle(dir, "Loop_0", "coding", "evo_loop_4", "debug_llm", "1", "2025-07-01_00-00-05-000000.pkl");
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(feedback)!, "notes.txt"), "x");

        var files = new LoopFolder(0, dir["Loop_0"]).Files();
        // By step folder, then by folder name within it (evo_loop_12 before evo_loop_3): LoopTexts orders by K.
        Assert.Equal([(later, "coding", LogTree.EvolvingFeedback, (int?)12),
                (earlier, "coding", LogTree.EvolvingCode, 3),
                (h, "direct_exp_gen", LogTree.Hypothesis, null), (feedback, "feedback", LogTree.Feedback, null)],
            files.Select(f => (f.Path, f.Step, f.Tag, f.EvolvingStep)).ToList());
        Assert.All(files, f => Assert.Equal(4L, f.Size));
    }

    [Fact]
    public void The_files_stamp_is_their_count_total_size_and_newest_time()
    {
        var t1 = new DateTime(2025, 7, 1, 0, 0, 0, DateTimeKind.Utc);
        var t2 = t1.AddSeconds(5);
        LogFile File(long size, DateTime at) => new("s", "t", "p", size, at);
        Assert.Equal("0:0:0", LogTree.FilesStamp([]));
        Assert.Equal($"2:30:{t2.Ticks}", LogTree.FilesStamp([File(10, t2), File(20, t1)]));
    }

    [Fact]
    public void The_walk_limit_is_said_with_its_number_and_what_was_not_walked_is_told_once()
    {
        using var dir = new TempDir();
        var entry = new DirectoryInfo(Folder(dir, "x"));
        var walk = new LogWalk(maxEntries: 1000);
        for (var i = 0; i < 1000; i++) Assert.True(walk.Take(entry));
        Assert.False(walk.Stopped);
        Assert.False(walk.Take(entry));
        Assert.True(walk.Stopped);
        Assert.False(walk.Take(entry));
        var stop = Assert.Single(walk.TakeNew());
        Assert.Equal(entry.FullName, stop.Path);
        Assert.Equal("the walk of this log stopped after 1,000 entries (RDBRIDGE_LOG_WALK_ENTRIES); this entry and " +
            "the rest of the run folder were not walked", stop.Why);
        Assert.Empty(walk.TakeNew());
        walk.Skip("/elsewhere", "why");
        Assert.Equal([new NotWalked("/elsewhere", "why")], walk.TakeNew());
        Assert.Equal(2, walk.NotWalked.Count);
    }

    [Fact]
    public void A_linked_loop_folder_is_refused_with_the_reason_and_the_fix()
    {
        using var dir = new TempDir();
        var real = Folder(dir, "run", "Loop_0");
        var link = dir["run/Loop_1"];
        Directory.CreateSymbolicLink(link, real);
        var walk = new LogWalk();
        Assert.Equal([0L], LogTree.Loops(dir["run"], walk).Select(l => l.LoopId));
        var refused = Assert.Single(walk.NotWalked);
        Assert.Equal(link, refused.Path);
        Assert.Equal("it is a symbolic link, which discovery never follows in a log; replace it by the folder or " +
            "file itself if it belongs to this run", refused.Why);
    }
}
