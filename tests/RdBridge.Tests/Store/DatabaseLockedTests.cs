using System.Diagnostics;
using ChildCli = RdBridge.Tests.Safety.Cli;

namespace RdBridge.Tests.Store;

/// <summary>
/// Issue 26, class 5 (a wait with a clear message and an exit code that says which): an AIstock SQLite database that
/// another program holds a write transaction on is waited for (bounded by RDBRIDGE_DB_BUSY_SECONDS), then named with
/// what to do and exit 3 — never the catch-all "SQLite Error 5: 'database is locked'". The other program is a real
/// CPython sqlite3 connection holding the lock until the test lets it go.
/// </summary>
public class DatabaseLockedTests
{
    private static readonly Dictionary<string, string> ShortWait = new() { ["RDBRIDGE_DB_BUSY_SECONDS"] = "1" };

    /// <summary>A python3 process that holds <paramref name="begin"/> on the file until its stdin closes.</summary>
    private static Process Hold(string database, string begin, bool walMode)
    {
        var psi = new ProcessStartInfo("python3", ["-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            if sys.argv[3] == "rollback":
                c.execute("PRAGMA journal_mode = DELETE")
                c.execute("CREATE TABLE IF NOT EXISTS held (x)")
            c.execute(sys.argv[2])
            c.execute("INSERT INTO held VALUES (1)" if sys.argv[3] == "rollback" else "SELECT 1")
            print("held", flush=True)
            sys.stdin.read()
            c.execute("ROLLBACK")
            """, database, begin, walMode ? "wal" : "rollback"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        var p = Process.Start(psi)!;
        Assert.Equal("held", p.StandardOutput.ReadLine());
        return p;
    }

    private static void Release(Process holder)
    {
        holder.StandardInput.Close();
        holder.WaitForExit();
        holder.Dispose();
    }

    [Fact]
    public void Locked_database_a_write_transaction_held_by_another_program_is_waited_for_then_named_exit_3()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2, store: "sqlite");
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        var database = sample.Settings.AistockDatabase;
        var loopsBefore = Db.Scalar(database, "SELECT count(*) FROM aistock_loop_catalog");

        // The example: the database after init (WAL), another program in a write transaction; init again.
        var holder = Hold(database, "BEGIN IMMEDIATE", walMode: true);
        try
        {
            foreach (var verb in new[] { "init", "import" })
            {
                var (c, o, e) = ChildCli.Run(sample.Config, ShortWait, verb);
                Assert.True(c == 3, $"{verb}: exit {c}\n{o}\n{e}");
                Assert.Contains($"the AIstock database '{database}' is locked by another program", e);
                Assert.Contains("RDBRIDGE_DB_BUSY_SECONDS", e);
                Assert.DoesNotContain("SQLite Error 5", o + e);
                Assert.DoesNotContain("unexpectedly", o + e);
            }
        }
        finally { Release(holder); }

        Assert.Equal(loopsBefore, Db.Scalar(database, "SELECT count(*) FROM aistock_loop_catalog"));
        var (again, againOut, againErr) = ChildCli.Run(sample.Config, ShortWait, "import");
        Assert.True(again == 0, againOut + againErr);
    }

    [Fact]
    public void Locked_database_an_exclusive_lock_on_a_rollback_journal_file_is_named_exit_3()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2, store: "sqlite");
        sample.Cli("export"); // catalogs to import (their loops have no bundle yet: export's problem, not this test's)
        // A database another program created in rollback-journal mode, held with BEGIN EXCLUSIVE: even reading it,
        // let alone switching it to WAL, waits for that program.
        var database = sample.Settings.AistockDatabase;
        var holder = Hold(database, "BEGIN EXCLUSIVE", walMode: false);
        try
        {
            var (c, o, e) = ChildCli.Run(sample.Config, ShortWait, "import");
            Assert.True(c == 3, $"import: exit {c}\n{o}\n{e}");
            Assert.Contains($"the AIstock database '{database}' is locked by another program", e);
            Assert.DoesNotContain("SQLite Error", o + e);
        }
        finally { Release(holder); }
    }
}
