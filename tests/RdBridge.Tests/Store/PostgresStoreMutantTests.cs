using System.Net;
using System.Net.Sockets;
using Npgsql;
using RdBridge.Runs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// What the PostgreSQL store makes of the connection setting it is given (the URI form, its query keys, the
/// application name and the prepared statements), how it words a server that refuses it, what doctor --fix creates,
/// and its advisory sync lock. Expected values are what the test writes, PostgreSQL's and the system's own words, and
/// what the server shows of the store's session (pg_stat_activity, pg_locks, pg_database) through a connection of
/// the test's own. Every name holds "postgres": the StorePostgres mutation plan runs only those cases.
/// </summary>
public sealed class PostgresStoreMutantTests
{
    private static NpgsqlConnection Admin()
    {
        var c = new NpgsqlConnection(TestStore.PostgresServer + ";Database=postgres");
        c.Open();
        return c;
    }

    private static void AdminExec(string sql)
    {
        using var c = Admin();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    private static long AdminCount(string sql, string value)
    {
        using var c = Admin();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.Parameters.AddWithValue("v", value);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    /// <summary>A port on this machine nothing listens on (bound by the system, then let go).</summary>
    private static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Fact]
    public void A_postgresql_uri_without_user_port_or_password_leaves_them_to_npgsql()
    {
        // Port 0 is no port: the default stays, as psql does. No user and no password written: none set.
        var b = PostgresAistockStore.Parse("postgresql://db.example:0/aistock_prod");
        Assert.Equal(new NpgsqlConnectionStringBuilder().Port, b.Port);
        Assert.Null(b.Username);
        Assert.Null(b.Password);
        var userOnly = PostgresAistockStore.Parse("postgresql://ops@db.example/aistock_prod");
        Assert.Equal(("ops", null), (userOnly.Username, userOnly.Password));
    }

    [Fact]
    public void A_postgresql_uri_passes_its_query_keys_to_npgsql_and_sslmode_as_ssl_mode()
    {
        var b = PostgresAistockStore.Parse(
            "postgresql://db.example/aistock_prod?sslmode=disable&Timeout=7&Command%20Timeout=9");
        Assert.Equal((SslMode.Disable, 7, 9), (b.SslMode, b.Timeout, b.CommandTimeout));
        // A key written without a value sets it empty.
        Assert.Equal("", PostgresAistockStore.Parse("postgresql://db.example/x?Application%20Name").ApplicationName);
        // A value without a key is no setting: refused, in Npgsql's words (which the parentheses hold).
        var bad = Assert.Throws<StoreException>(() => PostgresAistockStore.Parse("postgresql://db.example/x?=require"));
        Assert.StartsWith("aistock.database is not a usable PostgreSQL connection string (", bad.Message);
    }

    [Fact]
    public void A_postgresql_setting_prepares_repeated_statements_unless_it_says_how_many()
    {
        Assert.Equal(64, PostgresAistockStore.Parse("Host=db.example;Username=ops").MaxAutoPrepare);
        Assert.Equal(5, PostgresAistockStore.Parse("Host=db.example;Max Auto Prepare=5").MaxAutoPrepare);
        // The URI form writes the key's spaces as %20: the user's choice still stands.
        Assert.Equal(0, PostgresAistockStore.Parse("postgresql://db.example/x?Max%20Auto%20Prepare=0").MaxAutoPrepare);
    }

    [Fact]
    public void A_postgres_store_session_is_named_rdbridge_unless_the_setting_names_it()
    {
        using var dir = new TempDir();
        using var db = TestStore.Create("postgres", dir);
        const string others = "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
            + "AND pid <> pg_backend_pid() AND backend_type = 'client backend' ORDER BY application_name";
        using (db.Open())
        {
            Assert.Equal(["rdbridge"], db.Rows(others).Select(r => r[0]));
        }
        NpgsqlConnection.ClearAllPools();
        using (new PostgresAistockStore(db.Setting + ";Application Name=aistock-ops"))
        {
            Assert.Equal(["aistock-ops"], db.Rows(others).Select(r => r[0]));
        }
    }

    [Fact]
    public void A_fresh_postgres_database_has_no_migrations_applied()
    {
        using var dir = new TempDir();
        using var db = TestStore.Create("postgres", dir);
        using var store = db.Open();
        Assert.Null(db.Rows("SELECT to_regclass('schema_migrations')")[0][0]);
        Assert.Empty(store.AppliedMigrations());
    }

    [Fact]
    public void A_postgres_role_that_does_not_exist_is_named_as_refused()
    {
        var role = "rdb_nobody_" + Guid.NewGuid().ToString("N")[..8];
        var conn = $"{TestStore.PostgresServer};Username={role};Database=postgres";
        var server = new NpgsqlConnectionStringBuilder(conn);
        var e = Assert.Throws<StoreException>(() => new PostgresAistockStore(conn));
        Assert.Equal($"PostgreSQL at {server.Host}:{server.Port} refused user '{role}': role \"{role}\" does not "
            + "exist; check the user and password in aistock.database", e.Message);
    }

    [Fact]
    public void A_postgres_database_closed_to_connections_is_reported_in_the_servers_words()
    {
        using var dir = new TempDir();
        using var db = TestStore.Create("postgres", dir);
        AdminExec($"ALTER DATABASE {db.DatabaseName} ALLOW_CONNECTIONS false");
        var e = Assert.Throws<StoreException>(() => db.Open());
        Assert.Equal($"PostgreSQL at {db.Host}:{db.Port}: database \"{db.DatabaseName}\" is not currently accepting "
            + "connections", e.Message);
    }

    [Fact]
    public void A_postgres_server_that_is_not_there_is_named_with_the_systems_reason()
    {
        var port = ClosedPort();
        var conn = $"Host=127.0.0.1;Port={port};Username=postgres;Database=aistock";
        var refused = new SocketException((int)SocketError.ConnectionRefused).Message;
        var expected = $"cannot reach PostgreSQL at 127.0.0.1:{port} ({refused}); check that the server runs and "
            + "that aistock.database names it";
        Assert.Equal(expected, Assert.Throws<StoreException>(() => new PostgresAistockStore(conn)).Message);
        // doctor --fix words it the same way, and does not pretend the database exists.
        Assert.Equal(expected,
            Assert.Throws<StoreException>(() => PostgresAistockStore.CreateDatabaseIfMissing(conn)).Message);
    }

    [Fact]
    public void Doctor_fix_creates_the_postgres_database_as_a_user_without_a_database_of_its_own()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var (role, name) = ("rdb_admin_" + id, "rdb_made_" + id);
        AdminExec($"CREATE ROLE {role} LOGIN CREATEDB");
        try
        {
            // The role's own name is no database: doctor --fix connects to the 'postgres' one to create it.
            Assert.True(PostgresAistockStore.CreateDatabaseIfMissing(
                $"{TestStore.PostgresServer};Username={role};Database={name}"));
            Assert.Equal(1, AdminCount("SELECT count(*) FROM pg_database WHERE datname = @v", name));
            Assert.Equal(0, AdminCount("SELECT count(*) FROM pg_database WHERE datname = @v", role));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            AdminExec($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            AdminExec($"DROP ROLE {role}");
        }
    }

    [Fact]
    public void Doctor_fix_creates_a_postgres_database_whose_name_holds_a_double_quote_under_that_name()
    {
        var name = "rdb_\"q_" + Guid.NewGuid().ToString("N")[..8];
        var conn = new NpgsqlConnectionStringBuilder(TestStore.PostgresServer) { Database = name }.ConnectionString;
        try
        {
            Assert.True(PostgresAistockStore.CreateDatabaseIfMissing(conn));
            Assert.Equal(1, AdminCount("SELECT count(*) FROM pg_database WHERE datname = @v", name));
            Assert.Equal(0, AdminCount("SELECT count(*) FROM pg_database WHERE datname = @v", name.Replace("\"", "")));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            AdminExec($"DROP DATABASE IF EXISTS \"{name.Replace("\"", "\"\"")}\" WITH (FORCE)");
        }
    }

    /// <summary>The store's sessions holding the sync lock, as pg_locks shows them: an advisory lock on a bigint key
    /// has its high and low 32 bits as classid and objid, here "RDBr" and "idge" in ASCII (0x52444272,
    /// 0x69646765).</summary>
    private const string SyncLockHolders = "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        + "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'rdbridge' "
        + "AND a.datname = current_database() AND l.classid = 1380205170 AND l.objid = 1768187749";

    /// <summary>Whether the store's session has asked for the lock and is done asking (the server's view).</summary>
    private static bool AskedOnce(TestStore db) => db.Scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = "
        + "current_database() AND application_name = 'rdbridge' AND state = 'idle' "
        + "AND query LIKE '%pg_try_advisory_lock%'") == 1;

    /// <summary>
    /// The server processes of this database's stores that wait on the server for the sync lock: asked, not granted,
    /// blocked on the advisory lock (not polling: a poll between its tries is idle, holding no ungranted lock).
    /// </summary>
    private static List<long> Waiting(TestStore db) => [.. db.Rows("SELECT a.pid FROM pg_locks l JOIN pg_stat_activity "
        + "a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND NOT l.granted AND a.wait_event_type = 'Lock' "
        + "AND a.wait_event = 'advisory' AND a.application_name = 'rdbridge' AND a.datname = current_database() "
        + "AND l.classid = 1380205170 AND l.objid = 1768187749").Select(r => (long)r[0]!)];

    /// <summary>The store's server process.</summary>
    private static long Pid(DbAistockStore store) => (long)store.Rows("SELECT pg_backend_pid()")[0][0]!;

    /// <summary>The server processes holding the sync lock of this database.</summary>
    private static List<long> Holding(TestStore db) => [.. db.Rows("SELECT l.pid FROM pg_locks l JOIN pg_database d "
        + "ON d.oid = l.database WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database() "
        + "AND l.classid = 1380205170 AND l.objid = 1768187749").Select(r => (long)r[0]!)];

    [Fact]
    public void A_free_postgres_sync_lock_is_taken_at_once_and_given_back()
    {
        var (dir, db, store) = TestStore.OpenNew("postgres");
        using (dir) using (db) using (store)
        {
            using (store.AcquireSyncLock(TimeSpan.Zero))
            {
                Assert.Equal(1, db.Scalar(SyncLockHolders));
            }
            Assert.Equal(0, db.Scalar(SyncLockHolders));
        }
    }

    [Theory]
    [InlineData("postgres", false)]
    [InlineData("postgres", true)]
    public async Task A_held_postgres_sync_lock_refuses_at_once_without_a_wait_and_is_taken_once_free_with_one(
        string store, bool wait)
    {
        var (dir, db, opened) = TestStore.OpenNew(store);
        using (dir) using (db) using (opened)
        using (var holder = new NpgsqlConnection(db.Setting))
        {
            holder.Open();
            using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresAistockStore.SyncLockKey})", holder))
            {
                take.ExecuteNonQuery();
            }
            var asking = Task.Run(() => opened.AcquireSyncLock(wait ? TimeSpan.FromMinutes(10) : TimeSpan.Zero));
            // Once the store's try has failed on the server (without a wait), or once it waits there for the lock
            // (with one), the holder lets go: only a store still waiting takes the lock now.
            Assert.True(SpinWait.SpinUntil(() => wait ? Waiting(db).Count == 1 : AskedOnce(db),
                TimeSpan.FromMinutes(2)));
            using (var give = new NpgsqlCommand(
                $"SELECT pg_advisory_unlock({PostgresAistockStore.SyncLockKey})", holder))
            {
                Assert.Equal(true, give.ExecuteScalar());
            }
            if (wait)
            {
                using (await asking)
                {
                    Assert.Equal(1, db.Scalar(SyncLockHolders));
                }
                Assert.Equal(0, db.Scalar(SyncLockHolders));
            }
            else
            {
                var e = await Assert.ThrowsAsync<SyncBusyException>(() => asking);
                Assert.Equal($"another init/sync holds the sync lock of PostgreSQL {db.Host}:{db.Port}/"
                    + $"{db.DatabaseName} (a PostgreSQL advisory lock) for more than 0 s; wait for it to finish, or "
                    + "check 'rdbridge sync-status'", e.Message);
                Assert.Equal(0, db.Scalar(SyncLockHolders));
            }
        }
    }

    [Fact]
    public async Task A_postgres_sync_that_waits_blocks_on_the_server_and_takes_the_lock_when_the_first_store_lets_go()
    {
        var (dir, db, first) = TestStore.OpenNew("postgres");
        using (dir) using (db) using (first)
        using (var second = (DbAistockStore)db.Open())
        {
            var secondPid = Pid(second);
            var held = first.AcquireSyncLock(TimeSpan.Zero);
            Assert.Equal([Pid((DbAistockStore)first)], Holding(db));
            // The longest wait there is: longer than lock_timeout's largest value, which the store must not exceed.
            var asking = Task.Run(() => second.AcquireSyncLock(TimeSpan.MaxValue));
            // The event, not a time: the second store's server process blocks on the advisory lock (a store that
            // stopped asking fails here with its own exception).
            Assert.True(SpinWait.SpinUntil(() => asking.IsCompleted || Waiting(db).Count == 1,
                TimeSpan.FromMinutes(2)));
            if (asking.IsFaulted) await asking;
            Assert.Equal([secondPid], Waiting(db));
            held.Dispose();
            using (await asking)
            {
                Assert.Equal([secondPid], Holding(db));
                Assert.Empty(Waiting(db));
                // The wait's limit was the transaction's alone: the store's connection is back to the server's
                // setting (the test server sets none: 0, no limit).
                Assert.Equal("0", second.Rows("SHOW lock_timeout")[0][0]);
            }
            Assert.Empty(Holding(db));
        }
    }

    [Theory]
    [InlineData("postgres", 30_000_000L, "3")]
    // Under a millisecond: still a bound (PostgreSQL reads a lock_timeout of 0 as none).
    [InlineData("postgres", 4_000L, "0")]
    public void A_postgres_sync_whose_wait_runs_out_is_refused_and_its_store_goes_on(string store, long ticks,
        string seconds)
    {
        var (dir, db, first) = TestStore.OpenNew(store);
        using (dir) using (db) using (first)
        // A client-side command timeout shorter than the wait (the user's, in aistock.database) must not end it:
        // 1 s against 3 s.
        using (var second = new PostgresAistockStore(db.Setting + ";Command Timeout=1"))
        {
            using (first.AcquireSyncLock(TimeSpan.Zero))
            {
                var e = Assert.Throws<SyncBusyException>(() => second.AcquireSyncLock(new TimeSpan(ticks)));
                Assert.Equal($"another init/sync holds the sync lock of PostgreSQL {db.Host}:{db.Port}/"
                    + $"{db.DatabaseName} (a PostgreSQL advisory lock) for more than {seconds} s; wait for it to "
                    + "finish, or check 'rdbridge sync-status'", e.Message);
                Assert.Empty(Waiting(db));
                // The refused wait left nothing behind: the connection answers, with the server's lock_timeout.
                Assert.Equal("0", second.Rows("SHOW lock_timeout")[0][0]);
            }
            using (second.AcquireSyncLock(new TimeSpan(ticks)))
            {
                Assert.Equal([Pid(second)], Holding(db));
            }
        }
    }
}
