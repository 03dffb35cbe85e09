using System.Collections.Concurrent;
using System.Text.Json;
using RdBridge.IO;
using RdBridge.Layout;
using RdBridge.Metadata;
using RdBridge.Registry;
using RdBridge.Runs;
using RdBridge.Workspaces;

namespace RdBridge.Bundles;

/// <summary>
/// Step 2 of the guide (solidify): one <c>production_bundles/bundle_&lt;task_run_id&gt;_&lt;loop_id&gt;.tar.gz</c> per
/// loop with results, holding only that loop's workspaces, plus a <c>.sha256</c> beside it and a
/// <c>production_bundles</c> row.
/// A bundle is rebuilt only when its content digest changed; it is written to a temporary name and renamed.
/// </summary>
public sealed class BundleStage(RunContext context)
{
    private static readonly Counter LoopsSeen = Counter.Tally("loops", "loop");
    private static readonly Counter Built = Counter.Change("built");
    private static readonly Counter Rebuilt = Counter.Change("rebuilt");
    private static readonly Counter WithoutResults = Counter.Tally("without results");
    private static readonly Counter WorkspaceMissing = Counter.Tally("not bundled (workspace missing)");
    private static readonly Counter Unchanged = Counter.Tally("unchanged");
    private static readonly Counter RegistryRowsWritten = Counter.Change("registry rows written",
        "registry row written");

    /// <summary>Loops waiting for the committing thread; bounds the temporary bundles not yet renamed.</summary>
    private const int CommitQueue = 16;
    /// <summary>Most loops recorded in one registry transaction: short enough for RD-Agent never to wait
    /// long.</summary>
    private const int CommitBatch = 32;

    public StageReport Run(LoopSelection selection)
    {
        var report = new StageReport("bundle");
        var settings = context.Settings;
        using var reader = RegistryDatabase.Open(settings.RegistryPath, writable: false);
        using var writer = RegistryDatabase.Open(settings.RegistryPath, writable: true);
        writer.RequireWritableSchema();
        Directory.CreateDirectory(settings.BundleDirectory);

        IEnumerable<(LoopWorkspaces Loop, BundleRow? Existing)> Loops()
        {
            var seen = 0;
            var total = reader.ReadLoops(selection).LongCount();
            foreach (var loop in reader.ReadLoops(selection))
            {
                report.Add(LoopsSeen);
                context.Tick("bundle", ++seen, total,
                    Counted.Of(report.Get(Built) + report.Get(Rebuilt), "bundle written", "bundles written"));
                if (!loop.HasResult) { report.Add(WithoutResults); continue; }
                var lw = LoopWorkspaces.Resolve(reader, settings.PathMap, loop);
                foreach (var p in lw.Problems) report.Problem(loop.Key, lw.Primary?.Local, p);
                if (!lw.IsUsable) { report.Add(WorkspaceMissing); continue; }
                if (!BundleId.IsSafe(loop.BundleId))
                {
                    report.Problem(loop.Key, null, $"bundle id '{loop.BundleId}' holds characters that cannot be " +
                        "a file name; rename the task run in the registry");
                    continue;
                }
                // Read here, on the reading connection, so packing threads never wait for the registry. Only this
                // stage writes production_bundles, and each loop comes once, so the row cannot change meanwhile.
                yield return (lw, reader.ReadBundle(loop.TaskRunId, loop.LoopId));
            }
        }

        // Packing threads, one per core (compression is the work), each with its own spool for its whole life, and one
        // committing thread that waits for the disk (fsync, rename, sidecar) and records finished loops in the
        // registry a batch at a time, so the packers never idle on I/O or the registry and RD-Agent sees few, short
        // write transactions. Plain threads rather than Parallel.ForEach: its workers end every few hundred
        // milliseconds and their replacements would each allocate a new spool.
        using var packed = new BlockingCollection<PackedLoop>(CommitQueue);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation);
        Exception? commitFailure = null, packFailure = null;
        var committer = new Thread(() => commitFailure = CommitAll(packed, writer, report, stop))
        {
            Name = "bundle commit", IsBackground = true,
        };
        committer.Start();

        using var loops = Loops().GetEnumerator();
        var loopsLock = new Lock();
        bool NextLoop(out (LoopWorkspaces Loop, BundleRow? Existing) item)
        {
            lock (loopsLock)
            {
                var more = !stop.IsCancellationRequested && loops.MoveNext();
                item = more ? loops.Current : default;
                return more;
            }
        }
        void PackAll()
        {
            var spool = new BundleSpool(BundleSpool.DefaultCapacity);
            try
            {
                while (NextLoop(out var item))
                {
                    PackedLoop? done = null;
                    try
                    {
                        done = Pack(item.Loop, item.Existing, spool, report);
                        packed.Add(done, stop.Token);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        report.Problem(item.Loop.Loop.Key, item.Loop.Primary?.Local,
                            $"bundle {item.Loop.Loop.BundleId} not written: {e.Message}");
                    }
                    catch (OperationCanceledException)
                    {
                        if (done?.Archive is { } temp) AtomicFile.TryDelete(temp.Temp);
                    }
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref packFailure, e, null);
                stop.Cancel();
            }
        }

        var packers = Enumerable.Range(0, Environment.ProcessorCount)
            .Select(i => new Thread(PackAll) { Name = $"bundle pack {i + 1}", IsBackground = true }).ToList();
        packers.ForEach(t => t.Start());
        packers.ForEach(t => t.Join());
        packed.CompleteAdding();
        committer.Join();
        if (packFailure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(packFailure);
        if (commitFailure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(commitFailure);
        context.Cancellation.ThrowIfCancellationRequested();
        foreach (var bad in reader.BadRows) report.Problem(bad.Item, null, bad.Message);
        return report;
    }

    /// <summary>A loop whose bundle is written (or already up to date), waiting to be committed and recorded.</summary>
    private sealed record PackedLoop(LoopRow Loop, BundleRow? Existing, AtomicFile.Pending? Archive,
        string RelativePath, string Digest, string ArchiveSha, long Size, int FileCount,
        IReadOnlyList<FactorRow> Factors);

    private PackedLoop Pack(LoopWorkspaces lw, BundleRow? existing, BundleSpool spool, StageReport report)
    {
        var loop = lw.Loop;
        var settings = context.Settings;
        spool.Clear();
        var manifest = BundlePlan.Build(lw, spool);
        var manifestBytes = manifest.ToBytes();
        var digest = FileDigest.Sha256OfBytes(manifestBytes);
        var archive = settings.Bundles.Archive(loop.BundleId);
        var relativePath = PortablePath.Relative(settings.RdAgentRoot, archive);
        if (relativePath.StartsWith("..", StringComparison.Ordinal)) relativePath = archive;
        var factors = ReadFactorRows(lw);

        var upToDate = existing is { ContentDigest: not null } && existing.ContentDigest == digest
            && File.Exists(archive) && new FileInfo(archive).Length == existing.SizeBytes
            && settings.Bundles.ReadDigest(loop.BundleId) == existing.ArchiveSha256;
        if (upToDate)
        {
            report.Add(Unchanged);
            return new PackedLoop(loop, existing, null, relativePath, digest, existing!.ArchiveSha256!,
                existing.SizeBytes!.Value, manifest.Files.Count, factors);
        }
        context.BeforeChange();
        var (pending, sha, size) = WriteArchive(archive, manifest, manifestBytes, spool);
        return new PackedLoop(loop, existing, pending, relativePath, digest, sha, size, manifest.Files.Count, factors);
    }

    /// <summary>The committing thread: returns the unexpected error that made it stop the run, if any.</summary>
    private Exception? CommitAll(BlockingCollection<PackedLoop> packed, RegistryDatabase writer, StageReport report,
        CancellationTokenSource stop)
    {
        Exception? failure = null;
        var batch = new List<PackedLoop>(CommitBatch);
        while (packed.TryTake(out var first, Timeout.Infinite))
        {
            batch.Clear();
            batch.Add(first);
            while (batch.Count < CommitBatch && packed.TryTake(out var more)) batch.Add(more);
            if (failure is not null)
            {
                // After a failure the remaining temporary bundles are dropped, never renamed half-recorded.
                foreach (var p in batch) if (p.Archive is { } temp) AtomicFile.TryDelete(temp.Temp);
                continue;
            }
            try { CommitBatchOf(batch, writer, report); }
            catch (Exception e)
            {
                failure = e;
                stop.Cancel();
            }
        }
        return failure;
    }

    private void CommitBatchOf(List<PackedLoop> batch, RegistryDatabase writer, StageReport report)
    {
        // Every new archive and its sidecar reach the disk in one group, then take their names; only then do registry
        // rows name them.
        var written = new List<(PackedLoop Loop, AtomicFile.Pending Archive, AtomicFile.Pending Sidecar)>();
        var ready = new List<PackedLoop>(batch.Count);
        foreach (var p in batch)
        {
            if (p.Archive is not { } archive) { ready.Add(p); continue; }
            try
            {
                written.Add((p, archive, context.Settings.Bundles.WriteDigestTemporary(p.Loop.BundleId, p.ArchiveSha)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                AtomicFile.TryDelete(archive.Temp);
                report.Problem(p.Loop.Key, archive.Target, $"bundle {p.Loop.BundleId} not written: {e.Message}");
            }
        }
        try { AtomicFile.FlushGroupToDisk(written.SelectMany(w => new[] { w.Archive, w.Sidecar }).ToList()); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (var (p, archive, sidecar) in written)
            {
                AtomicFile.TryDelete(archive.Temp);
                AtomicFile.TryDelete(sidecar.Temp);
                report.Problem(p.Loop.Key, archive.Target, $"bundle {p.Loop.BundleId} not written: {e.Message}");
            }
            written.Clear();
        }
        foreach (var (p, archive, sidecar) in written)
        {
            try
            {
                AtomicFile.MoveIntoPlace(archive);
                AtomicFile.MoveIntoPlace(sidecar);
                report.Add(p.Existing is null ? Built : Rebuilt);
                ready.Add(p);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                AtomicFile.TryDelete(sidecar.Temp);
                report.Problem(p.Loop.Key, archive.Target, $"bundle {p.Loop.BundleId} not written: {e.Message}");
            }
        }
        var toRecord = new List<PackedLoop>(ready.Count);
        foreach (var p in ready)
        {
            try { if (!RegistryUpToDate(writer, p)) toRecord.Add(p); }
            catch (Microsoft.Data.Sqlite.SqliteException e)
            {
                report.Problem(p.Loop.Key, p.Archive?.Target,
                    $"bundle {p.Loop.BundleId} not recorded in the registry: {e.Message}; run the bundle stage again");
            }
        }
        if (toRecord.Count == 0) return;
        context.BeforeChange();
        try
        {
            // The files are in place before their rows name them; the transaction holds no file work.
            writer.Write(write =>
            {
                foreach (var p in toRecord) write.RecordBundle(BundleRecordOf(p), UtcText.Now());
                return 0;
            });
            report.Add(RegistryRowsWritten, toRecord.Count);
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            foreach (var p in toRecord)
            {
                report.Problem(p.Loop.Key, p.Archive?.Target, $"bundle {p.Loop.BundleId} written but not recorded " +
                    $"in the registry: {e.Message}; run the bundle stage again");
            }
        }
    }

    /// <summary>Writes the bundle to a temporary name; the committing thread later makes it durable and renames
    /// it.</summary>
    private static (AtomicFile.Pending Pending, string Sha, long Size) WriteArchive(string archive,
        BundleManifest manifest, byte[] manifestBytes, BundleSpool spool)
    {
        string sha = "";
        long size = 0;
        var pending = AtomicFile.WriteTemporary(archive, file =>
        {
            using var hashing = new HashingWriteStream(file, bufferSize: 64 * 1024);
            using (var tar = new DeterministicTarGz(hashing))
            {
                tar.AddBytes(BundleManifest.FileName, manifestBytes);
                foreach (var f in manifest.Files)
                {
                    // Kept files are packed from the very bytes that were hashed; only files too large for the
                    // spool are read again, and then checked against the manifest.
                    if (spool.TryGet(f.SourcePath, out var kept))
                    {
                        tar.AddBytes(f.Path, kept.Span);
                        continue;
                    }
                    using var source = new FileStream(f.SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read,
                        bufferSize: 0, FileOptions.SequentialScan);
                    var actual = tar.AddStream(f.Path, source, f.Size);
                    if (actual != f.Sha256)
                    {
                        throw new IOException($"'{f.SourcePath}' changed while it was being packed; run the bundle " +
                            "stage again once RD-Agent has finished writing it");
                    }
                }
                tar.Finish();
            }
            hashing.Flush();
            sha = hashing.HexDigest();
            size = hashing.BytesWritten;
        }, bufferSize: 0);
        return (pending, sha, size);
    }

    private sealed record FactorRow(string Name, string? Expression, string WorkspaceId, string? Performance);

    private static IReadOnlyList<FactorRow> ReadFactorRows(LoopWorkspaces lw)
    {
        var dir = lw.Primary!.Local!;
        if (!RegularFile.Exists(Path.Combine(dir, FactorMetaFile.FileName))) return [];
        // Export reports a malformed file with its path; here it only means no factor rows.
        var meta = WorkspaceMetadata.Read(dir, (_, _, _) => { });
        if (meta.FactorMeta is null) return [];
        var perf = meta.FactorPerf is { } p
            ? p.MetricsJson().ToJsonString(
                new JsonSerializerOptions(CanonicalJson.FileOptions) { WriteIndented = false })
            : null;
        return meta.FactorMeta.Factors
            .Select(f => new FactorRow(f.Name, f.Expression, f.WorkspaceId ?? lw.Primary.Row.WorkspaceId, perf))
            .GroupBy(f => f.Name).Select(g => g.First())
            .ToList();
    }

    // `row` is the production_bundles row read before this loop was bundled; nothing else writes it meanwhile.
    private static bool RegistryUpToDate(RegistryDatabase db, PackedLoop p)
    {
        var (loop, row, path, digest, sha, size, count, factors) =
            (p.Loop, p.Existing, p.RelativePath, p.Digest, p.ArchiveSha, p.Size, p.FileCount, p.Factors);
        if (row is null || row.BundleId != loop.BundleId || row.BundlePath != path || row.ContentDigest != digest
            || row.ArchiveSha256 != sha || row.SizeBytes != size || row.FileCount != count)
        {
            return false;
        }

        var current = db.ReadLoop(loop.TaskRunId, loop.LoopId);
        if (current is null || current.AssetBundleId != loop.BundleId || !current.IsSolidified) return false;
        return db.CountFactorsOfBundle(loop.BundleId) == factors.Count;
    }

    private static BundleRecord BundleRecordOf(PackedLoop p) => new(
        p.Loop.TaskRunId, p.Loop.LoopId, p.Loop.BundleId, p.RelativePath, p.Digest, p.ArchiveSha, p.Size, p.FileCount,
        p.Factors.Select(f => new FactorRegistryRow(f.Name, f.Expression, f.Performance, f.WorkspaceId)).ToList());
}
