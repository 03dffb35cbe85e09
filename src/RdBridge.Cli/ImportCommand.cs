using System.CommandLine;
using RdBridge.Catalogs;
using RdBridge.Runs;
using RdBridge.Store;
using static RdBridge.Cli.Verb;

namespace RdBridge.Cli;

/// <summary>Copies the catalogs into AIstock and its database.</summary>
internal static class ImportCommand
{
    public static Command Create(Io io)
    {
        var catalogs = new Option<string?>("--catalogs")
        {
            Description = "Folder holding the catalog JSON files (default: the exported rdagent_data)",
        };
        var cmd = new Command("import",
            "Copy the catalogs to AIstock/rdagent_data and upsert them into the AIstock database (步骤 4)") { catalogs };
        cmd.SetAction(p => Guarded(io, () =>
        {
            var dir = p.GetValue(catalogs);
            if (dir is not null && !Directory.Exists(dir))
                throw new ArgumentException($"--catalogs '{dir}' is not a folder");
            // Catalogs copied to an AIstock-only machine need no RD-Agent directory there.
            var context = new RunContext(Settings(p, rdAgentOptional: dir is not null), line => io.Out.WriteLine(line),
                io.Live);
            var (report, summaries) = new ImportStage(context).Run(dir is null ? null : Path.GetFullPath(dir));
            foreach (var s in summaries)
            {
                io.Out.WriteLine($"  {CatalogFile.ListName(s.Kind),-10} inserted {s.Inserted}, updated {s.Updated}, " +
                    $"unchanged {s.Unchanged}, skipped {s.Skipped}, failed {s.Failed}");
            }

            return Print(io, report);
        }));
        return cmd;
    }
}
