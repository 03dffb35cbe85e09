using System.CommandLine;
using RdBridge.Compare;
using RdBridge.IO;
using RdBridge.Store;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>What changed from one loop to another.</summary>
internal static class CompareCommand
{
    public static Command Create(Io io)
    {
        var a = new Argument<string>("a") { Description = "The first loop, TASK_RUN_ID:LOOP_ID" };
        var b = new Argument<string>("b") { Description = "The second loop, TASK_RUN_ID:LOOP_ID" };
        var json = new Option<bool>("--json")
        {
            Description = "Print the comparison as JSON (as GET /api/rdagent/compare returns it)",
        };
        var cmd = new Command("compare", "What changed from loop a to loop b: metrics, workflow config, factors, " +
            "code and backtest curves (对比两个循环), from the AIstock database and the asset cache") { a, b, json };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var s = Settings(p);
            using var store = AistockStores.Open(s, migrate: false);
            var (ra, rb) = (LoopRef.Parse(p.GetValue(a)!), LoopRef.Parse(p.GetValue(b)!));
            (ra, rb) = (ra with { TaskRunId = TaskRunPrefix.Resolve(s, ra.TaskRunId) },
                rb with { TaskRunId = TaskRunPrefix.Resolve(s, rb.TaskRunId) });
            var result = new LoopComparison(s, store).Compare(ra, rb);
            io.Out.Write(p.GetValue(json)
                ? result.ToJsonString(CanonicalJson.FileOptions) + "\n"
                : LoopComparison.ToText(result));
            return Ok;
        }));
        return cmd;
    }
}
