using RdBridge.IO;

namespace RdBridge.Bundles;

/// <summary>
/// A fixed block of memory, one per bundling thread, that holds a loop's files between hashing them for the manifest
/// (which is the first entry of the bundle) and packing them, so each file is read from disk once. Files that do not
/// fit are hashed now and read again when packed, so memory stays the same however many or large the files are.
/// </summary>
public sealed class BundleSpool(int capacity)
{
    /// <summary>
    /// Room per bundling thread (one per core). A loop of the sample corpus takes about 0.6 MB, real ones a few MB;
    /// only the part a loop uses is ever touched, so small loops cost little of it.
    /// </summary>
    public const int DefaultCapacity = 8 * 1024 * 1024;

    private readonly byte[] _room = GC.AllocateUninitializedArray<byte>(capacity);
    private readonly Dictionary<string, (int Offset, int Length)> _kept = new(StringComparer.Ordinal);
    private int _used;

    /// <summary>Forgets the previous loop's files; the memory is reused.</summary>
    public void Clear()
    {
        _kept.Clear();
        _used = 0;
    }

    /// <summary>Hashes the file, keeping its bytes when they fit; <paramref name="listedLength"/> is its size in the
    /// directory listing.</summary>
    public (string Sha256, long Size) Read(string path, long listedLength = long.MaxValue)
    {
        var (sha, length, kept) = FileDigest.Sha256OfFileKeeping(path, _room.AsSpan(_used), listedLength);
        if (kept)
        {
            _kept[path] = (_used, (int)length);
            _used += (int)length;
        }
        return (sha, length);
    }

    /// <summary>The bytes read by <see cref="Read"/>, or false when the file did not fit and must be read
    /// again.</summary>
    public bool TryGet(string path, out ReadOnlyMemory<byte> content)
    {
        if (_kept.TryGetValue(path, out var at))
        {
            content = _room.AsMemory(at.Offset, at.Length);
            return true;
        }
        content = default;
        return false;
    }
}
