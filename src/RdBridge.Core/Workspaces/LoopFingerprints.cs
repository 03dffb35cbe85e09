using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Registry;

namespace RdBridge.Workspaces;

/// <summary>
/// What a loop looks like now, in one digest: its <c>loops</c> row, its <c>workspaces</c> and <c>production_bundles</c>
/// rows, and a stat (size, mtime, ctime, inode) of every file of its workspaces and of its bundle. <c>sync</c> compares
/// these with what its last successful run recorded and examines exactly the loops that differ or were never recorded,
/// whatever their clocks say: a stat pass and registry reads, no file is opened.
/// </summary>
public static class LoopFingerprints
{
    /// <summary>The record <c>init</c> and <c>sync</c> keep (both are the sync pipeline).</summary>
    public const string SyncPipeline = "sync";

    /// <summary>The record <c>publish</c> keeps (a publisher's own runs, apart from any local sync).</summary>
    public const string PublishPipeline = "publish";

    /// <summary>
    /// Compares every loop and the products with what the last successful run of <paramref name="pipeline"/> recorded.
    /// </summary>
    public static LoopChanges Compare(RdBridgeSettings settings, string pipeline)
    {
        using var registry = RegistryDatabase.Open(settings.RegistryPath, writable: false);
        var recorded = registry.ReadLoopStates(pipeline);
        var changed = new HashSet<string>(StringComparer.Ordinal);
        // Kept until the run records what it did: one key (shared with changed) and 32 bytes per loop.
        var seen = new Dictionary<string, LoopDigest>(StringComparer.Ordinal);
        int loops = 0, stillThere = 0;
        foreach (var state in Take(registry, settings))
        {
            loops++;
            var key = state.Key;
            seen[key] = state.Fingerprint;
            var known = recorded.TryGetValue(key, out var before);
            if (known) stillThere++;
            if (!known || before != state.Fingerprint) changed.Add(key);
        }
        var productsSame = registry.ReadProductsState(pipeline) == Products(settings);
        return new LoopChanges(changed, loops - changed.Count, recorded.Count - stillThere, productsSame,
            recorded.Count > 0) { Seen = seen };
    }

    /// <summary>
    /// Records every loop and the products as a successful run of <paramref name="pipeline"/> leaves them, in one short
    /// transaction, for the next run to compare with. Loops named in <paramref name="leaveOut"/> (those that had a
    /// problem) are not recorded, so the next run examines them again.
    /// </summary>
    /// <param name="start">
    /// The comparison the run began with: a loop that appeared after it (RD-Agent finished it while the run went on) or
    /// that was unchanged then and differs now was not examined, so it is not recorded either and the next run takes
    /// it. Without it a loop finished during a sync was recorded as synced and never imported.
    /// </param>
    /// <param name="examinedAll">Every loop of <paramref name="start"/> was examined (init, --since, --all).</param>
    public static void Record(RdBridgeSettings settings, string pipeline, IReadOnlySet<string>? leaveOut = null,
        LoopChanges? start = null, bool examinedAll = false)
    {
        using var registry = RegistryDatabase.Open(settings.RegistryPath, writable: true);
        // Taken before the write transaction, which stays short; a state is a key and a digest per loop.
        var states = Take(registry, settings).Where(s => leaveOut is null || !leaveOut.Contains(s.Key))
            .Where(s => start is null || (start.Seen.TryGetValue(s.Key, out var before)
                && (examinedAll || start.Changed.Contains(s.Key) || before == s.Fingerprint)))
            .ToList();
        var products = Products(settings);
        registry.Write(write => write.RecordRun(pipeline, states, products, IO.UtcText.Now()));
    }

    private static readonly EnumerationOptions AllFiles = new()
    {
        RecurseSubdirectories = true,
        IgnoreInaccessible = true,
        AttributesToSkip = FileAttributes.ReparsePoint, // links are never followed: their targets are not the loop's
        ReturnSpecialDirectories = false,
    };

    /// <summary>
    /// Every loop of the registry with its digest now, one loop at a time (its rows are read as it comes), so the pass
    /// holds one loop's rows and file list whatever the registry's size.
    /// </summary>
    public static IEnumerable<LoopState> Take(RegistryDatabase registry, RdBridgeSettings settings)
    {
        var text = new StringBuilder();
        foreach (var loop in registry.ReadLoops(LoopSelection.All))
        {
            var rows = registry.ReadWorkspaces(loop.TaskRunId, loop.LoopId);
            text.Clear();
            Describe(text, loop, rows, registry.ReadBundle(loop.TaskRunId, loop.LoopId), settings);
            var digest = LoopDigest.Of(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
            yield return new LoopState(loop.TaskRunId, loop.LoopId, digest);
        }
    }

    /// <summary>Writes down everything the loop's fingerprint covers, one line per row or file.</summary>
    private static void Describe(
        StringBuilder text, LoopRow loop, IReadOnlyList<WorkspaceRow> rows, BundleRow? bundle,
        RdBridgeSettings settings)
    {
        void Add(params object?[] parts)
        {
            foreach (var p in parts)
            {
                if (p is null) text.Append('\u2400');
                else if (p is IFormattable f) text.Append(f.ToString(null, CultureInfo.InvariantCulture));
                else text.Append(p);
                text.Append('\u001f');
            }
            text.Append('\n');
        }
        Add("loop", loop.TaskRunId, loop.LoopId, loop.Action, loop.Status, loop.HasResult, loop.LogDir,
            loop.StartedAtUtc, loop.EndedAtUtc, loop.ErrorType, loop.ErrorMessage, loop.AssetBundleId,
            loop.IsSolidified, loop.MaterializationStatus, loop.UpdatedAtUtc, loop.Scenario, loop.LogTracePath,
            loop.WorkspaceId, loop.WorkspacePath);
        if (bundle is not null)
        {
            Add("bundle row", bundle.BundleId, bundle.BundlePath, bundle.ContentDigest, bundle.ArchiveSha256,
                bundle.SizeBytes, bundle.FileCount);
        }

        foreach (var w in rows)
        {
            Add("workspace", w.WorkspaceId, w.LoopId, w.Role, w.ExperimentType, w.StepName, w.Status, w.WorkspacePath);
            if (settings.PathMap.Map(w.WorkspacePath).Local is not { } dir || !Directory.Exists(dir)) continue;
            var files = Directory.EnumerateFiles(dir, "*", AllFiles).ToList();
            files.Sort(StringComparer.Ordinal);
            foreach (var file in files)
            {
                text.Append("file\u001f").Append(file, dir.Length, file.Length - dir.Length).Append('\u001f');
                FileStat.Append(text, file);
                text.Append('\n');
            }
        }
        if (Layout.BundleId.IsSafe(loop.BundleId))
        {
            text.Append("bundle files\u001f");
            FileStat.Append(text, settings.Bundles.Archive(loop.BundleId));
            text.Append('\u001f');
            FileStat.Append(text, settings.Bundles.Sidecar(loop.BundleId));
            text.Append('\n');
        }
    }

    /// <summary>
    /// A stat of what a sync produces outside the loops' own folders: the exported catalogs and strategy library,
    /// the AIstock side's catalog copies and the asset cache's entries. A sync that finds no loop changed still does
    /// its work when one of these was changed or removed since its last successful run.
    /// </summary>
    /// <remarks>
    /// The asset cache holds three entries per bundle (archive, sidecar, extracted folder): 22,000 at 7,500 bundles.
    /// Listing, sorting and writing them down as one text took 15–20 MB at the end of every run (issue 22, point 4:
    /// the peak of <c>init</c> at 10,000 loops). Each entry's line is hashed on its own instead and the digests are
    /// added up (modulo 2^256), which does not depend on the order the folder lists them in, so nothing is kept but
    /// the sum and the count.
    /// </remarks>
    public static string Products(RdBridgeSettings settings)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var line = new StringBuilder();
        var digest = new byte[32];
        var bytes = new byte[1024];
        void Folder(string dir, bool recurse)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"folder {dir}\n"));
            if (!Directory.Exists(dir)) return;
            var options = new EnumerationOptions
            {
                RecurseSubdirectories = recurse, IgnoreInaccessible = true, AttributesToSkip = 0,
            };
            var sum = new DigestSum();
            foreach (var e in Directory.EnumerateFileSystemEntries(dir, "*", options))
            {
                line.Clear().Append(e, dir.Length, e.Length - dir.Length).Append('\u001f');
                FileStat.Append(line, e);
                var length = Encoding.UTF8.GetMaxByteCount(line.Length);
                if (length > bytes.Length) bytes = new byte[length];
                var n = Encoding.UTF8.GetBytes(line.ToString(), bytes);
                SHA256.HashData(bytes.AsSpan(0, n), digest);
                sum.Add(digest);
            }
            sum.WriteTo(hash);
        }
        Folder(settings.CatalogDirectory, recurse: false);
        Folder(settings.AistockCatalogDirectory, recurse: false);
        Folder(Path.GetDirectoryName(settings.StrategiesLibFile)!, recurse: false);
        // The cache's top level: each archive, sidecar and extracted folder (a folder's stat changes when an entry in
        // it is added, removed or renamed).
        Folder(settings.AssetCacheDirectory, recurse: false);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The digests of a folder's entries added up as 256-bit numbers, and how many there were.</summary>
    private struct DigestSum
    {
        private UInt128 _low, _high;
        private long _count;

        public void Add(ReadOnlySpan<byte> digest)
        {
            var low = System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest);
            var high = System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest[16..]);
            var sum = _low + low;
            _high += high + (sum < _low ? UInt128.One : UInt128.Zero);
            _low = sum;
            _count++;
        }

        public readonly void WriteTo(IncrementalHash hash)
        {
            Span<byte> b = stackalloc byte[40];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt128LittleEndian(b, _low);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt128LittleEndian(b[16..], _high);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[32..], _count);
            hash.AppendData(b);
        }
    }
}

/// <summary>What differs from the last successful run: the loops to examine, and whether anything else does.</summary>
public sealed record LoopChanges(
    IReadOnlySet<string> Changed, int Unchanged, int Removed, bool ProductsSame, bool EverRecorded)
{
    /// <summary>Every loop compared, with its digest then.</summary>
    public IReadOnlyDictionary<string, LoopDigest> Seen { get; init; } = new Dictionary<string, LoopDigest>();

    /// <summary>Nothing for any stage to do: no loop differs or was removed, the products are as they were.</summary>
    public bool Quiet => EverRecorded && Changed.Count == 0 && Removed == 0 && ProductsSame;

    /// <summary>What a report says about the comparison, beyond its counts.</summary>
    public IEnumerable<string> Notes()
    {
        if (!EverRecorded) yield return "no successful run recorded yet: every loop is examined";
        if (Removed > 0)
        {
            yield return $"{Counted.Of(Removed, "loop")} recorded by the last successful run "
                + $"{(Removed == 1 ? "is" : "are")} no longer in the registry";
        }
        if (EverRecorded && !ProductsSame)
        {
            yield return "catalogs or the asset cache changed since the last successful run: "
                + "they are brought up to date";
        }

        if (Quiet) yield return "no loop, file or product changed since the last successful run: nothing to examine";
    }
}
