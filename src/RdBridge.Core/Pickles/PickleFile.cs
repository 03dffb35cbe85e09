using RdBridge.IO;

namespace RdBridge.Pickles;

/// <summary>What a pickle file is expected to hold, and so how large it may be.</summary>
public sealed record PickleKind(string Name, long MaxBytes, string? Setting = null)
{
    /// <summary>An object RD-Agent's logger pickled: a feedback, a text, a metrics Series.</summary>
    public static readonly PickleKind LoggedObject = new("logged RD-Agent object", 16L * 1024 * 1024);

    /// <summary>
    /// A Qlib portfolio report or ret.pkl: decades of daily rows are a few megabytes, minute bars more. Its cap follows
    /// the rows a curve may have (<see cref="ReadLimits.CurvePickle"/>), so reading one stays within the memory budget.
    /// </summary>
    public static PickleKind BacktestReport =>
        new("backtest report", ReadLimits.CurvePickle, "RDBRIDGE_CURVE_PICKLE_MB");
}

/// <summary>
/// Reads a pickle file whole through <see cref="RegularFile"/>, refusing one larger than its kind may be (a feedback
/// object is kilobytes, a backtest report megabytes) and anything that is not a regular file, so neither a stray
/// multi-gigabyte file nor a FIFO in a log ever reaches memory or blocks. A file RD-Agent is still writing is read as
/// far as it goes; the reader reports that prefix as truncated.
/// </summary>
public static class PickleFile
{
    public static byte[] ReadAllBytes(string path, PickleKind kind)
    {
        try { return RegularFile.ReadAllBytes(path, kind.MaxBytes); }
        catch (FileRefusedException e) when (RegularFile.KindOf(path) == FileKind.Regular)
        {
            throw new PickleException($"'{path}' is too large for a {kind.Name} pickle ({e.Reason}); " +
                (kind.Setting is null ? "it is not one, or it is damaged"
                    : $"it is not one, or it is damaged, or longer than RdBridge reads ({kind.Setting} raises that)"));
        }
    }
}
