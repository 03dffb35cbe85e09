namespace RdBridge.Pickles;

/// <summary>What a pickle file is expected to hold, and so how large it may be.</summary>
public sealed record PickleKind(string Name, long MaxBytes)
{
    /// <summary>An object RD-Agent's logger pickled: a feedback, a text, a metrics Series.</summary>
    public static readonly PickleKind LoggedObject = new("logged RD-Agent object", 16L * 1024 * 1024);

    /// <summary>
    /// A Qlib portfolio report or ret.pkl: decades of daily rows are a few megabytes, minute bars more.
    /// </summary>
    public static readonly PickleKind BacktestReport = new("backtest report", 256L * 1024 * 1024);
}

/// <summary>
/// Reads a pickle file whole, refusing one larger than its kind may be (a feedback object is kilobytes, a backtest
/// report megabytes), so a stray multi-gigabyte file never reaches memory.
/// </summary>
public static class PickleFile
{
    public static byte[] ReadAllBytes(string path, PickleKind kind)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
            bufferSize: 0);
        var length = stream.Length;
        if (length > kind.MaxBytes)
        {
            throw new PickleException($"'{path}' is {length} bytes, more than the {kind.MaxBytes} " +
                $"a {kind.Name} pickle may be; " +
                "it is not one, or it is damaged");
        }
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
