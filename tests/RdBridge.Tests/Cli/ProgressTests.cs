using RdBridge.Cli;
using RdBridge.Runs;

namespace RdBridge.Tests.Cli;

public class ProgressTests
{
    [Fact]
    public void A_terminal_gets_one_bar_redrawn_in_place_and_cleared_before_the_next_output()
    {
        var o = new StringWriter();
        var bar = new TerminalProgress(o);
        bar.Update("bundle", 500, 2000, "400 bundles written");
        bar.Update("bundle", 2000, 2000, "1800 bundles written");
        bar.Clear();
        var text = o.ToString();
        Assert.DoesNotContain('\n', text);
        // The whole stream: each draw returns to the line's start (500 of 2000 is 6 of the 24 cells), the last
        // overwrites the first, and clearing blanks as many cells as the last line took.
        const string first = "[bundle] ██████░░░░░░░░░░░░░░░░░░  500/2000 loops  400 bundles written";
        const string last = "[bundle] ████████████████████████  2000/2000 loops  1800 bundles written";
        Assert.Equal("\r" + first + "\r" + last + "\r" + new string(' ', last.Length) + "\r", text);
    }

    [Fact]
    public void A_progress_line_of_one_loop_names_it_in_the_singular()
    {
        var o = new StringWriter();
        var bar = new TerminalProgress(o);
        bar.Update("bundle", 1, 1, "1 bundle written");
        // The noun agrees with the total: "1/1 loop", as "0/1 loop" would.
        Assert.Equal("\r[bundle] ████████████████████████  1/1 loop  1 bundle written", o.ToString());
    }

    [Fact]
    public void Without_a_terminal_progress_is_a_plain_line_every_500_loops()
    {
        var lines = new List<string>();
        using var dir = new TempDir();
        var context = new RunContext(null!, lines.Add);
        for (var i = 1; i <= 1200; i++) context.Tick("backfill", i, 1200, "x files written");
        Assert.Equal(
            ["[backfill] … 500/1200 loops, x files written", "[backfill] … 1000/1200 loops, x files written"], lines);
    }
}
