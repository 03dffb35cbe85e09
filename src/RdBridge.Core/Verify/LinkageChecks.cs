using System.Text.Json;
using RdBridge.Assets;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.IO;
using RdBridge.Layout;
using static RdBridge.Catalogs.CatalogFields;
using static RdBridge.Verify.Record;

namespace RdBridge.Verify;

/// <summary>The guide's "关联关系验证": every catalog record links to its loop, workspace and bundle.</summary>
internal static class LinkageChecks
{
    public static (bool, string) LoopWorkspace(VerifyContext c)
    {
        var bad = new ProblemList();
        foreach (var r in c.LoopRecords)
        {
            var key = (Str(r, TaskRunId) ?? "", Long(r, LoopId) ?? -1);
            if (c.FindExpected(key.Item1, key.Item2) is not { } e)
            {
                bad.Add($"{key.Item1}/{key.Item2}: not a loop with results in the registry");
                continue;
            }
            if (e.Workspaces.Primary is null) { bad.Add($"{e.Loop.Key}: no workspace in the registry"); continue; }
            var row = e.Workspaces.Primary.Row;
            if (Str(r, WorkspaceId) != row.WorkspaceId)
            {
                bad.Add($"{e.Loop.Key}: catalog names workspace {Str(r, WorkspaceId)}, registry {row.WorkspaceId}");
            }
            else if (Str(r, WorkspacePath) != row.WorkspacePath)
            {
                bad.Add($"{e.Loop.Key}: workspace {row.WorkspaceId} is at {Str(r, WorkspacePath) ?? "(no path)"} " +
                    $"in the catalog, at {row.WorkspacePath} in the registry");
            }
        }
        var absent = c.ExpectedCount - c.LoopRecordCount;
        if (absent > 0)
        {
            bad.Add($"{Counted.Of(absent, "loop")} with results {(absent == 1 ? "is" : "are")} not in the loop "
                + "catalog");
        }
        return (bad.Count == 0 && c.LoopRecordCount > 0, bad.Count == 0
            ? $"{Counted.Of(c.LoopRecordCount, "loop")} {(c.LoopRecordCount == 1 ? "matches" : "match")} the "
                + "registry's experiment workspace"
            : $"{bad.Count} wrong: {string.Join("; ", bad.Take(4))}");
    }

    public static (bool, string) LoopBundle(VerifyContext c)
    {
        var bad = new ProblemList();
        foreach (var r in c.LoopRecords)
        {
            var tr = Str(r, TaskRunId);
            var loop = Long(r, LoopId);
            var id = Str(r, AssetBundleId);
            if (tr is null || loop is null || id != BundleId.For(tr, loop.Value))
            {
                bad.Add($"{tr}/{loop}: asset_bundle_id {id ?? "missing"}");
                continue;
            }
            if (!BundleId.IsSafe(id))
            {
                bad.Add($"{Visible.Text(tr)}/{loop}: its task run id cannot be a file name (bundle id " +
                    $"'{Visible.Text(id)}'); rename the task run in the registry");
                continue;
            }
            if (c.Registry?.ReadBundle(tr, loop.Value) is not { } row || row.BundleId != id)
            {
                bad.Add($"{tr}/{loop}: production_bundles disagrees");
                continue;
            }
            var manifest = c.Settings.AssetCache.ExtractedManifest(id);
            if (RegularFile.Exists(manifest))
            {
                ManifestSummary m;
                try { m = BundleManifest.ReadSummary(RegularFile.ReadAllBytes(manifest, ReadLimits.BundleManifest)); }
                catch (Exception e) when (e is JsonException or IOException)
                {
                    bad.Add($"{id}: the cached bundle's manifest cannot be read: {e.Message}");
                    continue;
                }
                if (m.TaskRunId != tr || m.LoopId != loop)
                    bad.Add($"{id}: the cached bundle's manifest names loop {m.TaskRunId}/{m.LoopId}");
            }
        }
        return (bad.Count == 0 && c.LoopRecordCount > 0, bad.Count == 0
            ? $"{Counted.Of(c.LoopRecordCount, "loop")}: catalog, registry and bundle manifest agree"
            : $"{bad.Count} wrong: {string.Join("; ", bad.Take(4))}");
    }

    public static (bool, string) FactorLoop(VerifyContext c) => ToLoop(c, CatalogKind.Factor);
    public static (bool, string) ModelLoop(VerifyContext c) => ToLoop(c, CatalogKind.Model);
    public static (bool, string) StrategyLoop(VerifyContext c) => ToLoop(c, CatalogKind.Strategy);

    /// <summary>
    /// Every record of the kind (and each loop its provenance names) is a loop of the loop catalog, with its bundle.
    /// </summary>
    private static (bool, string) ToLoop(VerifyContext c, CatalogKind kind)
    {
        var loopKeys = c.LoopRecords
            .Select(r => (Str(r, TaskRunId), Long(r, LoopId), Str(r, AssetBundleId))).ToHashSet();
        var bad = new ProblemList();
        long records = 0;
        // A record's provenance usually repeats its own loop: each broken link is listed once.
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in c.Catalogs.Stream(kind))
        {
            records++;
            var refs = new List<JsonElement> { r };
            if (r.TryGetProperty(Provenance, out var prov) && prov.ValueKind == JsonValueKind.Array)
                refs.AddRange(prov.EnumerateArray());
            foreach (var x in refs)
            {
                var link = $"{Describe(r, kind)} → {Str(x, TaskRunId)}/{Long(x, LoopId)}";
                if (!loopKeys.Contains((Str(x, TaskRunId), Long(x, LoopId), Str(x, AssetBundleId)))
                    && listed.Add(link))
                {
                    bad.Add(link);
                }
            }
        }
        if (kind == CatalogKind.Factor) ProvenanceToLoop(c, loopKeys, bad, listed);
        return (bad.Count == 0, bad.Count == 0
            ? $"{Counted.Of(records, "record")} each {(records == 1 ? "links" : "link")} to a loop of the loop "
                + "catalog and its bundle"
            : $"{Counted.Of(bad.Count, "broken link")}, e.g. {string.Join("; ", bad.Take(3))}");
    }

    /// <summary>
    /// Each entry of <c>factor_provenance.json</c> names a loop of the loop catalog with its bundle; a v2 factor
    /// catalog without that file has lost which loops found its factors.
    /// </summary>
    private static void ProvenanceToLoop(VerifyContext c, HashSet<(string?, long?, string?)> loopKeys,
        ProblemList bad, HashSet<string> listed)
    {
        if (!File.Exists(c.Catalogs.ProvenancePath))
        {
            if (c.Catalogs.ProvenanceSeparate) bad.Add($"{c.Catalogs.ProvenancePath} missing; run 'rdbridge export'");
            return;
        }
        foreach (var p in c.Catalogs.Provenance)
        {
            var link = $"{p.FactorId} → {p.TaskRunId}/{p.LoopId}";
            if (!loopKeys.Contains((p.TaskRunId, p.LoopId, p.AssetBundleId)) && listed.Add(link)) bad.Add(link);
        }
    }

    public static (bool, string) WorkspaceFiles(VerifyContext c)
    {
        var bad = new ProblemList();
        foreach (var r in c.LoopRecords)
        {
            var mapped = c.Settings.PathMap.Map(Str(r, WorkspacePath));
            var loop = Describe(r, CatalogKind.Loop);
            if (mapped.Local is null) { bad.Add($"{loop}: {mapped.Problem}"); continue; }
            if (!Directory.Exists(mapped.Local)) { bad.Add($"{loop}: {mapped.Local} missing"); continue; }
            try { using var _ = Directory.EnumerateFileSystemEntries(mapped.Local).GetEnumerator(); }
            catch (UnauthorizedAccessException) { bad.Add($"{loop}: {mapped.Local} not readable"); }
        }
        return (bad.Count == 0 && c.LoopRecordCount > 0, bad.Count == 0
            ? $"{Counted.Of(c.LoopRecordCount, "workspace")} reachable through the path map"
            : $"{bad.Count} unreachable: {string.Join("; ", bad.Take(3))}");
    }

    public static (bool, string) BundleExtractable(VerifyContext c)
    {
        var bad = new ProblemList();
        long ids = 0;
        foreach (var id in c.LoopRecords.Select(r => Str(r, AssetBundleId)).OfType<string>()
            .Where(BundleId.IsSafe).Distinct())
        {
            ids++;
            var cached = c.Settings.AssetCache.Archive(id);
            if (!File.Exists(cached)) { bad.Add($"{id}: not in the cache"); continue; }
            try
            {
                // Every entry checked against the manifest as it streams by; nothing is written.
                if (c.Deep) SafeExtractor.Verify(cached);
                var archived = SafeExtractor.ReadManifest(cached);
                var extracted = c.Settings.AssetCache.ExtractedManifest(id);
                if (archived is null) bad.Add($"{id}: no manifest");
                else if (!FileContent.Holds(extracted, archived))
                    bad.Add($"{id}: not extracted, or extracted from another version");
            }
            catch (Exception e) when (e is UnsafeBundleException or InvalidDataException or IOException)
            {
                bad.Add($"{id}: {e.Message}");
            }
        }
        return (bad.Count == 0 && ids > 0, bad.Count == 0
            ? $"{Counted.Of(ids, "bundle")} {(ids == 1 ? "opens" : "open")}"
                + (c.Deep ? " and every file matches its manifest" : $" and {(ids == 1 ? "is" : "are")} extracted")
            : $"{bad.Count} bad: {string.Join("; ", bad.Take(4))}");
    }
}
