using System.CommandLine;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>Checks the prerequisites and says how to fix what is missing.</summary>
internal static class DoctorCommand
{
    public static Command Create(Io io)
    {
        var fix = new Option<bool>("--fix")
        {
            Description = "Add the tables and columns an older registry lacks (never drops anything)",
        };
        var cmd = new Command("doctor",
            "Check directories, the registry schema, path mapping and the AIstock database (前置条件检查)") { fix };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var findings = RdBridge.Doctor.Doctor.Run(Settings(p), p.GetValue(fix));
            foreach (var f in findings)
            {
                io.Out.WriteLine($"{(!f.Ok ? "✗" : f.ToCreate ? "+" : f.Warning ? "!" : "✓")} {f.Item,-18} {f.Detail}");
                if (!f.Ok && f.Fix is not null) io.Out.WriteLine($"  → {f.Fix}");
            }
            return findings.All(f => f.Ok) ? Ok : ItemFailures;
        }));
        return cmd;
    }
}
