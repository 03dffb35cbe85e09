namespace RdBridge.Discovery;

/// <summary>
/// The loops of a task run's log, listed once for a stage that reads them loop by loop (backfill, export) rather than
/// once per loop: v0.3's flat log is walked whole to tell its loops apart, so per loop the cost grew with the square
/// of the loops. Only the last log listed is kept — stages go through the loops task run by task run — so memory
/// stays one task run's listing. A loop RD-Agent finishes meanwhile is read by the next run, as discovery does.
/// Safe to share between threads.
/// </summary>
public sealed class LogListings
{
    private readonly Lock _gate = new();
    private (string Trace, IReadOnlyList<LoopFolder> Loops)? _last;

    /// <summary>How many times a log was listed (not answered from the kept listing).</summary>
    public int Listed { get; private set; }

    public IReadOnlyList<LoopFolder> LoopsOf(string trace)
    {
        lock (_gate)
        {
            if (_last is { } last && last.Trace == trace) return last.Loops;
            var loops = LogTree.Loops(trace);
            Listed++;
            _last = (trace, loops);
            return loops;
        }
    }
}
