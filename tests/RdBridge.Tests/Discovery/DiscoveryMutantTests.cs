using System.Runtime.Versioning;
using RdBridge.Discovery;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// Discovery's reading of a log, for the mutants <c>bench/mutation.sh DiscoveryLog</c> left alive (issue 24). Each
/// input is written here byte for byte (the pickle is what CPython's <c>pickle.dumps</c> gives), and each expected
/// value is read from that input.
/// </summary>
public class DiscoveryMutantTests
{
    private static readonly DateTime Now = new(2026, 12, 6, 5, 0, 0, DateTimeKind.Utc);

    // pickle.dumps({"a": 1}, protocol=4), byte for byte.
    private static readonly byte[] Dict =
    [
        0x80, 4, 0x95, 0x0a, 0, 0, 0, 0, 0, 0, 0, (byte)'}', 0x94, 0x8c, 1, (byte)'a', 0x94, (byte)'K', 1, (byte)'s',
        (byte)'.',
    ];

    private static string Pickle(TempDir dir, byte[] bytes, DateTime written)
    {
        var path = dir[$"{Guid.NewGuid():N}.pkl"];
        File.WriteAllBytes(path, bytes);
        File.SetLastWriteTimeUtc(path, written);
        return path;
    }

    [Fact]
    public void A_whole_pickle_is_read_to_its_value_whatever_its_date()
    {
        using var dir = new TempDir();
        foreach (var written in new[] { Now, Now.AddYears(-3), Now.AddYears(2) })
        {
            var path = Pickle(dir, Dict, written);
            var read = LogPickle.Read(path, Now);
            Assert.Equal((path, PickleTrouble.None, (string?)null, true),
                (read.Path, read.Trouble, read.Message, read.Ok));
            var value = Assert.IsType<Dictionary<object, object?>>(read.Value);
            Assert.Equal(1L, Convert.ToInt64(Assert.Single(value, kv => (string)kv.Key == "a").Value));
        }
    }

    [Fact]
    public void A_cut_pickle_is_being_written_for_exactly_the_window_either_side_of_now_and_truncated_past_it()
    {
        using var dir = new TempDir();
        var window = LogPickle.WritingWindow;
        LogPickle Cut(DateTime written) => LogPickle.Read(Pickle(dir, Dict[..(Dict.Length / 2)], written), Now);

        // Dated exactly one window ahead: not yet "in the future"; exactly one window old: no longer young.
        var ahead = Cut(Now + window);
        Assert.Equal((PickleTrouble.BeingWritten, "is still being written", false, (object?)null),
            (ahead.Trouble, ahead.Message, ahead.Ok, ahead.Value));
        var old = Cut(Now - window);
        Assert.Equal(PickleTrouble.Truncated, old.Trouble);
        Assert.StartsWith("is truncated; RD-Agent stopped while writing it (", old.Message);
        Assert.EndsWith(")", old.Message);
        Assert.False(old.Ok);
        Assert.Equal(PickleTrouble.BeingWritten, Cut(Now - window + TimeSpan.FromSeconds(1)).Trouble);

        var future = Cut(new DateTime(2027, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        Assert.Equal(PickleTrouble.Truncated, future.Trouble);
        Assert.StartsWith("is truncated and dated in the future (2027-01-02T03:04:05Z), so it is not taken to be still "
            + "being written (", future.Message);
        Assert.EndsWith(")", future.Message);
    }

    [Fact]
    public void A_file_that_is_no_pickle_or_cannot_be_opened_is_unreadable_with_the_reason()
    {
        using var dir = new TempDir();
        var garbage = LogPickle.Read(Pickle(dir, "not a pickle at all"u8.ToArray(), Now.AddYears(-1)), Now);
        Assert.Equal((PickleTrouble.Unreadable, false), (garbage.Trouble, garbage.Ok));
        Assert.StartsWith("is not a pickle RdBridge reads as data (", garbage.Message);
        Assert.EndsWith(")", garbage.Message);

        // A folder where the pickle should be: not a regular file, so it is not opened.
        var folder = dir["folder.pkl"];
        Directory.CreateDirectory(folder);
        var read = LogPickle.Read(folder, Now);
        Assert.Equal((PickleTrouble.Unreadable, false), (read.Trouble, read.Ok));
        Assert.StartsWith($"cannot be read: '{folder}' ", read.Message);
        Assert.EndsWith("; it was not read", read.Message);
    }

    /// <summary>
    /// A whole pickle whose mode forbids reading it is refused when opened (an
    /// <see cref="UnauthorizedAccessException"/>, the other half of the catch). As root the mode alone stops nothing,
    /// so the read runs where file modes hold (<see cref="ThreadFileLimits.WithFileModesEnforced"/>).
    /// </summary>
    [Fact]
    [SupportedOSPlatform("linux")]
    public void A_pickle_its_mode_forbids_reading_is_unreadable_with_the_reason()
    {
        using var dir = new TempDir();
        var path = Pickle(dir, Dict, Now.AddYears(-1));
        File.SetUnixFileMode(path, UnixFileMode.None);
        var read = ThreadFileLimits.WithFileModesEnforced(() => LogPickle.Read(path, Now));
        // EACCES, in the words of RegularFile's open and the C library (strerror).
        Assert.Equal((PickleTrouble.Unreadable, $"cannot be read: Access to the path '{path}' is denied (Permission "
            + "denied)."), (read.Trouble, read.Message));
    }

    [Fact]
    public void A_loop_reading_is_usable_only_with_a_loop_nothing_broken_and_nothing_half_written()
    {
        var loop = new DiscoveredLoop(3, DiscoveredLoop.Success, null, null, null, null, null, null, null, []);
        var broken = new UnusablePickle("/log/Loop_3/x.pkl", "not a pickle");
        Assert.True(new LoopReading(loop, [], false).Usable);
        Assert.False(new LoopReading(null, [], false).Usable);
        Assert.False(new LoopReading(loop, [broken], false).Usable);
        Assert.False(new LoopReading(loop, [], true).Usable);
    }
}
