using System.Diagnostics;
using ChildCli = RdBridge.Tests.Safety.Cli;

namespace RdBridge.Tests.Store;

/// <summary>
/// Issue 26, class 5 (a wait with a clear message and an exit code that says which): an AIstock SQLite database that
/// another program holds a write transaction on is waited for (bounded by RDBRIDGE_DB_BUSY_SECONDS), then named with
/// what to do and exit 3 — never the catch-all "SQLite Error 5: 'database is locked'". The other program is a real
/// CPython sqlite3 connection holding the lock until the test lets it go.
/// </summary>
public partial class DatabaseLockedTests
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

        // The issue's example: the database after init (WAL), another program in a write transaction; init again.
        var holder = Hold(database, "BEGIN IMMEDIATE", walMode: true);
        try
        {
            foreach (var verb in new[] { "init", "import" })
            {
                var (c, o, e) = ChildCli.Run(sample.Config, ShortWait, verb);
                Assert.True(c == 3, $"{verb}: exit {c}\n{o}\n{e}");
                // The database, the 1 s this run was given to wait, what to do and the setting.
                Assert.Contains($"error: the AIstock database '{database}' is locked by another program (it holds a "
                    + "write transaction); RdBridge waited 1 s and wrote nothing to it. Finish or close that program "
                    + "(AIstock, a sqlite3 shell, a database browser) and run again; RDBRIDGE_DB_BUSY_SECONDS sets how "
                    + "long to wait", e.Split('\n'));
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
            Assert.Contains($"error: the AIstock database '{database}' is locked by another program (it holds a "
                + "write transaction); RdBridge waited 1 s and wrote nothing to it. Finish or close that program "
                + "(AIstock, a sqlite3 shell, a database browser) and run again; RDBRIDGE_DB_BUSY_SECONDS sets how "
                + "long to wait", e.Split('\n'));
            Assert.DoesNotContain("SQLite Error", o + e);
        }
        finally { Release(holder); }
    }
    [Fact]
    public async Task Locked_database_the_server_answers_503_with_retry_after_naming_the_file_then_serves_again()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2, store: "sqlite");
        var (code, output, err) = sample.Cli("init");
        Assert.True(code == 0, output + err);
        var database = sample.Settings.AistockDatabase;
        var port = Serve.TwoMachineTests.FreePort();
        using var server = ChildCli.Start(sample.Config, ShortWait, "serve", "--no-live", "--urls",
            $"http://127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        try
        {
            await Listening(server, port);
            var holder = Hold(database, "BEGIN EXCLUSIVE", walMode: false);
            try
            {
                foreach (var route in new[] { "api/rdagent/factors", "api/rdagent/loops" })
                {
                    using var r = await http.GetAsync(route);
                    var body = await r.Content.ReadAsStringAsync();
                    Assert.True(r.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, $"{route}: {body}");
                    Assert.Equal(TimeSpan.FromSeconds(5), r.Headers.RetryAfter?.Delta);
                    var problem = System.Text.Json.Nodes.JsonNode.Parse(body)!;
                    Assert.Equal("database locked", problem["title"]!.GetValue<string>());
                    // Where the lock is met (opening, or a later read) decides whether SQLite's error names the
                    // file: opening names the AIstock file alone, a later read the registry the checklist reads too.
                    const string Rest = " is locked by another program (it holds a write transaction); RdBridge "
                        + "waited 1 s and wrote nothing to it. Finish or close that program (AIstock, a sqlite3 "
                        + "shell, a database browser) and ask again; RDBRIDGE_DB_BUSY_SECONDS sets how long to wait";
                    var registry = sample.Settings.RegistryPath;
                    Assert.Contains(problem["detail"]!.GetValue<string>(), new[]
                    {
                        $"the AIstock database '{database}'{Rest}",
                        $"the AIstock database '{database}' (or, for the checklist, the RD-Agent registry "
                            + $"'{registry}'){Rest}",
                    });
                }
            }
            finally { Release(holder); }

            // The lock gone, the same request is answered: the server never needed a restart.
            var loops = Db.Scalar(database, "SELECT count(*) FROM aistock_loop_catalog");
            var page = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("api/rdagent/loops"))!;
            Assert.Equal(loops, page["total"]!.GetValue<long>());
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    /// <summary>
    /// Waits for the line serve prints once its listener is bound (it prints it after the host started): the event
    /// itself, not a poll. A server that exits first fails the test with what it wrote.
    /// </summary>
    private static async Task Listening(Process server, int port)
    {
        var expected = $"rdbridge serve (consumer) listening on http://127.0.0.1:{port} — UI at "
            + $"http://127.0.0.1:{port}/rdagent/factors";
        // A guard against a hung child only (the test would otherwise never end), not a bound on its speed.
        using var hung = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var seen = new List<string>();
        while (await server.StandardOutput.ReadLineAsync(hung.Token) is { } line)
        {
            if (line == expected) return;
            seen.Add(line);
        }
        Assert.Fail($"serve exited before listening:\n{string.Join("\n", seen)}\n"
            + await server.StandardError.ReadToEndAsync());
    }
}
