using System.CommandLine;
using RdBridge.Catalogs;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>Writes the four catalogs.</summary>
internal static class ExportCommand
{
    public static Command Create(Io io)
    {
        var cmd = new Command("export",
            "Write rdagent_data/{factor,model,strategy,loop}_catalog.json and rd_strategies_lib/generated.py (步骤 3)");
        var verbose = VerboseOption();
        cmd.Options.Add(verbose);
        cmd.SetAction(p => Guarded(io, () =>
            Print(io, new CatalogExporter(Context(p, io, "export", p.GetValue(verbose))).Run())));
        return cmd;
    }
}
