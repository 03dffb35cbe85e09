namespace RdBridge.Tests.Discovery;

/// <summary>
/// v0.3 logged nothing for a loop it skipped after a coder error and went on to the next loop: discovery records it as
/// failed with "no feedback" and names the step its log ends in. Written for the mutants of <c>LoopReader</c>'s
/// no-feedback branch (bench/mutation-survivors.md, Discovery), which no test read.
/// </summary>
public class NoFeedbackLoopTests
{
    private const string TaskRun = "2025-07-01_08-30-12-123456";

    [Fact]
    public void A_loop_without_feedback_followed_by_another_is_failed_with_no_feedback_and_the_step_it_ended_in()
    {
        using var rd = new UpstreamRdAgent([$"v03:fin_factor:3:{TaskRun}"], fail: true);
        Assert.Equal(0, rd.Cli("discover").Code);
        var id = (long)rd.Loops().Single(l => (string)l["status"]! == "failed")["loop_id"]!;

        // The flat log's pickles in time order (their UTC names); a loop runs from its hypothesis to the next one.
        string[] read = ["hypothesis generation", "experiment generation", "coder result", "runner result", "feedback"];
        var run = rd.LogFolder(TaskRun);
        var pickles = Directory.EnumerateFiles(run, "*.pkl", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(run, f).Split('/'))
            .Where(p => read.Contains(p[1]))
            .OrderBy(p => p[^1], StringComparer.Ordinal).ToList();
        var starts = pickles.Select((p, i) => (p, i)).Where(x => x.p[1] == "hypothesis generation")
            .Select(x => x.i).ToList();
        var last = pickles[starts[(int)id + 1] - 1];

        var row = Db.Rows(rd.Registry, $"SELECT status, error_type, error_message FROM loops WHERE loop_id = {id}")
            .Single();
        Assert.Equal("failed", row[0]);
        Assert.Equal("no feedback", row[1]);
        Assert.Equal($"the log of this loop ends in step '{last[0]}' without feedback, and RD-Agent went on to the " +
            "next loop", row[2]);
    }
}
