using RdBridge.Discovery;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// <see cref="LoopReader"/>'s choices that the whole-folder mutation run of Discovery left untested (issue 24,
/// bench/mutation-survivors.md, "LoopReader.cs: gone through"): which step a loop reached, the action when the log
/// names none, what counts as an experiment, and loops with no pickle or no time to tell. Part of
/// <see cref="LoopReaderTests"/> (its pickle writers), so the Discovery plan of bench/mutation.sh runs it. Every
/// expected value is a folder, a class or a path the test wrote.
/// </summary>
public partial class LoopReaderTests
{
    [Fact]
    public void A_loop_without_feedback_ends_in_the_furthest_step_that_logged_its_time_or_else_logged_a_pickle()
    {
        using var dir = new TempDir();
        string Message(Loop loop) => LoopReader.Read(loop.Folder, loop.Folder.Files(), "factor", true, Now).Loop!
            .ErrorMessage!;
        const string Went = " without feedback, and RD-Agent went on to the next loop";

        // direct_exp_gen and coding logged their times; running logged its result but not its time (it never
        // finished). Discovery lists step folders by name, so coding's time comes before direct_exp_gen's.
        var timed = new Loop(dir, 1);
        timed.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("h", "factor"));
        timed.Add("direct_exp_gen", LogTree.TimeInfo, Times(T0, T0.AddMinutes(1)));
        timed.Add("coding", LogTree.CoderResult, Experiment("/ws/e1", "/ws/s1"));
        timed.Add("coding", LogTree.TimeInfo, Times(T0.AddMinutes(1), T0.AddMinutes(2)));
        timed.Add("running", LogTree.RunnerResult, Experiment("/ws/e1", "/ws/s1"));
        Assert.Equal("the log of this loop ends in step 'coding'" + Went, Message(timed));
        Assert.Equal("the log of this loop ends in step 'coding'" + Went, timed.Read(laterLoopExists: true).Loop!
            .ErrorMessage);

        // A log from before time_info (v0.4 to v0.7): the furthest step with a pickle.
        var untimed = new Loop(dir, 2);
        untimed.Add("direct_exp_gen", LogTree.Hypothesis, Hypothesis("h", "factor"));
        untimed.Add("coding", LogTree.CoderResult, Experiment("/ws/e2", "/ws/s2"));
        Assert.Equal("the log of this loop ends in step 'coding'" + Went, Message(untimed));
    }
}
