using System.Formats.Tar;
using System.IO.Compression;
using RdBridge.Bundles;
using RdBridge.IO;

namespace RdBridge.Assets;

/// <summary>A bundle that must not be used: corrupt, tampered with, or holding entries that could escape its
/// folder.</summary>
public sealed class UnsafeBundleException(string message) : RdBridgeException(message, ExitCodes.ItemFailures);

/// <summary>
/// Reads a bundle entry by entry, refusing anything that could write outside its folder (<c>..</c>, absolute paths,
/// links, devices) and taking no size on trust: the manifest comes first, and every later entry must be listed in it
/// with the size its tar header gives, is read up to that size and no further, and is hashed as it streams. A gzip
/// bomb is refused at its first oversized header, before a byte of it is written.
/// </summary>
public static class SafeExtractor
{
    public const long DefaultMaxBytes = 20L * 1024 * 1024 * 1024;
    public const int DefaultMaxEntries = 200_000;

    /// <summary>Reads only the first entry: the manifest bytes (cheap, used to tell whether an extraction is
    /// current).</summary>
    public static byte[]? ReadManifest(string archive)
    {
        try
        {
            using var file = RegularFile.OpenRead(archive, bufferSize: 0);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            var entry = tar.GetNextEntry();
            if (entry?.Name != BundleManifest.FileName || entry.DataStream is null) return null;
            return ReadManifestBytes(entry);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new UnsafeBundleException($"the archive is corrupt: {e.Message}");
        }
    }

    /// <summary>Extracts into <paramref name="destination"/> (a new folder), checking each file against the
    /// manifest.</summary>
    /// <param name="windowsNames">Refuse names Windows cannot hold or would merge (<see cref="WindowsNames"/>); by
    /// default on Windows, where extracting them would open a device or overwrite another entry.</param>
    public static ManifestSummary Extract(string archive, string destination, long maxBytes = DefaultMaxBytes,
        int maxEntries = DefaultMaxEntries, bool? windowsNames = null)
    {
        Directory.CreateDirectory(destination);
        var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
        return Walk(archive, maxBytes, maxEntries, windowsNames ?? OperatingSystem.IsWindows(), name =>
        {
            var target = Path.GetFullPath(Path.Combine(root, name));
            if (!target.StartsWith(root, StringComparison.Ordinal))
                throw new UnsafeBundleException($"entry '{name}' would be written outside the bundle folder");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            return new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
        });
    }

    /// <summary>
    /// The checks of <see cref="Extract"/> without writing anything: each entry is hashed as it streams by and compared
    /// with the manifest (<c>bundle verify</c>); on Windows, names Windows cannot hold are refused as in extraction.
    /// </summary>
    public static ManifestSummary Verify(string archive,
        long maxBytes = DefaultMaxBytes, int maxEntries = DefaultMaxEntries) =>
        Walk(archive, maxBytes, maxEntries, windows: OperatingSystem.IsWindows(), _ => Stream.Null);

    private static ManifestSummary Walk(
        string archive, long maxBytes, int maxEntries, bool windows, Func<string, Stream> open)
    {
        try
        {
            using var file = RegularFile.OpenRead(archive, bufferSize: 0);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            var first = tar.GetNextEntry();
            if (first?.Name != BundleManifest.FileName
                || first.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                throw new UnsafeBundleException($"it has no {BundleManifest.FileName} first");
            }

            var manifestBytes = ReadManifestBytes(first);
            var manifest = Summary(manifestBytes);
            var announced = new Dictionary<string, (long Size, string Sha)>(StringComparer.Ordinal);
            var cases = new WindowsNames.CaseCollisions();
            long total = 0;
            foreach (var (path, size, sha) in manifest.Files)
            {
                CheckName(path);
                if (windows) CheckWindowsName(path, cases);
                // A negative size is refused by the manifest's reader already.
                if (!announced.TryAdd(path, (size, sha)))
                    throw new UnsafeBundleException($"the manifest lists '{path}' twice");
                total += size;
            }
            if (announced.Count + 1 > maxEntries)
            {
                throw new UnsafeBundleException($"its manifest lists more than "
                    + $"{Counted.Of(maxEntries, "entry", "entries")}");
            }
            if (total > maxBytes)
                throw new UnsafeBundleException($"its manifest announces {total:N0} bytes, more than {maxBytes:N0}");
            using (var output = open(BundleManifest.FileName)) output.Write(manifestBytes);

            var seen = new HashSet<string>(StringComparer.Ordinal);
            var count = 1;
            TarEntry? entry;
            while ((entry = tar.GetNextEntry()) is not null)
            {
                if (++count > maxEntries)
                {
                    throw new UnsafeBundleException($"more than {Counted.Of(maxEntries, "entry", "entries")}");
                }
                var name = entry.Name;
                CheckName(name);
                if (entry.EntryType is TarEntryType.Directory) continue;
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    throw new UnsafeBundleException($"entry '{name}' is a {entry.EntryType}, not a regular file; "
                        + "links and devices are refused");
                }

                if (!announced.TryGetValue(name, out var expected))
                    throw new UnsafeBundleException($"'{name}' is in the archive but not in its manifest");
                if (!seen.Add(name)) throw new UnsafeBundleException($"'{name}' is in the archive twice");
                if (entry.Length != expected.Size)
                {
                    throw new UnsafeBundleException($"'{name}' is {Counted.Of(entry.Length, "byte", format: "N0")} " +
                        $"in the archive but {expected.Size:N0} in its manifest");
                }

                string sha;
                using (var output = open(name))
                {
                    var hashing = new HashingWriteStream(output);
                    CopyAtMost(entry.DataStream, hashing, expected.Size, name);
                    hashing.Flush();
                    sha = hashing.HexDigest();
                }
                if (sha != expected.Sha)
                {
                    throw new UnsafeBundleException($"'{name}' does not match its manifest entry (sha256 " +
                        $"{sha[..12]}… vs {Clip(expected.Sha)}…)");
                }
            }
            var missing = announced.Keys.Where(k => !seen.Contains(k)).Order(StringComparer.Ordinal).FirstOrDefault();
            if (missing is not null)
                throw new UnsafeBundleException($"'{missing}' is listed in the manifest but missing");
            return manifest;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new UnsafeBundleException($"the archive is corrupt: {e.Message}");
        }
    }

    /// <summary>Copies exactly <paramref name="size"/> bytes; a stream that ends early or goes on is refused.</summary>
    private static void CopyAtMost(Stream? input, Stream output, long size, string name)
    {
        if (input is null)
        {
            if (size != 0)
            {
                throw new UnsafeBundleException($"'{name}' has no content but its manifest lists "
                    + $"{Counted.Of(size, "byte", format: "N0")}");
            }
            return;
        }
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long copied = 0;
            while (copied < size)
            {
                var n = input.Read(buffer, 0, (int)Math.Min(buffer.Length, size - copied));
                if (n == 0)
                {
                    throw new UnsafeBundleException($"'{name}' ends after {copied:N0} of its "
                        + $"{Counted.Of(size, "byte", format: "N0")}");
                }
                output.Write(buffer, 0, n);
                copied += n;
            }
            if (input.Read(buffer, 0, 1) > 0)
            {
                throw new UnsafeBundleException($"'{name}' holds more than its "
                    + $"{Counted.Of(size, "byte", format: "N0")}");
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[] ReadManifestBytes(TarEntry entry)
    {
        if (entry.Length > ReadLimits.BundleManifest)
        {
            throw new UnsafeBundleException($"its {BundleManifest.FileName} announces {entry.Length:N0} bytes, " +
                $"more than {ReadLimits.BundleManifest:N0}");
        }

        var bytes = new byte[entry.Length];
        entry.DataStream?.ReadExactly(bytes);
        return bytes;
    }

    private static ManifestSummary Summary(byte[] manifestBytes)
    {
        try { return BundleManifest.ReadSummary(manifestBytes); }
        catch (Exception e)
            when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new UnsafeBundleException($"its {BundleManifest.FileName} cannot be read: {e.Message}");
        }
    }

    private static string Clip(string s) => s.Length > 12 ? s[..12] : s;

    /// <summary>Only the files the manifest lists are written, so checking its paths covers every name
    /// extracted.</summary>
    private static void CheckWindowsName(string path, WindowsNames.CaseCollisions cases)
    {
        if (WindowsNames.Problem(path) is { } problem)
            throw new UnsafeBundleException($"entry '{path}' cannot be extracted on Windows: {problem}");
        if (cases.Add(path) is { } earlier)
        {
            throw new UnsafeBundleException($"entries '{earlier}' and '{path}' differ only in case; Windows keeps " +
                "one file for both, so one would overwrite the other");
        }
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
