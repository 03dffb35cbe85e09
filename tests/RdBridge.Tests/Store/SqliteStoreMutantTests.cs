using System.Reflection;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// What the SQLite store sets on the file it opens (the log mode, the busy wait, the mapping), what it leaves behind
/// when closed, its bulk first import and the space it gives back after version 9; and where <see cref="IdSpool"/>
/// moves to its scratch file. Every expected value is read from the database file with plain SQL, from the files on
/// disk or from the catalog's JSON.
/// </summary>
public sealed class SqliteStoreMutantTests
{
    private static string ForkFactors => Paths.Fixture("rdagent-aistock-fork/tmp/factor_catalog.json");

    private static object? One(IReadOnlyList<IReadOnlyList<object?>> rows) => Assert.Single(Assert.Single(rows));

    /// <summary>The files this process holds open under the path (their links in /proc, Linux).</summary>
    internal static List<string> OpenFiles(string path) => [.. Directory.GetFiles("/proc/self/fd")
        .Select(fd =>
        {
            try { return new FileInfo(fd).LinkTarget; }
            catch (IOException) { return null; } // the descriptor was closed while listing: not ours
        })
        .OfType<string>().Where(t => t.StartsWith(path, StringComparison.Ordinal))];

    [Fact]
    public void A_store_opens_its_file_in_wal_mode_waits_the_busy_setting_and_maps_only_when_asked()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        using (var store = new SqliteAistockStore(path))
        {
            Assert.Equal("wal", One(Db.Rows(path, "PRAGMA journal_mode")));
            Assert.Equal(RdBridge.IO.ReadLimits.DatabaseBusySeconds * 1000L, One(store.Rows("PRAGMA busy_timeout")));
            Assert.Equal(0L, One(store.Rows("PRAGMA mmap_size")));
        }
        using (var mapped = new SqliteAistockStore(path, mapped: true))
        {
            Assert.Equal(1073741824L, One(mapped.Rows("PRAGMA mmap_size")));
        }
    }

    [Fact]
    public void A_closed_store_holds_no_file_open_and_its_log_is_gone()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        using (var store = new SqliteAistockStore(path))
        {
            store.Migrate();
            Assert.True(File.Exists(path + "-wal"));
        }
        // Unpooled, the last connection closes: SQLite checkpoints and deletes the log, and lets go of the files.
        Assert.False(File.Exists(path + "-wal"));
        Assert.Empty(OpenFiles(path));
    }

    [Fact]
    public void A_database_path_that_is_a_folder_is_refused_naming_the_path_and_the_setting()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        Directory.CreateDirectory(path);
        // SQLite's own words for the same file, opened the same way.
        string why;
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            why = Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() =>
            {
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = "PRAGMA journal_mode = WAL;";
                cmd.ExecuteNonQuery();
            }).Message;
        }
        var e = Assert.Throws<StoreException>(() => new SqliteAistockStore(path));
        Assert.Equal($"AIstock database '{path}' cannot be opened: {why}; check aistock.database in rdbridge.json",
            e.Message);
    }

    [Fact]
    public void A_file_sqlite_cannot_read_is_refused_naming_it_and_left_closed()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Opening succeeds (SQLite reads nothing yet); the first PRAGMA that reads the header fails.
        File.WriteAllText(path, new string('x', 4096));
        string why;
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA journal_mode = WAL;";
            why = Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() => cmd.ExecuteNonQuery()).Message;
        }
        var e = Assert.Throws<StoreException>(() => new SqliteAistockStore(path));
        Assert.Equal($"AIstock database '{path}' cannot be opened: {why}; check aistock.database in rdbridge.json",
            e.Message);
        Assert.Empty(OpenFiles(path));
    }

    [Fact]
    public void A_new_file_has_no_migrations_and_its_sync_lock_is_a_file_beside_it()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        using var store = new SqliteAistockStore(path);
        Assert.Empty(store.AppliedMigrations());
        Assert.Equal(0L, One(Db.Rows(path, "SELECT count(*) FROM sqlite_master")));
        using (store.AcquireSyncLock(TimeSpan.Zero))
        {
            Assert.True(File.Exists(path + ".sync.lock"));
        }
    }

    [Fact]
    [RealData]
    public void Migrating_a_version_8_database_with_rows_vacuums_it_and_empties_the_log()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        using (var old = new SqliteAistockStore(path))
        {
            old.Migrate(upTo: CatalogTable.PayloadColumnsVersion - 1);
            StoreTests.Import(old, CatalogKind.Factor, ForkFactors);
        }
        using var store = new SqliteAistockStore(path);
        Assert.Equal([CatalogTable.PayloadColumnsVersion], store.Migrate());
        // VACUUM rewrote the file without free pages; the checkpoint emptied the log it filled (the store still open).
        Assert.Equal(0L, One(Db.Rows(path, "PRAGMA freelist_count")));
        Assert.Equal(0L, new FileInfo(path + "-wal").Length);
    }

    [Fact]
    public void Migrating_a_new_empty_database_leaves_its_log_as_the_migrations_wrote_it()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        using var store = new SqliteAistockStore(path);
        store.Migrate();
        Assert.Equal(0L, One(Db.Rows(path, "SELECT count(*) FROM aistock_factor_catalog")));
        // Its length is SQLite's page layout; what counts is that no VACUUM and checkpoint emptied it.
        Assert.NotEqual(0L, new FileInfo(path + "-wal").Length);
    }

    [Fact]
    [RealData]
    public void A_first_import_exactly_the_bulk_size_sets_the_indexes_aside_and_puts_each_back()
    {
        using var dir = new TempDir();
        var path = dir["AIstock/aistock.db"];
        using var store = new SqliteAistockStore(path) { BulkLoadBytes = new FileInfo(ForkFactors).Length };
        store.Migrate();
        const string table = "aistock_factor_catalog";
        const string schema = "SELECT type, name, sql FROM sqlite_master WHERE type <> 'view' ORDER BY name";
        var before = Rows(path, schema);
        var versions = Rows(path, "SELECT * FROM rdbridge_table_versions ORDER BY 1");
        // What is set aside: the table's non-unique indexes and its two insert triggers.
        var aside = new[] { $"trg_{table}_insert_version", "trg_aistock_factor_search_insert" }.Concat(Rows(path,
            $"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' AND sql IS NOT NULL " +
            "AND sql NOT LIKE 'CREATE UNIQUE %' ORDER BY name")).ToList();
        Assert.Equal(aside.Count, Rows(path, $"SELECT name FROM sqlite_master WHERE name IN " +
            $"({string.Join(", ", aside.Select(a => $"'{a}'"))})").Count);

        var records = JsonNode.Parse(File.ReadAllText(ForkFactors))!["factors"]!.AsArray().Select(f => f!).ToList();
        Assert.Equal(records.Count, StoreTests.Import(store, CatalogKind.Factor, ForkFactors).Inserted);

        // Put back in that order, each as sqlite_master held it: the last entries of sqlite_master now.
        var tail = Rows(path, "SELECT name FROM sqlite_master WHERE type <> 'view' ORDER BY rowid");
        Assert.Equal(aside, tail[^aside.Count..]);
        Assert.Equal(before, Rows(path, schema));
        // The factors' version counted up once per row, the others' as they were.
        Assert.Equal(versions.Select(v => v.StartsWith(table + "|", StringComparison.Ordinal)
            ? $"{table}|{long.Parse(v[(table.Length + 1)..]) + records.Count}" : v),
            Rows(path, "SELECT * FROM rdbridge_table_versions ORDER BY 1"));
        // The search index rebuilt from the rows: each factor's name finds it.
        foreach (var name in records.Select(r => (string)r["name"]!).Where(n => n.Length >= 3).Take(5))
        {
            var expected = records.Where(r => new[] { "name", "expression", "description_cn", "formula_hint" }
                    .Any(t => r[t] is JsonValue v && v.GetValue<string>().Contains(name,
                        StringComparison.OrdinalIgnoreCase)))
                .Select(r => (string)r["factor_id"]!).Order(StringComparer.Ordinal);
            var page = CatalogQuery.Run(store, new CatalogPageRequest(CatalogKind.Factor, Search: name,
                PageSize: CatalogQuery.MaxPageSize));
            Assert.Equal(expected, page.Items.Select(i => (string)JsonNode.Parse(i.Payload)!["factor_id"]!)
                .Order(StringComparer.Ordinal));
        }
    }

    private static List<string> Rows(string path, string sql) =>
        [.. Db.Rows(path, sql).Select(r => string.Join("|", r.Select(v => v?.ToString() ?? "∅")))];

    // IdSpool

    private static string? ScratchPath(IdSpool spool) =>
        (string?)typeof(IdSpool).GetField("_path", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(spool);

    [Fact]
    public void A_spool_adds_in_memory_up_to_its_count_and_spills_at_the_next_new_id()
    {
        using var spool = new IdSpool(inMemory: 3);
        for (UInt128 id = 1; id <= 3; id++)
        {
            Assert.True(spool.TryAdd(id, id * 10));
            Assert.False(spool.Spilled);
        }
        // Full, an id it holds is answered from memory.
        Assert.False(spool.TryAdd(2, 99));
        Assert.False(spool.Spilled);
        Assert.True(spool.TryAdd(4, 40));
        Assert.True(spool.Spilled);
        Assert.True(spool.TryGetValue(2, out var two));
        Assert.Equal((UInt128)20, two);
    }

    [Fact]
    public void A_spool_sets_in_memory_up_to_its_count_and_spills_at_the_next_new_id()
    {
        using var spool = new IdSpool(inMemory: 3);
        for (UInt128 id = 1; id <= 3; id++)
        {
            spool.Set(id, id * 10);
            Assert.False(spool.Spilled);
        }
        spool.Set(2, 22);
        Assert.False(spool.Spilled);
        spool.Set(4, 40);
        Assert.True(spool.Spilled);
        Assert.True(spool.TryGetValue(2, out var two));
        Assert.Equal((UInt128)22, two);
    }

    [Fact]
    public void Spilled_ids_that_differ_only_in_their_high_half_stay_apart()
    {
        using var spool = new IdSpool(inMemory: 0);
        UInt128 a = ((UInt128)1 << 64) | 5, b = ((UInt128)2 << 64) | 5;
        Assert.True(spool.TryAdd(a, 100));
        Assert.True(spool.Spilled);
        Assert.True(spool.TryAdd(b, 200));
        Assert.True(spool.TryGetValue(a, out var va));
        Assert.True(spool.TryGetValue(b, out var vb));
        Assert.Equal(((UInt128)100, (UInt128)200), (va, vb));
    }

    [Fact]
    public void A_spilled_spool_keeps_a_scratch_file_and_deletes_and_closes_it_when_disposed()
    {
        var spool = new IdSpool(inMemory: 1);
        spool.TryAdd(1, 1);
        spool.TryAdd(2, 2);
        var path = ScratchPath(spool)!;
        Assert.Equal(Path.GetTempPath(), Path.GetDirectoryName(path) + Path.DirectorySeparatorChar);
        Assert.True(File.Exists(path));
        Assert.Equal([path], OpenFiles(path));
        spool.Dispose();
        Assert.False(File.Exists(path));
        Assert.Empty(OpenFiles(path));
    }
}
