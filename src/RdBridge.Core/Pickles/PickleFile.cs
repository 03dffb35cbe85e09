namespace RdBridge.Pickles;

/// <summary>
/// Reads a pickle file whole, refusing one larger than its kind may be (a feedback object is kilobytes, a backtest
/// report megabytes), so a stray multi-gigabyte file never reaches memory.
/// </summary>
public static class PickleFile
{
    /// <summary>The most a logged RD-Agent object (feedback, text) may weigh.</summary>
    public const long MaxLoggedObjectBytes = 16L * 1024 * 1024;

    public static byte[] ReadAllBytes(string path, long maxBytes, string kind)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
            bufferSize: 0);
        var length = stream.Length;
        if (length > maxBytes)
            throw new PickleException($"'{path}' is {length} bytes, more than the {maxBytes} a {kind} pickle may be; " +
                "it is not one, or it is damaged");
        // The file may still grow while RD-Agent writes it: what was there when it was opened is read, and a short
        // read leaves a prefix that the reader reports as truncated.
        var data = new byte[length];
        var read = 0;
        while (read < data.Length)
        {
            var n = stream.Read(data, read, data.Length - read);
            if (n == 0) break;
            read += n;
        }
        return read == data.Length ? data : data[..read];
    }
}
