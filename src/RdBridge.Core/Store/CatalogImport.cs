using System.IO.Hashing;
using System.Text;
using RdBridge.Catalogs;
using RdBridge.IO;

namespace RdBridge.Store;

/// <summary>
/// Imports one catalog file into a store, the same way for every store:
/// <list type="number">
/// <item>the file's digest and its table's version equal what the last import recorded → nothing to read at
/// all;</item>
/// <item>otherwise every record is mapped and compared with the stored fingerprints, and only new or changed records
/// reach the store; keys seen twice keep their first record and are reported.</item>
/// </list>
/// Memory: the stored fingerprints and the keys seen are two 128-bit numbers per row, never records, and past a few
/// thousand rows they are in a scratch file (<see cref="IdSpool"/>), not the heap.
/// </summary>
public static class CatalogImport
{
    /// <summary>How many skip reasons a summary lists one by one; the count always covers all of them.</summary>
    public const int ListedReasons = 50;

    /// <param name="origin">The publisher the file came from; null for this machine's own RD-Agent.</param>
    /// <param name="strictList">Read only the kind's own list (a feed file holds all four lists).</param>
    public static ImportSummary Run(
        IImportSession session, CatalogKind kind, string path, string? origin = null, bool strictList = false)
    {
        var fileSha = FileDigest.Sha256OfFile(path);
        if (session.LastImport(kind, origin) is { } mark && mark.FileSha256 == fileSha
            && mark.TableVersion == session.TableVersion(kind))
        {
            return new ImportSummary(kind, 0, 0, mark.Rows, mark.Skipped, mark.SkipReasons, [])
            {
                FileUnchanged = true
            };
        }

        var table = CatalogTable.For(kind);
        using var stored = new IdSpool();
        foreach (var (key, hash) in session.StoredFingerprints(kind)) stored.Set(KeyId(key), HashId(hash));

        using var seen = new IdSpool();
        long unchanged = 0, skipped = 0;
        var reasons = new List<string>();
        var name = kind.ToString().ToLowerInvariant();
        void Skip(string reason)
        {
            skipped++;
            if (reasons.Count < ListedReasons) reasons.Add(reason);
            else if (reasons.Count == ListedReasons) reasons.Add("… further skipped records are counted, not listed");
        }

        // A loop catalog written by the Python tools lists a loop once per workspace (loops joined to workspaces): the
        // record kept is the one on the loop's experiment workspace, chosen by what it holds, not by row order, and it
        // carries every workspace of the loop.
        var loops = kind == CatalogKind.Loop ? LoopEntries.Read(path, table, origin, strictList) : null;

        IEnumerable<CatalogRow> Changed()
        {
            var ordinal = -1;
            // A bad record is refused alone, named with its place in the file; the records beside it are imported.
            foreach (var record in CatalogReader.ReadRecords(path, kind, strictList: strictList,
                refused: r => Skip($"{name} {r.Describe()}")))
            {
                ordinal++;
                var row = table.Map(record, origin);
                if (row.Error is not null)
                {
                    var key = Visible.Cut(row.Key, 80);
                    Skip($"{name} record #{ordinal + 1} ({Visible.Text(key)}) skipped: {row.Error}");
                    continue;
                }
                var id = KeyId(row.Key);
                if (loops is not null && loops.Of(id) is { } loop)
                {
                    if (loop.Chosen != ordinal)
                    {
                        // Another workspace of the loop is part of the record kept, not a record of its own.
                        if (!loop.Repeated.Contains(ordinal)) continue;
                        var kept = loop.WorkspaceId is null ? "" : $" {loop.WorkspaceId}";
                        Skip($"{name} {row.Key} appears more than once in the catalog with the same workspace; the "
                            + $"record on its experiment workspace{kept} was kept");
                        continue;
                    }
                    if (loop.Workspaces.Count > 1)
                    {
                        row = table.Map(LoopEntries.WithWorkspaces(record, loop.Workspaces), origin);
                    }
                }
                // Otherwise the first occurrence wins, so the same payload always lands the same way.
                if (!seen.TryAdd(id, 0))
                {
                    Skip($"{name} {row.Key} appears more than once in the catalog; the first record was kept");
                    continue;
                }
                if (stored.TryGetValue(id, out var before) && before == HashId(row.ContentHash))
                {
                    unchanged++;
                    continue;
                }
                yield return row;
            }
        }

        var written = session.Write(kind, Changed(), new FileInfo(path).Length);
        var summary = new ImportSummary(
            kind, written.Inserted, written.Updated, unchanged + written.Unchanged, skipped, reasons, written.Failures);
        // A file whose records did not all land must be read again next time.
        session.RecordImport(kind, origin, summary.Failed == 0
            ? new CatalogImportMark(
                fileSha, session.TableVersion(kind), summary.Inserted + summary.Updated + summary.Unchanged, skipped,
                reasons)
            : null);
        return summary;
    }

    /// <summary>Why a record from one source may not replace the same key from another.</summary>
    public static string Collision(string? owner) =>
        "the same key was already imported from " +
        $"{(owner is null ? "this machine's own RD-Agent" : $"source '{owner}'")}; records of different sources " +
        "never overwrite each other — rename or remove one of them at its source";

    internal static UInt128 KeyId(string key) => XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(key));

    // The first 128 bits of the SHA-256 are plenty to tell two versions of one record apart.
    private static UInt128 HashId(string hex) =>
        hex.Length >= 32 && UInt128.TryParse(
            hex.AsSpan(0, 32), System.Globalization.NumberStyles.HexNumber, null, out var v)
            ? v
            : XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(hex));
}
