namespace RdBridge.Verify;

/// <summary>The four lists of the guide's 验证检查清单, in its order.</summary>
public static class CheckGroup
{
    public const string RdAgent = "rdagent";
    public const string Aistock = "aistock";
    public const string Linkage = "linkage";
    public const string Function = "function";
}

/// <summary>What a check reads besides files; without it the check fails and says why instead of running.</summary>
[Flags]
public enum CheckNeeds { Files = 0, Registry = 1, Store = 2 }

/// <summary>
/// One item of the checklist: its id (stable, in <c>verify --json</c>), its list, its title as the guide writes it
/// (Chinese, then English when the guide's words need it) and the function that checks it.
/// </summary>
public sealed record Check(string Id, string Group, string TitleCn, string? TitleEn, CheckNeeds Needs,
    Func<VerifyContext, (bool Passed, string Detail)> Run)
{
    public string Title => TitleEn is null ? TitleCn : $"{TitleCn} / {TitleEn}";
}

/// <summary>The checklist as data: every item once, in the order <c>verify</c> prints them.</summary>
public static class Checks
{
    public static readonly IReadOnlyList<Check> All =
    [
        new("rd.registry_loops", CheckGroup.RdAgent, "Registry 数据库包含所有 Loop 记录", "registry holds every loop",
            CheckNeeds.Registry, RdAgentChecks.RegistryLoops),
        new("rd.workspace_metadata", CheckGroup.RdAgent, "Workspace 目录包含所有元数据文件", "workspaces hold every metadata file",
            CheckNeeds.Registry, RdAgentChecks.WorkspaceMetadata),
        new("rd.model_meta_preprocess", CheckGroup.RdAgent, "model_meta.json 包含 preprocess_config", null,
            CheckNeeds.Registry, RdAgentChecks.ModelMetaPreprocess),
        new("rd.factor_meta_input_schema", CheckGroup.RdAgent, "factor_meta.json 包含 input_schema", null,
            CheckNeeds.Registry, RdAgentChecks.FactorMetaInputSchema),
        new("rd.strategy_meta_portfolio", CheckGroup.RdAgent, "strategy_meta.json 包含 portfolio_config", null,
            CheckNeeds.Registry, RdAgentChecks.StrategyMetaPortfolio),
        new("rd.bundle_files", CheckGroup.RdAgent, "production_bundles 目录包含所有资产包", "every bundle file exists",
            CheckNeeds.Registry, RdAgentChecks.BundleFiles),
        new("rd.bundle_rows", CheckGroup.RdAgent, "production_bundles 表包含所有资产包记录", "every bundle has its registry row",
            CheckNeeds.Registry, RdAgentChecks.BundleRows),
        new("rd.catalog_bundle_ids", CheckGroup.RdAgent, "Catalog JSON 文件包含 asset_bundle_id 字段",
            "catalogs carry asset_bundle_id",
            CheckNeeds.Files, RdAgentChecks.CatalogBundleIds),

        new("ai.catalog_files", CheckGroup.Aistock, "rdagent_data 目录包含所有 Catalog JSON 文件", "AIstock has every catalog",
            CheckNeeds.Files, AistockChecks.CatalogFiles),
        new("ai.bundle_cache", CheckGroup.Aistock, "rdagent_assets/bundles 目录包含所有资产包",
            "the asset cache holds every bundle",
            CheckNeeds.Files, AistockChecks.BundleCache),
        new("ai.db_records", CheckGroup.Aistock, "数据库表包含所有 Catalog 记录", "the database holds every record",
            CheckNeeds.Store, AistockChecks.DbRecords),
        new("ai.db_bundle_ids", CheckGroup.Aistock, "所有记录包含 asset_bundle_id 字段", "every row carries asset_bundle_id",
            CheckNeeds.Store, AistockChecks.DbBundleIds),
        new("ai.coverage", CheckGroup.Aistock, "asset_bundle_id 覆盖率达到 100%", "100% asset_bundle_id coverage",
            CheckNeeds.Store, AistockChecks.Coverage),

        new("link.loop_workspace", CheckGroup.Linkage, "Loop Catalog ↔ Workspace Path 关联正确",
            "each loop names its own workspace",
            CheckNeeds.Files, LinkageChecks.LoopWorkspace),
        new("link.loop_bundle", CheckGroup.Linkage, "Loop Catalog ↔ Asset Bundle ID 关联正确",
            "each loop names its own bundle",
            CheckNeeds.Files, LinkageChecks.LoopBundle),
        new("link.factor_loop", CheckGroup.Linkage, "Factor Catalog ↔ Loop Catalog 关联正确", "factors link to their loops",
            CheckNeeds.Files, LinkageChecks.FactorLoop),
        new("link.model_loop", CheckGroup.Linkage, "Model Catalog ↔ Loop Catalog 关联正确", "models link to their loops",
            CheckNeeds.Files, LinkageChecks.ModelLoop),
        new("link.strategy_loop", CheckGroup.Linkage, "Strategy Catalog ↔ Loop Catalog 关联正确",
            "strategies link to their loops",
            CheckNeeds.Files, LinkageChecks.StrategyLoop),
        new("link.workspace_files", CheckGroup.Linkage, "Workspace 文件存在且可访问", "workspace files exist and are readable",
            CheckNeeds.Files, LinkageChecks.WorkspaceFiles),
        new("link.bundle_extractable", CheckGroup.Linkage, "Asset Bundle 文件存在且可解压", "bundles exist and extract",
            CheckNeeds.Files, LinkageChecks.BundleExtractable),

        new("fn.query_by_loop", CheckGroup.Function, "可以通过 task_run_id 和 loop_id 查询到完整信息",
            "a loop's full information by its ids",
            CheckNeeds.Store, FunctionChecks.QueryByLoop),
        new("fn.bundle_by_id", CheckGroup.Function, "可以通过 asset_bundle_id 下载并解压资产包", "a bundle by its id",
            CheckNeeds.Store, FunctionChecks.BundleById),
        new("fn.workspace_access", CheckGroup.Function, "可以通过 workspace_path 访问原始文件", "raw files by workspace_path",
            CheckNeeds.Store, FunctionChecks.WorkspaceAccess),
        new("fn.incremental_sync", CheckGroup.Function, "增量同步能够正确添加新数据", "incremental sync adds new data",
            CheckNeeds.Store, FunctionChecks.IncrementalSync),
        new("fn.no_duplicates", CheckGroup.Function, "重复同步不会产生重复数据", "repeated sync creates no duplicates",
            CheckNeeds.Store, FunctionChecks.NoDuplicates),
    ];
}
