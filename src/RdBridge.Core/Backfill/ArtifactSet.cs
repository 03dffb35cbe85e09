using System.Globalization;
using Microsoft.Data.Sqlite;
using RdBridge.IO;
using RdBridge.Registry;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>One registered file: where it is relative to its workspace, and what it holds.</summary>
public sealed record ArtifactFile(string FileId, string WorkspaceId, string RelativePath, string Sha256, long Size, string MtimeUtc, string Kind);

/// <summary>An <c>artifacts</c> row with its files. Ids are derived from the loop, workspace, type and name, so a re-run replaces instead of duplicating.</summary>
public sealed record Artifact(string ArtifactId, string WorkspaceId, string Type, string Name, bool Primary, string EntryPath, IReadOnlyList<ArtifactFile> Files);

public static class ArtifactSet
{
    public static IReadOnlyList<Artifact> Collect(LoopWorkspaces lw)
    {
        var loop = lw.Loop;
        var ws = lw.Primary!;
        var dir = ws.Local!;
        var list = new List<Artifact>();

        void Add(string wsId, string wsDir, string type, string name, bool primary, string kind, IEnumerable<string> relPaths)
        {
            var paths = relPaths.Where(p => RegularFile.Exists(Path.Combine(wsDir, p))).Order(StringComparer.Ordinal).ToList();
            if (paths.Count == 0) return;
            var artifactId = Id("artifact", loop.TaskRunId, wsId, type, name);
            var files = paths.Select(p =>
            {
                var full = Path.Combine(wsDir, p);
                var info = new FileInfo(full);
                return new ArtifactFile(Id("file", artifactId, wsId, p), wsId, p, FileDigest.Sha256OfFile(full), info.Length,
                    UtcText.FormatSeconds(info.LastWriteTimeUtc), kind);
            }).ToList();
            list.Add(new Artifact(artifactId, wsId, type, name, primary, paths[0], files));
        }

        var wsId = ws.Row.WorkspaceId;
        Add(wsId, dir, "factor_meta", "factor_meta", false, "meta", [WorkspaceFiles.FactorMeta]);
        Add(wsId, dir, "factor_perf", "factor_perf", false, "meta", [WorkspaceFiles.FactorPerf]);
        Add(wsId, dir, "feedback", "feedback", false, "meta", [WorkspaceFiles.Feedback]);
        Add(wsId, dir, "model_meta", "model_meta", false, "meta", [WorkspaceFiles.ModelMeta]);
        Add(wsId, dir, "strategy_meta", "strategy_meta", false, "meta", [WorkspaceFiles.StrategyMeta]);
        Add(wsId, dir, "backtest_metrics", "qlib_res", true, "result", [WorkspaceFiles.QlibRes]);
        Add(wsId, dir, "backtest_curve", "ret", true, "result", [WorkspaceFiles.RetPkl]);
        if (WorkspaceFiles.ModelWeights(dir) is { } weights)
            Add(wsId, dir, "model", "model_weights", true, "weights", [weights]);
        Add(wsId, dir, "model_code", "model_py", false, "code", ["model.py"]);
        Add(wsId, dir, "config_snapshot", "workspace_configs", true, "config",
            Directory.EnumerateFiles(dir).Select(Path.GetFileName).Where(n => n!.EndsWith(".yaml", StringComparison.Ordinal) || n.EndsWith(".yml", StringComparison.Ordinal))!);
        foreach (var sub in lw.SubWorkspaces)
        {
            Add(sub.Row.WorkspaceId, sub.Local!, "factor_code", "factor_py", true, "code", ["factor.py"]);
            Add(sub.Row.WorkspaceId, sub.Local!, "model_code", "model_py", false, "code", ["model.py"]);
        }
        return list;
    }

    /// <summary>Whether any row is missing or differs, so an unchanged loop opens no write transaction at all.</summary>
    public static bool NeedsWrite(RegistryDatabase registry, IReadOnlyList<Artifact> artifacts)
    {
        foreach (var a in artifacts)
        {
            using (var cmd = registry.Connection.CreateCommand())
            {
                cmd.CommandText = "SELECT status, primary_flag, entry_path FROM artifacts WHERE artifact_id = $id";
                cmd.Parameters.AddWithValue("$id", a.ArtifactId);
                using var r = cmd.ExecuteReader();
                if (!r.Read() || r.IsDBNull(0) || r.GetString(0) != "present" || r.GetInt64(1) != (a.Primary ? 1 : 0) || r.GetString(2) != a.EntryPath) return true;
            }
            foreach (var f in a.Files)
            {
                using var cmd = registry.Connection.CreateCommand();
                cmd.CommandText = "SELECT sha256, size_bytes, mtime_utc, path FROM artifact_files WHERE file_id = $id";
                cmd.Parameters.AddWithValue("$id", f.FileId);
                using var r = cmd.ExecuteReader();
                if (!r.Read() || r.IsDBNull(0) || r.GetString(0) != f.Sha256 || r.GetInt64(1) != f.Size || r.GetString(2) != f.MtimeUtc || r.GetString(3) != f.RelativePath) return true;
            }
        }
        return false;
    }

    /// <summary>Inserts or updates the rows that differ; returns how many rows changed.</summary>
    public static int Upsert(RegistryDatabase registry, SqliteTransaction tx, LoopRow loop, IReadOnlyList<Artifact> artifacts)
    {
        var now = UtcText.Now();
        var changed = 0;
        foreach (var a in artifacts)
        {
            using (var cmd = registry.Command(tx, """
                INSERT INTO artifacts (artifact_id, task_run_id, loop_id, workspace_id, artifact_type, name, version, status, primary_flag, entry_path, created_at_utc, updated_at_utc)
                VALUES ($id, $tr, $loop, $ws, $type, $name, 'v1', 'present', $primary, $entry, $now, $now)
                ON CONFLICT (artifact_id) DO UPDATE SET status = 'present', primary_flag = excluded.primary_flag, entry_path = excluded.entry_path, updated_at_utc = excluded.updated_at_utc
                WHERE artifacts.status IS NOT 'present' OR artifacts.primary_flag IS NOT excluded.primary_flag OR artifacts.entry_path IS NOT excluded.entry_path
                """, ("$id", a.ArtifactId), ("$tr", loop.TaskRunId), ("$loop", loop.LoopId), ("$ws", a.WorkspaceId), ("$type", a.Type),
                ("$name", a.Name), ("$primary", a.Primary ? 1 : 0), ("$entry", a.EntryPath), ("$now", now)))
                changed += cmd.ExecuteNonQuery();
            foreach (var f in a.Files)
            {
                using var cmd = registry.Command(tx, """
                    INSERT INTO artifact_files (file_id, artifact_id, workspace_id, path, sha256, size_bytes, mtime_utc, kind)
                    VALUES ($id, $artifact, $ws, $path, $sha, $size, $mtime, $kind)
                    ON CONFLICT (file_id) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, size_bytes = excluded.size_bytes, mtime_utc = excluded.mtime_utc, kind = excluded.kind
                    WHERE artifact_files.sha256 IS NOT excluded.sha256 OR artifact_files.size_bytes IS NOT excluded.size_bytes
                       OR artifact_files.mtime_utc IS NOT excluded.mtime_utc OR artifact_files.path IS NOT excluded.path
                    """, ("$id", f.FileId), ("$artifact", a.ArtifactId), ("$ws", f.WorkspaceId), ("$path", f.RelativePath), ("$sha", f.Sha256),
                    ("$size", f.Size), ("$mtime", f.MtimeUtc), ("$kind", f.Kind));
                changed += cmd.ExecuteNonQuery();
            }
        }
        return changed;
    }

    private static string Id(params string[] parts) => FileDigest.Sha256OfText(string.Join('|', parts))[..32];
}
