using RdBridge.Backtests;
using RdBridge.IO;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>
/// A loop's backtest curve (<see cref="BacktestFile"/>), what <c>backtest_report.json</c> holds, and whether its max
/// drawdown agrees with the one <c>qlib_res.csv</c> logged.
/// </summary>
public sealed record LoopBacktest(BacktestReport Report, BacktestSource Source, MaxDrawdownCheck Check)
{
    public const string FileName = BacktestReportJson.FileName;

    /// <summary>The file's bytes: the same report and source give the same bytes.</summary>
    public byte[] ToBytes() => BacktestReportJson.ToBytes(Report, Source);

    /// <summary>
    /// The loop's curve, or null when it has none or it cannot be read (a problem, with the file's path); a max
    /// drawdown that differs from <c>qlib_res.csv</c>'s is a note with both numbers.
    /// </summary>
    public static LoopBacktest? Read(LoopRun run, List<string> problems, List<string> notes)
    {
        if (BacktestFile.Find(run.Directory, run.Run) is not { } file) return null;
        BacktestReport report;
        string sha256;
        try
        {
            report = BacktestReport.Read(file.Path);
            sha256 = FileDigest.Sha256OfFile(file.Path);
        }
        // The reader runs off the end of a pickle cut short: IndexOutOfRange or ArgumentOutOfRange, as for the
        // logged feedback; the loop's other metadata is written all the same.
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException
                                      or InvalidCastException or KeyNotFoundException or ArgumentException
                                      or IndexOutOfRangeException or OverflowException)
        {
            var why = e.Message.Contains(file.Path, StringComparison.Ordinal)
                ? e.Message
                : $"'{file.Path}': {e.Message}";
            problems.Add($"the backtest curve cannot be read, so no {FileName} is written: {why}");
            return null;
        }
        var check = MaxDrawdownCheck.Of(report, run.Metrics?["max_drawdown"]);
        if (check is { Agrees: false, Reported: not null, Recomputed: not null })
            notes.Add($"{file.Source} in workspace {run.Origin.WorkspaceId}: {check.Message}");
        return new LoopBacktest(report, new BacktestSource(file.Source, sha256), check);
    }
}
