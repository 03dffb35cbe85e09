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

    private const string LinkWhy = "it is a symbolic link, which discovery never follows in a log; replace it by the " +
        "folder or file itself if it belongs to this run";

    private static string Stamp(int second) => $"2025-07-01_00-00-{second:D2}-000000.pkl";

    [Fact]
    public void A_loop_folder_s_stamp_is_its_time_then_each_step_folder_s_name_and_time_in_name_order()
    {
        using var dir = new TempDir();
        var t0 = new DateTime(2025, 7, 1, 8, 0, 0, DateTimeKind.Utc);
        // Made out of name order; a file beside the steps is not a step.
        var steps = new[]
        {
            ("running", t0.AddSeconds(30)), ("coding", t0.AddSeconds(10)), ("feedback", t0.AddSeconds(20)),
        };
        foreach (var (name, at) in steps)
        {
            Pickle(dir, "Loop_3", name, "t", "1", Stamp(1));
            Directory.SetLastWriteTimeUtc(dir[$"Loop_3/{name}"], at);
        }
        File.WriteAllText(dir["Loop_3/notes.txt"], "x");
        Directory.SetLastWriteTimeUtc(dir["Loop_3"], t0);
        var expected = $"{t0.Ticks};coding={t0.AddSeconds(10).Ticks};feedback={t0.AddSeconds(20).Ticks};" +
            $"running={t0.AddSeconds(30).Ticks}";
        Assert.Equal(expected, new LoopFolder(3, dir["Loop_3"]).FolderStamp());
    }

    /// <summary>
    /// A v0.3 run: no Loop_N folders, every loop's pickles in the shared r/, d/ and ef/ folders. Each hypothesis
    /// starts a loop that holds every pickle up to the next hypothesis, in file-name (time) order, a tie by path.
    /// </summary>
    [Fact]
    public void A_flat_log_s_loops_start_at_each_hypothesis_and_hold_every_pickle_up_to_the_next()
    {
        using var dir = new TempDir();
        var before = Pickle(dir, "flat", "ef", "feedback", "11", Stamp(0));   // before the first hypothesis: no loop's
        var h0 = Pickle(dir, "flat", "r", "hypothesis generation", "11", Stamp(1));
        var e0 = Pickle(dir, "flat", "d", "experiment generation", "11", Stamp(2));
        var c0 = Pickle(dir, "flat", "d", "evo_loop_0", "evolving code", "11", Stamp(3));
        var r0 = Pickle(dir, "flat", "d", "runner result", "11", Stamp(4));
        var f0 = Pickle(dir, "flat", "ef", "feedback", "11", Stamp(4));       // same name as r0: d/ before ef/
        var h1 = Pickle(dir, "flat", "r", "hypothesis generation", "11", Stamp(5));
        var f1 = Pickle(dir, "flat", "ef", "feedback", "11", Stamp(6));
        // Never listed: LLM traffic in a segment and in an evolving step, a run-level tag.
        Pickle(dir, "flat", "r", "debug_llm", "11", Stamp(2));
        Pickle(dir, "flat", "d", "evo_loop_0", "debug_tpl", "11", Stamp(3));
        Pickle(dir, "flat", "RDLOOP_SETTINGS", "11", Stamp(0));
        Assert.True(File.Exists(before));

        var loops = LogTree.Loops(dir["flat"]);
        Assert.Equal([(0L, dir["flat"]), (1L, dir["flat"])], loops.Select(l => (l.LoopId, l.Path)));
        Assert.Equal([(h0, "r", LogTree.Hypothesis, (int?)null), (e0, "d", LogTree.Tasks, null),
                (c0, "d", LogTree.EvolvingCode, 0), (r0, "d", LogTree.RunnerResult, null),
                (f0, "ef", LogTree.Feedback, null)],
            loops[0].Files().Select(f => (f.Path, f.Step, f.Tag, f.EvolvingStep)));
        Assert.Equal([(h1, "r", LogTree.Hypothesis, (int?)null), (f1, "ef", LogTree.Feedback, null)],
            loops[1].Files().Select(f => (f.Path, f.Step, f.Tag, f.EvolvingStep)));
        // A flat loop's stamp is the pickles that bound it: its hypothesis and the next loop's, or "open".
        Assert.Equal($"flat:{Stamp(1)}:{Stamp(5)}", loops[0].FolderStamp());
        Assert.Equal($"flat:{Stamp(5)}:open", loops[1].FolderStamp());

        // One old segment is enough to make a run flat.
        var only = Pickle(dir, "only-r", "r", "hypothesis generation", "1", Stamp(7));
        var single = Assert.Single(LogTree.Loops(dir["only-r"]));
        Assert.Equal((0L, dir["only-r"], only), (single.LoopId, single.Path, Assert.Single(single.Files()).Path));

        // Loop_N folders win over an r/ folder beside them: the run is not flat.
        Folder(dir, "mixed", "Loop_0");
        Pickle(dir, "mixed", "r", "hypothesis generation", "1", Stamp(8));
        var loop = Assert.Single(LogTree.Loops(dir["mixed"]));
        Assert.Equal((0L, dir["mixed/Loop_0"]), (loop.LoopId, loop.Path));
        Assert.Empty(loop.Files());
    }

    /// <summary>Twelve pairs of pickles of the same second in d/ and ef/: more than a short sort keeps in place.
    /// </summary>
    [Fact]
    public void Flat_pickles_of_the_same_name_come_in_folder_order_however_many_there_are()
    {
        using var dir = new TempDir();
        var expected = new List<string> { Pickle(dir, "run", "r", "hypothesis generation", "1", Stamp(0)) };
        for (var i = 12; i >= 1; i--)
        {
            var e = Pickle(dir, "run", "ef", "feedback", "1", Stamp(i));
            var d = Pickle(dir, "run", "d", "experiment generation", "1", Stamp(i));
            expected.InsertRange(1, [d, e]);
        }
        Assert.Equal(expected, Assert.Single(LogTree.Loops(dir["run"])).Files().Select(f => f.Path));
    }

    [Fact]
    public void Evolving_steps_under_an_old_tag_segment_are_listed_with_their_number()
    {
        using var dir = new TempDir();
        var coder = Pickle(dir, "Loop_0", "coding", "d", "coder result", "1", Stamp(2));
        var evolving = Pickle(dir, "Loop_0", "coding", "d", "evo_loop_2", "evolving code", "1", Stamp(1));
        Pickle(dir, "Loop_0", "coding", "d", "evo_loop_2", "debug_llm", "1", Stamp(1));
        Pickle(dir, "Loop_0", "coding", "d", "debug_tpl", "1", Stamp(1));
        // By tag folder name within the segment: "coder result" before "evo_loop_2".
        Assert.Equal(
            [(coder, "coding", LogTree.CoderResult, (int?)null), (evolving, "coding", LogTree.EvolvingCode, 2)],
            new LoopFolder(0, dir["Loop_0"]).Files().Select(f => (f.Path, f.Step, f.Tag, f.EvolvingStep)));
    }

    [Fact]
    public void The_walk_given_names_the_links_found_listing_run_folders_a_loop_s_files_and_run_files()
    {
        using var dir = new TempDir();
        var run = Folder(dir, "log", "2025-07-01_00-00-00-000000");
        var linkedRun = dir["log/2025-07-02_00-00-00-000000"];
        Directory.CreateSymbolicLink(linkedRun, run);
        var walk = new LogWalk();
        Assert.Equal([run], LogTree.RunFolders(dir["log"], walk));
        Assert.Equal([new NotWalked(linkedRun, LinkWhy)], walk.TakeNew());

        // A loop found by a walk lists its files with that walk: a linked pid folder is named there.
        var feedback = Pickle(dir, "log", "2025-07-01_00-00-00-000000", "Loop_0", "feedback", "feedback", "1",
            Stamp(1));
        var linkedPid = Path.Combine(run, "Loop_0", "feedback", "feedback", "2");
        Directory.CreateSymbolicLink(linkedPid, Path.GetDirectoryName(feedback)!);
        var loop = Assert.Single(LogTree.Loops(run, walk));
        Assert.Equal([feedback], loop.Files().Select(f => f.Path));
        Assert.Equal([new NotWalked(linkedPid, LinkWhy)], walk.TakeNew());

        // So does the newest pickle of a run-level tag.
        var settings = Pickle(dir, "log", "2025-07-01_00-00-00-000000", "RDLOOP_SETTINGS", "1", Stamp(0));
        var linkedSettings = Path.Combine(run, "RDLOOP_SETTINGS", "3");
        Directory.CreateSymbolicLink(linkedSettings, Path.GetDirectoryName(settings)!);
        Assert.Equal(settings, LogTree.RunFile(run, LogTree.LoopSettings, walk));
        Assert.Equal([new NotWalked(linkedSettings, LinkWhy)], walk.TakeNew());
    }

    [Fact]
    public void Of_two_run_pickles_of_the_same_name_the_one_in_the_later_pid_folder_by_name_is_the_newest()
    {
        using var dir = new TempDir();
        // Ordinal name order: "12" before "7".
        Pickle(dir, "run", "scenario", "12", Stamp(9));
        var later = Pickle(dir, "run", "scenario", "7", Stamp(9));
        Pickle(dir, "run", "scenario", "7", Stamp(8));
        Assert.Equal(later, LogTree.RunFile(dir["run"], LogTree.Scenario));
    }

    [Fact]
    public void A_walk_stopped_inside_a_pid_folder_has_taken_its_earliest_pickles_by_name()
    {
        using var dir = new TempDir();
        var first = Pickle(dir, "run", "scenario", "1", Stamp(1));
        var second = Pickle(dir, "run", "scenario", "1", Stamp(2));
        // Two entries: the pid folder and the first pickle. The second is where the walk stopped.
        var walk = new LogWalk(maxEntries: 2);
        Assert.Equal(first, LogTree.RunFile(dir["run"], LogTree.Scenario, walk));
        Assert.Equal([new NotWalked(second, "the walk of this log stopped after 2 entries " +
            "(RDBRIDGE_LOG_WALK_ENTRIES); this entry and the rest of the run folder were not walked")], walk.NotWalked);
    }

    [Fact]
    public void A_flat_log_s_old_segments_are_walked_by_name_so_a_walk_limit_cuts_the_later_one()
    {
        using var dir = new TempDir();
        Folder(dir, "run", "d", "x");
        var later = Folder(dir, "run", "r", "x");
        // One entry allowed: d/x (d before r by name) is taken, and the walk stops at r/x.
        var walk = new LogWalk(maxEntries: 1);
        LogTree.Loops(dir["run"], walk);
        Assert.Equal(later, Assert.Single(walk.NotWalked).Path);
    }
}
