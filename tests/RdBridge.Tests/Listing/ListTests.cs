using System.Globalization;
using System.Text.Json.Nodes;
using RdBridge.Sample;

namespace RdBridge.Tests.Listing;

/// <summary>Finding ids from the terminal: list, ids by unique start, show's summary.</summary>
public class ListTests
{
    [Fact]
    public void List_shows_every_loop_sorted_and_filtered_and_ids_work_by_their_start()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        Assert.Equal(0, s.Cli("init").Code);
        // Expected values from the registry and the workspaces' qlib_res.csv, read with SQL and by hand.
        var loops = Db.Rows(s.Settings.RegistryPath, "SELECT task_run_id, loop_id, status FROM loops");

        var (code, output, _) = s.Cli("list", "--json", "--limit", "100");
        Assert.Equal(0, code);
        var listed = JsonNode.Parse(output)!.AsArray();
        Assert.Equal(loops.Count, listed.Count);
        Assert.Equal(
            loops.Select(l => $"{l[0]}/{l[1]}").Order(StringComparer.Ordinal),
            listed.Select(l => $"{l!["task_run_id"]}/{l["loop_id"]}").Order(StringComparer.Ordinal));
        // Newest first by default.
        var starts = listed.Select(l => (string?)l!["started_at_utc"]).ToList();
        Assert.Equal(starts.OrderDescending(StringComparer.Ordinal), starts);

        // Sorted by annualized return, the best first, and it is the one qlib_res.csv says.
        var best = JsonNode.Parse(s.Cli("list", "--json", "--sort", "annualized_return", "--limit", "1").Out)!
            .AsArray().Single()!;
        // Each loop's annualized return as its experiment workspace's qlib_res.csv spells it (Qlib's with-cost row).
        const string Row = "1day.excess_return_with_cost.annualized_return,";
        var fromCsv = Db.Rows(s.Settings.RegistryPath, "SELECT task_run_id, loop_id, workspace_id FROM workspaces "
                + "WHERE workspace_role = 'experiment_workspace'")
            .Select(r => (Loop: $"{r[0]}/{r[1]}", Csv: Path.Combine(s.Settings.WorkspaceRoot, (string)r[2]!,
                "qlib_res.csv")))
            .Where(x => File.Exists(x.Csv))
            .Select(x => (x.Loop, Value: double.Parse(File.ReadLines(x.Csv).Single(l => l.StartsWith(Row,
                StringComparison.Ordinal))[Row.Length..], CultureInfo.InvariantCulture)))
            .ToList();
        var top = fromCsv.MaxBy(x => x.Value);
        Assert.Equal(top.Loop, $"{best["task_run_id"]}/{best["loop_id"]}");
        Assert.Equal(top.Value, (double)best["annualized_return"]!);

        // One task run by a unique start of its id.
        var taskRun = (string)loops[0][0]!;
        var only = JsonNode.Parse(s.Cli("list", "--json", "--task-run", taskRun[..6]).Out)!.AsArray();
        Assert.Equal(loops.Count(l => (string)l[0]! == taskRun), only.Count);
        Assert.All(only, l => Assert.Equal(taskRun, (string)l!["task_run_id"]!));

        var runs = s.Cli("list", "runs");
        Assert.Equal(0, runs.Code);
        foreach (var id in loops.Select(l => (string)l[0]!).Distinct()) Assert.Contains(id, runs.Out);

        // show and compare take the start of the id too; show prints a summary, --json the whole record.
        var loopId = Convert.ToInt64(loops[0][1], CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        var show = s.Cli("show", "loop", taskRun[..6], loopId);
        Assert.True(show.Code == 0, show.Out + show.Err);
        Assert.Contains(taskRun, show.Out);
        // A whole line of the summary.
        Assert.Contains("problems: none — every link checked", show.Out.Split('\n'));
        // A summary, not the record (--json is that): a bound, as its length follows the loop's texts.
        Assert.True(show.Out.Split('\n').Length < 150, show.Out);
        var full = JsonNode.Parse(s.Cli("show", "loop", taskRun[..6], loopId, "--json").Out)!;
        Assert.Equal(taskRun, (string)full["task_run_id"]!);
        var compare = s.Cli("compare", $"{taskRun[..6]}:{loopId}", $"{taskRun}:{loopId}");
        Assert.True(compare.Code == 0, compare.Out + compare.Err);
    }

    [Fact]
    public void An_id_start_that_fits_no_task_run_is_named()
    {
        using var s = new Sample(flavor: SampleFlavor.Fork);
        Assert.Equal(0, s.Cli("init").Code);
        var (code, _, err) = s.Cli("list", "--task-run", "zzzz");
        Assert.Equal(2, code);
        Assert.Equal("error: no task run id starts with 'zzzz'; 'rdbridge list runs' lists them", err.TrimEnd('\n'));
    }
}
