using System.CommandLine;
using RdBridge.Pipeline;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>The RD-Agent half of a sync, for a publisher machine.</summary>
internal static class PublishCommand
{
    public static Command Create(Io io)
    {
        var all = new Option<bool>("--all")
        {
            Description = "Look at every loop, not only those whose rows or files changed since the last publish",
        };
        var cmd = new Command("publish",
            "The RD-Agent half of a sync for a publisher machine: backfill, bundle and export what changed, ready " +
            "for 'serve --role publisher'") { all };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var stages = new PublishPipeline(Context(p, io)).Run(everything: p.GetValue(all));
            var failed = false;
            foreach (var r in stages) { Print(io, r); failed |= r.Failed || r.Aborted is not null; }
            return failed ? ItemFailures : Ok;
        }));
        return cmd;
    }
}
