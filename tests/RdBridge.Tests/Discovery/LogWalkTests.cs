using RdBridge.Discovery;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// Issue 26: the walk of a log never follows a link and is bounded (class 3); a name it cannot open is that item's
/// problem, not the run's end (class 5); a <c>Loop_</c> folder it does not take is named, never skipped without a word
/// (class 6). Each time the good loops beside are still discovered.
/// </summary>
public class LogWalkTests
{
    private const string Run = "2025-07-01_08-30-12-123456";

    private static List<long> LoopIds(UpstreamRdAgent rd) =>
        Db.Rows(rd.Registry, "SELECT loop_id FROM loops ORDER BY loop_id").Select(r => (long)r[0]!).ToList();

    [Fact]
    public void Log_walk_never_follows_a_fan_out_of_symlinked_loop_step_and_pid_folders()
    {
        using var rd = new UpstreamRdAgent([$"head:fin_factor:3:{Run}"]);
        var log = rd.LogFolder(Run);
        var loop1 = Path.Combine(log, "Loop_1");
        var tag = Path.GetDirectoryName(Path.GetDirectoryName(rd.Pickle(Run, 2, "feedback")))!;
        var otherPid = Path.GetDirectoryName(rd.Pickle(Run, 1, "feedback"))!;
        // The issue's fan-out: many Loop folders linking to one loop, a step linking back to the run folder (a cycle
        // a following walk never leaves) and a pid folder linking to another loop's tag.
        var links = new List<string>();
        for (var i = 10; i < 60; i++)
        {
            links.Add(Path.Combine(log, $"Loop_{i}"));
            File.CreateSymbolicLink(links[^1], loop1);
        }
        links.Add(Path.Combine(loop1, "coding", "back_to_run"));
        File.CreateSymbolicLink(links[^1], log);
        links.Add(Path.Combine(tag, "99999"));
        File.CreateSymbolicLink(links[^1], otherPid);

        var (code, output, _) = rd.Cli("discover");
        Assert.Equal(1, code);
        // Each link on a problem line of its own, with what to do; nothing else is a problem.
        var problems = output.Split('\n').Where(l => l.StartsWith("  ✗ ", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(links.Select(link => $"  ✗ {Run}{LoopOf(log, link)}: not read: it is a symbolic link, which "
            + "discovery never follows in a log; replace it by the folder or file itself if it belongs to this run "
            + $"[{link}]").Order(), problems);
        Assert.Equal([0L, 1L, 2L], LoopIds(rd));
    }

    [Fact]
    public void Log_walk_stops_at_its_entry_limit_and_names_where()
    {
        using var rd = new UpstreamRdAgent([$"head:fin_factor:3:{Run}"]);
        var log = rd.LogFolder(Run);
        var full = new LogWalk();
        var everyFile = LogTree.Loops(log, full).SelectMany(l => l.Files()).ToList();
        var all = everyFile.Count;
        Assert.False(full.Stopped);
        Assert.True(all > 6); // a precondition: more than the limit below, so the limit cuts the walk short

        var walk = new LogWalk(maxEntries: 6);
        var files = LogTree.Loops(log, walk).SelectMany(l => l.Files()).ToList();
        Assert.True(walk.Stopped);
        // Cut short: the files before the stop, as the whole walk lists them (the limit counts folders too, so how
        // many of the 6 entries are files follows the listing).
        Assert.True(files.Count < all);
        Assert.Equal(everyFile.Take(files.Count), files);
        var stop = Assert.Single(walk.NotWalked);
        Assert.StartsWith(log, stop.Path);
        Assert.Equal("the walk of this log stopped after 6 entries (RDBRIDGE_LOG_WALK_ENTRIES); this entry and the "
            + "rest of the run folder were not walked", stop.Why);
    }

    [Fact]
    public void Log_names_a_folder_that_is_not_utf8_and_discovers_the_loops_beside_it()
    {
        using var rd = new UpstreamRdAgent([$"head:fin_factor:3:{Run}"]);
        var log = rd.LogFolder(Run);
        // A step folder inside loop 1 and a whole Loop folder whose names are Latin-1 bytes, not UTF-8.
        UpstreamRdAgent.RunPython(["-c", """
            import os, sys
            os.mkdir(os.path.join(sys.argv[1].encode(), b"Loop_1", b"caf\xe9"))
            os.mkdir(os.path.join(sys.argv[1].encode(), b"Loop_\xff"))
            """, log]);

        var (code, output, err) = rd.Cli("discover");
        Assert.Equal(1, code);
        Assert.Empty(err);
        // Both folders by the loop they are in (the Loop folder itself belongs to none), their names decoded with
        // a replacement character where the byte is not UTF-8.
        const string notUtf8 = "not read: its name is not valid UTF-8, so it cannot be opened by name; rename it";
        Assert.Equal(new[] { $"  ✗ {Run}: {notUtf8} [{Path.Combine(log, "Loop_\ufffd")}]",
            $"  ✗ {Run}/1: {notUtf8} [{Path.Combine(log, "Loop_1", "caf\ufffd")}]" }.Order(StringComparer.Ordinal),
            output.Split('\n').Where(l => l.StartsWith("  ✗ ", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal));
        Assert.Equal([0L, 1L, 2L], LoopIds(rd));
    }

    [Fact]
    public void Loop_names_not_taken_are_named_loop_99999999999999999999_and_loop_02_beside_loop_2()
    {
        using var rd = new UpstreamRdAgent([$"head:fin_factor:3:{Run}"]);
        var log = rd.LogFolder(Run);
        var huge = Path.Combine(log, "Loop_99999999999999999999");
        var padded = Path.Combine(log, "Loop_02");
        var lone = Path.Combine(log, "Loop_007");
        var letters = Path.Combine(log, "Loop_backup");
        foreach (var copy in new[] { huge, padded, lone, letters })
            CopyFolder(Path.Combine(log, "Loop_2"), copy);

        var (code, output, _) = rd.Cli("discover");
        Assert.Equal(1, code);
        // Each folder by what is wrong with its name (the loop number it spells, its digits) and what to do.
        static string Padded(string number, string path) => $"  ✗ {Run}: not read: RD-Agent writes loop numbers "
            + $"without leading zeros (Loop_{number}); the folder was not read, so it cannot be taken for "
            + $"Loop_{number} or stand in for it — rename or remove it [{path}]";
        Assert.Equal(new[] { Padded("7", lone), Padded("2", padded),
            $"  ✗ {Run}: not read: its loop number has 20 digits, more than a loop id can hold; the folder was not "
                + $"read [{huge}]",
            $"  ✗ {Run}: not read: it is not a loop folder: RD-Agent names them Loop_<number>; move it out of the "
                + $"log [{letters}]" }.Order(StringComparer.Ordinal),
            output.Split('\n').Where(l => l.StartsWith("  ✗ ", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal));
        Assert.Equal([0L, 1L, 2L], LoopIds(rd));
    }

    /// <summary>"/N" for an entry inside the log's Loop_N folder, "" for one of the run folder itself.</summary>
    private static string LoopOf(string log, string entry) =>
        Path.GetRelativePath(log, entry).Split('/') is [var loop, _, ..] ? "/" + loop["Loop_".Length..] : "";

    private static void CopyFolder(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
