using System.Globalization;
using System.Text;
using RdBridge.IO;

namespace RdBridge.Discovery;

/// <summary>A log pickle discovery reads: which loop step and tag it belongs to, and its size and time.</summary>
public sealed record LogFile(string Step, string Tag, string Path, long Size, DateTime WrittenUtc)
{
    /// <summary>CoSTEER's evolving step (<c>evo_loop_K</c>) an <c>evolving code</c>/<c>evolving feedback</c> pickle
    /// was logged in; null elsewhere, and in v0.3's flat logs, which have no such folder.</summary>
    public int? EvolvingStep { get; init; }
}

/// <summary>
/// One <c>log/&lt;timestamp&gt;/Loop_N</c> folder; in a flat log (v0.3 and earlier) one loop's share of the run's
/// folders, with <see cref="Path"/> the run folder.
/// </summary>
public sealed record LoopFolder(long LoopId, string Path)
{
    /// <summary>A flat log's loop: its pickles, already cut out of the run's shared folders.</summary>
    internal IReadOnlyList<LogFile>? Slice { get; init; }

    /// <summary>A flat log's loop: the pickles that bound it (its hypothesis and the next loop's).</summary>
    internal string? SliceStamp { get; init; }

    /// <summary>The walk that found this loop: listing its files goes on with the same links refused and bound.
    /// </summary>
    internal LogWalk? Walk { get; init; }

    /// <summary>
    /// The loop folder's and its step folders' modification times. A step or tag folder RD-Agent adds changes them,
    /// so a loop that was already complete when last read needs no deeper look while this stays the same.
    /// </summary>
    public string FolderStamp()
    {
        if (SliceStamp is not null) return SliceStamp;
        var sb = new StringBuilder();
        sb.Append(Directory.GetLastWriteTimeUtc(Path).Ticks.ToString(CultureInfo.InvariantCulture));
        var steps = new DirectoryInfo(Path).EnumerateDirectories().OrderBy(d => d.Name, StringComparer.Ordinal);
        foreach (var step in steps)
        {
            sb.Append(';').Append(step.Name).Append('=')
                .Append(step.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>The pickles discovery reads in this loop, in a stable order; nothing else is listed.</summary>
    public IReadOnlyList<LogFile> Files() => Slice ?? LogTree.LoopFiles(this, Walk ?? new LogWalk());
}

/// <summary>
/// RD-Agent's log layout
/// (<c>log/&lt;UTC timestamp&gt;/Loop_N/&lt;step&gt;/&lt;tag&gt;/&lt;pid&gt;/&lt;timestamp&gt;.pkl</c>) for every
/// generation: steps <c>direct_exp_gen</c> (v0.4 on; <c>propose, exp_gen</c> are read too), <c>coding, running,
/// feedback</c> and <c>record</c> (2026); the older extra tag segments <c>r</c>, <c>d</c>, <c>ef</c> and <c>init</c>.
/// RD-Agent up to v0.3.0 wrote no <c>Loop_N</c> folders (its loop added no tag of its own until commit 7002dc49,
/// 2025-01): all loops of a run log into the same <c>r/</c>, <c>d/</c> and <c>ef/</c> folders, and only the order of
/// the pickles (their UTC file names) separates them. There, each <c>r/hypothesis generation</c> pickle starts a loop,
/// numbered from 0 in time order, and the loop holds every pickle up to the next one; this is how RD-Agent's own UI of
/// that time counted rounds. (A loop v0.3 restarted after a CoderError generated a new hypothesis under the same index,
/// so there it counts as one more loop.)
/// The walk is streamed and descends only into the folders of the tags it reads: the <c>debug_llm</c>,
/// <c>debug_tpl</c> and <c>token_cost</c> folders (most of a log's files) and <c>__session__</c> (loop snapshots,
/// not log messages) are never listed.
/// </summary>
public static class LogTree
{
    public const string Hypothesis = "hypothesis generation";
    public const string Tasks = "experiment generation";
    public const string CoderResult = "coder result";
    public const string RunnerResult = "runner result";
    public const string Feedback = "feedback";
    public const string TimeInfo = "time_info";
    /// <summary>CoSTEER's per-step logs inside <c>coding</c>: the sub-workspaces after step K, and the evaluator's
    /// feedback on each task (<c>Loop_N/coding/evo_loop_K/…</c>).</summary>
    public const string EvolvingCode = "evolving code";
    public const string EvolvingFeedback = "evolving feedback";

    private static readonly HashSet<string> Tags =
        [Hypothesis, Tasks, CoderResult, RunnerResult, Feedback, TimeInfo, EvolvingCode, EvolvingFeedback];

    /// <summary>Whether a tag is one of CoSTEER's evolving logs (texts only: they tell nothing of a loop's status).
    /// </summary>
    public static bool IsEvolving(string tag) => tag is EvolvingCode or EvolvingFeedback;

    private const string EvolvingFolder = "evo_loop_";

    /// <summary>The tag segments logs up to about v0.5 put between a step and its tags.</summary>
    private static readonly HashSet<string> OldSegments = ["r", "d", "ef"];

    /// <summary>The run-level settings RD-Agent logs before its first loop (under <c>init/</c> in older logs).
    /// </summary>
    public const string LoopSettings = "RDLOOP_SETTINGS";
    public const string Scenario = "scenario";

    /// <summary>
    /// Task run folders under the log root, by name (RD-Agent names them by their UTC start). Links and names that
    /// cannot be opened are left to <paramref name="walk"/>'s list of what was not walked.
    /// </summary>
    public static IEnumerable<string> RunFolders(string logRoot, LogWalk? walk = null)
    {
        if (!Directory.Exists(logRoot)) yield break;
        walk ??= new LogWalk();
        foreach (var dir in walk.Folders(logRoot))
        {
            if (dir.Name.StartsWith('.') || dir.Name == "__session__") continue;
            yield return dir.FullName;
        }
    }

    /// <summary>The <c>Loop_N</c> folders of a task run, by loop number; a flat log's loops by the order of their
    /// hypotheses. A <c>Loop_</c> folder whose name is not RD-Agent's spelling of a loop number (<c>Loop_02</c>, a
    /// number past 2^63, letters) is not read, and <paramref name="walk"/> names it.</summary>
    public static IReadOnlyList<LoopFolder> Loops(string runFolder, LogWalk? walk = null)
    {
        walk ??= new LogWalk();
        if (!Directory.EnumerateDirectories(runFolder, "Loop_*").Any()
            && OldSegments.Any(s => Directory.Exists(System.IO.Path.Combine(runFolder, s))))
        {
            return FlatLoops(runFolder, walk);
        }

        var loops = new List<LoopFolder>();
        foreach (var dir in walk.Folders(runFolder, "Loop_*"))
        {
            var number = dir.Name[5..];
            if (long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                && id.ToString(CultureInfo.InvariantCulture) == number)
            {
                loops.Add(new LoopFolder(id, dir.FullName) { Walk = walk });
            }
            else
            {
                walk.Skip(dir.FullName, LoopNameProblem(number, id));
            }
        }
        loops.Sort((a, b) => a.LoopId.CompareTo(b.LoopId));
        return loops;
    }

    private static string LoopNameProblem(string number, long id)
    {
        if (number.Length == 0 || !number.All(char.IsAsciiDigit))
            return "it is not a loop folder: RD-Agent names them Loop_<number>; move it out of the log";
        if (id == 0 && number.TrimStart('0').Length > 18)
            return $"its loop number has {number.Length} digits, more than a loop id can hold; the folder was not read";
        var digits = number.TrimStart('0');
        var canonical = "Loop_" + (digits.Length > 0 ? digits : "0");
        return $"RD-Agent writes loop numbers without leading zeros ({canonical}); the folder was not read, so it " +
            $"cannot be taken for {canonical} or stand in for it — rename or remove it";
    }

    private static List<LoopFolder> FlatLoops(string runFolder, LogWalk walk)
    {
        var files = new List<LogFile>();
        foreach (var segment in OldSegments.Order(StringComparer.Ordinal))
        {
            var dir = System.IO.Path.Combine(runFolder, segment);
            if (!Directory.Exists(dir)) continue;
            foreach (var tag in walk.Folders(dir))
            {
                if (Tags.Contains(tag.Name)) AddTag(files, segment, tag.Name, tag.FullName, walk);
                else AddEvolving(files, segment, tag, walk);
            }
        }
        files.Sort((a, b) =>
        {
            var byName = string.CompareOrdinal(System.IO.Path.GetFileName(a.Path), System.IO.Path.GetFileName(b.Path));
            return byName != 0 ? byName : string.CompareOrdinal(a.Path, b.Path);
        });
        var starts = files.Select((f, i) => (f, i)).Where(x => x.f.Tag == Hypothesis).Select(x => x.i).ToList();
        var loops = new List<LoopFolder>();
        for (var n = 0; n < starts.Count; n++)
        {
            var end = n + 1 < starts.Count ? starts[n + 1] : files.Count;
            var next = n + 1 < starts.Count ? System.IO.Path.GetFileName(files[end].Path) : "open";
            loops.Add(new LoopFolder(n, runFolder)
            {
                Slice = files[starts[n]..end],
                SliceStamp = $"flat:{System.IO.Path.GetFileName(files[starts[n]].Path)}:{next}",
            });
        }
        return loops;
    }

    /// <summary>The UTC time RD-Agent names each pickle by (<c>%Y-%m-%d_%H-%M-%S-%f</c>), if the name is one.
    /// </summary>
    public static DateTimeOffset? NameTime(string path) =>
        UtcText.ParseRdAgentStamp(System.IO.Path.GetFileNameWithoutExtension(path));

    /// <summary>Whether a folder looks like one RD-Agent run's log (it has loops or the run's own settings).</summary>
    public static bool IsRunFolder(string dir) =>
        Directory.EnumerateDirectories(dir, "Loop_*").Any()
        || Directory.Exists(System.IO.Path.Combine(dir, "r"))
        || Directory.Exists(System.IO.Path.Combine(dir, LoopSettings))
        || Directory.Exists(System.IO.Path.Combine(dir, Scenario))
        || Directory.Exists(System.IO.Path.Combine(dir, "init", Scenario));

    /// <summary>The newest pickle of a run-level tag (<c>RDLOOP_SETTINGS</c>, <c>scenario</c>,
    /// <c>init/scenario</c>).</summary>
    public static string? RunFile(string runFolder, string tag, LogWalk? walk = null)
    {
        string[] candidates = [System.IO.Path.Combine(runFolder, tag), System.IO.Path.Combine(runFolder, "init", tag)];
        foreach (var dir in candidates)
        {
            if (!Directory.Exists(dir)) continue;
            var file = PickleFiles(dir, walk ?? new LogWalk()).LastOrDefault();
            if (file is not null) return file.FullName;
        }
        return null;
    }

    internal static IReadOnlyList<LogFile> LoopFiles(LoopFolder loop, LogWalk walk)
    {
        var files = new List<LogFile>();
        foreach (var step in walk.Folders(loop.Path))
        {
            foreach (var entry in walk.Folders(step.FullName))
            {
                if (Tags.Contains(entry.Name))
                {
                    AddTag(files, step.Name, entry.Name, entry.FullName, walk);
                }
                else if (OldSegments.Contains(entry.Name))
                {
                    foreach (var tag in walk.Folders(entry.FullName))
                    {
                        if (Tags.Contains(tag.Name)) AddTag(files, step.Name, tag.Name, tag.FullName, walk);
                        else AddEvolving(files, step.Name, tag, walk);
                    }
                }
                else
                {
                    AddEvolving(files, step.Name, entry, walk);
                }
            }
        }
        return files;
    }

    /// <summary>CoSTEER's <c>evo_loop_K</c> folder: its two evolving tags, with K.</summary>
    private static void AddEvolving(List<LogFile> files, string step, DirectoryInfo dir, LogWalk walk)
    {
        if (!dir.Name.StartsWith(EvolvingFolder, StringComparison.Ordinal)
            || !int.TryParse(dir.Name.AsSpan(EvolvingFolder.Length), NumberStyles.None, CultureInfo.InvariantCulture,
                out var k))
        {
            return;
        }
        foreach (var tag in walk.Folders(dir.FullName))
        {
            if (!IsEvolving(tag.Name)) continue;
            foreach (var f in PickleFiles(tag.FullName, walk))
                files.Add(new LogFile(step, tag.Name, f.FullName, f.Length, f.LastWriteTimeUtc) { EvolvingStep = k });
        }
    }

    private static void AddTag(List<LogFile> files, string step, string tag, string dir, LogWalk walk)
    {
        foreach (var f in PickleFiles(dir, walk))
            files.Add(new LogFile(step, tag, f.FullName, f.Length, f.LastWriteTimeUtc));
    }

    // <tag>/<pid-chain>/<timestamp>.pkl, ordered by file name (the UTC timestamp) and then pid folder.
    private static IEnumerable<FileInfo> PickleFiles(string tagDir, LogWalk walk) =>
        walk.Folders(tagDir)
            .SelectMany(pid => pid.EnumerateFiles("*.pkl").OrderBy(f => f.Name, StringComparer.Ordinal).ToList()
                .Where(walk.Take))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ThenBy(f => f.DirectoryName, StringComparer.Ordinal);

    /// <summary>Count, total size and newest time of the files read: changes whenever one of them does.</summary>
    public static string FilesStamp(IReadOnlyList<LogFile> files) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{files.Count}:{files.Sum(f => f.Size)}:{(files.Count == 0 ? 0 : files.Max(f => f.WrittenUtc.Ticks))}");
}
