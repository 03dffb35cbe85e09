using Microsoft.Data.Sqlite;

namespace RdBridge.Registry;

/// <summary>One table of the RD-Agent registry as RdBridge expects it (the newest schema the Python tools wrote, plus
/// RdBridge's own columns).</summary>
public sealed record TableSpec(
    string Name, IReadOnlyList<(string Column, string Definition)> Columns, IReadOnlyList<string> Constraints,
    IReadOnlyList<string> Indexes)
{
    public string CreateSql =>
        $"CREATE TABLE IF NOT EXISTS {Name} (\n  " +
        string.Join(",\n  ", Columns.Select(c => $"{c.Column} {c.Definition}").Concat(Constraints)) + "\n)";
}

/// <summary>A difference between a registry on disk and the schema RdBridge expects.</summary>
public sealed record SchemaGap(string Table, string? Column, string Fix)
{
    public override string ToString() =>
        Column is null ? $"table {Table} is missing" : $"column {Table}.{Column} is missing";
}

/// <summary>
/// The registry schema, declared once: the sample generator creates it, <c>doctor</c> audits against it and
/// <c>doctor --fix</c> adds whatever an older registry lacks (never dropping anything).
/// </summary>
public static class RegistrySchema
{
    public static readonly IReadOnlyList<TableSpec> Tables =
    [
        new("task_runs",
        [
            ("task_run_id", "TEXT PRIMARY KEY"), ("scenario", "TEXT"), ("status", "TEXT"),
            ("created_at_utc", "TEXT"), ("updated_at_utc", "TEXT"), ("git_sha", "TEXT"), ("rdagent_version", "TEXT"),
            ("log_trace_path", "TEXT"), ("params_json", "TEXT"),
        ], [], []),
        new("loops",
        [
            ("task_run_id", "TEXT NOT NULL"), ("loop_id", "INTEGER NOT NULL"), ("action", "TEXT"), ("status", "TEXT"),
            ("has_result", "INTEGER DEFAULT 0"), ("best_workspace_id", "TEXT"), ("started_at_utc", "TEXT"),
            ("ended_at_utc", "TEXT"),
            ("error_type", "TEXT"), ("error_message", "TEXT"),
            ("ic_mean", "REAL"), ("rank_ic_mean", "REAL"), ("ann_return", "REAL"), ("mdd", "REAL"),
            ("turnover", "REAL"), ("multi_score", "REAL"),
            ("metrics_json", "TEXT"), ("log_dir", "TEXT"),
            ("materialization_status", "TEXT"), ("materialization_error", "TEXT"),
            ("materialization_updated_at_utc", "TEXT"),
            ("asset_bundle_id", "TEXT"), ("is_solidified", "INTEGER DEFAULT 0"),
            ("sync_status", "TEXT DEFAULT 'pending'"),
            ("updated_at_utc", "TEXT"),
            // The guide's loop query reads the loop's experiment workspace from the loop itself; backfill keeps
            // them current.
            ("workspace_id", "TEXT"), ("workspace_path", "TEXT"),
        ], ["PRIMARY KEY (task_run_id, loop_id)"], []),
        new("workspaces",
        [
            ("workspace_id", "TEXT PRIMARY KEY"), ("task_run_id", "TEXT NOT NULL"), ("loop_id", "INTEGER"),
            ("workspace_role", "TEXT"), ("experiment_type", "TEXT"), ("step_name", "TEXT"), ("status", "TEXT"),
            ("workspace_path", "TEXT NOT NULL"), ("meta_path", "TEXT"), ("summary_path", "TEXT"),
            ("manifest_path", "TEXT"),
            ("created_at_utc", "TEXT"), ("updated_at_utc", "TEXT"),
        ], [],
        [
            "CREATE INDEX IF NOT EXISTS idx_workspaces_task_loop ON workspaces(task_run_id, loop_id)",
            "CREATE INDEX IF NOT EXISTS idx_workspaces_role ON workspaces(workspace_role)",
        ]),
        new("artifacts",
        [
            ("artifact_id", "TEXT PRIMARY KEY"), ("task_run_id", "TEXT NOT NULL"), ("loop_id", "INTEGER"),
            ("workspace_id", "TEXT NOT NULL"),
            ("artifact_type", "TEXT"), ("name", "TEXT"), ("version", "TEXT"), ("status", "TEXT"),
            ("primary_flag", "INTEGER DEFAULT 0"),
            ("summary_json", "TEXT"), ("entry_path", "TEXT"), ("model_type", "TEXT"), ("model_conf_json", "TEXT"),
            ("dataset_conf_json", "TEXT"), ("feature_schema_json", "TEXT"), ("created_at_utc", "TEXT"),
            ("updated_at_utc", "TEXT"),
        ], [],
        [
            "CREATE INDEX IF NOT EXISTS idx_artifacts_task_loop ON artifacts(task_run_id, loop_id)",
            "CREATE INDEX IF NOT EXISTS idx_artifacts_workspace ON artifacts(workspace_id)",
        ]),
        new("artifact_files",
        [
            ("file_id", "TEXT PRIMARY KEY"), ("artifact_id", "TEXT NOT NULL"), ("workspace_id", "TEXT NOT NULL"),
            ("path", "TEXT NOT NULL"),
            ("sha256", "TEXT"), ("size_bytes", "INTEGER"), ("mtime_utc", "TEXT"), ("kind", "TEXT"),
        ], [], ["CREATE INDEX IF NOT EXISTS idx_artifact_files_artifact ON artifact_files(artifact_id)"]),
        new("factor_registry",
        [
            ("factor_name", "TEXT NOT NULL"), ("expression", "TEXT"), ("performance_json", "TEXT"),
            ("asset_bundle_id", "TEXT NOT NULL"),
            ("workspace_id", "TEXT"), ("task_run_id", "TEXT"), ("loop_id", "INTEGER"), ("updated_at_utc", "TEXT"),
        ], ["PRIMARY KEY (factor_name, asset_bundle_id)"], []),
        new("production_bundles",
        [
            ("id", "INTEGER PRIMARY KEY AUTOINCREMENT"), ("task_run_id", "TEXT NOT NULL"),
            ("loop_id", "INTEGER NOT NULL"),
            ("bundle_id", "TEXT NOT NULL UNIQUE"), ("bundle_path", "TEXT NOT NULL"), ("created_at", "TEXT NOT NULL"),
            ("updated_at", "TEXT"),
            // RdBridge's additions: what the bundle holds, so a re-run can tell whether it must rebuild.
            ("content_digest", "TEXT"), ("archive_sha256", "TEXT"), ("size_bytes", "INTEGER"),
            ("file_count", "INTEGER"),
        ], ["UNIQUE (task_run_id, loop_id)"],
        [
            "CREATE INDEX IF NOT EXISTS idx_production_bundles_task_loop ON production_bundles(task_run_id, loop_id)",
        ]),
        // RdBridge's own bookkeeping: what each loop looked like (its rows and a stat of its files) at the end of the
        // last successful run of a pipeline, so the next run examines exactly the loops that differ.
        new(LoopStateTable,
        [
            ("pipeline", "TEXT NOT NULL"), ("task_run_id", "TEXT NOT NULL"), ("loop_id", "INTEGER NOT NULL"),
            ("fingerprint", "TEXT NOT NULL"), ("recorded_at_utc", "TEXT"),
        ], ["PRIMARY KEY (pipeline, task_run_id, loop_id)"], []),
        // And a stat of what the pipeline produced outside the loops' folders (catalogs, the asset cache) then.
        new(RunStateTable,
        [
            ("pipeline", "TEXT PRIMARY KEY"), ("products_fingerprint", "TEXT"), ("recorded_at_utc", "TEXT"),
        ], [], []),
    ];

    public const string LoopStateTable = "rdbridge_loop_state";
    public const string RunStateTable = "rdbridge_run_state";

    public static void Create(SqliteConnection connection)
    {
        using var tx = connection.BeginTransaction();
        foreach (var table in Tables)
        {
            Execute(connection, tx, table.CreateSql);
            foreach (var index in table.Indexes) Execute(connection, tx, index);
        }
        tx.Commit();
    }

    /// <summary>What the registry on disk lacks compared with <see cref="Tables"/>.</summary>
    public static IReadOnlyList<SchemaGap> Audit(SqliteConnection connection)
    {
        var gaps = new List<SchemaGap>();
        foreach (var table in Tables)
        {
            var existing = ExistingColumns(connection, table.Name);
            if (existing.Count == 0)
            {
                gaps.Add(new SchemaGap(table.Name, null, table.CreateSql));
                continue;
            }
            foreach (var (column, definition) in table.Columns)
            {
                if (!existing.Contains(column))
                {
                    gaps.Add(new SchemaGap(table.Name, column,
                        $"ALTER TABLE {table.Name} ADD COLUMN {column} {AddableDefinition(definition)}"));
                }
            }
        }
        return gaps;
    }

    /// <summary>Adds the missing tables and columns in one transaction. Never drops or rewrites data.</summary>
    public static IReadOnlyList<SchemaGap> Migrate(SqliteConnection connection)
    {
        var gaps = Audit(connection);
        if (gaps.Count == 0) return gaps;
        using var tx = connection.BeginTransaction();
        foreach (var gap in gaps) Execute(connection, tx, gap.Fix);
        foreach (var table in Tables)
            foreach (var index in table.Indexes) Execute(connection, tx, index);
        tx.Commit();
        return gaps;
    }

    private static HashSet<string> ExistingColumns(SqliteConnection connection, string table)
    {
        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT name FROM pragma_table_info($table)";
        cmd.Parameters.AddWithValue("$table", table);
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) columns.Add(reader.GetString(0));
        return columns;
    }

    // SQLite cannot add a column that is a key or NOT NULL without a default.
    private static string AddableDefinition(string definition) =>
        definition.Replace("PRIMARY KEY AUTOINCREMENT", "").Replace("PRIMARY KEY", "").Replace("NOT NULL UNIQUE", "")
            .Replace("NOT NULL", "").Replace("UNIQUE", "").Trim();

    private static void Execute(SqliteConnection connection, SqliteTransaction tx, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
