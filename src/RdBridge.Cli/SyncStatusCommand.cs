using System.CommandLine;
using RdBridge.IO;
using RdBridge.Pipeline;
using RdBridge.Store;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>The running or last init/sync run.</summary>
internal static class SyncStatusCommand
{
    public static Command Create(Io io)
    {
        var cmd = new Command("sync-status",
            "Show the running or last init/sync run with its stage, counts and errors");
        cmd.SetAction(p => Guarded(io, () =>
        {
            using var store = AistockStores.Open(Settings(p));
            var o = SyncRunView.ToJson(store.LastSyncRun(successfulOnly: false), store.Sources());
            io.Out.WriteLine(o.ToJsonString(CanonicalJson.FileOptions));
            return Ok;
        }));
        return cmd;
    }
}
