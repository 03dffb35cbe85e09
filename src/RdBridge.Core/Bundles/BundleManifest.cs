using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.IO;

namespace RdBridge.Bundles;

/// <summary>One file in a bundle: its path inside the bundle, size and sha256.</summary>
public sealed record BundleFile(string Path, long Size, string Sha256, string SourcePath);

/// <summary>A file of the workspace that was deliberately left out, and why.</summary>
public sealed record SkippedFile(string Path, string Reason);

/// <summary>A workspace packed into the bundle, under <c>workspaces/&lt;workspace_id&gt;/</c>.</summary>
public sealed record BundledWorkspace(string WorkspaceId, string? Role, string StoredPath)
{
    public string Prefix => $"workspaces/{WorkspaceId}";
}

/// <summary>
/// The <c>manifest.json</c> at the root of every bundle. It holds no timestamp, so the same files always give the
/// same manifest, and its sha256 is the bundle's content digest.
/// </summary>
public sealed record BundleManifest(
    string AssetBundleId, string TaskRunId, long LoopId, string Action, string PrimaryWorkspaceId,
    IReadOnlyList<BundledWorkspace> Workspaces, IReadOnlyList<BundleFile> Files, IReadOnlyList<SkippedFile> Skipped,
    string? ConfigRelpath, string? ModelWeightRelpath, IReadOnlyList<string> FactorCodeRelpaths, string? MetricsRelpath)
{
    public const int SchemaVersion = 1;
    public const string FileName = Layout.BundleFolder.ManifestName;

    public byte[] ToBytes()
    {
        var o = new JsonObject
        {
            ["schema_version"] = SchemaVersion,
            ["asset_bundle_id"] = AssetBundleId,
            ["task_run_id"] = TaskRunId,
            ["loop_id"] = LoopId,
            ["action"] = Action,
            ["primary_workspace_id"] = PrimaryWorkspaceId,
            ["workspaces"] = new JsonArray(Workspaces.Select(w => (JsonNode?)new JsonObject
            {
                ["workspace_id"] = w.WorkspaceId,
                ["role"] = w.Role,
                ["workspace_path"] = w.StoredPath,
                ["bundle_path"] = w.Prefix,
            }).ToArray()),
            ["primary_assets"] = new JsonObject
            {
                ["config_relpath"] = ConfigRelpath,
                ["model_weight_relpath"] = ModelWeightRelpath,
                ["factor_entry_relpath"] = FactorCodeRelpaths.FirstOrDefault(),
                ["factor_code_relpaths"] =
                    new JsonArray(FactorCodeRelpaths.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
                ["metrics_relpath"] = MetricsRelpath,
            },
            ["file_count"] = Files.Count,
            ["total_bytes"] = Files.Sum(f => f.Size),
            ["files"] = new JsonArray(Files.Select(f => (JsonNode?)new JsonObject
            {
                ["path"] = f.Path, ["size"] = f.Size, ["sha256"] = f.Sha256,
            }).ToArray()),
            ["skipped"] = new JsonArray(Skipped.Select(s => (JsonNode?)new JsonObject
            {
                ["path"] = s.Path, ["reason"] = s.Reason,
            }).ToArray()),
        };
        return CanonicalJson.ToFileBytes(o);
    }

    /// <summary>Reads the parts of a manifest that checks need (ids and the file list).</summary>
    public static ManifestSummary ReadSummary(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        var root = doc.RootElement;
        var files = new List<(string, long, string)>();
        if (root.TryGetProperty("files", out var arr) && arr.ValueKind == JsonValueKind.Array)
        {
            foreach (var f in arr.EnumerateArray())
            {
                files.Add((f.GetProperty("path").GetString()!, f.GetProperty("size").GetInt64(),
                    f.GetProperty("sha256").GetString()!));
            }
        }

        return new ManifestSummary(
            root.TryGetProperty("asset_bundle_id", out var id) ? id.GetString() : null,
            root.TryGetProperty("task_run_id", out var tr) ? tr.GetString() : null,
            root.TryGetProperty("loop_id", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt64() : null,
            files);
    }
}

public sealed record ManifestSummary(
    string? AssetBundleId, string? TaskRunId, long? LoopId,
    IReadOnlyList<(string Path, long Size, string Sha256)> Files);
