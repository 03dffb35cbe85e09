using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using RdBridge.IO;
using RdBridge.Listing;
using RdBridge.Store;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>
/// <c>rdbridge list [loops|runs]</c>: find ids from the terminal, as <c>git log</c> or <c>mlflow runs list</c> do.
/// </summary>
internal static class ListCommand
{
    public static Command Create(Io io)
    {
        var what = new Argument<string>("what")
        {
            Description = "loops (default) or runs", Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => "loops",
        };
        what.AcceptOnlyFromAmong("loops", "runs");
        var taskRun = new Option<string?>("--task-run")
        {
            Description = "Only this task run (a unique start of its id)",
        };
        var status = new Option<string?>("--status") { Description = "Only loops with this status (success, failed)" };
        var action = new Option<string?>("--action") { Description = "Only factor or model loops" };
        var accepted = new Option<bool>("--accepted") { Description = "Only loops RD-Agent accepted (decision true)" };
        var sort = new Option<string>("--sort")
        {
            Description = "Sort by a loop column: started_at_utc (default), annualized_return, ic, max_drawdown, …",
            DefaultValueFactory = _ => "started_at_utc",
        };
        var ascending = new Option<bool>("--asc") { Description = "Ascending (default: descending)" };
        var limit = new Option<int>("--limit")
        {
            Description = "At most this many rows", DefaultValueFactory = _ => 50,
        }.Within(1, 1_000_000);
        var json = new Option<bool>("--json") { Description = "Print the rows as JSON (stdout holds the JSON alone)" };
        var cmd = new Command("list",
            "Task runs and loops with scenario, status, decision, key metrics and dates, from the AIstock catalog " +
            "(after init); ids by unique start")
            { what, taskRun, status, action, accepted, sort, ascending, limit, json };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var filter = new ListFilter(p.GetValue(taskRun), p.GetValue(status), p.GetValue(action),
                p.GetValue(accepted) ? true : null, p.GetValue(sort)!, !p.GetValue(ascending),
                Math.Max(1, p.GetValue(limit)));
            using var store = AistockStores.Open(Settings(p, rdAgentOptional: true), migrate: false);
            if (p.GetValue(what) == "runs")
            {
                var runs = LoopListing.TaskRuns(store, filter);
                if (p.GetValue(json)) return Json(io, LoopListing.ToJson(runs));
                io.Out.WriteLine($"{"task run",-32}  {"scenario",-12} {"loops",5} {"ok",4} {"acc",4} " +
                    $"{"best ann.",9}  started");
                foreach (var r in runs)
                {
                    io.Out.WriteLine($"{r.TaskRunId,-32}  {r.Scenario ?? "–",-12} {r.Loops,5} {r.Succeeded,4} " +
                        $"{r.Accepted,4} {LoopListing.Percent(r.BestAnnualizedReturn),9}  {r.StartedAtUtc ?? "–"}");
                }
                if (runs.Count == 0) io.Err.WriteLine("no task runs in the AIstock catalog yet: run 'rdbridge init'");
                return Ok;
            }
            var loops = LoopListing.Loops(store, filter);
            if (p.GetValue(json)) return Json(io, LoopListing.ToJson(loops));
            io.Out.WriteLine($"{"task run",-10} {"loop",4}  {"scenario",-12} {"action",-6} {"status",-8} " +
                $"{"decision",-8} {"ann.ret",8} {"IC",7} {"max DD",8}  started");
            foreach (var l in loops)
            {
                var decision = l.Decision is { } d ? d ? "accepted" : "rejected" : "–";
                var ic = l.Ic?.ToString("0.000", CultureInfo.InvariantCulture) ?? "–";
                io.Out.WriteLine($"{l.TaskRunId[..Math.Min(8, l.TaskRunId.Length)],-10} {l.LoopId,4}  " +
                    $"{l.Scenario ?? "–",-12} {l.Action ?? "–",-6} {l.Status ?? "–",-8} {decision,-8} " +
                    $"{LoopListing.Percent(l.AnnualizedReturn),8} {ic,7} {LoopListing.Percent(l.MaxDrawdown),8}  " +
                    $"{l.StartedAtUtc ?? "–"}");
            }
            if (loops.Count == 0) io.Err.WriteLine("no loops match (the AIstock catalog is filled by 'rdbridge init')");
            else io.Err.WriteLine("show one: rdbridge show loop TASK_RUN_ID_START LOOP_ID");
            return Ok;
        }));
        return cmd;
    }

    private static int Json(Io io, JsonArray rows)
    {
        io.Out.WriteLine(rows.ToJsonString(CanonicalJson.FileOptions));
        return Ok;
    }
}
