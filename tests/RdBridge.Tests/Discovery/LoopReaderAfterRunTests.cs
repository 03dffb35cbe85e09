using RdBridge.Discovery;
using RdBridge.Sample;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// <see cref="LoopReader"/>'s cases that the Discovery mutation run of 2026-12-07 (at 2304fb0) left untested: a
/// time_info whose datetime is no time, time_info in steps the reader's order does not know, and a flat loop whose
/// last pickles are CoSTEER's evolving ones. Part of <see cref="LoopReaderTests"/> (its pickle writers), so the
/// Discovery plan of bench/mutation.sh runs it. Every expected value is a folder, a tag or a text the test wrote.
/// </summary>
public partial class LoopReaderTests
{
    /// <summary>
    /// A whole protocol-4 pickle of <c>datetime(2025, 7, 1, 8, 30, 12, 123456, timezone(timedelta(2**62)))</c>:
    /// the 10-byte state, then a timezone whose offset is 2^62 days (LONG1), as in issue 26.
    /// </summary>
    private static readonly byte[] OverflowingTime =
    [
        0x80, 4, 0x8c, 8, .. "datetime"u8, 0x8c, 8, .. "datetime"u8, 0x93,
        (byte)'C', 10, 0x07, 0xe9, 7, 1, 8, 30, 12, 0x01, 0xe2, 0x40,
        0x8c, 8, .. "datetime"u8, 0x8c, 8, .. "timezone"u8, 0x93,
        0x8c, 8, .. "datetime"u8, 0x8c, 9, .. "timedelta"u8, 0x93,
        0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x40, (byte)'K', 0, (byte)'K', 0, 0x87, (byte)'R',
        0x85, (byte)'R', 0x86, (byte)'R', (byte)'.',
    ];

    [Fact]
    public void A_time_info_whose_start_is_a_datetime_out_of_range_is_named_as_such_and_only_under_its_own_tag()
    {
        using var dir = new TempDir();
        var times = PickleText.Of(p => p.Dict(
            [("start_time", q => q.Raw(OverflowingTime)), ("end_time", q => q.Raw(OverflowingTime))]));

        var timed = new Loop(dir, 1);
        timed.Add("coding", LogTree.TimeInfo, times);
        var reading = timed.Read("factor");
        Assert.Null(reading.Loop);
        var broken = Assert.Single(reading.Broken);
        Assert.Equal((timed.Files[0].Path, "holds a start_time datetime that is out of range: its date, or its "
            + "timezone offset (at most ±14 hours), is beyond what a time can be"), (broken.Path, broken.Message));

        // The same dict where a hypothesis should be is no hypothesis: said as the dict of two entries it is.
        var misplaced = new Loop(dir, 2);
        misplaced.Add("direct_exp_gen", LogTree.Hypothesis, times);
        var wrong = Assert.Single(misplaced.Read("factor").Broken);
        Assert.Equal((misplaced.Files[0].Path, "holds a dict of 2 entries, not a Hypothesis"),
            (wrong.Path, wrong.Message));
    }

    [Fact]
    public void A_loop_timed_in_steps_the_reader_does_not_know_ends_in_the_last_of_them_not_in_an_untimed_step()
    {
        using var dir = new TempDir();
        // A hypothesis in direct_exp_gen without its time, then two steps of a later RD-Agent, each timed.
        var loop = new Loop(dir, 4);
        loop.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("h", "factor"));
        loop.Add("ideate", LogTree.TimeInfo, Times(T0, T0.AddMinutes(1)));
        loop.Add("review", LogTree.TimeInfo, Times(T0.AddMinutes(1), T0.AddMinutes(2)));

        var failed = loop.Read(laterLoopExists: true).Loop!;
        Assert.Equal(("no feedback", "the log of this loop ends in step 'review' without feedback, and RD-Agent went "
            + "on to the next loop", "direct_exp_gen"), (failed.ErrorType, failed.ErrorMessage, failed.Step));
    }

    [Fact]
    public void A_flat_loop_coding_in_evolving_steps_has_reached_the_step_of_its_last_tag_that_names_one()
    {
        using var dir = new TempDir();
        var run = dir["flat"];
        var code = PickleText.Of(p => p.List([S("def f(): pass")]));
        // Loop 0: a hypothesis, its tasks, then CoSTEER's first evolving step; loop 1: a hypothesis and evolving code.
        FlatPickle(run, "r", LogTree.Hypothesis, 0, Hypothesis("h0", "factor"));
        FlatPickle(run, "d", LogTree.Tasks, 1, PickleText.Of(p => p.List([Task("M", "m")])));
        FlatPickle(run, "d", $"evo_loop_0/{LogTree.EvolvingCode}", 2, code);
        FlatPickle(run, "r", LogTree.Hypothesis, 3, Hypothesis("h1", "factor"));
        FlatPickle(run, "d", $"evo_loop_0/{LogTree.EvolvingCode}", 4, code);

        var loops = LogTree.Loops(run);
        Assert.Equal([(0L, 3), (1L, 2)], loops.Select(l => (l.LoopId, l.Files().Count)));
        Assert.Equal([(0L, "exp_gen"), (1L, "propose")],
            loops.Select(l => LoopReader.Read(l, l.Files(), "factor", l.LoopId == 0, Now).Loop!)
                .Select(l => (l.LoopId, l.Step)));
    }
}
