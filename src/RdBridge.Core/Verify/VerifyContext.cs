using System.Text.Json;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Registry;
using RdBridge.Store;
using RdBridge.Workspaces;

namespace RdBridge.Verify;

/// <summary>A loop with results, as the registry and the path map locate its workspaces.</summary>
public sealed record ExpectedLoop(LoopRow Loop, LoopWorkspaces Workspaces);

/// <summary>
/// What every check reads, opened once per <c>verify</c>: the settings, the registry and the AIstock store (either may
/// be missing, with the reason), the loops with results and the exported catalogs.
/// </summary>
public sealed class VerifyContext
{
    private readonly Lazy<IReadOnlyList<StoredLoop>> _storedLoops;

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
        if (registry is not null)
        {
            foreach (var loop in registry.ReadLoops(LoopSelection.All))
            {
                if (loop.HasResult)
                    Expected.Add(new ExpectedLoop(loop, LoopWorkspaces.Resolve(registry, settings.PathMap, loop)));
            }
        }

        Catalogs = new ExportedCatalogs(settings.CatalogDirectory).Load();
        _storedLoops = new(() => store?.Loops() ?? []);
    }

    public RdBridgeSettings Settings { get; }
    /// <summary><c>--deep</c>: re-hash every cached archive and extract every bundle to a scratch folder.</summary>
    public bool Deep { get; }
    public RegistryDatabase? Registry { get; }
    public string? RegistryError { get; }
    public IStoreChecks? Store { get; }
    /// <summary>The same database's sync history, for how the last run went.</summary>
    public ISyncHistory? History { get; }
    public string? StoreError { get; }
    /// <summary>The registry's loops with results (none without a registry).</summary>
    public List<ExpectedLoop> Expected { get; } = [];
    public ExportedCatalogs Catalogs { get; }
    /// <summary>The loop catalog's records (kept in memory: one per loop with results).</summary>
    public List<JsonElement> LoopRecords => Catalogs.Loops;
    /// <summary>The loops of the AIstock database, read once for the function checks.</summary>
    public IReadOnlyList<StoredLoop> StoredLoops => _storedLoops.Value;
    /// <summary>
    /// The store, for a check declared with <see cref="CheckNeeds.Store"/> (it runs only when there is one).
    /// </summary>
    public IStoreChecks Db => Store ?? throw new InvalidOperationException("the AIstock database is not open");
    /// <summary>The registry, for a check declared with <see cref="CheckNeeds.Registry"/>.</summary>
    public RegistryDatabase Reg => Registry ?? throw new InvalidOperationException("the registry is not open");
}

/// <summary>
/// The exported catalogs, read as streams: only the loop records (one per loop with results) are kept in memory;
/// factors, models and strategies are read again, one record at a time, by each check that needs them.
/// </summary>
public sealed class ExportedCatalogs(string dir)
{
    public Dictionary<CatalogKind, long> Counts { get; } = [];
    public List<JsonElement> Loops { get; private set; } = [];
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
                if (kind == CatalogKind.Loop) Loops = CatalogReader.ReadRecords(path, kind).ToList();
                Counts[kind] = kind == CatalogKind.Loop ? Loops.Count : CatalogReader.ReadRecords(path,
                    kind).LongCount();
                _readable.Add(kind);
            }
            catch (FormatException e) { errors.Add(e.Message); }
        }
        Error = errors.Count == 0 ? null : string.Join("; ", errors);
        return this;
    }

    public IEnumerable<JsonElement> Stream(CatalogKind kind) =>
        !_readable.Contains(kind) ? [] : kind == CatalogKind.Loop ? Loops
            : CatalogReader.ReadRecords(Path.Combine(dir, CatalogFile.FileName(kind)), kind);
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

    public static string Describe(JsonElement r) =>
        Str(r, "factor_id") ?? Str(r, "model_id") ?? Str(r, "strategy_id")
            ?? $"{Str(r, "task_run_id")}/{Long(r, "loop_id")}";
}
