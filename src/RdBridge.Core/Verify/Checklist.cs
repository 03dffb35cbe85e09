using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Assets;
using RdBridge.Bundles;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Metadata;
using RdBridge.Registry;
using RdBridge.Store;
using RdBridge.Workspaces;

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
            ["total"] = kv.Value.Total, ["with_bundle_id"] = kv.Value.WithBundleId, ["coverage_pct"] = kv.Value.CoveragePct,
        }))),
    };
}

/// <summary>
/// Step 6 and the 验证检查清单 of the guide: every item of the RD-Agent side, AIstock side, linkage and function
/// lists, checked against the registry, the files and the AIstock database, plus asset_bundle_id coverage per catalog.
/// </summary>
public sealed class Checklist(RdBridgeSettings settings, bool deep)
{
    private sealed record ExpectedLoop(LoopRow Loop, LoopWorkspaces Workspaces);

    private readonly List<CheckResult> _results = [];

    public VerifyReport Run()
    {
        var expected = new List<ExpectedLoop>();
        RegistryDatabase? registry = null;
        try { registry = RegistryDatabase.Open(settings.RegistryPath, writable: false); }
        catch (RegistryException e) { Add("rd.registry_loops", "rdagent", "Registry 数据库包含所有 Loop 记录 / registry holds every loop", false, e.Message); }
        IAistockStore? store = null;
        string? storeError = null;
        try { store = AistockStores.Open(settings); }
        catch (Exception e) when (e is StoreException or System.Data.Common.DbException) { storeError = e.Message; }

        using (registry)
        using (store)
        {
            if (registry is not null)
            {
                foreach (var loop in registry.ReadLoops(LoopSelection.All))
                    if (loop.HasResult) expected.Add(new ExpectedLoop(loop, LoopWorkspaces.Resolve(registry, settings.PathMap, loop)));
                RdAgentSide(registry, expected);
            }
            var catalogs = new Catalogs(settings.CatalogDirectory).Load();
            Add("rd.catalog_bundle_ids", "rdagent", "Catalog JSON 文件包含 asset_bundle_id 字段 / catalogs carry asset_bundle_id", () =>
            {
                if (catalogs.Error is not null) return (false, catalogs.Error);
                long missing = 0;
                var examples = new List<string>();
                foreach (var k in CatalogFile.All)
                    foreach (var r in catalogs.Stream(k).Where(r => string.IsNullOrEmpty(Str(r, "asset_bundle_id"))))
                        if (missing++ < 3) examples.Add($"{k}:{Describe(r)}");
                return (missing == 0, missing == 0 ? $"{catalogs.Counts.Values.Sum()} records in 4 catalogs, all with asset_bundle_id" : $"{missing} records without asset_bundle_id, e.g. {string.Join(", ", examples)}");
            });
            AistockSide(store, storeError, catalogs, expected);
            Linkage(registry, store, catalogs, expected);
            Function(store, storeError, catalogs, registry);
        }

        var coverage = new Dictionary<string, Coverage>(StringComparer.Ordinal);
        if (store is not null && storeError is null)
        {
            using var s = AistockStores.Open(settings);
            foreach (var kind in new[] { CatalogKind.Loop, CatalogKind.Factor, CatalogKind.Model, CatalogKind.Strategy })
                coverage[kind.ToString().ToLowerInvariant()] = new Coverage(s.Count(kind), s.CountWithBundle(kind));
        }
        return new VerifyReport(_results, coverage);
    }

    private void RdAgentSide(RegistryDatabase registry, List<ExpectedLoop> expected)
    {
        Add("rd.registry_loops", "rdagent", "Registry 数据库包含所有 Loop 记录 / registry holds every loop", () =>
        {
            var loops = registry.Count("loops");
            var orphans = expected.Where(e => e.Workspaces.Primary is null).Select(e => e.Loop.Key).ToList();
            if (loops == 0) return (false, "the loops table is empty");
            return (orphans.Count == 0, $"{loops} loops, {expected.Count} with results" + (orphans.Count > 0 ? $"; {orphans.Count} without a workspace row: {string.Join(", ", orphans.Take(5))}" : ", each linked to its own workspace"));
        });

        var usable = expected.Where(e => e.Workspaces.IsUsable).ToList();
        Add("rd.workspace_metadata", "rdagent", "Workspace 目录包含所有元数据文件 / workspaces hold every metadata file", () =>
        {
            var missing = new List<string>();
            foreach (var e in expected)
            {
                if (!e.Workspaces.IsUsable) { missing.Add($"{e.Loop.Key}: workspace missing"); continue; }
                var dir = e.Workspaces.Primary!.Local!;
                foreach (var f in WorkspaceFiles.MetaFiles)
                    if (!File.Exists(Path.Combine(dir, f)) && (f != WorkspaceFiles.FactorPerf || File.Exists(Path.Combine(dir, WorkspaceFiles.QlibRes))))
                        missing.Add($"{e.Loop.Key}: {f}");
            }
            return (missing.Count == 0 && expected.Count > 0, missing.Count == 0 ? $"{expected.Count} workspaces complete" : $"{missing.Count} missing, e.g. {string.Join("; ", missing.Take(4))}");
        });

        void MetaField<T>(string id, string title, string file, Func<string, T> read, Func<T, bool> ok)
        {
            Add(id, "rdagent", title, () =>
            {
                var bad = new List<string>();
                var seen = 0;
                foreach (var e in usable)
                {
                    var path = Path.Combine(e.Workspaces.Primary!.Local!, file);
                    if (!File.Exists(path)) { bad.Add($"{e.Loop.Key}: no {file}"); continue; }
                    seen++;
                    try
                    {
                        if (!ok(read(path))) bad.Add(e.Loop.Key);
                    }
                    catch (JsonException) { bad.Add($"{e.Loop.Key}: malformed"); }
                }
                return (bad.Count == 0 && seen > 0, bad.Count == 0 ? $"{seen} files checked" : $"{bad.Count} failing, e.g. {string.Join("; ", bad.Take(4))}");
            });
        }
        MetaField("rd.model_meta_preprocess", "model_meta.json 包含 preprocess_config", ModelMetaFile.FileName,
            ModelMetaFile.Read, m => m.PreprocessConfig is not null);
        MetaField("rd.factor_meta_input_schema", "factor_meta.json 包含 input_schema", FactorMetaFile.FileName,
            FactorMetaFile.Read, m => m.Factors.All(f => f.InputSchema is JsonObject));
        MetaField("rd.strategy_meta_portfolio", "strategy_meta.json 包含 portfolio_config", StrategyMetaFile.FileName,
            StrategyMetaFile.Read, m => m.PortfolioConfig is not null);

        Add("rd.bundle_files", "rdagent", "production_bundles 目录包含所有资产包 / every bundle file exists", () =>
        {
            var missing = expected.Where(e => !File.Exists(settings.Bundles.Archive(e.Loop.BundleId))
                || !File.Exists(settings.Bundles.Sidecar(e.Loop.BundleId))).Select(e => e.Loop.BundleId).ToList();
            return (missing.Count == 0 && expected.Count > 0, missing.Count == 0 ? $"{expected.Count} bundles with .sha256" : $"{missing.Count} missing: {string.Join(", ", missing.Take(5))}");
        });
        Add("rd.bundle_rows", "rdagent", "production_bundles 表包含所有资产包记录 / every bundle has its registry row", () =>
        {
            var bad = new List<string>();
            foreach (var e in expected)
            {
                var row = registry.ReadBundle(e.Loop.TaskRunId, e.Loop.LoopId);
                if (row is null) bad.Add($"{e.Loop.Key}: no row");
                else if (row.BundleId != e.Loop.BundleId) bad.Add($"{e.Loop.Key}: row names {row.BundleId}");
                else if (e.Loop.AssetBundleId != e.Loop.BundleId) bad.Add($"{e.Loop.Key}: loops.asset_bundle_id is {e.Loop.AssetBundleId ?? "NULL"}");
            }
            return (bad.Count == 0 && expected.Count > 0, bad.Count == 0 ? $"{expected.Count} rows, loops.asset_bundle_id set" : $"{bad.Count} wrong: {string.Join("; ", bad.Take(4))}");
        });
    }

    /// <summary>
    /// The exported catalogs, read as streams: only the loop records (one per loop with results) are kept in memory;
    /// factors, models and strategies are read again, one record at a time, by each check that needs them.
    /// </summary>
    private sealed class Catalogs(string dir)
    {
        public Dictionary<CatalogKind, long> Counts { get; } = [];
        public List<JsonElement> Loops { get; private set; } = [];
        public string? Error { get; private set; }
        private readonly HashSet<CatalogKind> _readable = [];

        public Catalogs Load()
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
                    Counts[kind] = kind == CatalogKind.Loop ? Loops.Count : CatalogReader.ReadRecords(path, kind).LongCount();
                    _readable.Add(kind);
                }
                catch (FormatException e) { errors.Add(e.Message); }
            }
            Error = errors.Count == 0 ? null : string.Join("; ", errors);
            return this;
        }

        public IEnumerable<JsonElement> Stream(CatalogKind kind) =>
            !_readable.Contains(kind) ? [] : kind == CatalogKind.Loop ? Loops : CatalogReader.ReadRecords(Path.Combine(dir, CatalogFile.FileName(kind)), kind);
    }

    private void AistockSide(IAistockStore? store, string? storeError, Catalogs catalogs, List<ExpectedLoop> expected)
    {
        Add("ai.catalog_files", "aistock", "rdagent_data 目录包含所有 Catalog JSON 文件 / AIstock has every catalog", () =>
        {
            var bad = new List<string>();
            foreach (var kind in CatalogFile.All)
            {
                var name = CatalogFile.FileName(kind);
                var a = Path.Combine(settings.AistockCatalogDirectory, name);
                var b = Path.Combine(settings.CatalogDirectory, name);
                if (!File.Exists(a)) bad.Add($"{name} missing");
                else if (File.Exists(b) && FileDigest.Sha256OfFile(a) != FileDigest.Sha256OfFile(b)) bad.Add($"{name} differs from the RD-Agent side (run import)");
            }
            return (bad.Count == 0, bad.Count == 0 ? $"4 catalogs in {settings.AistockCatalogDirectory}, same as exported" : string.Join("; ", bad));
        });
        var loopRecords = catalogs.Loops;
        Add("ai.bundle_cache", "aistock", "rdagent_assets/bundles 目录包含所有资产包 / the asset cache holds every bundle", () =>
        {
            var bad = new List<string>();
            var ids = loopRecords.Select(r => Str(r, "asset_bundle_id")).OfType<string>().Distinct().ToList();
            foreach (var id in ids)
            {
                if (!BundleId.IsSafe(id)) { bad.Add($"{id}: unsafe id"); continue; }
                var cached = settings.AssetCache.Archive(id);
                if (!File.Exists(cached)) { bad.Add($"{id}: not copied"); continue; }
                var want = settings.Bundles.ReadDigest(id);
                var have = settings.AssetCache.Archives.ReadDigest(id);
                if (want is not null && have != want) bad.Add($"{id}: cached copy is outdated");
                else if (deep && FileDigest.Sha256OfFile(cached) != have) bad.Add($"{id}: cached archive does not match its .sha256");
            }
            return (bad.Count == 0 && ids.Count > 0, bad.Count == 0 ? $"{ids.Count} bundles cached{(deep ? ", every archive re-hashed" : "")}" : $"{bad.Count} bad: {string.Join("; ", bad.Take(5))}");
        });

        if (store is null)
        {
            foreach (var (id, title) in new[] {
                ("ai.db_records", "数据库表包含所有 Catalog 记录 / the database holds every record"),
                ("ai.db_bundle_ids", "所有记录包含 asset_bundle_id 字段 / every row carries asset_bundle_id"),
                ("ai.coverage", "asset_bundle_id 覆盖率达到 100% / 100% asset_bundle_id coverage") })
                Add(id, "aistock", title, false, $"the AIstock database cannot be opened: {storeError}");
            return;
        }
        Add("ai.db_records", "aistock", "数据库表包含所有 Catalog 记录 / the database holds every record", () =>
        {
            var bad = new List<string>();
            var parts = new List<string>();
            foreach (var kind in CatalogFile.All)
            {
                var inFile = catalogs.Counts[kind];
                var inDb = store.Count(kind);
                parts.Add($"{CatalogFile.ListName(kind)} {inDb}/{inFile}");
                if (inDb < inFile || inFile == 0 && kind == CatalogKind.Loop) bad.Add($"{CatalogFile.ListName(kind)}: {inDb} rows for {inFile} records");
            }
            // Foreign-key-like integrity: a factor, model or strategy row points at a loop that the loop catalog holds.
            foreach (var t in CatalogTable.All.Where(t => t.Kind != CatalogKind.Loop))
            {
                var orphans = store.Query($"""
                    SELECT {string.Join(", ", t.Key)}, task_run_id, loop_id FROM {t.Name} x
                    WHERE x.task_run_id IS NOT NULL AND NOT EXISTS (
                      SELECT 1 FROM aistock_loop_catalog l WHERE l.task_run_id = x.task_run_id AND l.loop_id = x.loop_id)
                    ORDER BY 1 LIMIT 5
                    """);
                if (orphans.Count > 0)
                    bad.Add($"{t.Name}: rows whose loop is not in aistock_loop_catalog, e.g. {string.Join(", ", orphans.Select(o => $"{o[0]} → loop {o[^2]}/{o[^1]}"))}");
            }
            return (bad.Count == 0, bad.Count == 0 ? string.Join(", ", parts) : string.Join("; ", bad));
        });
        Add("ai.db_bundle_ids", "aistock", "所有记录包含 asset_bundle_id 字段 / every row carries asset_bundle_id", () =>
        {
            var bad = new List<string>();
            foreach (var t in CatalogTable.All)
            {
                var n = (long)store.Query($"SELECT count(*) FROM {t.Name} WHERE asset_bundle_id IS NULL OR asset_bundle_id = '' OR asset_bundle_id <> ('bundle_' || task_run_id || '_' || loop_id)")[0][0]!;
                if (n > 0) bad.Add($"{t.Name}: {n} rows without their loop's asset_bundle_id");
            }
            return (bad.Count == 0, bad.Count == 0 ? "every row names the bundle of its own loop" : string.Join("; ", bad));
        });
        Add("ai.coverage", "aistock", "asset_bundle_id 覆盖率达到 100% / 100% asset_bundle_id coverage", () =>
        {
            var parts = CatalogFile.All.Select(k => (k, total: store.Count(k), with: store.CountWithBundle(k))).ToList();
            var ok = parts.All(p => p.total == p.with) && parts.First(p => p.k == CatalogKind.Loop).total > 0;
            return (ok, string.Join(", ", parts.Select(p => $"{CatalogFile.ListName(p.k)} {p.with}/{p.total}")));
        });
    }

    private void Linkage(RegistryDatabase? registry, IAistockStore? store, Catalogs catalogs, List<ExpectedLoop> expected)
    {
        var byKey = expected.ToDictionary(e => (e.Loop.TaskRunId, e.Loop.LoopId));
        var loopRecords = catalogs.Loops;
        Add("link.loop_workspace", "linkage", "Loop Catalog ↔ Workspace Path 关联正确 / each loop names its own workspace", () =>
        {
            var bad = new List<string>();
            foreach (var r in loopRecords)
            {
                var key = (Str(r, "task_run_id") ?? "", Long(r, "loop_id") ?? -1);
                if (!byKey.TryGetValue(key, out var e)) { bad.Add($"{key.Item1}/{key.Item2}: not a loop with results in the registry"); continue; }
                if (e.Workspaces.Primary is null) { bad.Add($"{e.Loop.Key}: no workspace in the registry"); continue; }
                if (Str(r, "workspace_id") != e.Workspaces.Primary.Row.WorkspaceId || Str(r, "workspace_path") != e.Workspaces.Primary.Row.WorkspacePath)
                    bad.Add($"{e.Loop.Key}: catalog names workspace {Str(r, "workspace_id")}, registry {e.Workspaces.Primary.Row.WorkspaceId}");
            }
            var absent = expected.Count - loopRecords.Count;
            if (absent > 0) bad.Add($"{absent} loops with results are not in the loop catalog");
            return (bad.Count == 0 && loopRecords.Count > 0, bad.Count == 0 ? $"{loopRecords.Count} loops match the registry's experiment workspace" : $"{bad.Count} wrong: {string.Join("; ", bad.Take(4))}");
        });
        Add("link.loop_bundle", "linkage", "Loop Catalog ↔ Asset Bundle ID 关联正确 / each loop names its own bundle", () =>
        {
            var bad = new List<string>();
            foreach (var r in loopRecords)
            {
                var tr = Str(r, "task_run_id"); var loop = Long(r, "loop_id");
                var id = Str(r, "asset_bundle_id");
                if (id != $"bundle_{tr}_{loop}") { bad.Add($"{tr}/{loop}: asset_bundle_id {id ?? "missing"}"); continue; }
                if (registry?.ReadBundle(tr!, loop!.Value) is not { } row || row.BundleId != id) bad.Add($"{tr}/{loop}: production_bundles disagrees");
                else
                {
                    var manifest = settings.AssetCache.ExtractedManifest(id);
                    if (File.Exists(manifest))
                    {
                        var m = BundleManifest.ReadSummary(File.ReadAllBytes(manifest));
                        if (m.TaskRunId != tr || m.LoopId != loop) bad.Add($"{id}: the cached bundle's manifest names loop {m.TaskRunId}/{m.LoopId}");
                    }
                }
            }
            return (bad.Count == 0 && loopRecords.Count > 0, bad.Count == 0 ? $"{loopRecords.Count} loops: catalog, registry and bundle manifest agree" : $"{bad.Count} wrong: {string.Join("; ", bad.Take(4))}");
        });

        var loopKeys = loopRecords.Select(r => (Str(r, "task_run_id"), Long(r, "loop_id"), Str(r, "asset_bundle_id"))).ToHashSet();
        void ToLoop(string id, string title, CatalogKind kind)
        {
            Add(id, "linkage", title, () =>
            {
                var bad = new List<string>();
                long records = 0;
                foreach (var r in catalogs.Stream(kind))
                {
                    records++;
                    var refs = new List<JsonElement> { r };
                    if (r.TryGetProperty("provenance", out var prov) && prov.ValueKind == JsonValueKind.Array) refs.AddRange(prov.EnumerateArray());
                    foreach (var x in refs)
                        if (!loopKeys.Contains((Str(x, "task_run_id"), Long(x, "loop_id"), Str(x, "asset_bundle_id"))))
                            bad.Add($"{Describe(r)} → {Str(x, "task_run_id")}/{Long(x, "loop_id")}");
                }
                return (bad.Count == 0, bad.Count == 0 ? $"{records} records each link to a loop of the loop catalog and its bundle" : $"{bad.Count} broken links, e.g. {string.Join("; ", bad.Take(3))}");
            });
        }
        ToLoop("link.factor_loop", "Factor Catalog ↔ Loop Catalog 关联正确 / factors link to their loops", CatalogKind.Factor);
        ToLoop("link.model_loop", "Model Catalog ↔ Loop Catalog 关联正确 / models link to their loops", CatalogKind.Model);
        ToLoop("link.strategy_loop", "Strategy Catalog ↔ Loop Catalog 关联正确 / strategies link to their loops", CatalogKind.Strategy);

        Add("link.workspace_files", "linkage", "Workspace 文件存在且可访问 / workspace files exist and are readable", () =>
        {
            var bad = new List<string>();
            foreach (var r in loopRecords)
            {
                var mapped = settings.PathMap.Map(Str(r, "workspace_path"));
                if (mapped.Local is null) { bad.Add($"{Describe(r)}: {mapped.Problem}"); continue; }
                if (!Directory.Exists(mapped.Local)) { bad.Add($"{Describe(r)}: {mapped.Local} missing"); continue; }
                try { using var _ = Directory.EnumerateFileSystemEntries(mapped.Local).GetEnumerator(); }
                catch (UnauthorizedAccessException) { bad.Add($"{Describe(r)}: {mapped.Local} not readable"); }
            }
            return (bad.Count == 0 && loopRecords.Count > 0, bad.Count == 0 ? $"{loopRecords.Count} workspaces reachable through the path map" : $"{bad.Count} unreachable: {string.Join("; ", bad.Take(3))}");
        });
        Add("link.bundle_extractable", "linkage", "Asset Bundle 文件存在且可解压 / bundles exist and extract", () =>
        {
            var bad = new List<string>();
            var ids = loopRecords.Select(r => Str(r, "asset_bundle_id")).OfType<string>().Where(BundleId.IsSafe).Distinct().ToList();
            foreach (var id in ids)
            {
                var cached = settings.AssetCache.Archive(id);
                if (!File.Exists(cached)) { bad.Add($"{id}: not in the cache"); continue; }
                try
                {
                    if (deep)
                    {
                        var scratch = Path.Combine(Path.GetTempPath(), $"rdbridge-verify-{Guid.NewGuid():N}");
                        try { SafeExtractor.Extract(cached, scratch); }
                        finally { if (Directory.Exists(scratch)) Directory.Delete(scratch, true); }
                    }
                    var archived = SafeExtractor.ReadManifest(cached);
                    var extracted = settings.AssetCache.ExtractedManifest(id);
                    if (archived is null) bad.Add($"{id}: no manifest");
                    else if (!FileContent.Holds(extracted, archived)) bad.Add($"{id}: not extracted, or extracted from another version");
                }
                catch (Exception e) when (e is UnsafeBundleException or InvalidDataException or IOException)
                {
                    bad.Add($"{id}: {e.Message}");
                }
            }
            return (bad.Count == 0 && ids.Count > 0, bad.Count == 0 ? $"{ids.Count} bundles open{(deep ? " and every file matches its manifest" : " and are extracted")}" : $"{bad.Count} bad: {string.Join("; ", bad.Take(4))}");
        });
    }

    private void Function(IAistockStore? store, string? storeError, Catalogs catalogs, RegistryDatabase? registry)
    {
        if (store is null)
        {
            foreach (var (id, title) in new[] {
                ("fn.query_by_loop", "可以通过 task_run_id 和 loop_id 查询到完整信息 / a loop's full information by its ids"),
                ("fn.bundle_by_id", "可以通过 asset_bundle_id 下载并解压资产包 / a bundle by its id"),
                ("fn.workspace_access", "可以通过 workspace_path 访问原始文件 / raw files by workspace_path"),
                ("fn.incremental_sync", "增量同步能够正确添加新数据 / incremental sync adds new data"),
                ("fn.no_duplicates", "重复同步不会产生重复数据 / repeated sync creates no duplicates") })
                Add(id, "function", title, false, $"the AIstock database cannot be opened: {storeError}");
            return;
        }
        var loops = store.Query("SELECT task_run_id, loop_id, asset_bundle_id, strategy_id, workspace_path, factor_names FROM aistock_loop_catalog ORDER BY task_run_id, loop_id");
        Add("fn.query_by_loop", "function", "可以通过 task_run_id 和 loop_id 查询到完整信息 / a loop's full information by its ids", () =>
        {
            var bad = new List<string>();
            foreach (var l in loops)
            {
                var key = $"{l[0]}/{l[1]}";
                var strategy = store.Query("SELECT count(*) FROM aistock_strategy_catalog WHERE strategy_id = @s", ("@s", l[3]));
                if ((long)strategy[0][0]! == 0) bad.Add($"{key}: strategy {l[3]} not found");
                foreach (var name in JsonSerializer.Deserialize<string[]>(l[5] as string ?? "[]") ?? [])
                    if ((long)store.Query("SELECT count(*) FROM aistock_factor_catalog WHERE name = @n", ("@n", name))[0][0]! == 0)
                        bad.Add($"{key}: factor {name} not found");
            }
            return (bad.Count == 0 && loops.Count > 0, bad.Count == 0 ? $"{loops.Count} loops resolve to their strategy, factors and bundle" : $"{bad.Count} gaps: {string.Join("; ", bad.Take(4))}");
        });
        Add("fn.bundle_by_id", "function", "可以通过 asset_bundle_id 下载并解压资产包 / a bundle by its id", () =>
        {
            var bad = loops.Select(l => l[2] as string).Where(id => id is null || !BundleId.IsSafe(id)
                || !File.Exists(settings.AssetCache.ExtractedManifest(id))).Select(id => id ?? "(none)").ToList();
            return (bad.Count == 0 && loops.Count > 0, bad.Count == 0 ? $"{loops.Count} bundles available extracted under {settings.AssetCacheDirectory}" : $"{bad.Count} unavailable: {string.Join(", ", bad.Take(5))}");
        });
        Add("fn.workspace_access", "function", "可以通过 workspace_path 访问原始文件 / raw files by workspace_path", () =>
        {
            var bad = new List<string>();
            foreach (var l in loops)
            {
                var mapped = settings.PathMap.Map(l[4] as string);
                var manifest = l[2] is string id && BundleId.IsSafe(id) ? settings.AssetCache.ExtractedManifest(id) : null;
                if (mapped.Local is null || !Directory.Exists(mapped.Local)) { bad.Add($"{l[0]}/{l[1]}: workspace unreachable"); continue; }
                if (manifest is null || !File.Exists(manifest)) continue;
                var m = BundleManifest.ReadSummary(File.ReadAllBytes(manifest));
                var wsId = Path.GetFileName(mapped.Local.TrimEnd('/', '\\'));
                var prefix = $"workspaces/{wsId}/";
                foreach (var f in m.Files.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    var local = Path.Combine(mapped.Local, f.Path[prefix.Length..]);
                    if (!File.Exists(local)) { bad.Add($"{l[0]}/{l[1]}: {f.Path[prefix.Length..]} gone from the workspace"); break; }
                }
            }
            return (bad.Count == 0 && loops.Count > 0, bad.Count == 0 ? $"{loops.Count} workspaces hold the files their bundles list" : $"{bad.Count} gaps: {string.Join("; ", bad.Take(4))}");
        });
        Add("fn.incremental_sync", "function", "增量同步能够正确添加新数据 / incremental sync adds new data", () =>
        {
            var stale = new List<string>();
            foreach (var kind in CatalogFile.All)
            {
                var table = CatalogTable.For(kind);
                foreach (var r in catalogs.Stream(kind))
                {
                    var row = table.Map(r);
                    var (values, hash) = (row.Values, row.ContentHash);
                    if (row.Error is not null) continue;
                    var where = string.Join(" AND ", table.Key.Select(k => $"{k} = @{k}"));
                    var rows = store.Query($"SELECT content_hash FROM {table.Name} WHERE {where}", table.Key.Select(k => ("@" + k, values[k])).ToArray());
                    if (rows.Count == 0 || rows[0][0] as string != hash) stale.Add($"{CatalogFile.ListName(kind)} {table.KeyOf(values)}");
                }
            }
            var last = store.LastSyncRun(successfulOnly: false);
            if (last?.Status == "running") last = store.LastSyncRun(successfulOnly: true) ?? last;
            var lastText = last is null ? "no sync run recorded yet" : last.Status == "running" ? $"run #{last.Id} ({last.Mode}) in progress" : $"last run #{last.Id} ({last.Mode}) {last.Status}";
            return (stale.Count == 0 && last?.Status != "failed", stale.Count == 0 ? $"every exported record is in the database, current; {lastText}" : $"{stale.Count} records missing or outdated, e.g. {string.Join("; ", stale.Take(3))}; {lastText}");
        });
        Add("fn.no_duplicates", "function", "重复同步不会产生重复数据 / repeated sync creates no duplicates", () =>
        {
            var bad = new List<string>();
            long Dup(string sql) => store.Query(sql).Count;
            if (Dup("SELECT task_run_id, loop_id FROM aistock_loop_catalog GROUP BY task_run_id, loop_id HAVING count(*) > 1") > 0) bad.Add("duplicate loops");
            if (Dup("SELECT name, source, fingerprint FROM aistock_factor_catalog GROUP BY name, source, fingerprint HAVING count(*) > 1") > 0) bad.Add("duplicate factors");
            if (Dup("SELECT task_run_id, loop_id, workspace_id FROM aistock_model_catalog GROUP BY task_run_id, loop_id, workspace_id HAVING count(*) > 1") > 0) bad.Add("duplicate models");
            if (registry is not null && registry.TableExists("production_bundles"))
            {
                using var cmd = registry.Connection.CreateCommand();
                cmd.CommandText = "SELECT count(*) FROM (SELECT task_run_id, loop_id FROM production_bundles GROUP BY task_run_id, loop_id HAVING count(*) > 1)";
                if ((long)cmd.ExecuteScalar()! > 0) bad.Add("a loop with two production_bundles rows");
            }
            if (Directory.Exists(settings.BundleDirectory) && registry is not null)
            {
                var known = new HashSet<string>(StringComparer.Ordinal);
                using (var cmd = registry.Connection.CreateCommand())
                {
                    cmd.CommandText = "SELECT bundle_id FROM production_bundles";
                    using var r = cmd.ExecuteReader();
                    while (r.Read()) known.Add(r.GetString(0));
                }
                var orphans = settings.Bundles.Ids().Where(id => !known.Contains(id)).ToList();
                if (orphans.Count > 0) bad.Add($"{orphans.Count} orphan bundle files ({string.Join(", ", orphans.Take(3))})");
            }
            return (bad.Count == 0, bad.Count == 0 ? "no duplicate loops, factors, models or bundles; no orphan bundle files" : string.Join("; ", bad));
        });
    }

    private void Add(string id, string group, string title, bool passed, string detail) => _results.Add(new CheckResult(id, group, title, passed, detail));

    private void Add(string id, string group, string title, Func<(bool, string)> check)
    {
        try
        {
            var (passed, detail) = check();
            Add(id, group, title, passed, detail);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
        {
            Add(id, group, title, false, $"the check could not run: {e.Message}");
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Long(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) ? l : null;

    private static string Describe(JsonElement r) =>
        Str(r, "factor_id") ?? Str(r, "model_id") ?? Str(r, "strategy_id") ?? $"{Str(r, "task_run_id")}/{Long(r, "loop_id")}";
}
