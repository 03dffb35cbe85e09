using System.Formats.Tar;
using System.IO.Compression;
using RdBridge.Cli;
using RdBridge.Configuration;
using RdBridge.Sample;

namespace RdBridge.Tests;

/// <summary>A temporary folder deleted after the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } =
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rdbridge-test-" + Guid.NewGuid().ToString("N")[..12]);
    public TempDir() => Directory.CreateDirectory(Path);
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    // A clean-up only: a file a failed test left open must not turn its own failure into another.
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

/// <summary>A generated sample (RD-Agent tree + AIstock root + config) in a temporary folder.</summary>
public sealed class Sample : IDisposable
{
    public TempDir Dir { get; } = new();
    public string Config => Dir["rdbridge.json"];
    public RdBridgeSettings Settings => SettingsLoader.Load(Config);

    /// <summary>The AIstock database this sample imports into: the embedded SQLite default, or a fresh PostgreSQL
    /// database.</summary>
    public TestStore Aistock { get; }

    /// <param name="store">"sqlite" or "postgres"; by default the suite's store
    /// (<see cref="TestStore.Default"/>).</param>
    public Sample(int taskRuns = 2, int loops = 4, int seed = 42, string? store = null,
        SampleFlavor flavor = SampleFlavor.Mixed, SampleLogGeneration? generation = null, bool noRegistry = false)
    {
        new SampleGenerator(new SampleOptions(Dir.Path, taskRuns, loops, seed, PickleKilobytes: 2, flavor, generation,
            noRegistry)).Generate();
        Aistock = TestStore.Create(store ?? TestStore.Default, Dir);
        if (Aistock.IsPostgres)
        {
            var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Config))!;
            config["aistock"]!["database"] = Aistock.Setting;
            File.WriteAllText(Config,
                config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            Aistock.Setting = Settings.AistockDatabase;
        }
    }

    public (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Program.Run([.. args, "--config", Config], o, e);
        return (code, o.ToString(), e.ToString());
    }

    public void Dispose()
    {
        Aistock.Dispose();
        Dir.Dispose();
    }
}

/// <summary>
/// A real AIstock database for one test: a SQLite file in the test's folder, or a new database on the PostgreSQL server
/// that ./test.sh starts (PGTEST_SERVER); the database is dropped afterwards. Without that server a PostgreSQL test
/// fails: it never skips.
/// </summary>
public sealed class TestStore : IDisposable
{
    public static readonly TheoryData<string> Kinds = new("sqlite", "postgres");

    /// <summary>
    /// The store every test that does not name one runs against: SQLite, or PostgreSQL when
    /// TEST_AISTOCK_STORE=postgres. ./test.sh runs the whole suite once with each, so every end-to-end test proves
    /// itself on both stores.
    /// </summary>
    public static string Default => Environment.GetEnvironmentVariable("TEST_AISTOCK_STORE") switch
    {
        null or "" or "sqlite" => "sqlite",
        "postgres" => "postgres",
        var other => throw new InvalidOperationException($"TEST_AISTOCK_STORE={other}: use sqlite or postgres"),
    };

    public bool IsPostgres { get; private init; }
    /// <summary>What goes into aistock.database.</summary>
    public string Setting { get; set; } = "";
    private string? _database;
    public string? DatabaseName => _database;
    public string Host => new Npgsql.NpgsqlConnectionStringBuilder(PostgresServer).Host!;
    public int Port => new Npgsql.NpgsqlConnectionStringBuilder(PostgresServer).Port;

    public static string PostgresServer => Environment.GetEnvironmentVariable("PGTEST_SERVER") is { Length: > 0 } v ? v
        : throw new InvalidOperationException(
            "PGTEST_SERVER is not set: run the tests with ./test.sh, which starts a throwaway PostgreSQL 15 server");

    public static TestStore Create(string kind, TempDir dir)
    {
        if (kind == "sqlite") return new TestStore { Setting = dir["AIstock/aistock.db"] };
        if (kind != "postgres") throw new ArgumentException(kind);
        var name = "rdb_" + Guid.NewGuid().ToString("N")[..16];
        using (var c = new Npgsql.NpgsqlConnection(PostgresServer + ";Database=postgres"))
        {
            c.Open();
            using var cmd = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", c);
            cmd.ExecuteNonQuery();
        }
        return new TestStore { IsPostgres = true, Setting = $"{PostgresServer};Database={name}", _database = name };
    }

    /// <summary>
    /// A new store of <paramref name="kind"/> in a temporary folder of its own, migrated up to <paramref name="upTo"/>
    /// (every version when null). The caller disposes all three.
    /// </summary>
    public static (TempDir Dir, TestStore Db, RdBridge.Store.IAistockStore Store) OpenNew(string kind, int? upTo = null)
    {
        var dir = new TempDir();
        var db = Create(kind, dir);
        var store = db.Open();
        store.Migrate(upTo);
        return (dir, db, store);
    }

    public RdBridge.Store.IAistockStore Open()
    {
        RdBridge.Store.IAistockStore store = IsPostgres
            ? new RdBridge.Store.PostgresAistockStore(Setting)
            : new RdBridge.Store.SqliteAistockStore(Setting);
        return store;
    }

    public List<object?[]> Rows(string sql)
    {
        if (!IsPostgres) return Db.Rows(Setting, sql);
        using var c = new Npgsql.NpgsqlConnection(Setting);
        c.Open();
        using var cmd = new Npgsql.NpgsqlCommand(sql, c);
        using var r = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (r.Read())
        {
            var row = new object?[r.FieldCount];
            for (var i = 0; i < row.Length; i++)
                row[i] = r.IsDBNull(i) ? null : r.GetValue(i) is int n ? (long)n : r.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public long Scalar(string sql) => Convert.ToInt64(Rows(sql)[0][0]);

    public void Exec(string sql)
    {
        if (!IsPostgres) { Db.Exec(Setting, sql); return; }
        using var c = new Npgsql.NpgsqlConnection(Setting);
        c.Open();
        using var cmd = new Npgsql.NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        if (_database is null) return;
        Npgsql.NpgsqlConnection.ClearAllPools();
        using var c = new Npgsql.NpgsqlConnection(PostgresServer + ";Database=postgres");
        c.Open();
        using var cmd = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", c);
        cmd.ExecuteNonQuery();
    }
}

public static class Paths
{
    /// <summary>The repository root (where RdBridge.slnx is) and the shared folder beside it.</summary>
    public static string RepoRoot
    {
        get
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d is not null && !File.Exists(Path.Combine(d.FullName, "RdBridge.slnx"))) d = d.Parent;
            return d?.FullName ?? throw new InvalidOperationException("repository root not found");
        }
    }

    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
    /// <summary>A real-data fixture; the test that reads it must be marked [RealData].</summary>
    public static string Fixture(string relative) => RealData.Path(relative);
}

/// <summary>Plain SQL against a real SQLite file, for tests that check or change rows the way a user would.</summary>
public static class Db
{
    private static Microsoft.Data.Sqlite.SqliteConnection Open(string path)
    {
        var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        return c;
    }

    public static void Exec(string path, string sql)
    {
        using var c = Open(path);
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static List<object?[]> Rows(string path, string sql)
    {
        using var c = Open(path);
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Rows(cmd);
    }

    /// <summary>Every row a query returns, NULL as null (SQLite here, PostgreSQL through Npgsql).</summary>
    public static List<object?[]> Rows(System.Data.Common.DbCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (r.Read())
        {
            var row = new object?[r.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public static long Scalar(string path, string sql) => Convert.ToInt64(Rows(path, sql)[0][0]);
}

/// <summary>
/// Holds loop 0 back as if RD-Agent had not finished it yet: its registry row and its log folder (discovery would
/// otherwise find the loop in the log and add it back), and releases both later.
/// </summary>
public static class HeldLoop
{
    public static void HoldBack(RdBridgeSettings s)
    {
        Db.Exec(s.RegistryPath,
            "CREATE TABLE held_loops AS SELECT * FROM loops WHERE loop_id = 0; DELETE FROM loops WHERE loop_id = 0;");
        foreach (var dir in Directory.GetDirectories(s.LogRoot, "Loop_0", SearchOption.AllDirectories))
        {
            var aside = Path.Combine(s.RdAgentRoot, "held-log", Path.GetRelativePath(s.LogRoot, dir));
            Directory.CreateDirectory(Path.GetDirectoryName(aside)!);
            Directory.Move(dir, aside);
        }
    }

    /// <param name="updatedAt">the loop's updated_at_utc, so an incremental sync sees it as changed</param>
    public static void Release(RdBridgeSettings s, string updatedAt)
    {
        var held = Path.Combine(s.RdAgentRoot, "held-log");
        foreach (var dir in Directory.GetDirectories(held, "Loop_0", SearchOption.AllDirectories))
            Directory.Move(dir, Path.Combine(s.LogRoot, Path.GetRelativePath(held, dir)));
        Db.Exec(s.RegistryPath, "INSERT INTO loops SELECT * FROM held_loops; "
            + $"UPDATE loops SET updated_at_utc = '{updatedAt}' WHERE loop_id = 0;");
    }
}

/// <summary>A bundle read the plain way (.NET's gzip and tar readers), independent of RdBridge's extractor.</summary>
public static class BundleArchive
{
    /// <summary>Every entry's name and bytes, in archive order.</summary>
    public static IEnumerable<(string Name, byte[] Data)> Entries(string bundle)
    {
        using var gz = new GZipStream(File.OpenRead(bundle), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (tar.GetNextEntry() is { } e)
        {
            using var ms = new MemoryStream();
            e.DataStream?.CopyTo(ms);
            yield return (e.Name, ms.ToArray());
        }
    }

    /// <summary>The workspace ids the bundle holds files of (<c>workspaces/&lt;id&gt;/…</c>).</summary>
    public static HashSet<string> WorkspaceIds(string bundle) =>
        Entries(bundle).Where(e => e.Name != "manifest.json").Select(e => e.Name.Split('/')[1]).ToHashSet();
}
