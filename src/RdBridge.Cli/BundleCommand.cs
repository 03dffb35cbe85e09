using System.CommandLine;
using RdBridge.Assets;
using RdBridge.Bundles;
using RdBridge.Registry;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>Packs loops into asset bundles and re-hashes them.</summary>
internal static class BundleCommand
{
    public static Command Create(Io io)
    {
        var tr = new Option<string?>("--task-run-id") { Description = "Only this task run" };
        var loop = new Option<long?>("--loop-id") { Description = "Only this loop" }
            .Within(0, long.MaxValue);
        var cmd = new Command("bundle",
            "Pack each loop with results into production_bundles/bundle_<task_run_id>_<loop_id>.tar.gz (步骤 2)")
            { tr, loop };
        var ids = new Argument<string[]>("ids")
        {
            Description = "Bundle ids to verify (default: all)", Arity = ArgumentArity.ZeroOrMore,
        };
        var verify = new Command("verify", "Re-hash bundles against their .sha256 and manifests") { ids };
        verify.SetAction(p => Guarded(io, () =>
            Print(io, BundleVerify.Run(Settings(p).Bundles, p.GetValue(ids) ?? []))));
        cmd.Subcommands.Add(verify);
        cmd.SetAction(p => Guarded(io, () => Print(io, new BundleStage(Context(p, io)).Run(
            new LoopSelection { TaskRunId = p.GetValue(tr), LoopId = p.GetValue(loop) }))));
        return cmd;
    }
}
