using System.Formats.Tar;
using System.IO.Compression;
using RdBridge.Bundles;
using RdBridge.IO;

namespace RdBridge.Assets;

/// <summary>A bundle that must not be used: corrupt, tampered with, or holding entries that could escape its folder.</summary>
public sealed class UnsafeBundleException(string message) : RdBridgeException(message, ExitCodes.ItemFailures);

/// <summary>
/// Extracts a bundle into a fresh folder, refusing anything that could write outside it (<c>..</c>, absolute paths,
/// links, devices), capping the total size, and checking every file against the bundle's manifest.
/// </summary>
public static class SafeExtractor
{
    public const long DefaultMaxBytes = 20L * 1024 * 1024 * 1024;
    public const int DefaultMaxEntries = 200_000;

    /// <summary>Reads only the first entry: the manifest bytes (cheap, used to tell whether an extraction is current).</summary>
    public static byte[]? ReadManifest(string archive)
    {
        using var file = File.OpenRead(archive);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        var entry = tar.GetNextEntry();
        if (entry?.Name != BundleManifest.FileName || entry.DataStream is null) return null;
        using var ms = new MemoryStream();
        entry.DataStream.CopyTo(ms);
        return ms.ToArray();
    }

    /// <param name="windowsNames">Refuse names Windows cannot hold or would merge (<see cref="WindowsNames"/>); by
    /// default on Windows, where extracting them would open a device or overwrite another entry.</param>
    public static ManifestSummary Extract(string archive, string destination, long maxBytes = DefaultMaxBytes,
        int maxEntries = DefaultMaxEntries, bool? windowsNames = null)
    {
        var checkWindows = windowsNames ?? OperatingSystem.IsWindows();
        var cases = new WindowsNames.CaseCollisions();
        Directory.CreateDirectory(destination);
        var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        var written = new Dictionary<string, (long Size, string Sha)>(StringComparer.Ordinal);
        ManifestSummary? manifest = null;
        long total = 0;
        var count = 0;
        try
        {
            using var file = File.OpenRead(archive);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            TarEntry? entry;
            while ((entry = tar.GetNextEntry()) is not null)
            {
                if (++count > maxEntries) throw new UnsafeBundleException($"more than {maxEntries} entries");
                var name = entry.Name;
                CheckName(name);
                if (checkWindows) CheckWindowsName(name.TrimEnd('/'), entry.EntryType is TarEntryType.Directory, cases);
                if (entry.EntryType is TarEntryType.Directory) continue;
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                    throw new UnsafeBundleException($"entry '{name}' is a {entry.EntryType}, not a regular file; links and devices are refused");
                total += entry.Length;
                if (total > maxBytes) throw new UnsafeBundleException($"holds more than {maxBytes} bytes");
                var target = Path.GetFullPath(Path.Combine(root, name));
                if (!target.StartsWith(root, StringComparison.Ordinal))
                    throw new UnsafeBundleException($"entry '{name}' would be written outside the bundle folder");
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write))
                {
                    var hashing = new HashingWriteStream(output);
                    entry.DataStream?.CopyTo(hashing);
                    written[name] = (hashing.BytesWritten, hashing.HexDigest());
                }
                if (name == BundleManifest.FileName)
                    manifest = BundleManifest.ReadSummary(File.ReadAllBytes(target));
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or System.Text.Json.JsonException)
        {
            throw new UnsafeBundleException($"the archive is corrupt: {e.Message}");
        }
        if (manifest is null) throw new UnsafeBundleException($"it has no {BundleManifest.FileName}");
        foreach (var (path, size, sha) in manifest.Files)
        {
            if (!written.TryGetValue(path, out var got)) throw new UnsafeBundleException($"'{path}' is listed in the manifest but missing");
            if (got.Size != size || got.Sha != sha) throw new UnsafeBundleException($"'{path}' does not match its manifest entry (sha256 {got.Sha[..12]}… vs {sha[..12]}…)");
        }
        var extra = written.Keys.Where(k => k != BundleManifest.FileName).Except(manifest.Files.Select(f => f.Path)).FirstOrDefault();
        if (extra is not null) throw new UnsafeBundleException($"'{extra}' is in the archive but not in its manifest");
        return manifest;
    }

    private static void CheckWindowsName(string name, bool directory, WindowsNames.CaseCollisions cases)
    {
        if (WindowsNames.Problem(name) is { } problem)
            throw new UnsafeBundleException($"entry '{name}' cannot be extracted on Windows: {problem}");
        if (!directory && cases.Add(name) is { } earlier)
            throw new UnsafeBundleException($"entries '{earlier}' and '{name}' differ only in case; Windows keeps " +
                "one file for both, so one would overwrite the other");
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new UnsafeBundleException("an entry has no name");
        if (name.StartsWith('/') || name.StartsWith('\\') || (name.Length > 1 && name[1] == ':'))
            throw new UnsafeBundleException($"entry '{name}' has an absolute path");
        if (name.Contains('\0')) throw new UnsafeBundleException("an entry name holds a NUL byte");
        foreach (var part in name.Split('/', '\\'))
            if (part == "..") throw new UnsafeBundleException($"entry '{name}' climbs out with '..'");
    }
}
