using Microsoft.Data.Sqlite;

namespace RdBridge.Registry;

// What RdBridge itself recorded in the registry: built bundles, backfilled artifacts and each pipeline's last state.
public sealed partial class RegistryDatabase
{
    /// <summary>The first <paramref name="limit"/> workspace paths by id (doctor samples the path map).</summary>
    public IReadOnlyList<string?> SampleWorkspacePaths(int limit)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT workspace_path FROM workspaces ORDER BY workspace_id LIMIT $limit";
        cmd.Parameters.AddWithValue("$limit", limit);
        using var reader = cmd.ExecuteReader();
        var list = new List<string?>();
        while (reader.Read()) list.Add(Text(reader, 0));
        return list;
    }

    public BundleRow? ReadBundle(string taskRunId, long loopId)
    {
        if (!TableExists("production_bundles")) return null;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"{BundleColumns} WHERE task_run_id = $tr AND loop_id = $loop";
        cmd.Parameters.AddWithValue("$tr", taskRunId);
        cmd.Parameters.AddWithValue("$loop", loopId);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? BundleOf(reader) : null;
    }

    private const string BundleColumns = """
        SELECT task_run_id, loop_id, bundle_id, bundle_path, content_digest, archive_sha256, size_bytes, file_count
        FROM production_bundles
        """;

    private BundleRow? BundleOf(SqliteDataReader reader)
    {
        var key = $"{Shown(reader, 0)}/{Shown(reader, 1)}";
        if (reader.GetValue(0) is not string taskRunId || reader.GetValue(1) is not long loopId)
        {
            Bad("production_bundles", key, "task_run_id or loop_id is NULL or not of its type");
            return null;
        }
        if (reader.GetValue(2) is not string bundleId || reader.GetValue(3) is not string bundlePath)
        {
            Bad("production_bundles", key, "bundle_id or bundle_path is NULL (the bundle is built again)");
            return null;
        }
        if (Integer(reader, 6, out var size) is false || Integer(reader, 7, out var files) is false)
        {
            Bad("production_bundles", key, "size_bytes or file_count is not an integer (the bundle is built again)");
            return null;
        }
        return new BundleRow(taskRunId, loopId, bundleId, bundlePath, Text(reader, 4), Text(reader, 5), size, files);
    }

    /// <summary>The bundle ids <c>production_bundles</c> holds (none when the table does not exist).</summary>
    public IReadOnlySet<string> ReadBundleIds()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        if (!TableExists("production_bundles")) return ids;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT bundle_id FROM production_bundles WHERE bundle_id IS NOT NULL";
        using var r = cmd.ExecuteReader();
        while (r.Read()) ids.Add(Text(r, 0)!);
        return ids;
    }

    /// <summary>Whether some loop has two <c>production_bundles</c> rows.</summary>
    public bool HasLoopWithTwoBundleRows()
    {
        if (!TableExists("production_bundles")) return false;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT count(*) FROM (
                SELECT task_run_id, loop_id FROM production_bundles GROUP BY task_run_id, loop_id HAVING count(*) > 1)
            """;
        return (long)cmd.ExecuteScalar()! > 0;
    }

    /// <summary>Every built bundle with the time its row last changed, oldest first.</summary>
    public IReadOnlyList<BuiltBundleRow> ReadBuiltBundles()
    {
        if (!TableExists("production_bundles")) return [];
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT bundle_id, task_run_id, loop_id, archive_sha256, size_bytes,
                   coalesce(updated_at, created_at) AS changed
            FROM production_bundles
            WHERE archive_sha256 IS NOT NULL
            ORDER BY changed, bundle_id
            """;
        using var r = cmd.ExecuteReader();
        var list = new List<BuiltBundleRow>();
        while (r.Read())
        {
            var key = $"{Shown(r, 1)}/{Shown(r, 2)}";
            if (r.GetValue(0) is not string id || r.GetValue(1) is not string taskRun || r.GetValue(2) is not long loop
                || r.GetValue(5) is not string changed || Integer(r, 4, out var size) is false)
            {
                Bad("production_bundles", key,
                    "bundle_id, task_run_id, loop_id, size_bytes or its time is missing or of the wrong type");
            }
            else
            {
                list.Add(new BuiltBundleRow(id, taskRun, loop, Text(r, 3)!, size ?? 0, changed));
            }
        }
        return list;
    }

    /// <summary>The <c>artifacts</c> row with this id, or null.</summary>
    public ArtifactRow? ReadArtifact(string artifactId)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT artifact_id, task_run_id, loop_id, workspace_id, artifact_type, name, status, primary_flag,
                   entry_path
            FROM artifacts WHERE artifact_id = $id
            """;
        cmd.Parameters.AddWithValue("$id", artifactId);
        using var r = cmd.ExecuteReader();
        // Only a row backfill itself would have written counts as present: status 'present' and integer fields.
        if (!r.Read() || Text(r, 6) != "present" || r.GetValue(7) is not long primary) return null;
        return new ArtifactRow(artifactId, Text(r, 1) ?? "", r.GetValue(2) as long?, Text(r, 3) ?? "",
            Text(r, 4) ?? "", Text(r, 5) ?? "", primary != 0, Text(r, 8) ?? "");
    }

    /// <summary>The <c>artifact_files</c> row with this id; null when missing or not as backfill writes it.</summary>
    public ArtifactFileRow? ReadArtifactFile(string fileId)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT file_id, artifact_id, workspace_id, path, sha256, size_bytes, mtime_utc, kind
            FROM artifact_files WHERE file_id = $id
            """;
        cmd.Parameters.AddWithValue("$id", fileId);
        using var r = cmd.ExecuteReader();
        if (!r.Read() || r.GetValue(4) is not string sha || r.GetValue(5) is not long size) return null;
        return new ArtifactFileRow(fileId, Text(r, 1) ?? "", Text(r, 2) ?? "", Text(r, 3) ?? "", sha, size,
            Text(r, 6) ?? "", Text(r, 7) ?? "");
    }

    /// <summary>How many <c>factor_registry</c> rows name this bundle.</summary>
    public long CountFactorsOfBundle(string bundleId)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM factor_registry WHERE asset_bundle_id = $b";
        cmd.Parameters.AddWithValue("$b", bundleId);
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>The products fingerprint the last successful run of <paramref name="pipeline"/> recorded.</summary>
    public string? ReadProductsState(string pipeline)
    {
        if (!TableExists(RegistrySchema.RunStateTable)) return null;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT products_fingerprint FROM rdbridge_run_state WHERE pipeline = $p";
        cmd.Parameters.AddWithValue("$p", pipeline);
        return cmd.ExecuteScalar() as string;
    }

    /// <summary>
    /// What the last successful run of <paramref name="pipeline"/> recorded of each loop, by
    /// <see cref="LoopState.Key"/>.
    /// A row whose digest is not one (edited by hand) is left out, so its loop is examined again.
    /// </summary>
    public IReadOnlyDictionary<string, LoopDigest> ReadLoopStates(string pipeline)
    {
        var states = new Dictionary<string, LoopDigest>(StringComparer.Ordinal);
        if (!TableExists(RegistrySchema.LoopStateTable)) return states;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = """
            SELECT task_run_id, loop_id, fingerprint FROM rdbridge_loop_state
            WHERE pipeline = $p ORDER BY task_run_id, loop_id
            """;
        cmd.Parameters.AddWithValue("$p", pipeline);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            if (r.GetValue(0) is string tr && r.GetValue(1) is long loop && r.GetValue(2) is string fingerprint
                && LoopDigest.Parse(fingerprint) is { } digest)
            {
                states[$"{tr}/{loop}"] = digest;
            }
        }

        return states;
    }
}
