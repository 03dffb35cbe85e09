using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Runs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// How a store writes factor provenance and its import bookkeeping (<c>DbAistockStore.Provenance.cs</c>,
/// <c>DbAistockStore.Imports.cs</c>), driven through an import session directly: which entry of a repeated key is
/// kept, the counts an import gives, when the same file is not read again, the marks each source leaves, and the
/// fingerprints and catalog versions read back. Written for the mutants <c>bench/mutation.sh StoreDb</c> left alive;
/// every expected value is read off the entries written here or out of the database with plain SQL.
/// </summary>
public class StoreProvenanceWriteTests
{
    private const string A = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", B = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    private const string Table = "aistock_factor_provenance";

    private static FactorOccurrence Occ(string factor, string run, long loop, string path) => new()
    {
        FactorId = factor, TaskRunId = run, LoopId = loop, WorkspaceId = $"ws_{factor}_{loop}", WorkspacePath = path,
        AssetBundleId = $"bundle_{run}_{loop}",
    };

    /// <summary>The row the table should hold for an entry: every column, the origin last.</summary>
    private static string Row(FactorOccurrence e, string? origin = null) => string.Join("|", e.FactorId, e.TaskRunId,
        e.LoopId, e.WorkspaceId, e.WorkspacePath, e.AssetBundleId, e.LoadedFrom, origin);

    private static List<string> Rows(TestStore db) => [.. db.Rows(
            "SELECT factor_id, task_run_id, loop_id, workspace_id, workspace_path, asset_bundle_id, loaded_from, " +
            $"origin FROM {Table}")
        .Select(r => string.Join("|", r.Select(v => v is DBNull ? null : v))).Order(StringComparer.Ordinal)];

    /// <summary>Every import mark as "catalog|file_sha256|rows_imported", in name order.</summary>
    private static List<string> Marks(TestStore db) => [.. db.Rows(
            "SELECT catalog, file_sha256, rows_imported FROM rdbridge_catalog_imports")
        .Select(r => string.Join("|", r)).Order(StringComparer.Ordinal)];

    private static (ProvenanceImportSummary Summary, StageReport Report) Import(
        IAistockStore store, IEnumerable<FactorOccurrence> entries, string sha, string? origin = null)
    {
        using var session = store.BeginImport();
        var summary = session.WriteProvenance(entries, sha, origin);
        session.Commit();
        var report = new StageReport("import");
        summary.AddTo(report);
        return (summary, report);
    }

    private static (long Written, long Unchanged, bool FileUnchanged) Counts(ProvenanceImportSummary s, StageReport r)
    {
        // The report must say what the summary says, under the counters' own names.
        Assert.Equal(s.Written, r.Get(Counter.Change("factor provenance entries written")));
        Assert.Equal(s.Unchanged, r.Get(Counter.Tally("factor provenance entries unchanged")));
        return (s.Written, s.Unchanged, s.FileUnchanged);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Provenance_keeps_a_repeated_key_s_first_entry_and_the_same_file_untouched_is_not_read_again(
        string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var first = Occ("factor_a", A, 1, "/ws/a/1");
        var repeat = Occ("factor_a", A, 1, "/ws/repeat");
        var b = Occ("factor_b", A, 2, "/ws/a/2");
        var c = Occ("factor_a", B, 3, "/ws/b/3");
        FactorOccurrence[] entries = [first, repeat, b, c];

        var (s1, r1) = Import(store, entries, "sha1");
        Assert.Equal((3L, 0L, false), Counts(s1, r1));
        Assert.Equal(new[] { first, b, c }.Select(e => Row(e)).Order(StringComparer.Ordinal), Rows(db));
        Assert.Equal([$"{Table}|sha1|3"], Marks(db));

        // The same file, the table as it left it: not read; what it holds is counted unchanged.
        var (s2, r2) = Import(store, entries, "sha1");
        Assert.Equal((0L, 3L, true), Counts(s2, r2));

        // Another file with the same entries: read, nothing to write, each distinct entry unchanged.
        var (s3, r3) = Import(store, entries, "sha2");
        Assert.Equal((0L, 3L, false), Counts(s3, r3));
        Assert.Equal([$"{Table}|sha2|3"], Marks(db));

        // The same file again, but a row gone since: read again, and the row is back.
        db.Exec($"DELETE FROM {Table} WHERE factor_id = 'factor_b'");
        var (s4, r4) = Import(store, entries, "sha2");
        Assert.Equal((1L, 2L, false), Counts(s4, r4));
        Assert.Equal(new[] { first, b, c }.Select(e => Row(e)).Order(StringComparer.Ordinal), Rows(db));

        // A changed entry is written over its row.
        var moved = Occ("factor_a", A, 1, "/ws/moved");
        var (s5, r5) = Import(store, [moved, b, c], "sha3");
        Assert.Equal((1L, 2L, false), Counts(s5, r5));
        Assert.Equal(new[] { moved, b, c }.Select(e => Row(e)).Order(StringComparer.Ordinal), Rows(db));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Another_source_s_provenance_has_its_own_mark_and_never_overwrites_a_row_of_the_first(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var local = Occ("factor_a", A, 1, "/ws/local");
        var theirs = Occ("factor_a", A, 1, "/ws/theirs");
        var only = Occ("factor_c", B, 5, "/ws/c");
        Import(store, [local], "sha-local");

        var (s, r) = Import(store, [theirs, only], "sha-lab", "lab-b");
        Assert.Equal((1L, 1L, false), Counts(s, r));
        Assert.Equal(new[] { Row(local), Row(only, "lab-b") }.Order(StringComparer.Ordinal), Rows(db));
        // Each source's mark counts the rows of that source only.
        Assert.Equal([$"{Table}@lab-b|sha-lab|1", $"{Table}|sha-local|1"], Marks(db));
        var (again, report) = Import(store, [theirs, only], "sha-lab", "lab-b");
        Assert.Equal((0L, 1L, true), Counts(again, report));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_key_repeated_past_four_hundred_entries_is_written_again_and_every_entry_lands(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        // Entry 1, then 399 other keys (400 keys: the window is full and starts again), entry 1 changed, 49 more.
        var firstSeen = Occ("factor_w", A, 1, "/ws/first");
        var later = Occ("factor_w", A, 1, "/ws/later");
        var others = Enumerable.Range(2, 449).Select(i => Occ("factor_w", A, i, $"/ws/{i}")).ToList();
        FactorOccurrence[] entries = [firstSeen, .. others.Take(399), later, .. others.Skip(399)];

        var (s, r) = Import(store, entries, "sha-window");
        Assert.Equal((451L, 0L, false), Counts(s, r));
        Assert.Equal(others.Prepend(later).Select(e => Row(e)).Order(StringComparer.Ordinal), Rows(db));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_database_at_the_provenance_schema_version_itself_stores_and_finds_provenance(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind, ProvenanceTable.Version);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var e = Occ("factor_a", A, 4, "/ws/a/4");
        var (s, r) = Import(store, [e], "sha7");
        Assert.Equal((1L, 0L, false), Counts(s, r));
        Assert.Equal([Row(e)], Rows(db));
        var found = store.FoundIn("factor_a", 5);
        Assert.Equal(1, found.Total);
        Assert.Equal(Row(e), Row(Assert.Single(found.First)));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Import_marks_are_kept_per_source_read_back_whole_and_removed_when_recorded_as_none(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var mine = new CatalogImportMark("sha-mine", 3, 10, 2, ["record #1 skipped", "record #2 skipped"]);
        var theirs = new CatalogImportMark("sha-theirs", 4, 7, 0, []);
        using (var session = store.BeginImport())
        {
            session.RecordImport(CatalogKind.Factor, null, mine);
            session.RecordImport(CatalogKind.Factor, "lab-b", theirs);
            session.Commit();
        }
        Assert.Equal(["aistock_factor_catalog@lab-b|sha-theirs|7", "aistock_factor_catalog|sha-mine|10"], Marks(db));
        using (var session = store.BeginImport())
        {
            var read = session.LastImport(CatalogKind.Factor, null)!;
            Assert.Equal((mine.FileSha256, mine.TableVersion, mine.Rows, mine.Skipped),
                (read.FileSha256, read.TableVersion, read.Rows, read.Skipped));
            Assert.Equal(mine.SkipReasons, read.SkipReasons);
            session.RecordImport(CatalogKind.Factor, null, null);
            Assert.Null(session.LastImport(CatalogKind.Factor, null));
            session.Commit();
        }
        Assert.Equal(["aistock_factor_catalog@lab-b|sha-theirs|7"], Marks(db));

        // A mark whose reasons were stored as JSON null reads as no reasons.
        db.Exec("UPDATE rdbridge_catalog_imports SET skip_reasons = 'null'");
        using var last = store.BeginImport();
        Assert.Empty(last.LastImport(CatalogKind.Factor, "lab-b")!.SkipReasons);
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_catalog_version_is_the_bookkeeping_migration_s_time_and_the_table_s_version(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        db.Exec("DELETE FROM rdbridge_table_versions WHERE table_name = 'aistock_model_catalog'");
        db.Exec("INSERT INTO rdbridge_table_versions (table_name, version) VALUES ('aistock_strategy_catalog', 41) "
            + "ON CONFLICT (table_name) DO UPDATE SET version = 41");
        var applied = db.Rows("SELECT applied_at FROM schema_migrations WHERE version = 2")[0][0];
        Assert.Equal($"{applied}#41", store.CatalogVersion(CatalogKind.Strategy));
        Assert.Null(store.CatalogVersion(CatalogKind.Model));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_database_before_the_bookkeeping_tables_has_no_catalog_version_and_no_table_version(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind, 1);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        Assert.Null(store.CatalogVersion(CatalogKind.Factor));
        using var session = store.BeginImport();
        Assert.Equal(-1, session.TableVersion(CatalogKind.Factor));
        Assert.Null(session.LastImport(CatalogKind.Factor, null));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Stored_fingerprints_give_each_row_s_key_its_parts_joined_and_its_content_hash(string kind)
    {
        var (dir, db, store) = TestStore.OpenNew(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        var loops = dir["loop_catalog.json"];
        File.WriteAllText(loops, new JsonObject
        {
            [CatalogFile.ListName(CatalogKind.Loop)] = new JsonArray(
                new JsonObject { ["task_run_id"] = A, ["loop_id"] = 1, ["status"] = "success" },
                new JsonObject { ["task_run_id"] = B, ["loop_id"] = 2, ["status"] = "success" }),
        }.ToJsonString());
        var factors = dir["factor_catalog.json"];
        File.WriteAllText(factors, new JsonObject
        {
            [CatalogFile.ListName(CatalogKind.Factor)] = new JsonArray(
                new JsonObject { ["factor_id"] = "factor_a", ["name"] = "F_a", ["source"] = "rdagent_generated" }),
        }.ToJsonString());
        using (var session = store.BeginImport())
        {
            CatalogImport.Run(session, CatalogKind.Loop, loops);
            CatalogImport.Run(session, CatalogKind.Factor, factors);
            session.Commit();
        }
        var loopRows = db.Rows("SELECT task_run_id, loop_id, content_hash FROM aistock_loop_catalog")
            .Select(r => $"{r[0]}/{r[1]}|{r[2]}").Order(StringComparer.Ordinal);
        var factorRows = db.Rows("SELECT factor_id, content_hash FROM aistock_factor_catalog")
            .Select(r => $"{r[0]}|{r[1]}");
        using var read = store.BeginImport();
        Assert.Equal(loopRows, read.StoredFingerprints(CatalogKind.Loop).Select(f => $"{f.Key}|{f.ContentHash}")
            .Order(StringComparer.Ordinal));
        Assert.Equal(factorRows, read.StoredFingerprints(CatalogKind.Factor).Select(f => $"{f.Key}|{f.ContentHash}"));
    }

    [Fact]
    public void A_missing_part_of_a_stored_loop_key_is_named_as_the_empty_set_sign()
    {
        // SQLite only: its primary key columns may hold NULL, which PostgreSQL refuses outright.
        var (dir, db, store) = TestStore.OpenNew("sqlite");
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        db.Exec("INSERT INTO aistock_loop_catalog (task_run_id, loop_id, payload, content_hash, imported_at, "
            + "updated_at) VALUES (NULL, 9, '{}', 'hash-9', 't', 't')");
        using var read = store.BeginImport();
        Assert.Equal([("∅/9", "hash-9")], read.StoredFingerprints(CatalogKind.Loop).ToList());
    }
}
