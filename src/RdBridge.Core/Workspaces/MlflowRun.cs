using System.Globalization;
using RdBridge.IO;

namespace RdBridge.Workspaces;

/// <summary>
/// One run of the MLflow file store Qlib writes into a workspace (<c>mlruns/&lt;experiment&gt;/&lt;run&gt;/</c>):
/// its status and end time from <c>meta.yaml</c>, the params Qlib logged (the flattened task and
/// <c>cmd-sys.argv</c>), which metrics it has, and its artifacts.
/// </summary>
public sealed record MlflowRun(
    string Folder, string RunId, string ExperimentId, string Status, long? EndTime,
    IReadOnlyDictionary<string, string> Params, IReadOnlyList<string> Metrics)
{
    /// <summary>MLflow's <c>RunStatus</c> numbers, as the file store writes them.</summary>
    private static readonly Dictionary<string, string> StatusNames = new(StringComparer.Ordinal)
    {
        ["1"] = "RUNNING", ["2"] = "SCHEDULED", ["3"] = "FINISHED", ["4"] = "FAILED", ["5"] = "KILLED",
    };

    private const int MaxParamBytes = 1 << 20;

    public bool IsFinished => Status == "FINISHED";

    /// <summary>
    /// A backtest ran: PortAnaRecord's metrics (<c>1day.*</c>) or its <c>portfolio_analysis</c> artifacts.
    /// </summary>
    public bool HasBacktest =>
        Metrics.Any(m => m.Contains("excess_return", StringComparison.Ordinal))
        || Directory.Exists(Path.Combine(Folder, "artifacts", "portfolio_analysis"));

    public string? Param(string name) => Params.TryGetValue(name, out var v) ? v : null;

    /// <summary>
    /// The run a workspace's metadata comes from: the latest FINISHED run that has backtest results, else the latest
    /// FINISHED run; FAILED, KILLED and running runs never. Latest by end time, then by run id.
    /// </summary>
    public static MlflowRun? Chosen(IReadOnlyList<MlflowRun> runs)
    {
        static IEnumerable<MlflowRun> Latest(IEnumerable<MlflowRun> rs) =>
            rs.OrderByDescending(r => r.EndTime ?? long.MinValue)
                .ThenByDescending(r => r.RunId, StringComparer.Ordinal);
        var finished = runs.Where(r => r.IsFinished).ToList();
        return Latest(finished.Where(r => r.HasBacktest)).FirstOrDefault() ?? Latest(finished).FirstOrDefault();
    }

    public static MlflowRun? Chosen(string workspace) => Chosen(All(workspace));

    public static IReadOnlyList<MlflowRun> All(string workspace) =>
        WorkspaceFiles.MlflowRuns(workspace).Select(Read).OfType<MlflowRun>().ToList();

    /// <summary>The run in <paramref name="folder"/>, or null when its meta.yaml does not name a run.</summary>
    public static MlflowRun? Read(string folder)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        string text;
        // A run folder whose meta.yaml is missing, not a regular file or oversized is not a run RdBridge can use.
        try { text = RegularFile.ReadAllText(Path.Combine(folder, "meta.yaml"), ReadLimits.MlflowValue); }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException) { return null; }
        foreach (var line in text.Split('\n').Take(200))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0 || char.IsWhiteSpace(line[0])) continue;
            meta[line[..colon].Trim()] = line[(colon + 1)..].Trim().Trim('\'', '"');
        }
        var runId = meta.GetValueOrDefault("run_id") ?? meta.GetValueOrDefault("run_uuid");
        if (string.IsNullOrEmpty(runId)) return null;
        var status = meta.GetValueOrDefault("status") ?? "";
        status = StatusNames.GetValueOrDefault(status, status);
        long? end = long.TryParse(meta.GetValueOrDefault("end_time"), NumberStyles.Integer,
            CultureInfo.InvariantCulture, out var e) ? e : null;
        return new MlflowRun(folder, runId, meta.GetValueOrDefault("experiment_id") ?? "", status, end,
            ReadParams(Path.Combine(folder, "params")), Names(Path.Combine(folder, "metrics")));
    }

    private static Dictionary<string, string> ReadParams(string dir)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(dir)) return result;
        foreach (var file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
        {
            if (TryRead(file) is { } value) result[Path.GetFileName(file)] = value.Trim();
        }
        return result;
    }

    private static List<string> Names(string dir) => Directory.Exists(dir)
        ? Directory.EnumerateFiles(dir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
        : [];

    /// <summary>
    /// The run's metrics as MLflow's file store keeps them (one file per metric, lines <c>&lt;ms&gt; &lt;value&gt;
    /// &lt;step&gt;</c>): the last value of each, as RD-Agent reads them into <c>qlib_res.csv</c>.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> LastMetricValues()
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var name in Metrics)
        {
            var path = Path.Combine(Folder, "metrics", name);
            var last = TryRead(path)?.Split('\n').LastOrDefault(l => l.Trim().Length > 0)
                ?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (last is { Length: >= 2 }) result.Add(new(name, last[1]));
        }
        return result;
    }

    /// <summary>
    /// The trained model the run saved: <c>params.pkl</c> (Qlib today) or <c>trained_model</c> (older Qlib).
    /// </summary>
    public string? Weights()
    {
        foreach (var name in new[] { "params.pkl", "trained_model" })
        {
            var p = Path.Combine(Folder, "artifacts", name);
            if (RegularFile.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>A param or metric file's text; null when it is not a regular file or larger than such a file
    /// is.</summary>
    private static string? TryRead(string path)
    {
        try { return RegularFile.ReadAllText(path, MaxParamBytes); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
