using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

using static RdBridge.Tests.Store.ProvenanceCatalog;

namespace RdBridge.Tests.Store;

/// <summary>
/// What the mutants <c>bench/mutation.sh StoreRows</c> left alive in <see cref="CatalogImport"/>,
/// <see cref="LoopEntries"/>, <see cref="ProvenanceImport"/> and <see cref="ProvenanceTable"/> did not show: which
/// records reach a store's write, which loops get an entry, that a provenance import leaves its caller's savepoint
/// as it found it, and the provenance table's schema and its migration on both stores. Every expected row, key and
/// payload is read off the files written here or out of the database with plain SQL.
/// </summary>
public sealed partial class StoreRowsMutantTests
{
    private static JsonObject Loop(string taskRun, long loopId, string? workspace, string note) => new()
    {
        ["task_run_id"] = taskRun, ["loop_id"] = loopId, ["workspace_id"] = workspace, ["status"] = "success",
        ["note"] = note,
    };

    private static void WriteLoops(string path, params JsonObject[] loops) =>
        Write(path, new JsonObject { ["loops"] = new JsonArray([.. loops]) });

    /// <summary>An object's fields by name, each as compact JSON: alike for a payload PostgreSQL reordered.</summary>
    private static List<string> Fields(JsonNode? node) =>
        [.. node!.AsObject().Select(p => $"{p.Key}={p.Value?.ToJsonString() ?? "null"}").Order(StringComparer.Ordinal)];

    /// <summary>
    /// A session that passes everything on and notes the key of every row given to its write; before that write it
    /// runs <paramref name="beforeWrite"/> (another import, say, between this one's reading and its writing).
    /// </summary>
    private sealed class WriteRecorder(IImportSession inner, Action? beforeWrite = null) : IImportSession
    {
        public List<string> Written { get; } = [];
        public CatalogImportMark? LastImport(CatalogKind kind, string? origin) => inner.LastImport(kind, origin);
        public long TableVersion(CatalogKind kind) => inner.TableVersion(kind);
        public IEnumerable<(string Key, string ContentHash)> StoredFingerprints(CatalogKind kind) =>
            inner.StoredFingerprints(kind);
        public WriteResult Write(CatalogKind kind, IEnumerable<CatalogRow> rows, long sourceBytes = 0)
        {
            beforeWrite?.Invoke();
            return inner.Write(kind, rows.Select(r =>
            {
                Written.Add(r.Key);
                return r;
            }), sourceBytes);
        }
        public void RecordImport(CatalogKind kind, string? origin, CatalogImportMark? mark) =>
            inner.RecordImport(kind, origin, mark);
        public ProvenanceImportSummary WriteProvenance(
            IEnumerable<FactorOccurrence> entries, string fileSha256, string? origin) =>
            inner.WriteProvenance(entries, fileSha256, origin);
        public void Savepoint() => inner.Savepoint();
        public void RollbackToSavepoint() => inner.RollbackToSavepoint();
        public void ReleaseSavepoint() => inner.ReleaseSavepoint();
        public void Commit() => inner.Commit();
        public void Dispose() => inner.Dispose();
    }

    private static (ImportSummary Summary, List<string> Written) ImportRecording(IAistockStore store, string path)
    {
        using var session = new WriteRecorder(store.BeginImport());
        var summary = CatalogImport.Run(session, CatalogKind.Loop, path);
        session.Commit();
        return (summary, session.Written);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_record_the_store_already_holds_as_it_is_never_reaches_the_store_s_write(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var path = dir["catalogs/loop_catalog.json"];
        WriteLoops(path, Loop("tr1", 0, "a", "kept"), Loop("tr1", 1, "b", "before"), Loop("tr1", 2, "c", "kept"));
        var (first, firstWritten) = ImportRecording(store, path);
        Assert.Equal(["tr1/0", "tr1/1", "tr1/2"], firstWritten);
        Assert.Equal((3L, 0L, 0L), (first.Inserted, first.Updated, first.Unchanged));

        // One record changed and one added: only those two are given to the store, the two others are counted.
        WriteLoops(path, Loop("tr1", 0, "a", "kept"), Loop("tr1", 1, "b", "after"), Loop("tr1", 2, "c", "kept"),
            Loop("tr1", 3, "d", "new"));
        var (second, secondWritten) = ImportRecording(store, path);
        Assert.Equal(["tr1/1", "tr1/3"], secondWritten);
        Assert.Equal((1L, 1L, 2L), (second.Inserted, second.Updated, second.Unchanged));
        Assert.Equal(["0 kept", "1 after", "2 kept", "3 new"], db.Rows(
                "SELECT loop_id, payload FROM aistock_loop_catalog ORDER BY loop_id")
            .Select(r => $"{r[0]} {(string)JsonNode.Parse(r[1]!.ToString()!)!["note"]!}"));
    }

    /// <summary>
    /// PostgreSQL alone: its import reads the stored fingerprints and writes in separate statements of a READ
    /// COMMITTED transaction, so a row another import commits in between is seen by the write. A SQLite import holds
    /// the write lock from its start (BEGIN IMMEDIATE): nothing can land in between there.
    /// </summary>
    public static readonly TheoryData<string> PostgresOnly = new("postgres");

    [Theory, MemberData(nameof(PostgresOnly))]
    public void A_record_another_import_committed_after_this_one_read_the_table_is_counted_unchanged(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var path = dir["catalogs/loop_catalog.json"];
        WriteLoops(path, Loop("tr1", 0, "a", "x"), Loop("tr1", 1, "b", "x"));
        using var other = db.Open();
        ImportSummary summary;
        using (var session = new WriteRecorder(store.BeginImport(),
            beforeWrite: () => Assert.Equal(2, StoreTests.Import(other, CatalogKind.Loop, path).Inserted)))
        {
            summary = CatalogImport.Run(session, CatalogKind.Loop, path);
            session.Commit();
            // Both records were new when this import read the table, so both went to its write ...
            Assert.Equal(["tr1/0", "tr1/1"], session.Written);
        }
        // ... which found them stored as they are: unchanged, not inserted, and counted as such.
        Assert.Equal((0L, 0L, 2L), (summary.Inserted, summary.Updated, summary.Unchanged));
        Assert.Equal(2, db.Scalar("SELECT rows_imported FROM rdbridge_catalog_imports " +
            "WHERE catalog = 'aistock_loop_catalog'"));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_loop_listed_twice_on_one_workspace_is_stored_as_the_file_wrote_it_with_no_workspace_list_added(
        string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var path = dir["catalogs/loop_catalog.json"];
        var first = Loop("tr1", 0, "ws_a", "first");
        WriteLoops(path, first, Loop("tr1", 0, "ws_a", "second"));
        var summary = StoreTests.Import(store, CatalogKind.Loop, path);
        Assert.Equal((1L, 1L), (summary.Inserted, summary.Skipped));
        // The loop has one workspace: the record kept is the first, field for field, and no "workspaces" is added.
        Assert.Equal(Fields(first), Fields(JsonNode.Parse(
            db.Rows("SELECT payload FROM aistock_loop_catalog").Single()[0]!.ToString()!)));
    }

    [Fact]
    public void Only_a_loop_listed_more_than_once_gets_an_entry_and_a_catalog_listing_each_once_builds_none()
    {
        using var dir = new TempDir();
        var table = CatalogTable.For(CatalogKind.Loop);
        var path = dir["loop_catalog.json"];
        UInt128 Id(string taskRun, long loop) => CatalogImport.KeyId($"{taskRun}/{loop}");

        WriteLoops(path, Loop("tr1", 0, "a", "x"), Loop("tr1", 1, "b", "x"), Loop("tr1", 0, "c", "x"));
        var entries = LoopEntries.Read(path, table, origin: null, strictList: false);
        Assert.Equal(["a", "c"], entries.Of(Id("tr1", 0))?.Workspaces.Select(w => w.WorkspaceId));
        Assert.Null(entries.Of(Id("tr1", 1)));

        WriteLoops(path, Loop("tr1", 0, "a", "x"), Loop("tr1", 1, "b", "x"));
        var none = LoopEntries.Read(path, table, origin: null, strictList: false);
        Assert.Null(none.Of(Id("tr1", 0)));
        Assert.Null(none.Of(Id("tr1", 1)));
    }
}
