using System.Text.Json.Nodes;
using RdBridge.Configuration;
using RdBridge.Registry;
using RdBridge.Store;
using RdBridge.Workspaces;

namespace RdBridge.Show;

/// <summary>
/// The guide's 关联查询: one loop, factor, model, strategy or bundle with every link resolved — registry, catalog row,
/// workspace on disk, bundle file, cached copy — and each link marked ok or broken.
/// </summary>
public sealed class ShowQuery(RdBridgeSettings settings)
{
    public JsonObject Loop(string taskRunId, long loopId)
    {
        using var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false);
        var loop = registry.ReadLoop(taskRunId, loopId) ?? throw new KeyNotFoundException($"no loop {taskRunId}/{loopId} in the registry");
        var lw = LoopWorkspaces.Resolve(registry, settings.PathMap, loop);
        var bundle = registry.ReadBundle(taskRunId, loopId);
        var archive = settings.Bundles.Archive(loop.BundleId);
        var cached = settings.AssetCache.ExtractedManifest(loop.BundleId);
        using var store = AistockStores.Open(settings);
        JsonNode? Row(string table, string where, params (string, object?)[] p)
        {
            var rows = store.Query($"SELECT payload FROM {table} WHERE {where} LIMIT 1", p);
            return rows.Count == 0 ? null : JsonNode.Parse((string)rows[0][0]!);
        }
        var loopRow = Row("aistock_loop_catalog", "task_run_id = @t AND loop_id = @l", ("@t", taskRunId), ("@l", loopId));
        var factors = store.Query("SELECT name, source, factor_id, provenance FROM aistock_factor_catalog WHERE CAST(provenance AS TEXT) LIKE @p ORDER BY name",
            ("@p", $"%{taskRunId}%"))
            .Where(f => JsonNode.Parse((string)f[3]!) is JsonArray prov
                && prov.Any(x => (string?)x?["task_run_id"] == taskRunId && (long?)x?["loop_id"] == loopId)).ToList();
        return new JsonObject
        {
            ["task_run_id"] = taskRunId,
            ["loop_id"] = loopId,
            ["action"] = lw.Kind,
            ["status"] = loop.Status,
            ["has_result"] = loop.HasResult,
            ["workspace"] = lw.Primary is null ? null : new JsonObject
            {
                ["workspace_id"] = lw.Primary.Row.WorkspaceId,
                ["workspace_path"] = lw.Primary.Row.WorkspacePath,
                ["local_path"] = lw.Primary.Local,
                ["ok"] = lw.Primary.Exists,
            },
            ["sub_workspaces"] = new JsonArray(lw.SubWorkspaces.Select(s => (JsonNode?)JsonValue.Create(s.Row.WorkspaceId)).ToArray()),
            ["asset_bundle"] = new JsonObject
            {
                ["asset_bundle_id"] = loop.AssetBundleId,
                ["registry_row"] = bundle is not null && bundle.BundleId == loop.BundleId,
                ["archive"] = archive,
                ["archive_ok"] = File.Exists(archive),
                ["archive_sha256"] = bundle?.ArchiveSha256,
                ["cached_ok"] = File.Exists(cached),
            },
            ["catalog"] = loopRow,
            ["factors"] = new JsonArray(factors.Select(f => (JsonNode?)new JsonObject { ["name"] = (string?)f[0], ["source"] = (string?)f[1], ["factor_id"] = (string?)f[2] }).ToArray()),
            ["strategy"] = Row("aistock_strategy_catalog", "task_run_id = @t AND loop_id = @l", ("@t", taskRunId), ("@l", loopId)),
            ["model"] = Row("aistock_model_catalog", "task_run_id = @t AND loop_id = @l", ("@t", taskRunId), ("@l", loopId)),
            ["problems"] = new JsonArray(lw.Problems.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
        };
    }

    public JsonObject Record(string kind, string key)
    {
        using var store = AistockStores.Open(settings);
        var (table, column) = kind switch
        {
            "factor" => ("aistock_factor_catalog", "name"),
            "model" => ("aistock_model_catalog", "model_id"),
            "strategy" => ("aistock_strategy_catalog", "strategy_id"),
            "bundle" => ("aistock_loop_catalog", "asset_bundle_id"),
            _ => throw new ArgumentException($"unknown kind '{kind}'; use loop, factor, model, strategy or bundle"),
        };
        // A factor is found by name or by factor_id; the others by their id.
        var where = kind == "factor" ? "name = @k OR factor_id = @k" : $"{column} = @k";
        var rows = store.Query($"SELECT payload, task_run_id, loop_id FROM {table} WHERE {where} ORDER BY task_run_id, loop_id", ("@k", key));
        if (rows.Count == 0) throw new KeyNotFoundException($"no {kind} '{key}' in the AIstock database; run 'rdbridge init' or check the name");
        var matches = new JsonArray();
        foreach (var r in rows)
        {
            var record = JsonNode.Parse((string)r[0]!)!.AsObject();
            if (r[1] is string tr && r[2] is long loop) record["loop_links"] = Loop(tr, loop);
            matches.Add(record);
        }
        return new JsonObject { ["kind"] = kind, ["key"] = key, ["matches"] = matches };
    }
}
