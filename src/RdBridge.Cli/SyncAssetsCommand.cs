using System.CommandLine;
using RdBridge.Assets;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>Copies, checks and extracts bundles on the AIstock side.</summary>
internal static class SyncAssetsCommand
{
    public static Command Create(Io io)
    {
        var cmd = new Command("sync-assets",
            "Copy bundles into AIstock/rdagent_assets/bundles, verify their digests and extract them (步骤 5)");
        cmd.SetAction(p => Guarded(io, () => Print(io, new AssetSyncStage(Context(p, io)).Run())));
        return cmd;
    }
}
