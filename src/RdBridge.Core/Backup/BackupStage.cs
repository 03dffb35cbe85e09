using System.Text.Json;
using Microsoft.Data.Sqlite;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Runs;

namespace RdBridge.Backup;

/// <summary>
/// Step 1.1 of the guide: a timestamped snapshot of the registry (SQLite online backup, consistent while RD-Agent
/// writes), the bundle folder and the strategies library. A snapshot identical to the latest one is not kept.
/// </summary>
public sealed class BackupStage(RdBridgeSettings settings)
{
    private static readonly Counter Unchanged = Counter.Tally("unchanged since latest backup");
    private static readonly Counter Written = Counter.Change("backups written", "backup written");

    private const string StateFile = "backup_state.json";

    public StageReport Run()
    {
        var report = new StageReport("backup");
        Directory.CreateDirectory(settings.BackupDirectory);
        var stamp = UtcText.FileStamp(DateTimeOffset.UtcNow);
        var temp = Path.Combine(settings.BackupDirectory, $".{stamp}.partial");
        var final = Path.Combine(settings.BackupDirectory, stamp);
        try
        {
            Directory.CreateDirectory(temp);
            var registryCopy = Path.Combine(temp, "registry.sqlite");
            // No registry yet (upstream RD-Agent writes none; discovery is about to create it): nothing to keep of it.
            if (File.Exists(settings.RegistryPath))
            {
                var from = new SqliteConnectionStringBuilder
                {
                    DataSource = settings.RegistryPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
                };
                var to = new SqliteConnectionStringBuilder { DataSource = registryCopy, Pooling = false };
                using var source = new SqliteConnection(from.ToString());
                using var target = new SqliteConnection(to.ToString());
                source.Open();
                target.Open();
                source.BackupDatabase(target);
            }
            var bundles = CopyTree(settings.BundleDirectory, Path.Combine(temp, "production_bundles"));
            var library = CopyTree(settings.StrategiesLibRoot, Path.Combine(temp, "rd-strategies-lib"));
            var state = new Dictionary<string, string>
            {
                ["registry_sha256"] = File.Exists(registryCopy) ? FileDigest.Sha256OfFile(registryCopy) : "none",
                ["bundles"] = bundles,
                ["strategies_lib"] = library,
            };
            var latest = Directory.EnumerateDirectories(settings.BackupDirectory)
                .Where(d => !Path.GetFileName(d).StartsWith('.')).Order(StringComparer.Ordinal).LastOrDefault();
            if (latest is not null && File.Exists(Path.Combine(latest, StateFile))
                && JsonSerializer.Deserialize<Dictionary<string, string>>(
                    File.ReadAllText(Path.Combine(latest, StateFile))) is { } previous
                && previous.Count == state.Count && previous.All(kv => state.GetValueOrDefault(kv.Key) == kv.Value))
            {
                report.Add(Unchanged);
                report.Note($"nothing changed since {latest}; no new backup kept");
                return report;
            }
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state));
            Directory.Move(temp, final);
            report.Add(Written);
            report.Note($"backup at {final}");
            return report;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>Copies a folder (if it exists) and returns a digest of its listing (path, size, sha256).</summary>
    private static string CopyTree(string from, string to)
    {
        if (!Directory.Exists(from)) return "absent";
        var listing = new System.Text.StringBuilder();
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories)
                     .Order(StringComparer.Ordinal))
        {
            var rel = Path.GetRelativePath(from, file);
            if (Path.GetFileName(file).StartsWith('.') && (file.EndsWith(".tmp", StringComparison.Ordinal)
                    || file.EndsWith(".tmp.index", StringComparison.Ordinal)))
            {
                continue; // a temporary of a run under way or killed: not part of what is backed up
            }
            if (RegularFile.KindOf(file) is var kind && kind != FileKind.Regular)
            {
                // A FIFO or device would block or never end the copy; the listing says it was left out.
                listing.Append(rel).Append("|skipped|").Append(RegularFile.Describe(kind)).Append('\n');
                continue;
            }
            var dst = Path.Combine(to, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Copy(file, dst);
            listing.Append(rel).Append('|').Append(new FileInfo(file).Length).Append('|')
                .Append(FileDigest.Sha256OfFile(dst)).Append('\n');
        }
        return FileDigest.Sha256OfText(listing.ToString());
    }
}
