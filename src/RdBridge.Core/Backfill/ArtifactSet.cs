using RdBridge.IO;
using RdBridge.Registry;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>One registered file: where it is relative to its workspace, and what it holds.</summary>
public sealed record ArtifactFile(string FileId, string WorkspaceId, string RelativePath, string Sha256, long Size,
    string MtimeUtc, string Kind);

/// <summary>
/// An <c>artifacts</c> row with its files. Ids are derived from the loop, workspace, type and name, so a re-run
/// replaces instead of duplicating.
/// </summary>
public sealed record Artifact(string ArtifactId, string WorkspaceId, string Type, string Name, bool Primary,
    string EntryPath, IReadOnlyList<ArtifactFile> Files);

public static class ArtifactSet
{
    public static IReadOnlyList<Artifact> Collect(LoopWorkspaces lw)
    {
        var loop = lw.Loop;
        var ws = lw.Primary!;
        var dir = ws.Local!;
        var list = new List<Artifact>();

        void Add(string wsId, string wsDir, string type, string name, bool primary, string kind,
            IEnumerable<string> relPaths)
        {
            var paths = relPaths.Where(p => RegularFile.Exists(Path.Combine(wsDir, p))).Order(StringComparer.Ordinal)
                .ToList();
            if (paths.Count == 0) return;
            var artifactId = Id("artifact", loop.TaskRunId, wsId, type, name);
            var files = paths.Select(p =>
            {
                var full = Path.Combine(wsDir, p);
                var info = new FileInfo(full);
                return new ArtifactFile(Id("file", artifactId, wsId, p), wsId, p, FileDigest.Sha256OfFile(full),
                    info.Length,
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
            Directory.EnumerateFiles(dir).Select(Path.GetFileName)
                .Where(n => n!.EndsWith(".yaml", StringComparison.Ordinal)
                    || n.EndsWith(".yml", StringComparison.Ordinal))!);
        foreach (var sub in lw.SubWorkspaces)
        {
            Add(sub.Row.WorkspaceId, sub.Local!, "factor_code", "factor_py", true, "code", ["factor.py"]);
            Add(sub.Row.WorkspaceId, sub.Local!, "model_code", "model_py", false, "code", ["model.py"]);
        }
        return list;
    }

    /// <summary>
    /// Whether any row is missing or differs, so an unchanged loop opens no write transaction at all.
    /// </summary>
    public static bool NeedsWrite(RegistryDatabase registry, IReadOnlyList<Artifact> artifacts)
    {
        foreach (var a in artifacts)
        {
            if (registry.ReadArtifact(a.ArtifactId) is not { } row
                || row.Primary != a.Primary || row.EntryPath != a.EntryPath)
            {
                return true;
            }

            foreach (var f in a.Files)
            {
                if (registry.ReadArtifactFile(f.FileId) is not { } file || file.Sha256 != f.Sha256
                    || file.Size != f.Size || file.MtimeUtc != f.MtimeUtc || file.Path != f.RelativePath)
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>Inserts or updates the rows that differ; returns how many rows changed.</summary>
    public static int Upsert(RegistryWrite write, LoopRow loop, IReadOnlyList<Artifact> artifacts)
    {
        var now = UtcText.Now();
        var changed = 0;
        foreach (var a in artifacts)
        {
            changed += write.UpsertArtifact(new ArtifactRow(
                a.ArtifactId, loop.TaskRunId, loop.LoopId, a.WorkspaceId, a.Type, a.Name, a.Primary, a.EntryPath), now);
            foreach (var f in a.Files)
            {
                changed += write.UpsertArtifactFile(new ArtifactFileRow(
                    f.FileId, a.ArtifactId, f.WorkspaceId, f.RelativePath, f.Sha256, f.Size, f.MtimeUtc, f.Kind));
            }
        }
        return changed;
    }

    private static string Id(params string[] parts) => FileDigest.Sha256OfText(string.Join('|', parts))[..32];
}
