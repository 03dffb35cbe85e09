using RdBridge.Discovery;
using RdBridge.Pickles;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// Issue 26, class 5 (a crash that ended the run becomes the item's problem): a <c>time_info</c> whose timezone offset
/// or date overflows is no time at all, so discovery names the pickle instead of ending in an OverflowException.
/// </summary>
public class TimeInfoOverflowTests
{
    // datetime(2025, 7, 1, 8, 30, 12, 123456) as CPython pickles its state: year in two bytes, then the fields.
    private static readonly byte[] State = [0x07, 0xe9, 7, 1, 8, 30, 12, 0x01, 0xe2, 0x40];

    private static PickledObject DateTime(params long[] timedelta) => new("datetime.datetime", null,
    [
        State,
        new PickledObject("datetime.timezone", null,
            [new PickledObject("datetime.timedelta", null, timedelta.Cast<object?>().ToList())]),
    ]);

    [Fact]
    public void Item_problem_not_crash_an_offset_that_overflows_is_no_time()
    {
        Assert.Equal(new DateTimeOffset(2025, 7, 1, 8, 30, 12, TimeSpan.Zero).AddTicks(1_234_560),
            LogValues.Time(DateTime(0, 0, 0)));
        Assert.Null(LogValues.Time(DateTime(long.MaxValue, 0, 0)));                 // the overflowing days
        Assert.Null(LogValues.Time(DateTime(0, long.MaxValue / 2, 0)));             // seconds past TimeSpan
        Assert.Null(LogValues.Time(DateTime(-106_751_991, 0, 0)));                  // a day count at TimeSpan's edge
    }

    [Fact]
    public void Item_problem_not_crash_a_time_info_with_an_overflowing_offset_is_named_by_discovery()
    {
        const string run = "2025-07-01_08-30-12-123456";
        using var rd = new UpstreamRdAgent([$"head:fin_factor:3:{run}"]);
        var timeInfo = Directory.EnumerateFiles(Path.Combine(rd.LogFolder(run), "Loop_1"), "*.pkl",
                SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .First(f => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(f))) == "time_info");
        // A protocol-2 pickle of {start_time, end_time}, each a datetime whose timezone is a timedelta of 2^62 days.
        UpstreamRdAgent.RunPython(["-c", """
            import sys, struct
            def text(s): b = s.encode(); return b"X" + struct.pack("<I", len(b)) + b
            state = bytes([7, 233, 7, 1, 8, 30, 12, 1, 226, 64])
            days = (2**62).to_bytes(8, "little", signed=True)
            td = b"cdatetime\ntimedelta\n" + b"\x8a\x08" + days + b"K\x00K\x00\x87R"
            tz = b"cdatetime\ntimezone\n" + td + b"\x85R"
            dt = b"cdatetime\ndatetime\n" + b"C\x0a" + state + tz + b"\x86R"
            body = b"}(" + text("start_time") + dt + text("end_time") + dt + b"u."
            open(sys.argv[1], "wb").write(b"\x80\x02" + body)
            """, timeInfo]);

        var (code, output, err) = rd.Cli("discover");
        Assert.Equal(1, code);
        Assert.Empty(err);
        // The loop's whole problem line: what is wrong with the time written above, in the user's terms (not the
        // .NET type the reader holds it in), what becomes of the loop, and the file.
        var problem = Assert.Single(OutputLines.Of(output), l => l.StartsWith("  ✗ ", StringComparison.Ordinal));
        Assert.Equal($"  ✗ {run}/1: log pickle holds a start_time datetime that is out of range: its date, or its "
            + "timezone offset (at most ±14 hours), is beyond what a time can be; the loop is left out until its log "
            + $"can be read [{timeInfo}]", problem);
        Assert.DoesNotContain("OverflowException", output);
        var loops = Db.Rows(rd.Registry, "SELECT loop_id FROM loops ORDER BY loop_id").Select(r => (long)r[0]!);
        Assert.Equal([0L, 2L], loops);
    }
}
