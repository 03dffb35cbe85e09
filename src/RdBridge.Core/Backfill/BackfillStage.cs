using RdBridge.IO;
using RdBridge.Registry;
using RdBridge.Runs;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>How <c>backfill</c> runs (the Python tool's modes; <c>solidify-all</c> also bundles, which the caller
/// chains).</summary>
public enum BackfillMode { Backfill, MaterializePending, SolidifyAll, Check }

public sealed record BackfillOptions(BackfillMode Mode, LoopSelection Selection, bool OverwriteJson, bool DryRun);

/// <summary>
/// Step 1.2 of the guide: per loop, derive the metadata files from the workspace's real files, write them into the
/// workspace, and register every file as <c>artifacts</c> / <c>artifact_files</c> rows with sha256, size and mtime.
/// </summary>
public sealed class BackfillStage(RunContext context)
{
    // One task run's log listing at a time, shared by its loops (a v0.3 flat log was walked once per loop).
    private readonly Discovery.LogListings _listings = new();

    private static readonly Counter Loops = Counter.Tally("loops", "loop");
    private static readonly Counter FilesWritten = Counter.Change("files written", "file written");
    private static readonly Counter AlreadyMaterialized = Counter.Tally("already materialized");
    private static readonly Counter SkippedNoWorkspace = Counter.Tally("skipped (no workspace)");
    private static readonly Counter NothingYet = Counter.Tally("running or failed before their experiment");
    private static readonly Counter WithResults = Counter.Tally("with results");
    private static readonly Counter FilesKept = Counter.Tally("files kept (no --overwrite-json)",
        "file kept (no --overwrite-json)");
    private static readonly Counter FilesUnchanged = Counter.Tally("files unchanged", "file unchanged");
    private static readonly Counter FilesToWrite = Counter.Tally("files to write", "file to write");
    private static readonly Counter LoopsToMark = Counter.Tally("loops to mark has_result", "loop to mark has_result");
    private static readonly Counter ArtifactRowsUnchanged = Counter.Tally("artifact rows unchanged",
        "artifact row unchanged");
    private static readonly Counter LoopsMarked = Counter.Change("loops marked has_result", "loop marked has_result");
    private static readonly Counter ArtifactRowsWritten = Counter.Change("artifact rows written",
        "artifact row written");
    private static readonly Counter LoopsComplete = Counter.Tally("loops complete", "loop complete");
    private static readonly Counter LoopsMissingMetadata = Counter.Tally("loops missing metadata",
        "loop missing metadata");
    private static readonly Counter LoopsWithStaleArtifactRows = Counter.Tally("loops with stale artifact rows",
        "loop with stale artifact rows");
    private static readonly Counter LoopWorkspacesNamed = Counter.Change("loops given their workspace",
        "loop given its workspace");

    public StageReport Run(BackfillOptions options)
    {
        var report = new StageReport("backfill");
        var writable = options.Mode != BackfillMode.Check && !options.DryRun;
        using var registry = RegistryDatabase.Open(context.Settings.RegistryPath, writable);
        if (writable) registry.RequireWritableSchema();

        var total = registry.ReadLoops(options.Selection).LongCount();
        // Every damaged workspace row named, even one of no loop; each loop's own rows are read as it comes.
        registry.NameDamagedWorkspaceRows();
        foreach (var loop in registry.ReadLoops(options.Selection))
        {
            context.Cancellation.ThrowIfCancellationRequested();
            report.Add(Loops);
            context.Tick("backfill", report.Get(Loops), total, FilesWritten.Of(report.Get(FilesWritten)));
            if (options.Mode == BackfillMode.MaterializePending
                && loop.MaterializationStatus is not (null or "" or "pending" or "failed"))
            {
                report.Add(AlreadyMaterialized);
                continue;
            }
            var lw = LoopWorkspaces.Resolve(registry, context.Settings.PathMap, loop);
            // A loop RD-Agent is still running (discovery records the workspaces its coder wrote, before any
            // result), or one that failed before it had an experiment workspace, has nothing to backfill: no problem
            // of the registry.
            var noResultYet = lw.Primary?.Local is not { } primaryDir
                || !RegularFile.Exists(Path.Combine(primaryDir, WorkspaceFiles.QlibRes));
            if (!loop.HasResult && (lw.Primary is null && loop.Status is "running" or "failed"
                || loop.Status == "running" && noResultYet))
            {
                report.Add(NothingYet);
                continue;
            }
            foreach (var p in lw.Problems) report.Problem(loop.Key, lw.Primary?.Local, p);
            if (writable) NameWorkspace(registry, lw, report);
            if (!lw.IsUsable)
            {
                report.Add(SkippedNoWorkspace);
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
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException
                or Microsoft.Data.Sqlite.SqliteException)
            {
                report.Problem(loop.Key, lw.Primary?.Local, $"backfill failed: {e.Message}");
                if (options.Mode == BackfillMode.MaterializePending && writable)
                    SetMaterialization(registry, loop, "failed", $"{e.GetType().Name}: {e.Message}");
            }
        }
        foreach (var bad in registry.BadRows) report.Problem(bad.Item, null, bad.Message);
        return report;
    }

    /// <summary>Keeps <c>loops.workspace_id</c> / <c>workspace_path</c> naming the loop's experiment
    /// workspace.</summary>
    private void NameWorkspace(RegistryDatabase registry, LoopWorkspaces lw, StageReport report)
    {
        if (lw.Primary is not { } primary) return;
        var row = primary.Row;
        if (lw.Loop.WorkspaceId == row.WorkspaceId && lw.Loop.WorkspacePath == row.WorkspacePath) return;
        context.BeforeChange();
        var rows = registry.Write(write =>
            write.SetLoopWorkspace(lw.Loop.TaskRunId, lw.Loop.LoopId, row.WorkspaceId, row.WorkspacePath));
        // One loop, however many rows carry its key: a second row the registry holds by mistake is updated along
        // with it, but counting it said "3 loops given their workspace" of 2 loops.
        report.Add(LoopWorkspacesNamed, rows > 0 ? 1 : 0);
    }

    private void BackfillLoop(RegistryDatabase registry, LoopWorkspaces lw, BackfillOptions options, StageReport report)
    {
        var loop = lw.Loop;
        var dir = lw.Primary!.Local!;
        var meta = LoopMetadata.Derive(lw, context.Settings.PathMap, _listings);
        foreach (var p in meta.Problems) report.Problem(loop.Key, dir, p);
        foreach (var n in meta.Notes) report.Note($"{loop.Key}: {n}");

        var resultOnDisk = RegularFile.Exists(Path.Combine(dir, WorkspaceFiles.QlibRes));
        if (resultOnDisk) report.Add(WithResults);
        if (loop.HasResult && !resultOnDisk)
        {
            report.Problem(loop.Key, dir, $"the registry says loop {loop.Key} has results but " +
                $"{WorkspaceFiles.QlibRes} is missing from workspace {lw.Primary.Row.WorkspaceId}; it is bundled " +
                "with what is there");
        }

        var files = meta.Files.Select(f => (f.FileName, Bytes: CanonicalJson.ToFileBytes(f.Content)));
        if (meta.Backtest is { } backtest) files = files.Append((LoopBacktest.FileName, backtest.ToBytes()));
        foreach (var (name, bytes) in files)
        {
            var path = Path.Combine(dir, name);
            var exists = File.Exists(path);
            if (exists && !options.OverwriteJson)
            {
                report.Add(FilesKept);
                continue;
            }
            if (exists && FileContent.Holds(path, bytes))
            {
                report.Add(FilesUnchanged);
                continue;
            }
            if (options.DryRun) { report.Add(FilesToWrite); continue; }
            AtomicFile.Write(path, s => s.Write(bytes));
            report.Add(FilesWritten);
            context.Wrote(path);
        }

        if (options.DryRun)
        {
            if (resultOnDisk && !loop.HasResult) report.Add(LoopsToMark);
            return;
        }

        // File work is done; now one short registry transaction for this loop.
        var artifacts = ArtifactSet.Collect(lw);
        var changed = 0;
        var marked = false;
        var needsWrite = (resultOnDisk && !loop.HasResult) || ArtifactSet.NeedsWrite(registry, artifacts);
        if (!needsWrite)
        {
            report.Add(ArtifactRowsUnchanged, artifacts.Sum(a => a.Files.Count));
            return;
        }
        context.BeforeChange();
        registry.Write(write =>
        {
            if (resultOnDisk && !loop.HasResult)
                marked = write.MarkHasResult(loop.TaskRunId, loop.LoopId, UtcText.Now()) > 0;
            changed = ArtifactSet.Upsert(write, loop, artifacts);
            return 0;
        });
        if (marked) report.Add(LoopsMarked);
        report.Add(ArtifactRowsWritten, changed);
        report.Add(ArtifactRowsUnchanged, artifacts.Sum(a => a.Files.Count + 1) - changed);
    }

    private static void Check(RegistryDatabase registry, LoopWorkspaces lw, StageReport report)
    {
        var dir = lw.Primary!.Local!;
        var missing = WorkspaceFiles.MetaFiles
            .Where(f => f != WorkspaceFiles.FactorPerf || File.Exists(Path.Combine(dir, WorkspaceFiles.QlibRes)))
            .Where(f => !File.Exists(Path.Combine(dir, f))).ToList();
        if (missing.Count == 0)
        {
            report.Add(LoopsComplete);
        }
        else
        {
            report.Add(LoopsMissingMetadata);
            // What check finds missing is a problem to fix (exit code 1), as verify's failed items are.
            report.Problem(lw.Loop.Key, dir,
                $"missing {string.Join(", ", missing)}; run 'rdbridge backfill' to write them");
        }
        var artifacts = ArtifactSet.Collect(lw);
        if (ArtifactSet.NeedsWrite(registry, artifacts)) report.Add(LoopsWithStaleArtifactRows);
    }

    private void SetMaterialization(RegistryDatabase registry, LoopRow loop, string status, string? error)
    {
        context.BeforeChange();
        registry.Write(write => write.SetMaterialization(loop.TaskRunId, loop.LoopId, status,
            error is null ? null : error.Length > 512 ? error[..512] : error, UtcText.Now()));
    }
}
