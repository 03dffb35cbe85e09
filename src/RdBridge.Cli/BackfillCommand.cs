using System.CommandLine;
using RdBridge.Backfill;
using RdBridge.Bundles;
using RdBridge.IO;
using RdBridge.Registry;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>Derives the metadata files per loop.</summary>
internal static class BackfillCommand
{
    internal static LoopSelection Selection(ParseResult p, Option<string?> tr, Option<long?> loop,
        Option<string?> start, Option<string?> end, Option<int?> max) => new()
    {
        TaskRunId = p.GetValue(tr),
        LoopId = p.GetValue(loop),
        // Read as instants (a date alone is midnight UTC), whatever the machine's time zone.
        StartDate = p.GetValue(start) is { } from ? UtcText.Parse(from, "--start-date") : null,
        EndDate = p.GetValue(end) is { } to ? UtcText.Parse(to, "--end-date") : null,
        MaxLoops = p.GetValue(max),
    };

    public static Command Create(Io io)
    {
        var mode = new Option<string>("--mode")
        {
            Description = "backfill | materialize-pending | solidify-all | check",
            DefaultValueFactory = _ => "backfill",
        };
        mode.AcceptOnlyFromAmong("backfill", "materialize-pending", "solidify-all", "check");
        var all = new Option<bool>("--all-task-runs")
        {
            Description = "Every task run (the default when no --task-run-id is given)",
        };
        var tr = new Option<string?>("--task-run-id") { Description = "Only this task run" };
        var loop = new Option<long?>("--loop-id") { Description = "Only this loop (with --task-run-id)" }
            .Within(0, long.MaxValue);
        var start = new Option<string?>("--start-date")
        {
            Description = "Loops started on or after this ISO-8601 date or time",
        };
        var end = new Option<string?>("--end-date") { Description = "Loops started on or before this ISO-8601 date" };
        var overwrite = new Option<bool>("--overwrite-json")
        {
            Description = "Rewrite metadata files that exist and differ",
        };
        var dry = new Option<bool>("--dry-run") { Description = "Report what would change; write nothing" };
        var max = new Option<int?>("--max-loops") { Description = "At most this many loops" }
            .Within(1, int.MaxValue);
        var cmd = new Command("backfill",
            "Derive factor_meta/factor_perf/feedback/model_meta/strategy_meta.json per loop and register artifacts " +
            "(步骤 1.2)")
            { mode, all, tr, loop, start, end, overwrite, dry, max };
        var verbose = VerboseOption();
        cmd.Options.Add(verbose);
        cmd.SetAction(p => Guarded(io, () =>
        {
            if (p.GetValue(all) && p.GetValue(tr) is not null)
                throw new ArgumentException("--all-task-runs and --task-run-id exclude each other; give one");
            if (p.GetValue(loop) is not null && p.GetValue(tr) is null)
                throw new ArgumentException("--loop-id needs --task-run-id");
            var m = p.GetValue(mode) switch
            {
                "materialize-pending" => BackfillMode.MaterializePending,
                "solidify-all" => BackfillMode.SolidifyAll,
                "check" => BackfillMode.Check,
                _ => BackfillMode.Backfill,
            };
            var context = Context(p, io, "backfill", p.GetValue(verbose));
            var selection = Selection(p, tr, loop, start, end, max);
            var code = Print(io, new BackfillStage(context).Run(
                new BackfillOptions(m, selection, p.GetValue(overwrite), p.GetValue(dry))));
            if (m == BackfillMode.SolidifyAll && !p.GetValue(dry))
                code = Math.Max(code, Print(io, new BundleStage(context).Run(selection)));
            return code;
        }));
        return cmd;
    }
}
