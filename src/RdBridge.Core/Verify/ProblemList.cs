using System.Collections;

namespace RdBridge.Verify;

/// <summary>
/// What a check found wrong: every problem is counted, only the first few are kept to be shown. A check over 10,000
/// broken loops then holds a handful of strings, not 10,000, so <c>verify</c>'s memory does not follow the damage.
/// Enumerating it gives the kept examples.
/// </summary>
internal sealed class ProblemList : IEnumerable<string>
{
    /// <summary>More than any check shows in its detail line.</summary>
    private const int Kept = 8;

    private readonly List<string> _examples = [];

    /// <summary>How many problems were added, shown or not.</summary>
    public long Count { get; private set; }

    public void Add(string problem)
    {
        Count++;
        if (_examples.Count < Kept) _examples.Add(problem);
    }

    public IEnumerator<string> GetEnumerator() => _examples.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
