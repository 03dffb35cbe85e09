using RdBridge.IO;

namespace RdBridge.Layout;

/// <summary>
/// The AIstock asset cache (<c>rdagent_assets/bundles/</c>): each bundle's archive and sidecar as in any
/// <see cref="BundleFolder"/>, the bundle extracted into <c>&lt;id&gt;/</c>, the hidden staging folders an extraction
/// works in, and <c>.quarantine/</c> for archives that were refused (kept for inspection, never served).
/// </summary>
public sealed class AssetCache(string root)
{
    private const string QuarantineName = ".quarantine";
    private const string StagingMark = ".extracting-";
    private const string RetiredMark = ".old-";

    public string Root { get; } = root;
    public BundleFolder Archives { get; } = new(root);

    public string Archive(string id) => Archives.Archive(id);
    public string Sidecar(string id) => Archives.Sidecar(id);

    /// <summary>The folder the bundle is extracted into.</summary>
    public string Extracted(string id) =>
        Path.Combine(Root, Path.GetFileName(Archives.Archive(id))[..^BundleFolder.ArchiveSuffix.Length]);

    /// <summary>The extracted bundle's manifest; its presence is what "extracted" means.</summary>
    public string ExtractedManifest(string id) => Path.Combine(Extracted(id), BundleFolder.ManifestName);

    /// <summary>A file of the extracted bundle, by its path in the manifest.</summary>
    public string ExtractedFile(string id, string relative) => Path.Combine(Extracted(id), relative);

    /// <summary>A new hidden folder to extract into before it takes the real name.</summary>
    public string NewStaging(string id) => Path.Combine(Root, $".{Checked(id)}{StagingMark}{Guid.NewGuid():N}");

    /// <summary>A new hidden name the previous extraction moves to while the new one takes its place.</summary>
    public string NewRetired(string id) => Path.Combine(Root, $".{Checked(id)}{RetiredMark}{Guid.NewGuid():N}");

    public string QuarantineFolder => Path.Combine(Root, QuarantineName);

    /// <summary>
    /// Staging and retired folders (<see cref="NewStaging"/>, <see cref="NewRetired"/>) still in the cache: an
    /// extraction removes its own before it returns, so each one found while none runs was left by a killed process.
    /// </summary>
    public IReadOnlyList<string> Leftovers() => !Directory.Exists(Root) ? [] :
        Directory.EnumerateDirectories(Root, ".*")
            .Where(d => Path.GetFileName(d) is var n
                        && (n.Contains(StagingMark, StringComparison.Ordinal)
                            || n.Contains(RetiredMark, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>Whether an archive of this bundle was ever refused.</summary>
    public bool IsQuarantined(string id) =>
        Directory.Exists(QuarantineFolder) && Directory.EnumerateFiles(QuarantineFolder, Checked(id) + ".*").Any();

    /// <summary>
    /// Moves a refused file (a cached archive, a download that did not match its digest) into the quarantine under
    /// <c>&lt;id&gt;.&lt;UTC stamp&gt;&lt;kind&gt;</c>, drops the bundle's sidecar, and returns where the file went.
    /// </summary>
    public string Quarantine(string file, string id, string kind = BundleFolder.ArchiveSuffix)
    {
        Directory.CreateDirectory(QuarantineFolder);
        var target = Path.Combine(QuarantineFolder, $"{Checked(id)}.{UtcText.FileStamp(DateTimeOffset.UtcNow)}{kind}");
        File.Move(file, target, overwrite: true);
        AtomicFile.TryDelete(Sidecar(id));
        return target;
    }

    private static string Checked(string id) =>
        BundleId.IsSafe(id) ? id : throw new ArgumentException($"'{id}' is not a usable bundle id");
}
