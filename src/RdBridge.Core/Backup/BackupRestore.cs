using System.Text.Json;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Runs;

namespace RdBridge.Backup;

/// <summary>One snapshot under <c>backups/</c>, as <c>restore</c> lists it.</summary>
public sealed record BackupEntry(string Name, string Folder, bool HasRegistry, int BundleFiles, int LibraryFiles);

/// <summary>What a restore did: whether anything changed, and the backup of the state it replaced.</summary>
public sealed record RestoreResult(bool Changed, IReadOnlyList<string> Notes);

/// <summary>
/// The undo of <c>init</c>, <c>sync</c>, <c>doctor --fix</c> and <c>backup</c>: lists the snapshots
/// <see cref="BackupStage"/> took and puts one back — the registry, the bundle folder and the strategies library —
/// after taking a snapshot of the current state. Every part is copied beside its target first and then swapped in by
/// a rename, so a failure while copying leaves the current state whole. Restoring the state already in place changes
/// nothing, not even the backup folder.
/// </summary>
public static class BackupRestore
{
    private const string Registry = "registry.sqlite";
    private const string Bundles = "production_bundles";
    private const string Library = "rd-strategies-lib";

    public static IReadOnlyList<BackupEntry> List(RdBridgeSettings s)
    {
        if (!Directory.Exists(s.BackupDirectory)) return [];
        return Directory.EnumerateDirectories(s.BackupDirectory)
            .Where(d => !Path.GetFileName(d).StartsWith('.') && File.Exists(Path.Combine(d, "backup_state.json")))
            .Order(StringComparer.Ordinal)
            .Select(d => new BackupEntry(Path.GetFileName(d), d, File.Exists(Path.Combine(d, Registry)),
                CountFiles(Path.Combine(d, Bundles)), CountFiles(Path.Combine(d, Library))))
            .ToList();
    }

    /// <summary>The backup named, or the only one whose name starts with <paramref name="name"/>.</summary>
    public static BackupEntry Find(RdBridgeSettings s, string name)
    {
        var all = List(s);
        var exact = all.FirstOrDefault(b => b.Name == name);
        if (exact is not null) return exact;
        var matches = all.Where(b => b.Name.StartsWith(name, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new ConfigurationException($"no backup '{name}' in {s.BackupDirectory}; 'rdbridge restore' " +
                $"lists them ({all.Count} there)"),
            _ => throw new ConfigurationException($"'{name}' starts {matches.Count} backups' names (" +
                $"{string.Join(", ", matches.Select(m => m.Name))}); give more of it"),
        };
    }

    public static RestoreResult Restore(RdBridgeSettings s, string name, TimeSpan lockWait)
    {
        var backup = Find(s, name);
        // No init or sync may run while its registry and bundles are swapped under it.
        using var syncLock = SyncLock.Acquire(Path.Combine(s.AistockRoot, ".rdbridge-sync.lock"), lockWait);
        var state = JsonSerializer.Deserialize<Dictionary<string, string>>(
            File.ReadAllText(Path.Combine(backup.Folder, "backup_state.json"))) ?? [];
        var parts = new[]
        {
            (Live: s.BundleDirectory, Saved: Path.Combine(backup.Folder, Bundles),
                Absent: state.GetValueOrDefault("bundles") == "absent"),
            (Live: s.StrategiesLibRoot, Saved: Path.Combine(backup.Folder, Library),
                Absent: state.GetValueOrDefault("strategies_lib") == "absent"),
        };
        var savedRegistry = Path.Combine(backup.Folder, Registry);
        var registrySame = SameRegistry(s.RegistryPath, File.Exists(savedRegistry) ? savedRegistry : null);
        var changedParts = parts.Where(p => Listing(p.Live, p.Absent && !Directory.Exists(p.Live))
            != Listing(p.Saved, p.Absent)).ToList();
        if (registrySame && changedParts.Count == 0)
        {
            return new RestoreResult(false,
                [$"the registry, bundles and strategies library are already as backup {backup.Name}; nothing changed"]);
        }

        var notes = new List<string>();
        var safety = new BackupStage(s).Run();
        notes.AddRange(safety.Notes.Select(n => $"the state before the restore: {n}"));

        // Copy every part beside its target first; only then swap them in.
        var id = Guid.NewGuid().ToString("N")[..8];
        var staged = new List<(string Live, string? Staged)>();
        try
        {
            foreach (var p in changedParts)
            {
                if (p.Absent && !Directory.Exists(p.Saved)) { staged.Add((p.Live, null)); continue; }
                var temp = Sibling(p.Live, $"restore-{id}");
                CopyTree(p.Saved, temp);
                staged.Add((p.Live, temp));
            }
            string? registryTemp = null;
            if (!registrySame && File.Exists(savedRegistry))
            {
                registryTemp = Sibling(s.RegistryPath, $"restore-{id}");
                Directory.CreateDirectory(Path.GetDirectoryName(registryTemp)!);
                File.Copy(savedRegistry, registryTemp);
            }

            foreach (var (live, temp) in staged)
            {
                var old = Sibling(live, $"replaced-{id}");
                if (Directory.Exists(live)) Directory.Move(live, old);
                if (temp is not null) Directory.Move(temp, live);
                if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
                notes.Add(temp is null ? $"removed {live} (the backup was taken before it existed)"
                    : $"put back {live}");
            }
            if (!registrySame)
            {
                // The journal files belong to the registry being replaced; its content is in the backup just taken.
                foreach (var sidecar in new[] { "-wal", "-shm" }) File.Delete(s.RegistryPath + sidecar);
                if (registryTemp is not null)
                {
                    File.Move(registryTemp, s.RegistryPath, overwrite: true);
                    notes.Add($"put back {s.RegistryPath}");
                }
                else if (File.Exists(s.RegistryPath))
                {
                    File.Delete(s.RegistryPath);
                    notes.Add($"removed {s.RegistryPath} (the backup was taken before discovery created it)");
                }
            }
        }
        finally
        {
            foreach (var (_, temp) in staged)
                if (temp is not null && Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            AtomicFile.TryDelete(Sibling(s.RegistryPath, $"restore-{id}"));
        }
        notes.Add($"restored backup {backup.Name}; run 'rdbridge sync' to bring AIstock's catalogs and cache in line");
        return new RestoreResult(true, notes);
    }

    private static string Sibling(string path, string tag)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{tag}");
    }

    /// <summary>The live registry holds exactly the saved bytes (and no journal that would add to them).</summary>
    private static bool SameRegistry(string live, string? saved)
    {
        if (saved is null) return !File.Exists(live);
        if (!File.Exists(live)) return false;
        if (File.Exists(live + "-wal") && new FileInfo(live + "-wal").Length > 0) return false;
        return new FileInfo(live).Length == new FileInfo(saved).Length
            && FileDigest.Sha256OfFile(live) == FileDigest.Sha256OfFile(saved);
    }

    /// <summary>Every regular file's path, size and sha256 (as the backup copied them); "absent" for no folder.
    /// </summary>
    private static string Listing(string folder, bool absent)
    {
        if (!Directory.Exists(folder)) return absent ? "absent" : "";
        var listing = new System.Text.StringBuilder();
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                     .Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(file).StartsWith('.') && file.EndsWith(".tmp", StringComparison.Ordinal)) continue;
            if (RegularFile.KindOf(file) != FileKind.Regular) continue;
            listing.Append(Path.GetRelativePath(folder, file)).Append('|').Append(new FileInfo(file).Length)
                .Append('|').Append(FileDigest.Sha256OfFile(file)).Append('\n');
        }
        return listing.ToString();
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        if (!Directory.Exists(from)) return;
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static int CountFiles(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count() : 0;
}
