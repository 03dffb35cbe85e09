using RdBridge.Catalogs;
using RdBridge.IO;
using RdBridge.Runs;

namespace RdBridge.Store;

/// <summary>
/// Step 4 of the guide: upsert the catalogs into the AIstock database (4.2), all four catalogs in one transaction, and
/// keep a copy of each imported catalog in <c>AIstock/rdagent_data/</c> (4.1).
/// </summary>
public sealed class ImportStage(RunContext context)
{
    private static readonly Counter CopiesUnchanged = Counter.Tally("catalog copies unchanged",
        "catalog copy unchanged");
    private static readonly Counter CopiesWritten = Counter.Change("catalog copies written", "catalog copy written");

    public (StageReport Report, IReadOnlyList<ImportSummary> Summaries) Run(string? catalogDirectory = null)
    {
        var report = new StageReport("import");
        var settings = context.Settings;
        var from = catalogDirectory ?? settings.CatalogDirectory;
        var to = settings.AistockCatalogDirectory;
        var present = CatalogFile.All.Where(k => File.Exists(Path.Combine(from, CatalogFile.FileName(k)))).ToList();
        if (present.Count == 0)
        {
            report.Aborted = $"no catalog files in '{from}'; run 'rdbridge export' first or pass --catalogs DIR";
            report.Problem("catalogs", from, report.Aborted);
            return (report, []);
        }
        foreach (var kind in CatalogFile.All.Except(present))
        {
            report.Problem(CatalogFile.FileName(kind), Path.Combine(from, CatalogFile.FileName(kind)),
                "catalog file is missing; it is not imported");
        }

        // 4.2 reads the source files themselves; 4.1, the AIstock side's own copy of what it imported, is written only
        // after the import committed, and only for the catalogs it did not refuse: a broken catalog never replaces the
        // good copy, and every problem names the file the user gave.
        var summaries = new List<ImportSummary>();
        var accepted = new List<CatalogKind>();
        var provenance = false;
        using (var store = AistockStores.Open(settings))
        using (var session = store.BeginImport())
        {
            foreach (var kind in present)
            {
                var path = Path.Combine(from, CatalogFile.FileName(kind));
                session.Savepoint();
                try
                {
                    var summary = CatalogImport.Run(session, kind, path);
                    session.ReleaseSavepoint();
                    summaries.Add(summary);
                    accepted.Add(kind);
                    if (summary.FileUnchanged)
                    {
                        report.Note($"{CatalogFile.FileName(kind)}: identical to the last import and its table "
                            + $"untouched since; nothing to compare");
                    }

                    summary.AddTo(report, path);
                    foreach (var failure in summary.Failures) report.Problem(CatalogFile.FileName(kind), path, failure);
                }
                catch (Exception e) when (e is FormatException or System.Data.Common.DbException
                                              or InvalidOperationException)
                {
                    // This catalog alone is rolled back; the others still land together.
                    session.RollbackToSavepoint();
                    session.ReleaseSavepoint();
                    var kept = File.Exists(Path.Combine(to, CatalogFile.FileName(kind)))
                        ? "; the AIstock copy from the last good import is kept" : "";
                    report.Problem(CatalogFile.FileName(kind), path,
                        $"{e.Message}; nothing from this file was imported{kept}");
                    summaries.Add(new ImportSummary(kind, 0, 0, 0, 0, [], [e.Message]));
                }
            }
            provenance = ProvenanceImport.FromDirectory(session, from, report);
            session.Commit();
        }

        if (Path.GetFullPath(from) != Path.GetFullPath(to))
        {
            foreach (var name in accepted.Select(CatalogFile.FileName)
                         .Concat(provenance ? [ProvenanceFile.FileName] : []))
            {
                var src = Path.Combine(from, name);
                var dst = Path.Combine(to, name);
                if (FileContent.Same(src, dst)) { report.Add(CopiesUnchanged); continue; }
                AtomicFile.Write(dst, s => { using var input = RegularFile.OpenRead(src); input.CopyTo(s); });
                report.Add(CopiesWritten);
            }
        }
        return (report, summaries);
    }
}
