using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RdBridge.Catalogs;
using RdBridge.Compare;
using RdBridge.Configuration;
using RdBridge.IO;
using RdBridge.Pickles;
using RdBridge.Workspaces;

namespace RdBridge.Server;

/// <summary>
/// A loop's daily IC and Rank IC (<c>GET /loops/{taskRunId}/{loopId}/ic</c>): the Series Qlib's <c>SigAnaRecord</c>
/// pickles as <c>sig_analysis/ic.pkl</c> and <c>ric.pkl</c> in the MLflow run the bundle's metadata comes from, with
/// their means and ICIR. Bounded as the backtest curve is: the pickles' size by the curve pickle cap, their length by
/// the curve row limit, and the answer thinned for a chart unless <c>full=1</c>.
/// </summary>
internal static class SignalRoutes
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapGet("/loops/{taskRunId}/{loopId:long}/ic", DailyIc).WithName("loopDailyIc");

    private const string IcFile = "ic.pkl";
    private const string RankIcFile = "ric.pkl";

    private static PickleKind IcPickle => new("daily IC series", ReadLimits.CurvePickle, "RDBRIDGE_CURVE_PICKLE_MB");

    private static IResult DailyIc(string taskRunId, long loopId, HttpContext http, RdBridgeSettings s)
    {
        if (QueryParameters.Unknown(http.Request.Query, "full") is { } bad) return bad;
        var full = http.Request.Query["full"].ToString() is "1" or "true";
        if (LoopRoutes.LoopBundle(s, ref taskRunId, loopId, out var bundle) is { } problem) return problem;
        var bundleId = bundle.Id;

        var icPath = IcPath(s, bundle);
        if (icPath is null)
        {
            return RdBridgeServer.Problem(404, "no daily IC",
                $"bundle '{bundleId}' of loop {taskRunId}/{loopId} carries no sig_analysis/{IcFile} " +
                "(Qlib's SigAnaRecord writes it when the workflow records signal analysis)");
        }
        var ricPath = icPath[..^IcFile.Length] + RankIcFile;

        IReadOnlyList<string> dates;
        Dictionary<string, IReadOnlyList<double?>> series;
        try
        {
            var ic = ReadDaily(bundle, icPath);
            dates = ic.Dates;
            series = new(StringComparer.Ordinal) { ["ic"] = ic.Values };
            if (bundle.Local(ricPath) is not null)
            {
                // Rank IC on IC's days; both come from the same predictions, so they share them.
                var ric = ReadDaily(bundle, ricPath);
                var byDay = new Dictionary<string, double?>(StringComparer.Ordinal);
                for (var i = 0; i < ric.Dates.Count; i++) byDay[ric.Dates[i]] = ric.Values[i];
                series["rank_ic"] = [.. dates.Select(d => byDay.GetValueOrDefault(d))];
            }
        }
        catch (Exception e) when (e is PickleException or FileRefusedException or IOException)
        {
            return RdBridgeServer.Problem(422, "unreadable daily IC", e.Message);
        }

        var curve = new BacktestCurve(dates, series, null);
        var days = full ? Enumerable.Range(0, dates.Count).ToList() : curve.DisplayDays();
        var json = new JsonObject
        {
            [CatalogFields.TaskRunId] = taskRunId, [CatalogFields.LoopId] = loopId,
            [CatalogFields.AssetBundleId] = bundleId,
            ["files"] = new JsonObject
            {
                ["ic"] = icPath, ["rank_ic"] = series.ContainsKey("rank_ic") ? ricPath : null,
            },
            ["trading_days"] = dates.Count, ["points"] = days.Count, ["decimated"] = days.Count < dates.Count,
            ["dates"] = new JsonArray([.. days.Select(i => (JsonNode?)JsonValue.Create(dates[i]))]),
        };
        var values = new JsonObject();
        var stats = new JsonObject();
        foreach (var (name, all) in series)
        {
            values[name] = new JsonArray([.. days.Select(i => all[i] is { } v ? JsonValue.Create(v) : null)]);
            var (mean, ir) = MeanAndIr(all);
            stats[name] = new JsonObject { ["mean"] = mean, ["ir"] = ir, ["days"] = all.Count(v => v is not null) };
        }
        json["series"] = values;
        json["stats"] = stats;
        return ConsumerApi.Json(json);
    }

    /// <summary>
    /// The ic.pkl of the bundle's experiment workspace: of the MLflow run its metadata comes from when several runs
    /// hold one (chosen by the same rule backfill uses), else the only one. Only paths the manifest lists count.
    /// </summary>
    private static string? IcPath(RdBridgeSettings s, CachedBundle bundle)
    {
        var prefix = $"workspaces/{bundle.PrimaryWorkspaceId}/{WorkspaceFiles.MlRuns}/";
        var candidates = bundle.Files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal)
                && f.EndsWith($"/artifacts/sig_analysis/{IcFile}", StringComparison.Ordinal)
                && f.Split('/').Length == 8)
            .Order(StringComparer.Ordinal).ToList();
        if (candidates.Count <= 1) return candidates.FirstOrDefault();
        var workspace = s.AssetCache.ExtractedFile(bundle.Id, $"workspaces/{bundle.PrimaryWorkspaceId}");
        var chosen = MlflowRun.Chosen(workspace);
        return candidates.FirstOrDefault(c => chosen is not null
            && c.Split('/')[4] == Path.GetFileName(chosen.Folder)) ?? candidates[^1];
    }

    private sealed record Daily(IReadOnlyList<string> Dates, IReadOnlyList<double?> Values);

    private static Daily ReadDaily(CachedBundle bundle, string path)
    {
        var local = bundle.Local(path)
            ?? throw new PickleException($"'{path}' is listed but not extracted; sync again");
        var series = Pandas.ReadSeries(PickleFile.ReadAllBytes(local, IcPickle), path);
        var n = series.Index.Values.Count;
        if (n > ReadLimits.CurveRows)
        {
            throw new PickleException($"'{path}' has {n:N0} days, more than the {ReadLimits.CurveRows:N0} a daily " +
                "series may have; it was not read (RDBRIDGE_CURVE_ROWS raises the limit)");
        }
        var dates = series.Index.Values switch
        {
            DateTimeColumn d => d.Values.Select(x => x is { } t
                ? t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
                : throw new PickleException($"'{path}' has a day without a date (NaT)")).ToList(),
            _ => throw new PickleException($"'{path}' is not indexed by date ({series.Index.Values.Dtype}); " +
                "Qlib's SigAnaRecord writes one IC per datetime"),
        };
        IReadOnlyList<double?> values = series.Values switch
        {
            FloatColumn f => [.. f.Values.Select(v => double.IsFinite(v) ? v : (double?)null)],
            _ => throw new PickleException($"'{path}' holds {series.Values.Dtype} values, not float64 correlations"),
        };
        return new Daily(dates, values);
    }

    /// <summary>The mean of the days with a value (pandas' <c>mean</c> skips NaN) and the mean over the sample
    /// standard deviation (ddof=1), as Qlib's <c>ICIR</c>; null where there are too few days.</summary>
    private static (double? Mean, double? Ir) MeanAndIr(IReadOnlyList<double?> all)
    {
        var xs = all.OfType<double>().ToList();
        if (xs.Count == 0) return (null, null);
        var mean = xs.Average();
        if (xs.Count < 2) return (mean, null);
        var std = Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1));
        return (mean, std > 0 ? mean / std : null);
    }
}
