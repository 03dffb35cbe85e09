namespace RdBridge.IO;

/// <summary>The one way RdBridge tells whether a file already holds given content, so unchanged output is never
/// rewritten.</summary>
public static class FileContent
{
    public static bool Holds(string path, ReadOnlySpan<byte> bytes) =>
        File.Exists(path) && new FileInfo(path).Length == bytes.Length
            && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes);

    public static bool Same(string a, string b)
    {
        if (!File.Exists(a) || !File.Exists(b)) return false;
        using var stream = File.OpenRead(a);
        return Same(stream, b);
    }

    /// <summary>Compares a stream from its start with a file, in blocks; the stream is left at an undefined
    /// position.</summary>
    public static bool Same(Stream stream, string path)
    {
        if (!File.Exists(path) || new FileInfo(path).Length != stream.Length) return false;
        stream.Position = 0;
        using var other = File.OpenRead(path);
        var a = new byte[64 * 1024];
        var b = new byte[64 * 1024];
        while (true)
        {
            var na = stream.ReadAtLeast(a, a.Length, throwOnEndOfStream: false);
            var nb = other.ReadAtLeast(b, b.Length, throwOnEndOfStream: false);
            if (na != nb || !a.AsSpan(0, na).SequenceEqual(b.AsSpan(0, nb))) return false;
            if (na == 0) return true;
        }
    }
}
