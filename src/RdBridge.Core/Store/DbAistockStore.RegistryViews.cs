using System.Data.Common;
using RdBridge.IO;

namespace RdBridge.Store;

// The registry's tables as AIstock sees them (issue 26, point 15): the guide's 关联查询 joins AIstock's catalog tables
// to the registry's loops, workspaces and production_bundles, so AIstock's database carries those names too.
public abstract partial class DbAistockStore
{
    /// <summary>Where a bundle is on the AIstock side, relative to its root, in the default layout (步骤 5).</summary>
    public const string DefaultBundlePrefix = "rdagent_assets/bundles/";

    /// <summary>
    /// What <c>production_bundles.bundle_path</c> puts before <c>&lt;bundle_id&gt;.tar.gz</c>: the configured
    /// <c>aistock.assets</c> folder, relative to the AIstock root with '/' (the same text on every OS), or absolute
    /// when it lies outside the root. Set by <see cref="AistockStores.Open"/> from the settings.
    /// </summary>
    public string BundlePrefix { get; set; } = DefaultBundlePrefix;

    /// <summary>The prefix of <paramref name="bundleFolder"/> as seen from <paramref name="aistockRoot"/>.</summary>
    public static string BundlePrefixOf(string aistockRoot, string bundleFolder)
    {
        var relative = PortablePath.Relative(Path.GetFullPath(aistockRoot), Path.GetFullPath(bundleFolder));
        var path = (PortablePath.IsOutside(relative) ? PortablePath.Of(Path.GetFullPath(bundleFolder)) : relative)
            .TrimEnd('/');
        return path == "." ? "" : path + "/";
    }

    /// <summary>
    /// The registry's task runs, loops, workspaces and bundles, as views over the imported catalogs: what import writes
    /// is what they show, with no second copy to keep current. Columns keep the registry's names (and the catalog's
    /// origin); <c>production_bundles.bundle_path</c> is the bundle's place under the AIstock root.
    /// </summary>
    public IReadOnlyList<(string Name, string Select)> RegistryViews =>
    [
        ("task_runs", """
            SELECT task_run_id, max(scenario) AS scenario, min(started_at_utc) AS created_at_utc,
              max(ended_at_utc) AS updated_at_utc, max(log_dir) AS log_trace_path, count(*) AS loop_count,
              max(origin) AS origin
            FROM aistock_loop_catalog GROUP BY task_run_id
            """),
        ("loops", """
            SELECT task_run_id, loop_id, action, status, has_result, workspace_id AS best_workspace_id,
              started_at_utc, ended_at_utc, error_type, ic AS ic_mean, rank_ic AS rank_ic_mean,
              annualized_return AS ann_return, max_drawdown AS mdd, metrics AS metrics_json, log_dir,
              asset_bundle_id, is_solidified, workspace_id, workspace_path, updated_at AS updated_at_utc, origin
            FROM aistock_loop_catalog
            """),
        ("workspaces", """
            SELECT workspace_id, task_run_id, loop_id, workspace_path, origin
            FROM aistock_loop_catalog WHERE workspace_id IS NOT NULL
            UNION
            SELECT workspace_id, task_run_id, loop_id, workspace_path, origin
            FROM aistock_model_catalog WHERE workspace_id IS NOT NULL
            UNION
            SELECT workspace_id, task_run_id, loop_id, workspace_path, origin
            FROM aistock_strategy_catalog WHERE workspace_id IS NOT NULL
            """),
        ("production_bundles", $"""
            SELECT task_run_id, loop_id, asset_bundle_id AS bundle_id,
              '{BundlePrefix.Replace("'", "''")}' || asset_bundle_id || '.tar.gz' AS bundle_path,
              imported_at AS created_at, updated_at, origin
            FROM aistock_loop_catalog WHERE asset_bundle_id IS NOT NULL
            """),
    ];

    /// <summary>
    /// Makes the registry views exist, as of this RdBridge, inside an import's transaction (the hook every import
    /// commits through). A view already as written is left alone; a table of the same name is AIstock's own and is
    /// never touched.
    /// </summary>
    protected void KeepRegistryViews(DbTransaction tx)
    {
        // The views read columns of the newest schema; a store still part-way through its migrations (an import
        // migrates first, so only a store opened without migrating) gets them once it is there. PostgreSQL checks a
        // view's columns when it is made, and would fail the import.
        if (SchemaVersion < StoreSchema.Latest) return;
        foreach (var (name, select) in RegistryViews)
        {
            var create = $"CREATE VIEW {name} AS\n{select}";
            var marker = "rdbridge " + IO.FileDigest.Sha256OfBytes(System.Text.Encoding.UTF8.GetBytes(create))[..16];
            var (kind, current) = ExistingRelation(tx, name);
            if (kind is not null && kind != "view") continue;
            if (kind == "view" && (Dialect == SqlDialect.Sqlite ? current == create : current == marker)) continue;
            if (kind == "view") Exec($"DROP VIEW {name}", tx);
            Exec(create, tx);
            // PostgreSQL keeps a view's text normalised, not as written: a comment says which definition it is.
            if (Dialect == SqlDialect.Postgres) Exec($"COMMENT ON VIEW {name} IS '{marker}'", tx);
        }
    }

    /// <summary>What a name is in this database ("table", "view", or null) and, for a view, how to tell its
    /// definition.</summary>
    private (string? Kind, string? Definition) ExistingRelation(DbTransaction tx, string name)
    {
        var sql = Dialect == SqlDialect.Sqlite
            ? "SELECT type, sql FROM sqlite_master WHERE name = @n"
            : """
              SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END, obj_description(c.oid, 'pg_class')
              FROM pg_class c WHERE c.oid = to_regclass(@n)
              """;
        using var cmd = Command(sql, tx, ("@n", name));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return (null, null);
        return (r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1));
    }
}
