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

    /// <summary>
    /// Reads the parts of a manifest that checks, compare and the API need (ids, workspaces, the file list). A manifest
    /// is read from caches and peers, so every field's JSON type is checked: a wrong one is a
    /// <see cref="JsonException"/> naming the field, never a cast that ends the caller's run.
    /// </summary>
    public static ManifestSummary ReadSummary(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw Shape("the manifest", root, "an object");
        var files = new List<(string, long, string)>();
        var listed = Field(root, "files", JsonValueKind.Array, "a list");
        if (listed is { } arr)
        {
            var i = 0;
            foreach (var f in arr.EnumerateArray())
            {
                var at = $"files[{i++}]";
                if (f.ValueKind != JsonValueKind.Object) throw Shape(at, f, "an object");
                var path = Text(f, "path", at) ?? throw Missing($"{at}.path");
                var size = Field(f, "size", JsonValueKind.Number, "a number", at) is { } n && n.TryGetInt64(out var v)
                    && v >= 0 ? v : throw Missing($"{at}.size", "a whole number of bytes");
                files.Add((path, size, Text(f, "sha256", at) ?? throw Missing($"{at}.sha256")));
            }
        }

        var workspaces = new List<string>();
        if (Field(root, "workspaces", JsonValueKind.Array, "a list") is { } ws)
        {
            var i = 0;
            foreach (var w in ws.EnumerateArray())
            {
                var at = $"workspaces[{i++}]";
                if (w.ValueKind != JsonValueKind.Object) throw Shape(at, w, "an object");
                if (Text(w, "workspace_id", at) is { } id) workspaces.Add(id);
            }
        }

        var assets = Field(root, "primary_assets", JsonValueKind.Object, "an object");
        var loop = Field(root, "loop_id", JsonValueKind.Number, "a number") is { } l
            ? l.TryGetInt64(out var lv) ? lv : throw Missing("loop_id", "a whole number") : (long?)null;
        return new ManifestSummary(Text(root, "asset_bundle_id"), Text(root, "task_run_id"), loop, files)
        {
            PrimaryWorkspaceId = Text(root, "primary_workspace_id"),
            WorkspaceIds = workspaces,
            ConfigRelpath = assets is { } a ? Text(a, "config_relpath", "primary_assets") : null,
        };
    }

    /// <summary>The field, or null when it is absent or null; any other JSON type than the expected one is refused.
    /// </summary>
    private static JsonElement? Field(JsonElement o, string name, JsonValueKind kind, string what, string? at = null)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == kind ? v : throw Shape(at is null ? name : $"{at}.{name}", v, what);
    }

    private static string? Text(JsonElement o, string name, string? at = null) =>
        Field(o, name, JsonValueKind.String, "a text", at)?.GetString();

    private static JsonException Shape(string field, JsonElement v, string expected) =>
        new($"'{field}' is {KindName(v.ValueKind)}, not {expected}");

    private static JsonException Missing(string field, string expected = "a text") =>
        new($"'{field}' is missing or not {expected}");

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a text",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

public sealed record ManifestSummary(
    string? AssetBundleId, string? TaskRunId, long? LoopId,
    IReadOnlyList<(string Path, long Size, string Sha256)> Files)
{
    public string? PrimaryWorkspaceId { get; init; }
    public IReadOnlyList<string> WorkspaceIds { get; init; } = [];
    public string? ConfigRelpath { get; init; }
}
