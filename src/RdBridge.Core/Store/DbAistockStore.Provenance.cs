using System.Data.Common;
using RdBridge.Catalogs;
using RdBridge.Runs;

namespace RdBridge.Store;

/// <summary>What one import of factor provenance did (see <see cref="ProvenanceTable"/>).</summary>
public sealed record ProvenanceImportSummary(long Written, long Unchanged)
{
    /// <summary>The file was the one last imported and the table still holds what that import left: not read.</summary>
    public bool FileUnchanged { get; init; }

    public void AddTo(StageReport report)
    {
        report.Add(Counter.Change("factor provenance entries written", "factor provenance entry written"), Written);
        report.Add(Counter.Tally("factor provenance entries unchanged",
            "factor provenance entry unchanged"), Unchanged);
    }
}

/// <summary>The loops that found one factor: the first few, in loop order, and how many there are.</summary>
public sealed record FactorLoops(IReadOnlyList<FactorOccurrence> First, long Total);

// The factor provenance table (schema version 7): its import and its two reads, the same SQL on both stores.
public abstract partial class DbAistockStore
{
    /// <summary>
    /// Rows a provenance statement writes. PostgreSQL: many, to save round trips. SQLite has none to save, and its
    /// driver binds every parameter by name, which SQLite finds by walking the statement's parameter list: a 400-row
    /// statement (3,200 parameters) cost about 5 million name comparisons a batch, 40% of a 20,000-factor import's
    /// CPU. One row a statement, prepared once and bound again for each entry, costs eight short walks.
    /// </summary>
    private int ProvenanceBatch => Dialect == SqlDialect.Sqlite ? 1 : RepeatWindow;

    // How many entries a repeated key is looked for among (see WriteProvenance).
    private const int RepeatWindow = 400;

    private static readonly int ProvenanceColumns = ProvenanceTable.Columns.Count;

    // The parameter names of the largest statement, made once: an import binds them for every entry.
    private static readonly string[] ProvenanceParameters = [.. Enumerable.Range(0, RepeatWindow * ProvenanceColumns)
        .Select(k => $"@p{k / ProvenanceColumns}_{k % ProvenanceColumns}")];

    private static string ProvenanceMark(string? origin) =>
        ProvenanceTable.Name + (origin is null ? "" : "@" + origin);

    /// <summary>
    /// Upserts provenance entries in multi-row statements, so neither store pays a round trip per entry and nothing is
    /// held but one batch. A row that is already the same is left alone (the statement's WHERE), so the count the
    /// database returns is what changed. A row of another source with the same key is never overwritten.
    /// </summary>
    protected ProvenanceImportSummary WriteProvenance(
        DbTransaction tx, IEnumerable<FactorOccurrence> entries, string fileSha256, string? origin, bool marks)
    {
        if (SchemaVersion < ProvenanceTable.Version) return new ProvenanceImportSummary(0, 0);
        var ofOrigin = $"SELECT count(*) FROM {ProvenanceTable.Name} WHERE origin IS NOT DISTINCT FROM @o";
        if (marks && ReadMarkRows(tx, ProvenanceMark(origin), fileSha256) is { } rows
            && rows == Scalar(ofOrigin, tx, ("@o", origin)))
        {
            return new ProvenanceImportSummary(0, rows) { FileUnchanged = true };
        }

        long written = 0, seen = 0;
        var size = ProvenanceBatch;
        var batch = new List<FactorOccurrence>(size);
        var keys = new HashSet<(string, string, long)>();
        // Every full batch runs the same statement: prepared once, its parameters made once and given new values.
        DbCommand? full = null;
        void Flush()
        {
            if (batch.Count == 0) return;
            var cmd = batch.Count == size
                ? full ??= Command(UpsertSql(size), tx)
                : Command(UpsertSql(batch.Count), tx);
            Bind(cmd, batch.SelectMany((e, i) => new object?[]
                {
                    e.FactorId, e.TaskRunId, e.LoopId, e.WorkspaceId, e.WorkspacePath, e.AssetBundleId, e.LoadedFrom,
                    origin,
                }.Select((v, c) => (ProvenanceParameters[i * ProvenanceColumns + c], v))));
            written += cmd.ExecuteNonQuery();
            if (cmd != full) cmd.Dispose();
            batch.Clear();
        }

        try
        {
            foreach (var e in entries)
            {
                // One statement may not touch a row twice: a repeated entry keeps its first. Repeats are looked for
                // among the same 400 entries whatever the statement's size, so both stores keep the same entry.
                if (!keys.Add((e.FactorId!, e.TaskRunId!, e.LoopId!.Value))) continue;
                seen++;
                batch.Add(e);
                if (batch.Count == size) Flush();
                if (keys.Count == RepeatWindow) keys.Clear();
            }
            Flush();
        }
        finally
        {
            full?.Dispose();
        }
        if (marks)
        {
            WriteImportMark(tx, ProvenanceMark(origin),
                new CatalogImportMark(fileSha256, 0, Scalar(ofOrigin, tx, ("@o", origin)), 0, []));
        }
        return new ProvenanceImportSummary(written, Math.Max(0, seen - written));
    }

    private static string UpsertSql(int rows)
    {
        var t = ProvenanceTable.Name;
        var values = string.Join(", ", Enumerable.Range(0, rows).Select(i =>
            "(" + string.Join(", ", ProvenanceTable.Columns.Select((_, c) => $"@p{i}_{c}")) + ")"));
        var set = ProvenanceTable.Columns.Except(ProvenanceTable.Key).Where(c => c != "origin").ToList();
        return $"INSERT INTO {t} ({string.Join(", ", ProvenanceTable.Columns)}) VALUES {values} "
            + $"ON CONFLICT ({string.Join(", ", ProvenanceTable.Key)}) DO UPDATE SET "
            + string.Join(", ", set.Select(c => $"{c} = excluded.{c}"))
            + $" WHERE {t}.origin IS NOT DISTINCT FROM excluded.origin AND ("
            + string.Join(" OR ", set.Select(c => $"{t}.{c} IS DISTINCT FROM excluded.{c}")) + ")";
    }

    /// <summary>The rows the last import of <paramref name="mark"/> left, when it was of the same file.</summary>
    private long? ReadMarkRows(DbTransaction tx, string mark, string fileSha256)
    {
        using var cmd = Command("SELECT file_sha256, rows_imported FROM rdbridge_catalog_imports WHERE catalog = @c",
            tx, ("@c", mark));
        using var r = cmd.ExecuteReader();
        return r.Read() && r.GetString(0) == fileSha256 ? r.GetInt64(1) : null;
    }

    /// <summary>The loops that found a factor, the first <paramref name="limit"/> in loop order.</summary>
    public FactorLoops FoundIn(string factorId, int limit)
    {
        if (SchemaVersion < ProvenanceTable.Version) return new FactorLoops([], 0);
        var total = Scalar($"SELECT count(*) FROM {ProvenanceTable.Name} WHERE factor_id = @f", null,
            ("@f", factorId));
        var first = Rows($"SELECT {string.Join(", ", ProvenanceTable.Columns)} FROM {ProvenanceTable.Name} "
            + $"WHERE factor_id = @f ORDER BY task_run_id, loop_id LIMIT {Math.Max(0, limit)}", ("@f", factorId))
            .Select(r => new FactorOccurrence
            {
                FactorId = r[0] as string, TaskRunId = r[1] as string, LoopId = r[2] as long?,
                WorkspaceId = r[3] as string, WorkspacePath = r[4] as string, AssetBundleId = r[5] as string,
                LoadedFrom = r[6] as string,
            }).ToList();
        return new FactorLoops(first, total);
    }
}
