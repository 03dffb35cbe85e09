namespace RdBridge.Runs;

/// <summary>A problem with one item (a loop, a file, a bundle, a record): reported, recorded, and the run goes
/// on.</summary>
public sealed record ItemProblem(string Stage, string Item, string? Path, string Message)
{
    public override string ToString() => Path is null ? $"{Item}: {Message}" : $"{Item}: {Message} [{Path}]";
}

/// <summary>
/// Something a stage counts. <see cref="IsChange"/> says whether a non-zero count means the stage wrote something,
/// which is how a run decides that it "changed nothing": by the counter's kind, never by its wording.
/// <see cref="Name"/> is the plural ("loops added"), the counter's key in sync-status; <see cref="One"/>, when the name
/// holds a noun, is its wording for a count of one ("loop added"), so a summary never reads "1 loops added".
/// </summary>
public sealed record Counter(string Name, bool IsChange, string? One = null)
{
    /// <summary>A count of things written: files, rows, bundles, copies.</summary>
    public static Counter Change(string name, string? one = null) => new(name, true, one);

    /// <summary>A count of things looked at, kept or found (no write).</summary>
    public static Counter Tally(string name, string? one = null) => new(name, false, one);

    /// <summary>A count of this counter as a summary says it: "1 loop added", "2 loops added".</summary>
    public string Of(long count) => One is null ? $"{count} {Name}" : IO.Counted.Of(count, One, Name);

    // A counter is its name and kind: its wording for one is how it is printed, not which count it is, so a counter
    // made again by name (a test, a reader of another stage's report) finds the same count.
    public bool Equals(Counter? other) => other is not null && Name == other.Name && IsChange == other.IsChange;

    public override int GetHashCode() => HashCode.Combine(Name, IsChange);

    public override string ToString() => Name;
}

/// <summary>What one stage did: counts in the order they were first given, problems, and notes.</summary>
public sealed class StageReport(string stage)
{
    private readonly List<KeyValuePair<Counter, long>> _counts = [];
    private readonly List<ItemProblem> _problems = [];
    private readonly List<string> _notes = [];
    private readonly Lock _lock = new();

    public string Stage { get; } = stage;
    public IReadOnlyList<KeyValuePair<Counter, long>> Counts { get { lock (_lock) return _counts.ToList(); } }
    public IReadOnlyList<ItemProblem> Problems { get { lock (_lock) return _problems.ToList(); } }
    public IReadOnlyList<string> Notes { get { lock (_lock) return _notes.ToList(); } }
    public bool Failed => Problems.Count > 0;

    /// <summary>Whether this stage wrote anything: a change counter above zero.</summary>
    public bool Changed => Counts.Any(c => c.Key.IsChange && c.Value > 0);

    /// <summary>Set when the stage could not run at all (as opposed to item-level problems).</summary>
    public string? Aborted { get; set; }

    public void Add(Counter counter, long n = 1)
    {
        lock (_lock)
        {
            var i = _counts.FindIndex(c => c.Key == counter);
            if (i < 0) _counts.Add(new(counter, n));
            else _counts[i] = new(counter, _counts[i].Value + n);
        }
    }

    public long Get(Counter counter) { lock (_lock) return _counts.FirstOrDefault(c => c.Key == counter).Value; }

    public void Problem(string item, string? path, string message)
    {
        // Items, paths and messages carry names from input (log folders, files, ids): escaped once, here, for the
        // terminal, the logs and sync-status alike.
        var problem = new ItemProblem(Stage, IO.Visible.Text(item), path is null ? null : IO.Visible.Text(path),
            IO.Visible.Text(message));
        lock (_lock) _problems.Add(problem);
    }

    public void Note(string note)
    {
        var visible = IO.Visible.Text(note);
        lock (_lock) _notes.Add(visible);
    }

    public string Summary()
    {
        var text = string.Join(", ", Counts.Where(c => c.Value != 0).Select(c => c.Key.Of(c.Value)));
        if (text.Length == 0) text = "nothing to do";
        if (Aborted is not null) text += $" — stopped: {Aborted}";
        if (Problems.Count > 0) text += $" — {IO.Counted.Of(Problems.Count, "problem")}";
        return text;
    }
}
