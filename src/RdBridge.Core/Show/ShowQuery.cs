using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Registry;
using RdBridge.Store;
using RdBridge.Workspaces;
using static RdBridge.Catalogs.CatalogFields;

namespace RdBridge.Show;

/// <summary>
/// The guide's 关联查询: one loop, factor, model, strategy or bundle with every link resolved — registry, catalog row,
/// workspace on disk, bundle file, cached copy — and each link marked ok or broken.
/// </summary>
public sealed class ShowQuery(RdBridgeSettings settings)
{
    /// <summary>The view's list of broken links; a shown loop with any is an item failure.</summary>
    public const string ProblemsField = "problems";

    public JsonObject Loop(string taskRunId, long loopId)
    {
        using var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false);
        var loop = registry.ReadLoop(taskRunId, loopId)
            ?? throw new KeyNotFoundException($"no loop {taskRunId}/{loopId} in the registry");
        var rows = registry.ReadWorkspaces(taskRunId, loopId);
        var lw = LoopWorkspaces.Resolve(rows, settings.PathMap, loop);
        var bundle = registry.ReadBundle(taskRunId, loopId);
        var archive = settings.Bundles.Archive(loop.BundleId);
        var cached = settings.AssetCache.ExtractedManifest(loop.BundleId);
        using var store = AistockStores.Open(settings);
        JsonObject? Row<T>(CatalogKind kind) where T : CatalogRecord, new() =>
            store.OfLoop(kind, taskRunId, loopId) is { } row ? Typed<T>(row.Payload, row.Origin) : null;
        var loopRow = Row<Catalogs.LoopRecord>(CatalogKind.Loop);
        var factors = store.FactorsOfLoop(taskRunId, loopId);
        return new JsonObject
        {
            [TaskRunId] = taskRunId,
            [LoopId] = loopId,
            [CatalogFields.Action] = lw.Kind,
            [Status] = loop.Status,
            [HasResult] = loop.HasResult,
            [ErrorType] = loop.ErrorType,
            [ErrorMessage] = loop.ErrorMessage,
            ["workspace"] = lw.Primary is null ? null : new JsonObject
            {
                [WorkspaceId] = lw.Primary.Row.WorkspaceId,
                [WorkspacePath] = lw.Primary.Row.WorkspacePath,
                ["local_path"] = lw.Primary.Local,
                ["ok"] = lw.Primary.Exists,
            },
            ["sub_workspaces"] = new JsonArray(lw.SubWorkspaces
                .Select(s => (JsonNode?)JsonValue.Create(s.Row.WorkspaceId)).ToArray()),
            // Every workspace RD-Agent recorded, whatever its status: a running loop's are its coder's.
            [CatalogFields.Workspaces] = new JsonArray(rows.Select(r => (JsonNode?)new JsonObject
            {
                [WorkspaceId] = r.WorkspaceId,
                [WorkspacePath] = r.WorkspacePath,
                [WorkspaceRole] = r.Role,
                [StepName] = r.StepName,
                [Status] = r.Status,
                ["ok"] = settings.PathMap.Map(r.WorkspacePath).Local is { } local && Directory.Exists(local),
            }).ToArray()),
            ["asset_bundle"] = new JsonObject
            {
                [AssetBundleId] = loop.AssetBundleId,
                ["registry_row"] = bundle is not null && bundle.BundleId == loop.BundleId,
                ["archive"] = archive,
                ["archive_ok"] = File.Exists(archive),
                ["archive_sha256"] = bundle?.ArchiveSha256,
                ["cached_ok"] = File.Exists(cached),
            },
            ["catalog"] = loopRow,
            ["factors"] = new JsonArray(factors.Select(f => (JsonNode?)new JsonObject
            {
                [CatalogFields.Name] = f.Name, [Source] = f.Source, [FactorId] = f.FactorId,
            }).ToArray()),
            ["strategy"] = Row<StrategyRecord>(CatalogKind.Strategy),
            ["model"] = Row<ModelRecord>(CatalogKind.Model),
            // A loop without results has nothing bundled for AIstock to depend on: a running loop has no experiment
            // workspace yet, a failed one may never have had one. Its workspaces are shown, not judged.
            [ProblemsField] = new JsonArray((loop.HasResult ? lw.Problems : [])
                .Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
        };
    }

    public JsonObject Record(string kind, string key)
    {
        using var store = AistockStores.Open(settings);
        var by = kind switch
        {
            "factor" => RecordKey.Factor,
            "model" => RecordKey.Model,
            "strategy" => RecordKey.Strategy,
            "bundle" => RecordKey.Bundle,
            _ => throw new ArgumentException($"unknown kind '{kind}'; use loop, factor, model, strategy or bundle"),
        };
        var rows = store.Find(by, key);
        if (rows.Count == 0)
        {
            throw new KeyNotFoundException(
                $"no {kind} '{key}' in the AIstock database; run 'rdbridge init' or check the name");
        }

        var matches = new JsonArray();
        foreach (var r in rows)
        {
            var record = by switch
            {
                RecordKey.Factor => Typed<FactorRecord>(r.Payload, r.Origin),
                RecordKey.Model => Typed<ModelRecord>(r.Payload, r.Origin),
                RecordKey.Strategy => Typed<StrategyRecord>(r.Payload, r.Origin),
                _ => Typed<Catalogs.LoopRecord>(r.Payload, r.Origin),
            };
            if (r.TaskRunId is { } tr && r.LoopId is { } loop) record["loop_links"] = Loop(tr, loop);
            if (by == RecordKey.Factor && (string?)record[FactorId] is { } id && store.FoundIn(id, ShownLoops) is
                { Total: > 0 } found)
            {
                // Which loops found it: the provenance table (the record names only its first loop).
                record["found_in"] = new JsonArray([.. found.First.Select(p => (JsonNode)CatalogJson.ToNode(p))]);
                record["found_in_total"] = found.Total;
            }
            matches.Add((JsonNode)record);
        }
        return new JsonObject { ["kind"] = kind, ["key"] = key, ["matches"] = matches };
    }

    /// <summary>How many of the loops that found a factor <c>show factor</c> lists (it says how many there
    /// are).</summary>
    private const int ShownLoops = 20;

    /// <summary>A stored record through its type, so show prints every field the catalog defines.</summary>
    private static JsonObject Typed<T>(string payload, string? origin) where T : CatalogRecord, new() =>
        CatalogJson.ToNode(CatalogJson.ReadStored<T>(payload, origin));
}
