using System.Text.Json;
using Microsoft.Data.Sqlite;
using RdBridge.IO;

namespace RdBridge.Catalogs;

/// <summary>
/// The unique factors of an export with every occurrence (provenance) and every name they were found under, kept in a
/// throwaway SQLite file instead of memory: a catalog of 200,000 factors costs disk pages, not heap. Read back in the
/// catalog's fixed order (source, name, fingerprint), one factor at a time: the records for the factor catalog, then
/// their loops for <c>factor_provenance.json</c>.
/// </summary>
public sealed class FactorAggregation : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"rdbridge-factors-{Guid.NewGuid():N}.db");
    private readonly SqliteConnection _db;
    private readonly SqliteTransaction _tx;
    private readonly SqliteCommand _exists, _first, _name, _occurrence;
    private long _seq;

    /// <summary>
    /// The latest factor with code of each name in the task run being exported (loops come task run by task run, in
    /// order): a later loop that only loads a factor of that name is an occurrence of it, not a new factor. Only the
    /// current task run's names are kept, so this does not grow with the task runs.
    /// </summary>
    private readonly Dictionary<string, string> _writtenBy = [];
    private string? _writtenByTaskRun;

    /// <summary>The fingerprint of the latest factor with code named <paramref name="name"/> in the task run.</summary>
    public string? WrittenBy(string taskRunId, string name)
    {
        if (taskRunId != _writtenByTaskRun) return null;
        return _writtenBy.GetValueOrDefault(name);
    }

    /// <summary>Remembers that a loop of <paramref name="taskRunId"/> wrote the code of a factor.</summary>
    public void Wrote(string taskRunId, string name, string fingerprint)
    {
        if (taskRunId != _writtenByTaskRun)
        {
            _writtenBy.Clear();
            _writtenByTaskRun = taskRunId;
        }
        _writtenBy[name] = fingerprint;
    }

    public FactorAggregation()
    {
        _db = new SqliteConnection($"Data Source={_path};Pooling=False");
        _db.Open();
        using (var setup = _db.CreateCommand())
        {
            // Scratch data: no journal, no fsync. A small page cache: the file grows with the loops (a factor every
            // loop uses has an occurrence per loop; 20 MB of provenance at 2,000 loops), and a 16 MB cache filled with
            // it was resident memory that grew with the loops. Inserts touch a few pages per factor and reads scan in
            // key order, so the operating system's file cache serves the rest.
            SqliteCommands.RunEach(_db, "PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF",
                "PRAGMA cache_size = -1024");
            setup.CommandText = """
                CREATE TABLE factor (fingerprint TEXT PRIMARY KEY, source TEXT, name TEXT, record TEXT NOT NULL);
                CREATE TABLE alias (fingerprint TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (fingerprint, name))
                    WITHOUT ROWID;
                CREATE TABLE occurrence (fingerprint TEXT NOT NULL, seq INTEGER NOT NULL, provenance TEXT NOT NULL,
                    task_run_id TEXT, loop_id INTEGER, PRIMARY KEY (fingerprint, seq)) WITHOUT ROWID;
                CREATE UNIQUE INDEX occurrence_loop ON occurrence (fingerprint, task_run_id, loop_id);
                """;
            setup.ExecuteNonQuery();
        }
        _tx = _db.BeginTransaction();
        _exists = Command("SELECT count(*) FROM factor WHERE fingerprint = $f");
        _first = Command("INSERT OR IGNORE INTO factor (fingerprint, source, name, record) VALUES ($f, $s, $n, $r)");
        _name = Command("INSERT OR IGNORE INTO alias (fingerprint, name) VALUES ($f, $n)");
        // One entry per factor and loop: a loop naming the same factor twice (two names, one definition) found it once.
        _occurrence = Command("INSERT OR IGNORE INTO occurrence (fingerprint, seq, provenance, task_run_id, loop_id) "
            + "VALUES ($f, $q, $p, $t, $l)");
    }

    private SqliteCommand Command(string sql)
    {
        var c = _db.CreateCommand();
        c.Transaction = _tx;
        c.CommandText = sql;
        return c;
    }

    /// <summary>Records one occurrence; <paramref name="record"/> is only built for a fingerprint not seen
    /// before.</summary>
    public void Add(string fingerprint, string name, string source, Func<FactorRecord> record,
        FactorOccurrence provenance)
    {
        _exists.Parameters.Clear();
        _exists.Parameters.AddWithValue("$f", fingerprint);
        if ((long)_exists.ExecuteScalar()! == 0)
            Run(_first, ("$f", fingerprint), ("$s", source), ("$n", name), ("$r", CatalogJson.ToText(record())));
        Run(_name, ("$f", fingerprint), ("$n", name));
        Run(_occurrence, ("$f", fingerprint), ("$q", _seq++), ("$p", CatalogJson.ToText(provenance)),
            ("$t", (object?)provenance.TaskRunId ?? DBNull.Value), ("$l", (object?)provenance.LoopId ?? DBNull.Value));
    }

    private static void Run(SqliteCommand c, params (string, object)[] values)
    {
        c.Parameters.Clear();
        foreach (var (n, v) in values) c.Parameters.AddWithValue(n, v);
        c.ExecuteNonQuery();
    }

    private const string InCatalogOrder = "FROM factor f ORDER BY f.source, f.name, f.fingerprint";

    /// <summary>
    /// Writes each factor's first record with <c>aliases</c> and <c>occurrences</c> filled in, and returns how many
    /// were written. Its loops are not in it (see <see cref="WriteProvenance"/>): a factor every loop uses (Alpha158's)
    /// has one occurrence per loop, and a record holding them grew with the number of loops.
    /// </summary>
    public long WriteFactors(Utf8JsonWriter w, Action drain)
    {
        using var list = Command($"""
            SELECT f.fingerprint, f.record, f.name,
                   (SELECT count(*) FROM occurrence o WHERE o.fingerprint = f.fingerprint)
            {InCatalogOrder}
            """);
        using var names = Command("SELECT name FROM alias WHERE fingerprint = $f ORDER BY name");
        using var r = list.ExecuteReader();
        long written = 0;
        while (r.Read())
        {
            var fingerprint = r.GetString(0);
            var name = r.GetString(2);
            var record = CatalogJson.Read<FactorRecord>(r.GetString(1))! with
            {
                Aliases = Strings(names, fingerprint).Where(alias => alias != name).ToList(),
                Occurrences = r.GetInt64(3),
            };
            CatalogJson.Write(w, record);
            drain();
            written++;
        }
        return written;
    }

    /// <summary>
    /// Writes every factor's occurrences as entries of <c>factor_provenance.json</c> (factor id and the loop's links),
    /// factors in the catalog's order and each one's loops in export order, streamed from the spool; returns how many.
    /// </summary>
    public long WriteProvenance(Utf8JsonWriter w, Action drain)
    {
        using var list = Command($"SELECT f.fingerprint {InCatalogOrder}");
        using var occurrences = Command("SELECT provenance FROM occurrence WHERE fingerprint = $f ORDER BY seq");
        using var r = list.ExecuteReader();
        long written = 0;
        while (r.Read())
        {
            var fingerprint = r.GetString(0);
            var factorId = FactorIdentity.FactorId(fingerprint);
            foreach (var occurrence in Strings(occurrences, fingerprint))
            {
                CatalogJson.Write(w, CatalogJson.Read<FactorOccurrence>(occurrence)! with { FactorId = factorId });
                drain();
                written++;
            }
        }
        return written;
    }

    /// <summary>The first column of each row a one-parameter query gives for a fingerprint.</summary>
    private static IEnumerable<string> Strings(SqliteCommand query, string fingerprint)
    {
        query.Parameters.Clear();
        query.Parameters.AddWithValue("$f", fingerprint);
        using var rows = query.ExecuteReader();
        while (rows.Read()) yield return rows.GetString(0);
    }

    public void Dispose()
    {
        _exists.Dispose();
        _first.Dispose();
        _name.Dispose();
        _occurrence.Dispose();
        _tx.Dispose();
        _db.Dispose();
        try { File.Delete(_path); } catch (IOException) { }
    }
}
