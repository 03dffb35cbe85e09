using System.Text.Json;
using RdBridge.IO;

namespace RdBridge.Catalogs;

/// <summary>
/// <c>rdagent_data/factor_provenance.json</c>: every loop that found each factor, one entry per factor and loop, in
/// the factor catalog's order and, within a factor, in the order the loops were exported (its first loop first). The
/// factor record keeps its first loop's links and <c>occurrences</c>, so its size no longer grows with the loops that
/// use it. Same envelope as the catalogs (<c>generated_at_utc</c>, <c>version</c>, <c>source</c>) with the list
/// <c>provenance</c>.
/// </summary>
public static class ProvenanceFile
{
    public const string FileName = "factor_provenance.json";
    public const string List = "provenance";

    /// <summary>Catalog format v2: the factor catalog without inline provenance, and this file beside it.</summary>
    public const string Version = "v2";

    /// <summary>
    /// The entries of a provenance file, read one at a time; an entry without a factor id or loop is left out (it can
    /// link nothing).
    /// </summary>
    public static IEnumerable<FactorOccurrence> Read(string path, string listName = List, bool strictList = false)
    {
        using var stream = RegularFile.OpenRead(path, 64 * 1024);
        foreach (var e in CatalogReader.ReadRecords(stream, listName, null, path, strictList))
        {
            if (CatalogJson.Read<FactorOccurrence>(e) is { FactorId: not null, TaskRunId: not null, LoopId: not null }
                entry)
            {
                yield return entry;
            }
        }
    }

    /// <summary>
    /// The provenance an old factor catalog (before v2) carries inline, as entries of this file: each record's list,
    /// with the record's factor id. A record written by the fork's tools has no factor id and no provenance; it gives
    /// nothing.
    /// </summary>
    public static IEnumerable<FactorOccurrence> Inline(string factorCatalog, bool strictList = false)
    {
        foreach (var record in CatalogReader.ReadRecords(factorCatalog, CatalogKind.Factor, strictList: strictList))
        {
            if (record.ValueKind != JsonValueKind.Object
                || !record.TryGetProperty(FactorRecord.ProvenanceField, out var list)
                || list.ValueKind != JsonValueKind.Array
                || !record.TryGetProperty(CatalogFields.FactorId, out var id) || id.ValueKind != JsonValueKind.String)
            {
                continue;
            }
            foreach (var p in list.EnumerateArray())
            {
                if (CatalogJson.Read<FactorOccurrence>(p) is { TaskRunId: not null, LoopId: not null } entry)
                    yield return entry with { FactorId = id.GetString() };
            }
        }
    }

    /// <summary>Whether a factor catalog file says it is format v2 or later (its provenance is in this file).</summary>
    public static bool IsSeparate(string factorCatalog)
    {
        var header = new Dictionary<string, string>();
        using var stream = RegularFile.OpenRead(factorCatalog, 64 * 1024);
        // Reading the first record fills the header fields written before the list.
        using (var e = CatalogReader.ReadRecords(stream, FactorCatalog.List, header, factorCatalog).GetEnumerator())
            e.MoveNext();
        return header.TryGetValue("version", out var v) && string.CompareOrdinal(v, Version) >= 0;
    }
}
