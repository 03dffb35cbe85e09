using System.CommandLine;
using RdBridge.Backup;

namespace RdBridge.Cli;

/// <summary><c>rdbridge restore [BACKUP]</c>: lists the backups, or puts one back (the undo of a run).</summary>
internal static class RestoreCommand
{
    public static Command Create(Io io)
    {
        var name = new Argument<string?>("backup")
        {
            Description = "The backup to put back: its name or a unique start of it (none: list them)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var wait = new Option<int>("--wait")
        {
            Description = "Seconds to wait for a running init/sync before refusing", DefaultValueFactory = _ => 30,
        }.Within(0, 86400);
        var cmd = new Command("restore",
            "List the backups init, sync, doctor --fix and backup took, or put one back (registry, bundle folder, " +
            "strategies library) after backing up the current state") { name, wait };
        cmd.SetAction(p => Verb.Guarded(io, () =>
        {
            var settings = Verb.Settings(p);
            if (p.GetValue(name) is not { } chosen)
            {
                var all = BackupRestore.List(settings);
                if (all.Count == 0)
                {
                    io.Out.WriteLine($"no backups in {settings.BackupDirectory} yet (init, sync and backup take " +
                        "them)");
                    return ExitCodes.Ok;
                }
                io.Out.WriteLine($"{"backup",-22} {"registry",-8} {"bundle files",12} {"library files",13}");
                foreach (var b in all)
                {
                    io.Out.WriteLine($"{b.Name,-22} {(b.HasRegistry ? "yes" : "none"),-8} {b.BundleFiles,12} " +
                        $"{b.LibraryFiles,13}");
                }
                io.Out.WriteLine($"put one back with: rdbridge restore {all[^1].Name}");
                return ExitCodes.Ok;
            }
            var result = BackupRestore.Restore(settings, chosen,
                TimeSpan.FromSeconds(Math.Max(0, p.GetValue(wait))));
            foreach (var note in result.Notes) io.Out.WriteLine(note);
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
