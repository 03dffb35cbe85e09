using RdBridge.Catalogs;
using RdBridge.Runs;

namespace RdBridge.Store;

/// <summary>What one catalog's import did. Re-importing the same catalog reports everything unchanged.</summary>
public sealed record ImportSummary(CatalogKind Kind, long Inserted, long Updated, long Unchanged, long Skipped,
    IReadOnlyList<string> SkipReasons, IReadOnlyList<string> Failures)
{
    public long Failed => Failures.Count;

    /// <summary>
    /// Adds this catalog's counts to a stage's report (import and pull say it alike). A skipped record is an item
    /// problem (exit code 1) naming the catalog file: the rest of the catalog landed, that record did not.
    /// </summary>
    public void AddTo(StageReport report, string? file = null)
    {
        var name = CatalogFile.ListName(Kind);
        // The catalog's one record ("loop inserted") for a count of one; the kind's name is the singular noun.
        var one = Kind.ToString().ToLowerInvariant();
        report.Add(Counter.Change($"{name} inserted", $"{one} inserted"), Inserted);
        report.Add(Counter.Change($"{name} updated", $"{one} updated"), Updated);
        report.Add(Counter.Tally($"{name} unchanged", $"{one} unchanged"), Unchanged);
        report.Add(Counter.Tally($"{name} skipped", $"{one} skipped"), Skipped);
        foreach (var reason in SkipReasons)
        {
            if (reason.StartsWith('…')) report.Note(reason);
            else report.Problem(CatalogFile.FileName(Kind), file, reason);
        }
    }

    public long Total => Inserted + Updated + Unchanged + Skipped + Failed;
    /// <summary>
    /// Set when the catalog file and its table were both untouched since the last import, so no record was read.
    /// </summary>
    public bool FileUnchanged { get; init; }
}

/// <summary>A recorded <c>init</c> or <c>sync</c> run, as <c>sync-status</c> reports it.</summary>
public sealed record SyncRun(long Id, string Mode, string Status, string? Stage, string StartedAt, string? FinishedAt,
    string? Since, string? CountsJson, string? ErrorsJson)
{
    /// <summary>0..1 while running; 1 when finished.</summary>
    public double? Progress { get; init; }
}

/// <summary>
/// What this AIstock last pulled from one publisher: the feed position to ask from next, and how it went.
/// </summary>
public sealed record SourceState(string Name, string Url, string? Watermark, string? LastSyncAt, string? LastStatus,
    string? LastError);

/// <summary>
/// What the last import of one catalog file left behind: the file's digest and the version its table had right after.
/// When both still match, the next import of that file has nothing to do.
/// </summary>
public sealed record CatalogImportMark(string FileSha256, long TableVersion, long Rows, long Skipped,
    IReadOnlyList<string> SkipReasons);

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
    /// <summary>
    /// Writes new and changed rows (each key at most once); a row that cannot be stored is a failure naming its key.
    /// </summary>
    /// <param name="sourceBytes">
    /// The size of the catalog file the rows come from: a hint of how many rows may follow.
    /// </param>
    WriteResult Write(CatalogKind kind, IEnumerable<CatalogRow> rows, long sourceBytes = 0);
    void RecordImport(CatalogKind kind, string? origin, CatalogImportMark? mark);
    /// <summary>
    /// Upserts which loops found each factor (<see cref="ProvenanceTable"/>) from one file; the same file again, its
    /// rows untouched since, is not read.
    /// </summary>
    ProvenanceImportSummary WriteProvenance(IEnumerable<FactorOccurrence> entries, string fileSha256, string? origin);
    void Savepoint();
    void RollbackToSavepoint();
    void ReleaseSavepoint();
    void Commit();
}

/// <summary>What the database is and which schema version it is on: every caller opening a store may ask.</summary>
public interface IStoreSchema
{
    string Describe { get; }
    SqlDialect Dialect { get; }
    /// <summary>
    /// Applies the versioned migrations that are missing (up to <paramref name="upTo"/>); returns the versions
    /// applied.
    /// </summary>
    IReadOnlyList<int> Migrate(int? upTo = null);
    /// <summary>The schema versions recorded in <c>schema_migrations</c>.</summary>
    IReadOnlyList<int> AppliedMigrations();
}

/// <summary>Writing catalogs: what <c>import</c> and <c>pull</c> need.</summary>
public interface ICatalogImporter
{
    IImportSession BeginImport();
}

/// <summary>
/// The sync history and the publishers pulled from: what <c>init</c>, <c>sync</c>, <c>pull</c> and the server need.
/// </summary>
public interface ISyncHistory
{
    /// <summary>
    /// One init/sync at a time per database: waits up to <paramref name="wait"/>, then throws
    /// <see cref="Runs.SyncBusyException"/>.
    /// </summary>
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

/// <summary>Reading catalog records: what the consumer API, the web UI and <c>show</c> need.</summary>
public interface ICatalogReader
{
    /// <summary>Names the database, for messages and for keys of what is kept per database.</summary>
    string Describe { get; }
    long Count(CatalogKind kind);
    long CountWithBundle(CatalogKind kind);
    /// <summary>The records that should name a bundle: all but loops without results (failed, running).</summary>
    long CountExpectingBundle(CatalogKind kind);
    /// <summary>
    /// A token that changes whenever any row of the kind's table changes (a version kept by triggers, whoever writes,
    /// and
    /// when this database's bookkeeping was created, so a database dropped and built again never repeats a token), or
    /// null on a database without that bookkeeping (schema version 1).
    /// </summary>
    string? CatalogVersion(CatalogKind kind);
    /// <summary>
    /// One page of a catalog, filtered, sorted and paged by the database (see <see cref="CatalogQuery"/>).
    /// </summary>
    CatalogPage Page(CatalogPageRequest request, MatchCounts? counts = null);
    /// <summary>
    /// The record of one loop in a loop-keyed catalog (loop, model, strategy): the first by key, or null.
    /// </summary>
    StoredRecord? OfLoop(CatalogKind kind, string taskRunId, long loopId);
    /// <summary>The factors the loop found (its rows of the provenance table), by name.</summary>
    IReadOnlyList<LoopFactor> FactorsOfLoop(string taskRunId, long loopId);
    /// <summary>The loops that found a factor: the first <paramref name="limit"/> in loop order, and how
    /// many.</summary>
    FactorLoops FoundIn(string factorId, int limit);
    /// <summary>The records a user names with one key (see <see cref="RecordKey"/>), ordered by loop.</summary>
    IReadOnlyList<StoredRecord> Find(RecordKey by, string key);
    /// <summary>
    /// The stored loops of the task runs whose id starts with <paramref name="taskRunIdPrefix"/> (all when null), by
    /// their columns alone, ordered by task run and loop (see <see cref="TaskRunQuery"/>).
    /// </summary>
    IReadOnlyList<LoopSummary> LoopSummaries(string? taskRunIdPrefix);
}

/// <summary>What <c>verify</c> asks of the catalog tables beyond reading records: integrity and freshness.</summary>
public interface IStoreChecks : ICatalogReader
{
    /// <summary>
    /// Up to <paramref name="limit"/> rows of a factor, model or strategy table whose loop the loop table lacks.
    /// </summary>
    IReadOnlyList<OrphanRow> RowsWithoutLoop(CatalogKind kind, int limit);
    /// <summary>Rows whose asset_bundle_id is missing or names another loop's bundle.</summary>
    long RowsWithoutOwnBundle(CatalogKind kind);
    /// <summary>
    /// Every stored loop with results (the ones with a bundle): its ids and links, ordered by task run and loop, read
    /// a page at a time as it is enumerated (the caller may query the store between two loops).
    /// </summary>
    IEnumerable<StoredLoop> Loops();
    bool HasStrategy(string strategyId);
    bool HasFactorNamed(string name);
    /// <summary>
    /// The stored content fingerprint of the row with the given key values, or null when no row has them.
    /// </summary>
    string? ContentHash(CatalogKind kind, IReadOnlyDictionary<string, object?> keyValues);
    /// <summary>Whether two rows of the kind's table describe the same loop, factor, model or strategy.</summary>
    bool HasDuplicates(CatalogKind kind);
}

/// <summary>
/// How a user names a record on the command line: a factor by name or factor_id, the others by their id.
/// </summary>
public enum RecordKey { Factor, Model, Strategy, Bundle }

/// <summary>A stored record: its JSON text as imported, where it came from (null: this machine) and its loop.</summary>
public sealed record StoredRecord(string Payload, string? Origin, string? UpdatedAt, string? TaskRunId, long? LoopId);

/// <summary>A factor as a loop's lineage lists it.</summary>
public sealed record LoopFactor(string Name, string? Source, string? FactorId, double? Ic, double? AnnualizedReturn);

/// <summary>A row whose loop is missing: its key and the loop it names.</summary>
public sealed record OrphanRow(string Key, string TaskRunId, long? LoopId);

/// <summary>A stored loop with the columns its links are checked by.</summary>
public sealed record StoredLoop(string TaskRunId, long LoopId, string? AssetBundleId, string? StrategyId,
    string? WorkspaceId,
    string? WorkspacePath, IReadOnlyList<string> FactorNames);

/// <summary>
/// The AIstock database: the four catalog tables and the sync history. SQLite by default, PostgreSQL in production.
/// Each caller takes the role it needs (<see cref="ICatalogImporter"/>, <see cref="ISyncHistory"/>,
/// <see cref="ICatalogReader"/>, <see cref="IStoreChecks"/>); every table's SQL stays in this folder.
/// </summary>
public interface IAistockStore : IStoreSchema, ICatalogImporter, ISyncHistory, IStoreChecks, IDisposable
{
    new string Describe { get; }
}
