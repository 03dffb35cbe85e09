using System.Text.Json;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Registry;
using RdBridge.Store;
using RdBridge.Workspaces;
using static RdBridge.Catalogs.CatalogFields;

namespace RdBridge.Verify;

/// <summary>A loop with results, as the registry and the path map locate its workspaces.</summary>
public sealed record ExpectedLoop(LoopRow Loop, LoopWorkspaces Workspaces);

/// <summary>
/// What every check reads, opened once per <c>verify</c>: the settings, the registry and the AIstock store (either may
/// be missing, with the reason), the loops with results and the exported catalogs. Loops and records are streamed
/// again by each check that needs them, never held: what <c>verify</c> keeps does not grow with the number of loops.
/// </summary>
public sealed class VerifyContext
{
    private readonly Lazy<long> _expectedCount;
    private readonly Lazy<long> _loopRecordCount;

    public VerifyContext(RdBridgeSettings settings, bool deep, RegistryDatabase? registry, string? registryError,
        IAistockStore? store, string? storeError)
    {
        History = store;
        Settings = settings;
        Deep = deep;
        Registry = registry;
        RegistryError = registryError;
        Store = store;
        StoreError = storeError;
        Catalogs = new ExportedCatalogs(settings.CatalogDirectory).Load();
        _expectedCount = new(() => registry?.ReadLoops(LoopSelection.All).LongCount(l => l.HasResult) ?? 0);
        _loopRecordCount = new(() => LoopRecords.LongCount());
    }

    public RdBridgeSettings Settings { get; }
    /// <summary><c>--deep</c>: re-hash every cached archive and extract every bundle to a scratch folder.</summary>
    public bool Deep { get; }
    public RegistryDatabase? Registry { get; }
    public string? RegistryError { get; }
    public IStoreChecks? Store { get; }
    /// <summary>The same database's sync history, for how the last run went.</summary>
    public ISyncHistory? History { get; }
    /// <summary>The sync run this verify is the last stage of; null for a verify run on its own.</summary>
    public long? SyncRun { get; init; }
    public string? StoreError { get; }

    /// <summary>The registry's loops with results, read as they are enumerated (none without a registry).</summary>
    public IEnumerable<ExpectedLoop> Expected
    {
        get
        {
            if (Registry is not { } registry) yield break;
            foreach (var loop in registry.ReadLoops(LoopSelection.All))
            {
                if (loop.HasResult)
                    yield return new ExpectedLoop(loop, LoopWorkspaces.Resolve(registry, Settings.PathMap, loop));
            }
        }
    }

    /// <summary>How many loops <see cref="Expected"/> gives.</summary>
    public long ExpectedCount => _expectedCount.Value;

    /// <summary>The registry's loop with results of that key, with its workspaces; null when there is none.</summary>
    public ExpectedLoop? FindExpected(string taskRunId, long loopId) =>
        Registry?.ReadLoop(taskRunId, loopId) is { HasResult: true } loop
            ? new ExpectedLoop(loop, LoopWorkspaces.Resolve(Registry, Settings.PathMap, loop))
            : null;

    public ExportedCatalogs Catalogs { get; }
    /// <summary>
    /// The loop catalog's records of loops with results (the ones with a bundle; the catalog lists failed and running
    /// loops too), read again at each enumeration.
    /// </summary>
    public IEnumerable<JsonElement> LoopRecords => Catalogs.Stream(CatalogKind.Loop).Where(Record.Bundled);
    /// <summary>How many records <see cref="LoopRecords"/> gives.</summary>
    public long LoopRecordCount => _loopRecordCount.Value;
    /// <summary>The loops of the AIstock database, read a page at a time for the function checks.</summary>
    public IEnumerable<StoredLoop> StoredLoops => Store?.Loops() ?? [];
    /// <summary>
    /// The store, for a check declared with <see cref="CheckNeeds.Store"/> (it runs only when there is one).
    /// </summary>
    public IStoreChecks Db => Store ?? throw new InvalidOperationException("the AIstock database is not open");
    /// <summary>The registry, for a check declared with <see cref="CheckNeeds.Registry"/>.</summary>
    public RegistryDatabase Reg => Registry ?? throw new InvalidOperationException("the registry is not open");
}

/// <summary>
/// The exported catalogs, read as streams: <see cref="Load"/> counts each catalog's records (and finds the ones that
/// do not read), each check that needs records reads them again, one at a time.
/// </summary>
public sealed class ExportedCatalogs(string dir)
{
    public Dictionary<CatalogKind, long> Counts { get; } = [];
    public string? Error { get; private set; }
    private readonly HashSet<CatalogKind> _readable = [];

    public ExportedCatalogs Load()
    {
        var errors = new List<string>();
        foreach (var kind in CatalogFile.All)
        {
            var path = Path.Combine(dir, CatalogFile.FileName(kind));
            Counts[kind] = 0;
            if (!File.Exists(path)) { errors.Add($"{CatalogFile.FileName(kind)} missing in {dir}"); continue; }
            try
            {
                Counts[kind] = CatalogReader.ReadRecords(path, kind).LongCount();
                _readable.Add(kind);
            }
            catch (FormatException e) { errors.Add(e.Message); }
        }
        Error = errors.Count == 0 ? null : string.Join("; ", errors);
        return this;
    }

    public IEnumerable<JsonElement> Stream(CatalogKind kind) => !_readable.Contains(kind) ? []
        : CatalogReader.ReadRecords(Path.Combine(dir, CatalogFile.FileName(kind)), kind);

    /// <summary>
    /// The entries of <c>factor_provenance.json</c> (which loops found each factor), read one at a time; none when the
    /// file is absent (a catalog from before format v2 carries them in its records).
    /// </summary>
    public IEnumerable<FactorOccurrence> Provenance => File.Exists(ProvenancePath)
        ? ProvenanceFile.Read(ProvenancePath)
        : [];

    /// <summary>Where <see cref="Provenance"/> is read from.</summary>
    public string ProvenancePath => Path.Combine(dir, ProvenanceFile.FileName);

    /// <summary>Whether the factor catalog is format v2 or later, so its provenance must be in its own file.</summary>
    public bool ProvenanceSeparate => _readable.Contains(CatalogKind.Factor)
        && ProvenanceFile.IsSeparate(Path.Combine(dir, CatalogFile.FileName(CatalogKind.Factor)));
}

/// <summary>
/// Reading catalog records the way the checks need: a missing or mistyped field is null, never an exception.
/// </summary>
internal static class Record
{
    public static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() : null;

    public static long? Long(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
            && v.TryGetInt64(out var l) ? l : null;

    /// <summary>Whether a record has a bundle to name: all but a loop without results (failed, running).</summary>
    public static bool Bundled(JsonElement r) =>
        !(r.ValueKind == JsonValueKind.Object && r.TryGetProperty(HasResult, out var v)
            && v.ValueKind == JsonValueKind.False);

    /// <summary>A record by its own key: a loop record also names its strategy, a strategy its model, and those are
    /// not what it is.</summary>
    public static string Describe(JsonElement r, CatalogKind kind) => kind switch
    {
        CatalogKind.Factor => Str(r, FactorId) ?? Str(r, Name),
        CatalogKind.Model => Str(r, ModelId),
        CatalogKind.Strategy => Str(r, StrategyId),
        _ => null,
    } ?? $"{Str(r, TaskRunId)}/{Long(r, LoopId)}";
}
