using RdBridge.IO;

namespace RdBridge.Discovery;

/// <summary>A folder or file of a log that discovery did not walk, and why.</summary>
public sealed record NotWalked(string Path, string Why);

/// <summary>
/// One walk of a log folder: every entry it lists passes through <see cref="Take"/>, which never lets it follow a
/// symbolic link (a fan-out of linked <c>Loop</c>, step or pid folders would make a small log endless), refuses names
/// that cannot be opened again (not valid UTF-8 on disk), and stops after <see cref="ReadLimits.LogWalkEntries"/>
/// entries. What it did not walk is kept, so discovery names it instead of skipping it without a word.
/// </summary>
public sealed class LogWalk(int maxEntries)
{
    private readonly List<NotWalked> _notWalked = [];
    private int _entries;
    private int _reported;

    public LogWalk() : this(ReadLimits.LogWalkEntries) { }

    /// <summary>Whether the walk stopped at its limit: nothing more is listed.</summary>
    public bool Stopped { get; private set; }

    public IReadOnlyList<NotWalked> NotWalked => _notWalked;

    /// <summary>What was not walked since the last call: for a caller that reports as it goes.</summary>
    public IReadOnlyList<NotWalked> TakeNew()
    {
        var fresh = _notWalked.Skip(_reported).ToList();
        _reported = _notWalked.Count;
        return fresh;
    }

    /// <summary>Whether the walk may open this entry; when not, the reason is kept.</summary>
    public bool Take(FileSystemInfo entry)
    {
        if (Stopped) return false;
        if (++_entries > maxEntries)
        {
            Stopped = true;
            var limit = Counted.Of(maxEntries, "entry", "entries", "N0");
            Skip(entry.FullName, $"the walk of this log stopped after {limit} (RDBRIDGE_LOG_WALK_ENTRIES); " +
                "this entry and the rest of the run folder were not walked");
            return false;
        }

        // The name first: an entry whose name does not round-trip cannot even be asked whether it is a link.
        if (PortablePath.NameLost(entry.Name, entry.FullName))
        {
            Skip(entry.FullName, PortablePath.NameNotUtf8);
            return false;
        }

        if (entry.LinkTarget is not null || entry.Attributes.HasFlag(FileAttributes.ReparsePoint))
        {
            Skip(entry.FullName, "it is a symbolic link, which discovery never follows in a log; replace it by the " +
                "folder or file itself if it belongs to this run");
            return false;
        }

        return true;
    }

    internal void Skip(string path, string why) => _notWalked.Add(new NotWalked(path, why));

    /// <summary>The sub-folders of a folder that the walk may open, by name.</summary>
    internal IEnumerable<DirectoryInfo> Folders(string dir, string pattern = "*") =>
        new DirectoryInfo(dir).EnumerateDirectories(pattern)
            .OrderBy(d => d.Name, StringComparer.Ordinal).ToList().Where(Take);
}
