using Microsoft.Data.Sqlite;
using RdBridge.Registry;
using Xunit.Abstractions;

namespace RdBridge.Tests.Registry;

/// <summary>
/// The stages walk the registry's loops while they write it loop by loop. A read held open across those writes pins
/// its snapshot, so SQLite's checkpoint cannot pass it and the WAL never restarts (2 GB beside a 12 MB registry at
/// 10,000 loops): the loops are read in short pages instead, and the WAL stays within one checkpoint's worth.
/// </summary>
public class RegistryWalBoundTests(ITestOutputHelper output)
{
    [Fact]
    public void Init_keeps_the_registry_wal_within_one_auto_checkpoint_and_one_transaction()
    {
        using var sample = new Sample(taskRuns: 2, loops: 200, store: "sqlite");
        var registry = sample.Settings.RegistryPath;
        // Held open, idle, for the whole run: it blocks no checkpoint, but as the last connection left it keeps
        // SQLite from deleting the WAL at the end, so the file's size afterwards is the largest the run made it.
        using var watch = new SqliteConnection($"Data Source={registry};Pooling=False");
        watch.Open();
        long Pragma(string name)
        {
            using var cmd = watch.CreateCommand();
            cmd.CommandText = $"PRAGMA {name}";
            return Convert.ToInt64(cmd.ExecuteScalar());
        }
        // A connection opens the file (and its WAL) only at its first read. No size limit: a WAL started over is
        // written from its start but never cut back, so its size afterwards is the largest it was.
        Assert.Equal(-1, Pragma("journal_size_limit"));
        Pragma("schema_version");

        var (code, said, err) = sample.Cli("init");
        Assert.True(code == 0, $"exit {code}\n{said}\n{err}");

        var wal = new FileInfo(registry + "-wal").Length;
        // A frame is a page and its 24-byte header; the WAL has a 32-byte header. SQLite checkpoints once the WAL
        // passes wal_autocheckpoint pages and, nothing pinning it, starts it over at the next write; one transaction
        // writes each page of the database at most once, so no transaction is longer than the database.
        var frame = Pragma("page_size") + 24;
        var bound = 32 + (Pragma("wal_autocheckpoint") + Pragma("page_count")) * frame;
        output.WriteLine($"WAL {wal} bytes, bound {bound}, registry {Pragma("page_count")} pages");
        // A bound, not a size: how far the WAL gets before a checkpoint restarts it depends on where commits fall.
        Assert.True(wal <= bound, $"WAL {wal} bytes, bound {bound} (registry {Pragma("page_count")} pages)");
    }

    [Fact]
    public void Loops_of_a_registry_without_keys_are_read_across_pages_each_key_once_in_key_order()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2, store: "sqlite");
        var registry = sample.Settings.RegistryPath;
        // The fork's older registries have no primary key: rebuild the table without it, then give it more than two
        // pages of loops, each key twice (the second row a different status), a loop id as text and NULL keys.
        Db.Exec(registry, $"""
            CREATE TABLE copy_of AS SELECT * FROM loops;
            DROP TABLE loops;
            ALTER TABLE copy_of RENAME TO loops;
            INSERT INTO loops (task_run_id, loop_id, status)
              WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
              SELECT 'run-' || (i % 3), 100 + i / 3, 'first' FROM n;
            INSERT INTO loops (task_run_id, loop_id, status) SELECT task_run_id, loop_id, 'second' FROM loops
              WHERE status = 'first';
            INSERT INTO loops (task_run_id, loop_id, status) VALUES (NULL, 1, 'x'), ('run-1', 'seven', 'x'),
              ('run-1', NULL, 'x'), ('run-0', 150, 'third');
            """);
        var expected = Db.Rows(registry, """
                SELECT task_run_id, loop_id FROM loops
                WHERE typeof(task_run_id) = 'text' AND task_run_id <> '' AND typeof(loop_id) = 'integer'
                GROUP BY task_run_id, loop_id ORDER BY task_run_id, loop_id
                """).Select(r => $"{r[0]}/{r[1]}").ToList();
        // The sample's own two loops and the 601 added.
        Assert.Equal(2 + 601, expected.Count);
        // Only that they span more than two pages matters here, whatever a page's size.
        Assert.True(expected.Count > 2 * RegistryDatabase.PageRows, "a page holds more rows than this test expects");

        using var db = RegistryDatabase.Open(registry, writable: false);
        var loops = db.ReadLoops(LoopSelection.All).ToList();

        Assert.Equal(expected, loops.Select(l => l.Key));
        // The first row of each key is the one used: every key written twice was first written with 'first'.
        var added = loops.Where(l => l.TaskRunId.StartsWith("run-", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Repeat("first", 601), added.Select(l => l.Status));
        var named = Db.Scalar(registry, """
            SELECT (SELECT count(*) FROM (SELECT 1 FROM loops WHERE typeof(task_run_id) = 'text'
                    AND typeof(loop_id) = 'integer' GROUP BY task_run_id, loop_id HAVING count(*) > 1))
                 + (SELECT count(*) FROM loops WHERE task_run_id IS NULL OR typeof(loop_id) <> 'integer')
            """);
        Assert.Equal(named, db.BadRows.Count);
    }
}
