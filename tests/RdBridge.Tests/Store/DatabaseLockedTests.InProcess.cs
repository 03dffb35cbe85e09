using System.Reflection;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

public partial class DatabaseLockedTests
{
    /// <summary>
    /// The same locks met by a store in this process, where a CLI run cannot tell the step that named the lock: at
    /// open, at <see cref="AistockStores.Open"/>'s wait for a writable file, at an import's first transaction, and
    /// in the VACUUM after version 9 (which gives up silently). Each waits out RDBRIDGE_DB_BUSY_SECONDS = 1, set for
    /// this process, so these run alone in the "process environment" collection; nested here, they stay out of the
    /// mutation plan with the rest of this class (a lock wait per mutant).
    /// </summary>
    [Collection("process environment")]
    public sealed class InProcess : IDisposable
    {
        public InProcess() => Environment.SetEnvironmentVariable("RDBRIDGE_DB_BUSY_SECONDS", "1");

        public void Dispose() => Environment.SetEnvironmentVariable("RDBRIDGE_DB_BUSY_SECONDS", null);

        private static string LockedMessage(string database) =>
            $"the AIstock database '{database}' is locked by another program (it holds a write transaction); RdBridge "
            + "waited 1 s and wrote nothing to it. Finish or close that program (AIstock, a sqlite3 shell, a database "
            + "browser) and run again; RDBRIDGE_DB_BUSY_SECONDS sets how long to wait";

        private static RdBridgeSettings Settings(TempDir dir)
        {
            File.WriteAllText(dir["rdbridge.json"],
                """{ "aistock": { "root": "AIstock", "database": "aistock.db" } }""");
            return SettingsLoader.Load(dir["rdbridge.json"], rdAgentOptional: true);
        }

        [Fact]
        public void A_file_locked_when_the_store_opens_it_is_named_and_left_closed()
        {
            using var dir = new TempDir();
            var path = dir["AIstock/aistock.db"];
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var holder = Hold(path, "BEGIN EXCLUSIVE", walMode: false);
            try
            {
                var e = Assert.Throws<DatabaseLockedException>(() => new SqliteAistockStore(path));
                Assert.Equal(LockedMessage(path), e.Message);
                Assert.Empty(SqliteStoreMutantTests.OpenFiles(path));
            }
            finally { Release(holder); }
        }

        [Fact]
        public void Opening_the_settings_store_to_write_waits_for_the_lock_then_names_it_and_closes_the_file()
        {
            using var dir = new TempDir();
            var settings = Settings(dir);
            using (AistockStores.Open(settings)) { }
            // Migrated already: only the wait for a writable file meets the lock.
            var holder = Hold(settings.AistockDatabase, "BEGIN IMMEDIATE", walMode: true);
            try
            {
                var e = Assert.Throws<DatabaseLockedException>(() => AistockStores.Open(settings));
                Assert.Equal(LockedMessage(settings.AistockDatabase), e.Message);
                Assert.Empty(SqliteStoreMutantTests.OpenFiles(settings.AistockDatabase));
            }
            finally { Release(holder); }
        }

        [Fact]
        public void An_import_begun_while_another_program_writes_waits_then_names_the_lock()
        {
            using var dir = new TempDir();
            var path = dir["AIstock/aistock.db"];
            using var store = new SqliteAistockStore(path);
            store.Migrate();
            var holder = Hold(path, "BEGIN IMMEDIATE", walMode: true);
            try
            {
                var e = Assert.Throws<DatabaseLockedException>(() => store.BeginImport());
                Assert.Equal(LockedMessage(path), e.Message);
            }
            finally { Release(holder); }
        }

        [Fact]
        public void Giving_back_freed_space_while_another_program_writes_gives_up_and_leaves_the_rows()
        {
            using var dir = new TempDir();
            var path = dir["AIstock/aistock.db"];
            using var store = new SqliteAistockStore(path);
            store.Migrate();
            var catalog = StoreReadsTests.WriteCatalog(dir, "in", CatalogKind.Model,
                [new() { ["model_id"] = "m1", ["task_run_id"] = "tr-a", ["loop_id"] = 1 }]);
            Assert.Equal(1, StoreTests.Import(store, CatalogKind.Model, catalog).Inserted);
            // The step version 9's migration ends with, called alone: another program cannot be timed to take the
            // lock between that migration's commit and its VACUUM.
            var giveBack = typeof(SqliteAistockStore).GetMethod("GiveBackFreedSpace",
                BindingFlags.NonPublic | BindingFlags.Instance)!;
            var holder = Hold(path, "BEGIN IMMEDIATE", walMode: true);
            try
            {
                // SQLITE_BUSY after the wait: the database stays as it is, its free pages for the next imports.
                giveBack.Invoke(store, []);
            }
            finally { Release(holder); }
            Assert.Equal(1, store.Count(CatalogKind.Model));
        }
    }
}
