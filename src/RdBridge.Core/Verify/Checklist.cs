using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Registry;
using RdBridge.Store;

namespace RdBridge.Verify;

/// <summary>One item of the guide's 验证检查清单, checked.</summary>
public sealed record CheckResult(string Id, string Group, string Title, bool Passed, string Detail);

/// <summary>How many records of a catalog carry an asset_bundle_id.</summary>
public sealed record Coverage(long Total, long WithBundleId)
{
    public double CoveragePct => Total == 0 ? 0 : Math.Round(WithBundleId * 1000.0 / Total) / 10.0;
}

public sealed record VerifyReport(IReadOnlyList<CheckResult> Checks, IReadOnlyDictionary<string, Coverage> Coverage)
{
    public bool Passed => Checks.All(c => c.Passed);

    public JsonObject ToJson() => new()
    {
        ["passed"] = Passed,
        ["checks"] = new JsonArray(Checks.Select(c => (JsonNode?)new JsonObject
        {
            ["id"] = c.Id, ["group"] = c.Group, ["title"] = c.Title, ["passed"] = c.Passed, ["detail"] = c.Detail,
        }).ToArray()),
        ["coverage"] = new JsonObject(Coverage.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, new JsonObject
        {
            ["total"] = kv.Value.Total, ["with_bundle_id"] = kv.Value.WithBundleId,
            ["coverage_pct"] = kv.Value.CoveragePct,
        }))),
    };
}

/// <summary>
/// Step 6 and the 验证检查清单 of the guide: every item of <see cref="Checks.All"/>, checked against the registry, the
/// files and the AIstock database, plus asset_bundle_id coverage per catalog. A check whose registry or database
/// cannot be opened fails and says why; a check that throws on bad input fails with the error, and the rest go on.
/// <paramref name="syncRun"/> is the sync run whose last stage this verify is (none when run on its own).
/// </summary>
public sealed class Checklist(RdBridgeSettings settings, bool deep, long? syncRun = null)
{
    public VerifyReport Run() => Run(Checks.All);

    /// <summary>Runs the given checks (a test runs one at a time); the report lists them in the given order.</summary>
    public VerifyReport Run(IReadOnlyList<Check> checks)
    {
        RegistryDatabase? registry = null;
        string? registryError = null;
        try { registry = RegistryDatabase.Open(settings.RegistryPath, writable: false); }
        catch (RegistryException e) { registryError = e.Message; }
        IAistockStore? store = null;
        string? storeError = null;
        try { store = AistockStores.Open(settings); }
        catch (Exception e) when (e is StoreException or System.Data.Common.DbException) { storeError = e.Message; }

        var results = new List<CheckResult>();
        var coverage = new Dictionary<string, Coverage>(StringComparer.Ordinal);
        using (registry)
        using (store)
        {
            var context = new VerifyContext(settings, deep, registry, registryError, store, storeError)
            {
                SyncRun = syncRun,
            };
            foreach (var check in checks) results.Add(Result(check, context));
            if (store is not null)
            {
                foreach (var kind in new[] { CatalogKind.Loop, CatalogKind.Factor, CatalogKind.Model,
                    CatalogKind.Strategy })
                {
                    coverage[kind.ToString().ToLowerInvariant()] = new Coverage(store.CountExpectingBundle(kind),
                        store.CountWithBundle(kind));
                }
            }
        }
        return new VerifyReport(results, coverage);
    }

    private static CheckResult Result(Check check, VerifyContext context)
    {
        if (check.Needs.HasFlag(CheckNeeds.Registry) && context.Registry is null)
        {
            return Result(check, false, context.RegistryError ?? "the registry cannot be opened");
        }

        if (check.Needs.HasFlag(CheckNeeds.Store) && context.Store is null)
        {
            return Result(check, false, $"needs the AIstock database: {context.StoreError}");
        }

        try
        {
            var (passed, detail) = check.Run(context);
            return Result(check, passed, detail);
        }
        // ArgumentException and NotSupportedException: a path formed from an id in the input that cannot be a path
        // (a hostile task run id) is that check's failure, never the end of verify and of the init around it.
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException
            or System.Data.Common.DbException or InvalidOperationException or ArgumentException
            or NotSupportedException)
        {
            return Result(check, false, $"the check could not run: {e.Message}");
        }
    }

    /// <summary>
    /// A check's detail names ids, paths and values from the input (a bundle id out of a catalog, a task run id out of
    /// the registry, an exception's message quoting a file): it is escaped here, once for every check, so no control
    /// character or direction override in the input reaches the terminal, the report file or the page.
    /// </summary>
    private static CheckResult Result(Check check, bool passed, string detail) =>
        new(check.Id, check.Group, check.Title, passed, Visible.Text(detail));
}
