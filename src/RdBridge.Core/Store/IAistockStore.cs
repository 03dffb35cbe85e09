using RdBridge.Catalogs;
using RdBridge.Runs;

namespace RdBridge.Store;

/// <summary>What one catalog's import did. Re-importing the same catalog reports everything unchanged.</summary>
public sealed record ImportSummary(CatalogKind Kind, long Inserted, long Updated, long Unchanged, long Skipped, IReadOnlyList<string> SkipReasons, IReadOnlyList<string> Failures)
{
    public long Failed => Failures.Count;

    /// <summary>Adds this catalog's counts and skip reasons to a stage's report (import and pull say it alike).</summary>
    public void AddTo(StageReport report)
    {
        var name = CatalogFile.ListName(Kind);
        report.Add(Counter.Change($"{name} inserted"), Inserted);
        report.Add(Counter.Change($"{name} updated"), Updated);
        report.Add(Counter.Tally($"{name} unchanged"), Unchanged);
        report.Add(Counter.Tally($"{name} skipped"), Skipped);
        foreach (var reason in SkipReasons) report.Note(reason);
    }

    public long Total => Inserted + Updated + Unchanged + Skipped + Failed;
    /// <summary>Set when the catalog file and its table were both untouched since the last import, so no record was read.</summary>
    public bool FileUnchanged { get; init; }
}

/// <summary>A recorded <c>init</c> or <c>sync</c> run, as <c>sync-status</c> reports it.</summary>
public sealed record SyncRun(long Id, string Mode, string Status, string? Stage, string StartedAt, string? FinishedAt, string? Since, string? CountsJson, string? ErrorsJson)
{
    /// <summary>0..1 while running; 1 when finished.</summary>
    public double? Progress { get; init; }
}

/// <summary>What this AIstock last pulled from one publisher: the feed position to ask from next, and how it went.</summary>
public sealed record SourceState(string Name, string Url, string? Watermark, string? LastSyncAt, string? LastStatus, string? LastError);

/// <summary>
/// What the last import of one catalog file left behind: the file's digest and the version its table had right after.
/// When both still match, the next import of that file has nothing to do.
/// </summary>
public sealed record CatalogImportMark(string FileSha256, long TableVersion, long Rows, long Skipped, IReadOnlyList<string> SkipReasons);

/// <summary>How the rows a store was given to write landed.</summary>
public sealed record WriteResult(long Inserted, long Updated, long Unchanged, IReadOnlyList<string> Failures);

/// <summary>
/// One import: every catalog goes in within one transaction, so readers see all of it or none of it. A catalog that
/// fails half-way is rolled back to its savepoint alone. The comparison and bookkeeping are shared
/// (<see cref="CatalogImport"/>); a store only says what it holds and writes the rows that are new or changed.
/// </summary>
public interface IImportSession : IDisposable
{
    CatalogImportMark? LastImport(CatalogKind kind, string? origin);
    long TableVersion(CatalogKind kind);
    /// <summary>Streams the natural key and content fingerprint of every stored row.</summary>
    IEnumerable<(string Key, string ContentHash)> StoredFingerprints(CatalogKind kind);
    /// <summary>Writes new and changed rows (each key at most once); a row that cannot be stored is a failure naming its key.</summary>
    /// <param name="sourceBytes">The size of the catalog file the rows come from: a hint of how many rows may follow.</param>
    WriteResult Write(CatalogKind kind, IEnumerable<CatalogRow> rows, long sourceBytes = 0);
    void RecordImport(CatalogKind kind, string? origin, CatalogImportMark? mark);
    void Savepoint();
    void RollbackToSavepoint();
    void ReleaseSavepoint();
    void Commit();
}

/// <summary>The AIstock database: the four catalog tables and the sync history. SQLite by default, PostgreSQL in production.</summary>
public interface IAistockStore : IDisposable
{
    string Describe { get; }
    SqlDialect Dialect { get; }
    /// <summary>Applies the versioned migrations that are missing (up to <paramref name="upTo"/>); returns the versions applied.</summary>
    IReadOnlyList<int> Migrate(int? upTo = null);
    /// <summary>The schema versions recorded in <c>schema_migrations</c>.</summary>
    IReadOnlyList<int> AppliedMigrations();
    IImportSession BeginImport();
    long Count(CatalogKind kind);
    long CountWithBundle(CatalogKind kind);
    /// <summary>
    /// A token that changes whenever any row of the kind's table changes (a version kept by triggers, whoever writes, and
    /// when this database's bookkeeping was created, so a database dropped and built again never repeats a token), or
    /// null on a database without that bookkeeping (schema version 1).
    /// </summary>
    string? CatalogVersion(CatalogKind kind);
    /// <summary>Runs a read-only query (the guide's SQL checks) and returns its rows. Parameters are written <c>@name</c>.</summary>
    IReadOnlyList<IReadOnlyList<object?>> Query(string sql, params (string Name, object? Value)[] parameters);
    /// <summary>One init/sync at a time per database: waits up to <paramref name="wait"/>, then throws <see cref="Runs.SyncBusyException"/>.</summary>
    IDisposable AcquireSyncLock(TimeSpan wait);
    long StartSyncRun(string mode, string? since);
    /// <summary>
    /// Marks every run still "running" as "abandoned" and returns their ids. Called while holding the sync lock, when
    /// no such run can be alive: its process died (kill -9, power loss) before it could record how it ended.
    /// </summary>
    IReadOnlyList<long> AbandonUnfinishedSyncRuns();
    void UpdateSyncRun(long id, string stage, double? progress = null);
    void FinishSyncRun(long id, string status, string countsJson, string errorsJson);
    SyncRun? LastSyncRun(bool successfulOnly);
    /// <summary>The most recent sync runs, newest first.</summary>
    IReadOnlyList<SyncRun> SyncRuns(int limit);
    SourceState? Source(string name);
    IReadOnlyList<SourceState> Sources();
    void RecordSource(SourceState state);
}
