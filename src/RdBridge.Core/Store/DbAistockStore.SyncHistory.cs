namespace RdBridge.Store;

// The sync history (ISyncHistory): sync runs and sources, as both stores keep them.
public abstract partial class DbAistockStore
{
    public long StartSyncRun(string mode, string? since) =>
        Convert.ToInt64(Rows("INSERT INTO rdbridge_sync_runs (mode, status, stage, started_at, since) "
            + "VALUES (@m, 'running', 'starting', @t, @s) RETURNING id",
            ("@m", mode), ("@t", IO.UtcText.Now()), ("@s", since))[0][0]);

    public IReadOnlyList<long> AbandonUnfinishedSyncRuns()
    {
        var ids = Rows("SELECT id FROM rdbridge_sync_runs WHERE status = 'running' ORDER BY id")
            .Select(r => Convert.ToInt64(r[0])).ToList();
        if (ids.Count > 0)
        {
            Exec("""
                UPDATE rdbridge_sync_runs SET status = 'abandoned', stage = 'finished', finished_at = @t
                WHERE status = 'running'
                """, null, ("@t", IO.UtcText.Now()));
        }

        return ids;
    }

    public void UpdateSyncRun(long id, string stage, double? progress = null)
    {
        if (HasSchema(3))
        {
            Exec("UPDATE rdbridge_sync_runs SET stage = @s, progress = coalesce(@p, progress) WHERE id = @id", null,
                ("@s", stage), ("@p", progress), ("@id", id));
        }
        else
        {
            Exec("UPDATE rdbridge_sync_runs SET stage = @s WHERE id = @id", null, ("@s", stage), ("@id", id));
        }
    }

    public void FinishSyncRun(long id, string status, string countsJson, string errorsJson) =>
        Exec("UPDATE rdbridge_sync_runs SET status = @st, stage = 'finished', finished_at = @t, counts = @c, "
            + $"errors = @e{(HasSchema(3) ? ", progress = 1" : "")} WHERE id = @id", null,
            ("@st", status), ("@t", IO.UtcText.Now()), ("@c", countsJson), ("@e", errorsJson), ("@id", id));

    public SyncRun? LastSyncRun(bool successfulOnly) =>
        ReadRuns(successfulOnly ? "WHERE status = 'succeeded'" : "", 1).FirstOrDefault();

    public IReadOnlyList<SyncRun> SyncRuns(int limit) => ReadRuns("", limit);

    private List<SyncRun> ReadRuns(string where, int limit) =>
        Rows("SELECT id, mode, status, stage, started_at, finished_at, since, counts, "
            + $"errors{(HasSchema(3) ? ", progress" : ", NULL")} FROM rdbridge_sync_runs {where} "
            + $"ORDER BY id DESC LIMIT {Math.Max(1, limit)}")
            .Select(r => new SyncRun(Convert.ToInt64(r[0]), (string)r[1]!, (string)r[2]!, r[3] as string,
                (string)r[4]!, r[5] as string, r[6] as string, r[7] as string, r[8] as string)
            { Progress = r[9] is null ? null : Convert.ToDouble(r[9]) }).ToList();

    public SourceState? Source(string name) => ReadSources("WHERE name = @n", ("@n", name)).FirstOrDefault();
    public IReadOnlyList<SourceState> Sources() => ReadSources("");

    private List<SourceState> ReadSources(string where, params (string, object?)[] p) =>
        !HasSchema(3) ? []
            : Rows("SELECT name, url, watermark, last_sync_at, last_status, last_error "
                + $"FROM rdbridge_sources {where} ORDER BY name", p)
            .Select(r => new SourceState((string)r[0]!, (string)r[1]!, r[2] as string, r[3] as string,
                r[4] as string, r[5] as string)).ToList();

    public void RecordSource(SourceState s) => Exec("""
        INSERT INTO rdbridge_sources (name, url, watermark, last_sync_at, last_status, last_error)
        VALUES (@n, @u, @w, @t, @s, @e)
        ON CONFLICT (name) DO UPDATE SET url = excluded.url, watermark = excluded.watermark,
          last_sync_at = excluded.last_sync_at,
          last_status = excluded.last_status, last_error = excluded.last_error
        """, null, ("@n", s.Name), ("@u", s.Url), ("@w", s.Watermark), ("@t", s.LastSyncAt), ("@s", s.LastStatus),
        ("@e", s.LastError));

    private bool HasSchema(int version)
    {
        if (_schema < 0) _schema = AppliedMigrations().DefaultIfEmpty(0).Max();
        return _schema >= version;
    }
}
