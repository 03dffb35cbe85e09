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
    }
}
