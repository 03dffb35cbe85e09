using System.Data.Common;
using RdBridge.Catalogs;

namespace RdBridge.Store;

// Shared import bookkeeping (rdbridge_catalog_imports, rdbridge_table_versions): what both stores' imports record.
public abstract partial class DbAistockStore
{
    /// <summary>
    /// What every store's import session does alike: one transaction, a savepoint per catalog, the import marks and the
    /// stored fingerprints. A store adds only how it writes rows.
    /// </summary>
    protected abstract class ImportSession<TStore> : IImportSession where TStore : DbAistockStore
    {
        private readonly bool _marks;
        protected TStore Store { get; }
        protected DbTransaction Tx { get; }

        protected ImportSession(TStore store, Func<DbConnection, DbTransaction> begin)
        {
            Store = store;
            _marks = store.HasImportMarks();
            store.NoteSchemaVersion();
            Tx = begin(store.Connection);
        }

        public CatalogImportMark? LastImport(CatalogKind kind, string? origin) =>
            _marks ? Store.ReadImportMark(Tx, kind, origin) : null;
        public long TableVersion(CatalogKind kind) => _marks ? Store.ReadTableVersion(Tx, kind) : -1;
        public IEnumerable<(string Key, string ContentHash)> StoredFingerprints(CatalogKind kind) =>
            Store.ReadFingerprints(Tx, kind);
        public void RecordImport(CatalogKind kind, string? origin, CatalogImportMark? mark)
        {
            if (_marks) Store.WriteImportMark(Tx, kind, origin, mark);
        }
        public ProvenanceImportSummary WriteProvenance(IEnumerable<FactorOccurrence> entries, string fileSha256,
            string? origin) => Store.WriteProvenance(Tx, entries, fileSha256, origin, _marks);
        public void Savepoint() => Tx.Save("catalog");
        public void RollbackToSavepoint() => Tx.Rollback("catalog");
        public void ReleaseSavepoint() => Tx.Release("catalog");
        public void Commit()
        {
            Store.KeepRegistryViews(Tx);
            Tx.Commit();
        }
        public void Dispose() => Tx.Dispose();
        public abstract WriteResult Write(CatalogKind kind, IEnumerable<CatalogRow> rows, long sourceBytes = 0);
    }

    /// <summary>
    /// Whether the import bookkeeping tables exist (schema version 2); asked before an import's transaction starts.
    /// </summary>
    protected bool HasImportMarks() => AppliedMigrations().Contains(2);

    // One mark per catalog and source: the same file from two sources is two imports.
    private static string MarkName(CatalogKind kind, string? origin) =>
        CatalogTable.For(kind).Name + (origin is null ? "" : "@" + origin);

    protected CatalogImportMark? ReadImportMark(DbTransaction tx, CatalogKind kind, string? origin)
    {
        using var cmd = Command("SELECT file_sha256, table_version, rows_imported, rows_skipped, skip_reasons "
            + "FROM rdbridge_catalog_imports WHERE catalog = @c", tx, ("@c", MarkName(kind, origin)));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        var reasons = System.Text.Json.JsonSerializer.Deserialize<string[]>(r.GetString(4)) ?? [];
        return new CatalogImportMark(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), reasons);
    }

    public string? CatalogVersion(CatalogKind kind)
    {
        try
        {
            var row = Rows("""
                SELECT m.applied_at, v.version FROM rdbridge_table_versions v, schema_migrations m
                WHERE v.table_name = @t AND m.version = 2
                """, ("@t", CatalogTable.For(kind).Name));
            return row.Count == 0 ? null : $"{row[0][0]}#{row[0][1]}";
        }
        catch (DbException) { return null; } // no rdbridge_table_versions yet: the caller just cannot cache
    }

    protected long ReadTableVersion(DbTransaction tx, CatalogKind kind) =>
        Scalar("SELECT coalesce(max(version), -1) FROM rdbridge_table_versions WHERE table_name = @t", tx,
            ("@t", CatalogTable.For(kind).Name));

    protected void WriteImportMark(DbTransaction tx, CatalogKind kind, string? origin, CatalogImportMark? mark) =>
        WriteImportMark(tx, MarkName(kind, origin), mark);

    private void WriteImportMark(DbTransaction tx, string name, CatalogImportMark? mark)
    {
        if (mark is null) { Exec("DELETE FROM rdbridge_catalog_imports WHERE catalog = @c", tx, ("@c", name)); return; }
        Exec("""
            INSERT INTO rdbridge_catalog_imports
              (catalog, file_sha256, table_version, rows_imported, rows_skipped, skip_reasons, imported_at)
            VALUES (@c, @f, @v, @r, @s, @why, @t)
            ON CONFLICT (catalog) DO UPDATE SET file_sha256 = excluded.file_sha256,
              table_version = excluded.table_version,
              rows_imported = excluded.rows_imported, rows_skipped = excluded.rows_skipped,
              skip_reasons = excluded.skip_reasons, imported_at = excluded.imported_at
            """, tx, ("@c", name), ("@f", mark.FileSha256), ("@v", mark.TableVersion), ("@r", mark.Rows),
            ("@s", mark.Skipped),
            ("@why", System.Text.Json.JsonSerializer.Serialize(mark.SkipReasons)), ("@t", IO.UtcText.Now()));
    }

    protected IEnumerable<(string Key, string ContentHash)> ReadFingerprints(DbTransaction tx, CatalogKind kind)
    {
        var table = CatalogTable.For(kind);
        using var cmd = Command($"SELECT {string.Join(", ", table.Key)}, content_hash FROM {table.Name}", tx);
        using var r = cmd.ExecuteReader();
        var n = table.Key.Count;
        while (r.Read())
        {
            var key = n == 1
                ? r.GetValue(0).ToString()!
                : string.Join("/", Enumerable.Range(0, n)
                    .Select(i => r.IsDBNull(i) ? "∅" : r.GetValue(i).ToString()));
            yield return (key, r.GetString(n));
        }
    }
}
