namespace RdBridge.IO;

/// <summary>The one way RdBridge tells whether a file already holds given content, so unchanged output is never
/// rewritten.</summary>
public static class FileContent
{
    public static bool Holds(string path, ReadOnlySpan<byte> bytes)
    {
        if (!RegularFile.Exists(path) || new FileInfo(path).Length != bytes.Length) return false;
        try { return RegularFile.ReadAllBytes(path, bytes.Length).AsSpan().SequenceEqual(bytes); }
        catch (FileRefusedException) { return false; } // replaced by something else, or grown, since the check
    }

    public static bool Same(string a, string b)
    {
        if (!RegularFile.Exists(a) || !RegularFile.Exists(b)) return false;
        using var stream = RegularFile.OpenRead(a);
        return Same(stream, b);
    }

    /// <summary>Compares a stream from its start with a file, in blocks; the stream is left at an undefined
    /// position.</summary>
    public static bool Same(Stream stream, string path)
    {
        if (!RegularFile.Exists(path) || new FileInfo(path).Length != stream.Length) return false;
        stream.Position = 0;
        using var other = RegularFile.OpenRead(path);
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
