using System.Diagnostics;
using RdBridge.IO;
using RdBridge.Runs;

namespace RdBridge.Cli;

/// <summary>
/// One line redrawn in place: <c>[bundle] ██████░░░░  812/2000 loops  640 bundles written</c>, at most ten times a
/// second.
/// </summary>
internal sealed class TerminalProgress(TextWriter output) : IProgressDisplay
{
    private const int BarWidth = 24;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private long _lastDraw = -1000;
    private int _width;

    public void Update(string stage, long done, long? total, string detail)
    {
        lock (_lock)
        {
            var now = _clock.ElapsedMilliseconds;
            if (now - _lastDraw < 100 && done != total) return;
            _lastDraw = now;
            var bar = total is > 0
                ? new string('█', (int)(BarWidth * Math.Min(done, total.Value) / total.Value)).PadRight(BarWidth, '░')
                : null;
            // "3/10 loops": the noun agrees with the total when there is one, as in "1 of 1 check".
            var line = $"[{stage}] {(bar is null ? "" : bar + "  ")}{done}{(total is null ? "" : $"/{total}")} " +
                $"{Counted.Noun(total ?? done, "loop")}  {detail}";
            var max = Math.Max(20, (Console.IsOutputRedirected ? 120 : Console.WindowWidth) - 1);
            if (line.Length > max) line = line[..max];
            output.Write("\r" + line.PadRight(_width));
            _width = line.Length;
            output.Flush();
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            if (_width == 0) return;
            output.Write("\r" + new string(' ', _width) + "\r");
            _width = 0;
            output.Flush();
        }
    }
}
