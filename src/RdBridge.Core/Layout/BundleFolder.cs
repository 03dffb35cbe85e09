using System.Text;
using RdBridge.IO;

namespace RdBridge.Layout;

/// <summary>
/// A folder of asset bundles: <c>production_bundles/</c> on the RD-Agent side and the AIstock asset cache both hold
/// <c>&lt;id&gt;.tar.gz</c> with a <c>&lt;id&gt;.tar.gz.sha256</c> sidecar in <c>sha256sum</c> format, so
/// <c>sha256sum -c</c> checks either folder.
/// </summary>
public sealed class BundleFolder(string root)
{
    public const string ArchiveSuffix = ".tar.gz";
    public const string DigestSuffix = ".tar.gz.sha256";

    /// <summary>Inside every bundle, first: the list of its files with their sizes and digests.</summary>
    public const string ManifestName = "manifest.json";

    public string Root { get; } = root;

    /// <summary>The archive of bundle <paramref name="id"/>; an id that could name another path is refused.</summary>
    public string Archive(string id) => Path.Combine(Root, Checked(id) + ArchiveSuffix);

    public string Sidecar(string id) => Path.Combine(Root, Checked(id) + DigestSuffix);

    /// <summary>The file name a download of the archive carries.</summary>
    public static string ArchiveFileName(string id) => Checked(id) + ArchiveSuffix;

    /// <summary>The ids of the archives in the folder, in ordinal order (none when the folder does not
    /// exist).</summary>
    public IReadOnlyList<string> Ids() => !Directory.Exists(Root) ? [] :
        Directory.EnumerateFiles(Root, "*" + ArchiveSuffix).Select(f => Path.GetFileName(f)[..^ArchiveSuffix.Length])
            .Where(BundleId.IsSafe).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// The digest the sidecar holds, or null when it is missing or does not hold one (empty, truncated, edited), so the
    /// bundle stage rebuilds that bundle and readers hash the archive instead.
    /// </summary>
    public string? ReadDigest(string id)
    {
        var path = Sidecar(id);
        if (!File.Exists(path)) return null;
        var text = File.ReadAllText(path).Trim();
        var space = text.IndexOf(' ');
        var digest = space > 0 ? text[..space] : text;
        return digest.Length == 64 && digest.All(char.IsAsciiHexDigitLower) ? digest : null;
    }

    public void WriteDigest(string id, string sha256) => AtomicFile.Commit(WriteDigestTemporary(id, sha256));

    /// <summary>The sidecar written to a temporary sibling, for a caller that commits many files at once.</summary>
    public AtomicFile.Pending WriteDigestTemporary(string id, string sha256)
    {
        var line = Encoding.ASCII.GetBytes($"{sha256}  {ArchiveFileName(id)}\n");
        return AtomicFile.WriteTemporary(Sidecar(id), s => s.Write(line), bufferSize: 0);
    }

    private static string Checked(string id) =>
        BundleId.IsSafe(id)
            ? id
            : throw new ArgumentException($"'{id}' is not a usable bundle id (letters, digits, '_', '-', '.')");
}
