using RdBridge.Catalogs;
using RdBridge.IO;
using RdBridge.Runs;

namespace RdBridge.Store;

/// <summary>
/// Imports which loops found each factor into <see cref="ProvenanceTable"/>: from <c>factor_provenance.json</c> beside
/// the factor catalog (format v2), or from the inline <c>provenance</c> of an older factor catalog, so a catalog
/// exported before v2 still imports whole.
/// </summary>
public static class ProvenanceImport
{
    /// <summary>
    /// Runs within the import's transaction, under its own savepoint: a broken provenance file is refused alone.
    /// Returns whether <c>factor_provenance.json</c> was imported (to be copied beside the catalogs).
    /// </summary>
    public static bool FromDirectory(IImportSession session, string dir, StageReport report)
    {
        var file = Path.Combine(dir, ProvenanceFile.FileName);
        var catalog = Path.Combine(dir, CatalogFile.FileName(CatalogKind.Factor));
        var separate = File.Exists(file);
        if (!separate && !File.Exists(catalog)) return false;
        var source = separate ? file : catalog;
        session.Savepoint();
        try
        {
            if (!separate && ProvenanceFile.IsSeparate(catalog))
            {
                report.Problem(ProvenanceFile.FileName, file, $"{ProvenanceFile.FileName} is missing beside a "
                    + $"v{ProvenanceFile.Version[1..]} factor catalog: which loops found each factor is not imported; "
                    + "run 'rdbridge export' again");
                session.ReleaseSavepoint();
                return false;
            }
            var entries = separate ? ProvenanceFile.Read(file) : ProvenanceFile.Inline(catalog);
            var summary = session.WriteProvenance(entries, FileDigest.Sha256OfFile(source), origin: null);
            session.ReleaseSavepoint();
            summary.AddTo(report);
            return separate;
        }
        catch (Exception e) when (e is FormatException or System.Data.Common.DbException or InvalidOperationException)
        {
            session.RollbackToSavepoint();
            session.ReleaseSavepoint();
            report.Problem(ProvenanceFile.FileName, source,
                $"{e.Message}; no factor provenance from this file was imported");
            return false;
        }
    }

    /// <summary>The provenance list of a feed (a publisher's, see <c>Feed/FeedWriter</c>), for its source.</summary>
    public static void FromFeed(IImportSession session, string feed, string origin, StageReport report)
    {
        session.Savepoint();
        try
        {
            // A publisher of an older RdBridge sends the factors' provenance inline, and no list of its own.
            var entries = ProvenanceFile.Read(feed, strictList: true)
                .Concat(ProvenanceFile.Inline(feed, strictList: true));
            var summary = session.WriteProvenance(entries, FileDigest.Sha256OfFile(feed), origin);
            session.ReleaseSavepoint();
            summary.AddTo(report);
        }
        catch (Exception e) when (e is FormatException or System.Data.Common.DbException)
        {
            session.RollbackToSavepoint();
            session.ReleaseSavepoint();
            report.Problem(origin, feed, $"{ProvenanceFile.List} of the feed not imported: {e.Message}");
        }
    }
}
