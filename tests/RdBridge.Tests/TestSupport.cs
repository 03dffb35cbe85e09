using RdBridge.Cli;
using RdBridge.Configuration;
using RdBridge.Sample;

namespace RdBridge.Tests;

/// <summary>A temporary folder deleted after the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rdbridge-test-" + Guid.NewGuid().ToString("N")[..12]);
    public TempDir() => Directory.CreateDirectory(Path);
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

/// <summary>A generated sample (RD-Agent tree + AIstock root + config) in a temporary folder.</summary>
public sealed class Sample : IDisposable
{
    public TempDir Dir { get; } = new();
    public string Config => Dir["rdbridge.json"];
    public RdBridgeSettings Settings => SettingsLoader.Load(Config);

    public Sample(int taskRuns = 2, int loops = 4, int seed = 42)
    {
        new SampleGenerator(new SampleOptions(Dir.Path, taskRuns, loops, seed, PickleKilobytes: 2)).Generate();
    }

    public (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Program.Run([.. args, "--config", Config], o, e);
        return (code, o.ToString(), e.ToString());
    }

    public void Dispose() => Dir.Dispose();
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
    public static string Fixture(string relative) => Path.Combine(Shared, "fixtures", "real", relative);
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
