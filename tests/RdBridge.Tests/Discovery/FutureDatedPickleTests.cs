using RdBridge.Discovery;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// Issue 26, class 10: a truncated pickle counts as "being written" only for a bounded grace period
/// (<see cref="LogPickle.WritingWindow"/>), whatever date it carries; after that it is a problem, named.
/// </summary>
public class FutureDatedPickleTests
{
    private static readonly DateTime Now = new(2026, 12, 6, 5, 0, 0, DateTimeKind.Utc);

    private static LogPickle Truncated(TempDir dir, DateTime written)
    {
        // The first half of a real protocol-4 pickle of a dict: ends before its STOP.
        // pickle.dumps({"a": 1}, protocol=4), byte for byte.
        byte[] whole = [0x80, 4, 0x95, 0x0a, 0, 0, 0, 0, 0, 0, 0, (byte)'}', 0x94, 0x8c, 1, (byte)'a', 0x94,
            (byte)'K', 1, (byte)'s', (byte)'.'];
        var path = dir["2026-12-06_05-00-00-000000.pkl"];
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        File.SetLastWriteTimeUtc(path, written);
        return LogPickle.Read(path, Now);
    }

    [Fact]
    public void Incomplete_pickle_dated_a_year_ahead_is_a_problem_not_being_written()
    {
        using var dir = new TempDir();
        var read = Truncated(dir, Now.AddYears(1));
        Assert.Equal(PickleTrouble.Truncated, read.Trouble);
        // The file is the first 10 of the 21 bytes: they end inside the frame's 8-byte length at byte 3.
        Assert.Equal("is truncated and dated in the future (2027-12-06T05:00:00Z), so it is not taken to be still "
            + "being written (pickle ends after 10 bytes, inside an item that needs 8 more from byte 3; the file may "
            + "still be being written)", read.Message);
    }

    [Fact]
    public void Incomplete_pickle_grace_period_is_bounded_on_both_sides_of_now()
    {
        using var dir = new TempDir();
        var window = LogPickle.WritingWindow;
        Assert.Equal(PickleTrouble.BeingWritten, Truncated(dir, Now).Trouble);
        Assert.Equal(PickleTrouble.BeingWritten, Truncated(dir, Now + window / 2).Trouble);   // a clock a bit ahead
        Assert.Equal(PickleTrouble.BeingWritten, Truncated(dir, Now - window / 2).Trouble);
        Assert.Equal(PickleTrouble.Truncated, Truncated(dir, Now + window + TimeSpan.FromSeconds(1)).Trouble);
        Assert.Equal(PickleTrouble.Truncated, Truncated(dir, Now - window - TimeSpan.FromSeconds(1)).Trouble);
    }
}
