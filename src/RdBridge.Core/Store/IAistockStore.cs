using System.Text.Json;
using RdBridge.Catalogs;

namespace RdBridge.Store;

/// <summary>What one catalog's import did. Re-importing the same catalog reports everything unchanged.</summary>
public sealed record ImportSummary(CatalogKind Kind, long Inserted, long Updated, long Unchanged, long Skipped, IReadOnlyList<string> SkipReasons, IReadOnlyList<string> Failures)
{
    public long Failed => Failures.Count;
    public long Total => Inserted + Updated + Unchanged + Skipped + Failed;
}

/// <summary>A recorded <c>init</c> or <c>sync</c> run, as <c>sync-status</c> reports it.</summary>
public sealed record SyncRun(long Id, string Mode, string Status, string? Stage, string StartedAt, string? FinishedAt, string? Since, string? CountsJson, string? ErrorsJson);

/// <summary>One import: every catalog goes in within one transaction, so readers see all of it or none of it.</summary>
public interface IImportSession : IDisposable
{
    ImportSummary Import(CatalogKind kind, IEnumerable<JsonElement> records);
    void Commit();
}

/// <summary>The AIstock database: the four catalog tables and the sync history. SQLite by default, PostgreSQL in production.</summary>
public interface IAistockStore : IDisposable
{
    string Describe { get; }
    /// <summary>Applies the versioned migrations that are missing; returns the versions applied.</summary>
    IReadOnlyList<int> Migrate();
    IImportSession BeginImport();
    long Count(CatalogKind kind);
    long CountWithBundle(CatalogKind kind);
    /// <summary>Runs a read-only query (the guide's SQL checks) and returns its rows.</summary>
    IReadOnlyList<IReadOnlyList<object?>> Query(string sql, params (string Name, object? Value)[] parameters);
    long StartSyncRun(string mode, string? since);
    void UpdateSyncRun(long id, string stage);
    void FinishSyncRun(long id, string status, string countsJson, string errorsJson);
    SyncRun? LastSyncRun(bool successfulOnly);
}
