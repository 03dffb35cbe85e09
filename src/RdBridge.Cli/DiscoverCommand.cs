using System.CommandLine;
using RdBridge.Discovery;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>Brings the registry up to date from RD-Agent's log.</summary>
internal static class DiscoverCommand
{
    public static Command Create(Io io)
    {
        var cmd = new Command("discover",
            "Bring the registry up to date from RD-Agent's log (creates it when there is none): task runs, loops, " +
            "workspaces");
        cmd.SetAction(p => Guarded(io, () => Print(io, new DiscoverStage(Context(p, io)).Run())));
        return cmd;
    }
}
