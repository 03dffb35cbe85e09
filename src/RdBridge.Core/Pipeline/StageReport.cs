namespace RdBridge.Pipeline;

/// <summary>A problem with one item (a loop, a file, a bundle, a record): reported, recorded, and the run goes on.</summary>
public sealed record ItemProblem(string Stage, string Item, string? Path, string Message)
{
    public override string ToString() => Path is null ? $"{Item}: {Message}" : $"{Item}: {Message} [{Path}]";
}

/// <summary>What one stage did: counts in the order they were first given, problems, and notes.</summary>
public sealed class StageReport(string stage)
{
    private readonly List<KeyValuePair<string, long>> _counts = [];
    private readonly List<ItemProblem> _problems = [];
    private readonly List<string> _notes = [];
    private readonly Lock _lock = new();

    public string Stage { get; } = stage;
    public IReadOnlyList<KeyValuePair<string, long>> Counts { get { lock (_lock) return _counts.ToList(); } }
    public IReadOnlyList<ItemProblem> Problems { get { lock (_lock) return _problems.ToList(); } }
    public IReadOnlyList<string> Notes { get { lock (_lock) return _notes.ToList(); } }
    public bool Failed => Problems.Count > 0;
    /// <summary>Set when the stage could not run at all (as opposed to item-level problems).</summary>
    public string? Aborted { get; set; }

    public void Add(string counter, long n = 1)
    {
        lock (_lock)
        {
            var i = _counts.FindIndex(c => c.Key == counter);
            if (i < 0) _counts.Add(new(counter, n));
            else _counts[i] = new(counter, _counts[i].Value + n);
        }
    }

    public long Get(string counter) { lock (_lock) return _counts.FirstOrDefault(c => c.Key == counter).Value; }

    public void Problem(string item, string? path, string message)
    {
        lock (_lock) _problems.Add(new ItemProblem(Stage, item, path, message));
    }

    public void Note(string note) { lock (_lock) _notes.Add(note); }

    public string Summary()
    {
        var counts = Counts.Where(c => c.Value != 0 || c.Key is "changed" or "written").Select(c => $"{c.Value} {c.Key}");
        var text = string.Join(", ", counts);
        if (text.Length == 0) text = "nothing to do";
        if (Aborted is not null) text += $" — stopped: {Aborted}";
        if (Problems.Count > 0) text += $" — {Problems.Count} problem{(Problems.Count == 1 ? "" : "s")}";
        return text;
    }
}
