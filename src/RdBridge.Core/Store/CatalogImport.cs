using System.IO.Hashing;
using System.Text;
using System.Text.Json;
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
/// Memory: the stored fingerprints are held as two 128-bit numbers per row (about 50 bytes), never as records.
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
        var stored = new Dictionary<UInt128, UInt128>();
        foreach (var (key, hash) in session.StoredFingerprints(kind)) stored[KeyId(key)] = HashId(hash);

        var seen = new HashSet<UInt128>();
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
        // record kept is the one on the loop's experiment workspace, chosen by what it holds, not by row order.
        var chosen = kind == CatalogKind.Loop ? ExperimentRows(path, table, origin, strictList) : null;

        IEnumerable<CatalogRow> Changed()
        {
            var ordinal = -1;
            foreach (var record in CatalogReader.ReadRecords(path, kind, strictList: strictList))
            {
                ordinal++;
                var row = table.Map(record, origin);
                if (row.Error is not null) { Skip($"{name} record skipped: {row.Error}"); continue; }
                var id = KeyId(row.Key);
                if (chosen is not null && chosen.TryGetValue(id, out var best) && best.Ordinal != ordinal)
                {
                    Skip($"{name} {row.Key} appears more than once in the catalog; the record on its experiment "
                        + $"workspace{(best.WorkspaceId is null ? "" : $" {best.WorkspaceId}")} was kept");
                    continue;
                }
                // Otherwise the first occurrence wins, so the same payload always lands the same way.
                if (!seen.Add(id))
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

    private static UInt128 KeyId(string key) => XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(key));

    /// <summary>
    /// For each loop listed more than once, the record on its experiment workspace: the one that says so
    /// (<c>workspace_role</c>), else the one carrying the loop's results (metrics, then metadata paths), else the
    /// first.
    /// One pass over the file, holding a number per loop.
    /// </summary>
    private static Dictionary<UInt128, (int Ordinal, int Score, string? WorkspaceId)> ExperimentRows(
        string path, CatalogTable table, string? origin, bool strictList)
    {
        var best = new Dictionary<UInt128, (int Ordinal, int Score, string? WorkspaceId)>();
        var ordinal = -1;
        foreach (var record in CatalogReader.ReadRecords(path, CatalogKind.Loop, strictList: strictList))
        {
            ordinal++;
            var row = table.Map(record, origin);
            if (row.Error is not null) continue;
            var score = ExperimentScore(record);
            var id = KeyId(row.Key);
            var workspace = record.TryGetProperty("workspace_id", out var w) && w.ValueKind == JsonValueKind.String
                ? w.GetString()
                : null;
            if (!best.TryGetValue(id, out var kept) || score > kept.Score) best[id] = (ordinal, score, workspace);
        }
        return best;
    }

    private static int ExperimentScore(JsonElement record)
    {
        static bool Filled(JsonElement r, string name) => r.TryGetProperty(name, out var v)
            && v.ValueKind is JsonValueKind.Object && v.EnumerateObject().Any();
        if (record.TryGetProperty("workspace_role", out var role) && role.ValueKind == JsonValueKind.String)
            return role.GetString() == "experiment_workspace" ? 3 : 0;
        return Filled(record, "metrics") ? 2 : Filled(record, "paths") ? 1 : 0;
    }

    // The first 128 bits of the SHA-256 are plenty to tell two versions of one record apart.
    private static UInt128 HashId(string hex) =>
        hex.Length >= 32 && UInt128.TryParse(
            hex.AsSpan(0, 32), System.Globalization.NumberStyles.HexNumber, null, out var v)
            ? v
            : XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(hex));
}
