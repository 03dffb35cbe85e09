using System.CommandLine;
using RdBridge.Backup;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>Snapshots what the later stages write to.</summary>
internal static class BackupCommand
{
    public static Command Create(Io io)
    {
        var cmd = new Command("backup", "Snapshot the registry, the bundle folder and the strategies library (步骤 1.1)");
        cmd.SetAction(p => Guarded(io, () => Print(io, new BackupStage(Settings(p)).Run())));
        return cmd;
    }
}
