using Microsoft.Data.Sqlite;
using RdBridge.IO;

namespace RdBridge.Store;

/// <summary>
/// A map from 128-bit ids to 128-bit values that an import fills with one entry per record: the keys a catalog
/// listed, the stored rows' fingerprints. Up to <c>inMemory</c> entries it is a dictionary; past that every entry
/// moves to a throwaway SQLite file with a 1 MB page cache, so a catalog of 200,000 factors costs disk pages, not heap.
/// As a dictionary those 200,000 ids were 11.7 MB of live heap at 10,000 loops (a 32-byte entry and a bucket each,
/// the table a third larger than its entries) and a 5 MB copy while it grew: most of what `import` grew by.
/// </summary>
internal sealed class IdSpool(int inMemory = IdSpool.DefaultInMemory) : IDisposable
{
    /// <summary>About 1 MB of dictionary: an import of a few hundred loops never touches the disk.</summary>
    public const int DefaultInMemory = 16_384;

    private Dictionary<UInt128, UInt128>? _memory = [];
    private string? _path;
    private SqliteConnection? _db;
    private SqliteTransaction? _tx;
    private SqliteCommand? _add, _set, _get;

    /// <summary>Whether the entries are in the scratch file (for tests).</summary>
    public bool Spilled => _memory is null;

    /// <summary>Adds the id unless it is there already (the first value stays); returns whether it was added.</summary>
    public bool TryAdd(UInt128 id, UInt128 value)
    {
        if (_memory is not null)
        {
            if (_memory.Count < inMemory || _memory.ContainsKey(id)) return _memory.TryAdd(id, value);
            Spill();
        }
        return Run(_add!, id, value) == 1;
    }

    /// <summary>Sets the id's value (the last one stays).</summary>
    public void Set(UInt128 id, UInt128 value)
    {
        if (_memory is not null)
        {
            if (_memory.Count < inMemory || _memory.ContainsKey(id)) { _memory[id] = value; return; }
            Spill();
        }
        Run(_set!, id, value);
    }

    public bool TryGetValue(UInt128 id, out UInt128 value)
    {
        if (_memory is not null) return _memory.TryGetValue(id, out value);
        Bind(_get!, id, 0);
        using var r = _get!.ExecuteReader();
        value = r.Read() ? Join(r.GetInt64(0), r.GetInt64(1)) : 0;
        return r.HasRows;
    }

    private void Spill()
    {
        _path = Path.Combine(Path.GetTempPath(), $"rdbridge-ids-{Guid.NewGuid():N}.db");
        _db = new SqliteConnection($"Data Source={_path};Pooling=False");
        _db.Open();
        using (var setup = _db.CreateCommand())
        {
            // Scratch data, as the export's factor spool: no journal, no fsync, a small page cache (each lookup
            // touches one path of the tree; the operating system's file cache holds the rest).
            SqliteCommands.RunEach(_db, "PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF",
                "PRAGMA cache_size = -1024");
            setup.CommandText = """
                CREATE TABLE id (hi INTEGER, lo INTEGER, vhi INTEGER, vlo INTEGER, PRIMARY KEY (hi, lo)) WITHOUT ROWID;
                """;
            setup.ExecuteNonQuery();
        }
        _tx = _db.BeginTransaction();
        _add = Command("INSERT OR IGNORE INTO id VALUES ($h, $l, $vh, $vl)");
        _set = Command("INSERT OR REPLACE INTO id VALUES ($h, $l, $vh, $vl)");
        _get = Command("SELECT vhi, vlo FROM id WHERE hi = $h AND lo = $l");
        foreach (var (id, value) in _memory!) Run(_add, id, value);
        _memory = null;
    }

    private SqliteCommand Command(string sql)
    {
        var c = _db!.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = sql;
        foreach (var name in new[] { "$h", "$l", "$vh", "$vl" }.Where(sql.Contains))
            c.Parameters.Add(name, SqliteType.Integer);
        c.Prepare();
        return c;
    }

    private static int Run(SqliteCommand c, UInt128 id, UInt128 value)
    {
        Bind(c, id, value);
        return c.ExecuteNonQuery();
    }

    private static void Bind(SqliteCommand c, UInt128 id, UInt128 value)
    {
        c.Parameters["$h"].Value = (long)(ulong)(id >> 64);
        c.Parameters["$l"].Value = (long)(ulong)id;
        if (c.Parameters.Contains("$vh"))
        {
            c.Parameters["$vh"].Value = (long)(ulong)(value >> 64);
            c.Parameters["$vl"].Value = (long)(ulong)value;
        }
    }

    private static UInt128 Join(long hi, long lo) => ((UInt128)(ulong)hi << 64) | (ulong)lo;

    public void Dispose()
    {
        _add?.Dispose();
        _set?.Dispose();
        _get?.Dispose();
        _tx?.Dispose();
        _db?.Dispose();
        if (_path is null) return;
        try { File.Delete(_path); } catch (IOException) { }
    }
}
