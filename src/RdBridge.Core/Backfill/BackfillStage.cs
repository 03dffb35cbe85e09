using RdBridge.IO;
using RdBridge.Pipeline;
using RdBridge.Registry;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>How <c>backfill</c> runs (the Python tool's modes; <c>solidify-all</c> also bundles, which the caller chains).</summary>
public enum BackfillMode { Backfill, MaterializePending, SolidifyAll, Check }

public sealed record BackfillOptions(BackfillMode Mode, LoopSelection Selection, bool OverwriteJson, bool DryRun);

/// <summary>
/// Step 1.2 of the guide: per loop, derive the metadata files from the workspace's real files, write them into the
/// workspace, and register every file as <c>artifacts</c> / <c>artifact_files</c> rows with sha256, size and mtime.
/// </summary>
public sealed class BackfillStage(RunContext context)
{
    public StageReport Run(BackfillOptions options)
    {
        var report = new StageReport("backfill");
        var writable = options.Mode != BackfillMode.Check && !options.DryRun;
        using var registry = RegistryDatabase.Open(context.Settings.RegistryPath, writable);
        if (writable) registry.RequireWritableSchema();

        var total = registry.ReadLoops(options.Selection).LongCount();
        foreach (var loop in registry.ReadLoops(options.Selection))
        {
            context.Cancellation.ThrowIfCancellationRequested();
            report.Add("loops");
            context.Tick("backfill", report.Get("loops"), total, $"{report.Get("files written")} files written");
            if (options.Mode == BackfillMode.MaterializePending
                && loop.MaterializationStatus is not (null or "" or "pending" or "failed"))
            {
                report.Add("already materialized");
                continue;
            }
            var lw = LoopWorkspaces.Resolve(registry, context.Settings.PathMap, loop);
            foreach (var p in lw.Problems) report.Problem(loop.Key, lw.Primary?.Local, p);
            if (!lw.IsUsable)
            {
                report.Add("skipped (no workspace)");
                if (options.Mode == BackfillMode.MaterializePending && writable)
                    SetMaterialization(registry, loop, "failed", lw.Problems.FirstOrDefault() ?? "no usable workspace");
                continue;
            }
            if (options.Mode == BackfillMode.Check)
            {
                Check(registry, lw, report);
                continue;
            }
            if (options.Mode == BackfillMode.MaterializePending && writable)
                SetMaterialization(registry, loop, "running", null);
            try
            {
                BackfillLoop(registry, lw, options, report);
                if (options.Mode == BackfillMode.MaterializePending && writable)
                    SetMaterialization(registry, loop, "done", null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or Microsoft.Data.Sqlite.SqliteException)
            {
                report.Problem(loop.Key, lw.Primary?.Local, $"backfill failed: {e.Message}");
                if (options.Mode == BackfillMode.MaterializePending && writable)
                    SetMaterialization(registry, loop, "failed", $"{e.GetType().Name}: {e.Message}");
            }
        }
        return report;
    }

    private void BackfillLoop(RegistryDatabase registry, LoopWorkspaces lw, BackfillOptions options, StageReport report)
    {
        var loop = lw.Loop;
        var dir = lw.Primary!.Local!;
        var meta = LoopMetadata.Derive(lw, context.Settings.PathMap);
        foreach (var p in meta.Problems) report.Problem(loop.Key, dir, p);

        var resultOnDisk = File.Exists(Path.Combine(dir, WorkspaceFiles.QlibRes));
        if (resultOnDisk) report.Add("with results");
        if (loop.HasResult && !resultOnDisk)
            report.Problem(loop.Key, dir, $"the registry says loop {loop.Key} has results but {WorkspaceFiles.QlibRes} is missing from workspace {lw.Primary.Row.WorkspaceId}; it is bundled with what is there");

        foreach (var (name, content) in meta.Files)
        {
            var path = Path.Combine(dir, name);
            var bytes = CanonicalJson.ToFileBytes(content);
            var exists = File.Exists(path);
            if (exists && !options.OverwriteJson)
            {
                report.Add("files kept (no --overwrite-json)");
                continue;
            }
            if (exists && FileContent.Holds(path, bytes))
            {
                report.Add("files unchanged");
                continue;
            }
            if (options.DryRun) { report.Add("files to write"); continue; }
            AtomicFile.Write(path, s => s.Write(bytes));
            report.Add("files written");
        }

        if (options.DryRun)
        {
            if (resultOnDisk && !loop.HasResult) report.Add("loops to mark has_result");
            return;
        }

        // File work is done; now one short registry transaction for this loop.
        var artifacts = ArtifactSet.Collect(lw);
        var changed = 0;
        var marked = false;
        var needsWrite = (resultOnDisk && !loop.HasResult) || ArtifactSet.NeedsWrite(registry, artifacts);
        if (!needsWrite)
        {
            report.Add("artifact rows unchanged", artifacts.Sum(a => a.Files.Count));
            return;
        }
        context.BeforeChange();
        registry.Write(tx =>
        {
            if (resultOnDisk && !loop.HasResult)
            {
                using var cmd = registry.Command(tx, "UPDATE loops SET has_result = 1, updated_at_utc = $now WHERE task_run_id = $tr AND loop_id = $loop",
                    ("$now", UtcText.Now()), ("$tr", loop.TaskRunId), ("$loop", loop.LoopId));
                marked = cmd.ExecuteNonQuery() > 0;
            }
            changed = ArtifactSet.Upsert(registry, tx, loop, artifacts);
            return 0;
        });
        if (marked) report.Add("loops marked has_result");
        report.Add("artifact rows written", changed);
        report.Add("artifact rows unchanged", artifacts.Sum(a => a.Files.Count + 1) - changed);
    }

    private static void Check(RegistryDatabase registry, LoopWorkspaces lw, StageReport report)
    {
        var dir = lw.Primary!.Local!;
        var missing = WorkspaceFiles.MetaFiles
            .Where(f => f != WorkspaceFiles.FactorPerf || File.Exists(Path.Combine(dir, WorkspaceFiles.QlibRes)))
            .Where(f => !File.Exists(Path.Combine(dir, f))).ToList();
        if (missing.Count == 0) report.Add("loops complete");
        else
        {
            report.Add("loops missing metadata");
            report.Note($"{lw.Loop.Key}: missing {string.Join(", ", missing)} in {dir}");
        }
        var artifacts = ArtifactSet.Collect(lw);
        if (ArtifactSet.NeedsWrite(registry, artifacts)) report.Add("loops with stale artifact rows");
    }

    private void SetMaterialization(RegistryDatabase registry, LoopRow loop, string status, string? error)
    {
        context.BeforeChange();
        registry.Write(tx =>
        {
            using var cmd = registry.Command(tx, """
                UPDATE loops SET materialization_status = $s, materialization_error = $e, materialization_updated_at_utc = $now
                WHERE task_run_id = $tr AND loop_id = $loop
                """, ("$s", status), ("$e", error is null ? null : error.Length > 512 ? error[..512] : error), ("$now", UtcText.Now()),
                ("$tr", loop.TaskRunId), ("$loop", loop.LoopId));
            return cmd.ExecuteNonQuery();
        });
    }
}
