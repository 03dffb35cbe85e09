using System.Collections.Concurrent;
using System.Text.Json;
using RdBridge.Backfill;
using RdBridge.IO;
using RdBridge.Pipeline;
using RdBridge.Registry;
using RdBridge.Workspaces;

namespace RdBridge.Bundles;

/// <summary>
/// Step 2 of the guide (solidify): one <c>production_bundles/bundle_&lt;task_run_id&gt;_&lt;loop_id&gt;.tar.gz</c> per loop with
/// results, holding only that loop's workspaces, plus a <c>.sha256</c> beside it and a <c>production_bundles</c> row.
/// A bundle is rebuilt only when its content digest changed; it is written to a temporary name and renamed.
/// </summary>
public sealed class BundleStage(RunContext context)
{
    public const string ArchiveSuffix = ".tar.gz";
    public const string DigestSuffix = ".tar.gz.sha256";

    public StageReport Run(LoopSelection selection)
    {
        var report = new StageReport("bundle");
        var settings = context.Settings;
        using var reader = RegistryDatabase.Open(settings.RegistryPath, writable: false);
        using var writer = RegistryDatabase.Open(settings.RegistryPath, writable: true);
        writer.RequireWritableSchema();
        Directory.CreateDirectory(settings.BundleDirectory);
        var writeLock = new Lock();

        IEnumerable<LoopWorkspaces> Loops()
        {
            var seen = 0;
            foreach (var loop in reader.ReadLoops(selection))
            {
                report.Add("loops");
                if (++seen % 500 == 0) context.Progress($"[bundle] … {seen} loops read, {report.Get("built") + report.Get("rebuilt")} bundles written so far");
                if (!loop.HasResult) { report.Add("without results"); continue; }
                var lw = LoopWorkspaces.Resolve(reader, settings.PathMap, loop);
                foreach (var p in lw.Problems) report.Problem(loop.Key, lw.Primary?.Local, p);
                if (!lw.IsUsable) { report.Add("not bundled (workspace missing)"); continue; }
                if (!BundleNames.IsSafeId(loop.BundleId))
                {
                    report.Problem(loop.Key, null, $"bundle id '{loop.BundleId}' holds characters that cannot be a file name; rename the task run in the registry");
                    continue;
                }
                yield return lw;
            }
        }

        Parallel.ForEach(Partitioner.Create(Loops(), EnumerablePartitionerOptions.NoBuffering),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = context.Cancellation },
            () => new BundleSpool(BundleSpool.DefaultCapacity),
            (lw, _, spool) =>
            {
                try { BundleLoop(lw, spool, writer, writeLock, report); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
                {
                    report.Problem(lw.Loop.Key, lw.Primary?.Local, $"bundle {lw.Loop.BundleId} not written: {e.Message}");
                }
                return spool;
            },
            _ => { });
        return report;
    }

    private void BundleLoop(LoopWorkspaces lw, BundleSpool spool, RegistryDatabase writer, Lock writeLock, StageReport report)
    {
        var loop = lw.Loop;
        var settings = context.Settings;
        spool.Clear();
        var manifest = BundlePlan.Build(lw, spool);
        var manifestBytes = manifest.ToBytes();
        var digest = FileDigest.Sha256OfBytes(manifestBytes);
        var archive = Path.Combine(settings.BundleDirectory, loop.BundleId + ArchiveSuffix);
        var sidecar = Path.Combine(settings.BundleDirectory, loop.BundleId + DigestSuffix);

        BundleRow? existing;
        lock (writeLock) existing = writer.ReadBundle(loop.TaskRunId, loop.LoopId);
        var upToDate = existing is { ContentDigest: not null } && existing.ContentDigest == digest
            && File.Exists(archive) && new FileInfo(archive).Length == existing.SizeBytes
            && ReadSidecar(sidecar) == existing.ArchiveSha256;

        string archiveSha;
        long size;
        if (upToDate)
        {
            archiveSha = existing!.ArchiveSha256!;
            size = existing.SizeBytes!.Value;
            report.Add("unchanged");
        }
        else
        {
            context.BeforeChange();
            (archiveSha, size) = WriteArchive(archive, manifest, manifestBytes, spool);
            WriteSidecar(sidecar, archiveSha, loop.BundleId);
            report.Add(existing is null ? "built" : "rebuilt");
        }

        var relativePath = Path.GetRelativePath(settings.RdAgentRoot, archive).Replace('\\', '/');
        if (relativePath.StartsWith("..", StringComparison.Ordinal)) relativePath = archive;
        var factors = ReadFactorRows(lw);
        lock (writeLock)
        {
            if (!RegistryUpToDate(writer, loop, existing, relativePath, digest, archiveSha, size, manifest.Files.Count, factors))
            {
                context.BeforeChange();
                writer.Write(tx => RecordBundle(writer, tx, loop, relativePath, digest, archiveSha, size, manifest.Files.Count, factors));
                report.Add("registry rows written");
            }
        }
    }

    private static (string Sha, long Size) WriteArchive(string archive, BundleManifest manifest, byte[] manifestBytes, BundleSpool spool)
    {
        var temp = AtomicFile.TempPathFor(archive);
        try
        {
            string sha;
            long size;
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 128 * 1024))
            {
                var hashing = new HashingWriteStream(file);
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
                        using var source = new FileStream(f.SourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 128 * 1024, FileOptions.SequentialScan);
                        var actual = tar.AddStream(f.Path, source, f.Size);
                        if (actual != f.Sha256)
                            throw new IOException($"'{f.SourcePath}' changed while it was being packed; run the bundle stage again once RD-Agent has finished writing it");
                    }
                    tar.Finish();
                }
                hashing.Flush();
                file.Flush(flushToDisk: true);
                sha = hashing.HexDigest();
                size = hashing.BytesWritten;
            }
            File.Move(temp, archive, overwrite: true);
            return (sha, size);
        }
        catch
        {
            AtomicFile.TryDelete(temp);
            throw;
        }
    }

    /// <summary>The <c>.sha256</c> beside a bundle, in <c>sha256sum</c> format so <c>sha256sum -c</c> checks it.</summary>
    public static void WriteSidecar(string path, string sha256, string bundleId) =>
        AtomicFile.WriteBytes(path, System.Text.Encoding.ASCII.GetBytes($"{sha256}  {bundleId}{ArchiveSuffix}\n"));

    public static string? ReadSidecar(string path)
    {
        if (!File.Exists(path)) return null;
        var text = File.ReadAllText(path).Trim();
        var space = text.IndexOf(' ');
        return space > 0 ? text[..space] : text;
    }

    private sealed record FactorRow(string Name, string? Expression, string WorkspaceId, string? Performance);

    private static IReadOnlyList<FactorRow> ReadFactorRows(LoopWorkspaces lw)
    {
        var dir = lw.Primary!.Local!;
        var metaPath = Path.Combine(dir, WorkspaceFiles.FactorMeta);
        if (!File.Exists(metaPath)) return [];
        string? perf = null;
        var perfPath = Path.Combine(dir, WorkspaceFiles.FactorPerf);
        try
        {
            if (File.Exists(perfPath))
            {
                using var p = JsonDocument.Parse(File.ReadAllBytes(perfPath));
                if (p.RootElement.TryGetProperty("metrics", out var m)) perf = m.GetRawText();
            }
            using var doc = JsonDocument.Parse(File.ReadAllBytes(metaPath));
            if (!doc.RootElement.TryGetProperty("factors", out var factors) || factors.ValueKind != JsonValueKind.Array) return [];
            return factors.EnumerateArray()
                .Where(f => f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                .Select(f => new FactorRow(f.GetProperty("name").GetString()!,
                    f.TryGetProperty("expression", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null,
                    f.TryGetProperty("workspace_id", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString()! : lw.Primary.Row.WorkspaceId,
                    perf))
                .GroupBy(f => f.Name).Select(g => g.First())
                .ToList();
        }
        catch (JsonException)
        {
            return []; // export reports the malformed file with its path
        }
    }

    // `row` is the production_bundles row read before this loop was bundled; nothing else writes it meanwhile.
    private static bool RegistryUpToDate(RegistryDatabase db, LoopRow loop, BundleRow? row, string path, string digest, string sha, long size, int count, IReadOnlyList<FactorRow> factors)
    {
        if (row is null || row.BundleId != loop.BundleId || row.BundlePath != path || row.ContentDigest != digest || row.ArchiveSha256 != sha || row.SizeBytes != size || row.FileCount != count)
            return false;
        var current = db.ReadLoop(loop.TaskRunId, loop.LoopId);
        if (current is null || current.AssetBundleId != loop.BundleId || !current.IsSolidified) return false;
        using var cmd = db.Connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM factor_registry WHERE asset_bundle_id = $b";
        cmd.Parameters.AddWithValue("$b", loop.BundleId);
        return (long)cmd.ExecuteScalar()! == factors.Count;
    }

    private static int RecordBundle(RegistryDatabase db, Microsoft.Data.Sqlite.SqliteTransaction tx, LoopRow loop, string path, string digest, string sha, long size, int count, IReadOnlyList<FactorRow> factors)
    {
        var now = UtcText.Now();
        // A stale row from another loop must not hold this bundle id (it is unique).
        using (var cmd = db.Command(tx, "DELETE FROM production_bundles WHERE bundle_id = $b AND NOT (task_run_id = $tr AND loop_id = $loop)",
            ("$b", loop.BundleId), ("$tr", loop.TaskRunId), ("$loop", loop.LoopId))) cmd.ExecuteNonQuery();
        using (var cmd = db.Command(tx, """
            INSERT INTO production_bundles (task_run_id, loop_id, bundle_id, bundle_path, created_at, updated_at, content_digest, archive_sha256, size_bytes, file_count)
            VALUES ($tr, $loop, $b, $path, $now, $now, $digest, $sha, $size, $count)
            ON CONFLICT (task_run_id, loop_id) DO UPDATE SET bundle_id = excluded.bundle_id, bundle_path = excluded.bundle_path, updated_at = excluded.updated_at,
                content_digest = excluded.content_digest, archive_sha256 = excluded.archive_sha256, size_bytes = excluded.size_bytes, file_count = excluded.file_count
            WHERE production_bundles.bundle_id IS NOT excluded.bundle_id OR production_bundles.bundle_path IS NOT excluded.bundle_path
               OR production_bundles.content_digest IS NOT excluded.content_digest OR production_bundles.archive_sha256 IS NOT excluded.archive_sha256
               OR production_bundles.size_bytes IS NOT excluded.size_bytes OR production_bundles.file_count IS NOT excluded.file_count
            """, ("$tr", loop.TaskRunId), ("$loop", loop.LoopId), ("$b", loop.BundleId), ("$path", path), ("$now", now),
            ("$digest", digest), ("$sha", sha), ("$size", size), ("$count", count))) cmd.ExecuteNonQuery();
        using (var cmd = db.Command(tx, """
            UPDATE loops SET asset_bundle_id = $b, is_solidified = 1, updated_at_utc = $now
            WHERE task_run_id = $tr AND loop_id = $loop AND (asset_bundle_id IS NOT $b OR is_solidified IS NOT 1)
            """, ("$b", loop.BundleId), ("$now", now), ("$tr", loop.TaskRunId), ("$loop", loop.LoopId))) cmd.ExecuteNonQuery();
        using (var cmd = db.Command(tx, "DELETE FROM factor_registry WHERE asset_bundle_id = $b", ("$b", loop.BundleId))) cmd.ExecuteNonQuery();
        foreach (var f in factors)
        {
            using var cmd = db.Command(tx, """
                INSERT INTO factor_registry (factor_name, expression, performance_json, asset_bundle_id, workspace_id, task_run_id, loop_id, updated_at_utc)
                VALUES ($n, $e, $p, $b, $ws, $tr, $loop, $now)
                """, ("$n", f.Name), ("$e", f.Expression), ("$p", f.Performance), ("$b", loop.BundleId), ("$ws", f.WorkspaceId),
                ("$tr", loop.TaskRunId), ("$loop", loop.LoopId), ("$now", now));
            cmd.ExecuteNonQuery();
        }
        return 0;
    }
}
