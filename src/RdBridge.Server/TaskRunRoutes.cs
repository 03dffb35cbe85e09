using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using RdBridge.Compare;
using RdBridge.Configuration;
using RdBridge.Store;
using static RdBridge.Catalogs.CatalogFields;

namespace RdBridge.Server;

/// <summary>
/// Task runs as the researcher reads them: an index (<c>GET /api/rdagent/task-runs</c>), one run's story with every
/// loop, failed and running ones included (<c>…/task-runs/{id}</c>, the id or a prefix of it), one loop of it even
/// without results (<c>…/task-runs/{id}/loops/{loop}</c>), and every loop's backtest curve thinned on the server, in
/// one request (<c>…/task-runs/{id}/curves</c>).
/// </summary>
internal static class TaskRunRoutes
{
    private static readonly string[] IndexSorts = ["started_at", "ended_at", "loops", "accepted", "best", "name"];

    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api/rdagent/task-runs").WithTags("consumer");
        api.MapGet("", Index).WithName("taskRuns");
        api.MapGet("/{taskRun}", Story).WithName("taskRunStory");
        api.MapGet("/{taskRun}/loops/{loopId:long}", Loop).WithName("taskRunLoop");
        api.MapGet("/{taskRun}/curves", Curves).WithName("taskRunCurves");
    }

    private static IResult Index(HttpContext http, RdBridgeSettings s)
    {
        var q = http.Request.Query;
        if (QueryParameters.Unknown(q, "q", "scenario", "metric", "sort", "order") is { } bad) return bad;
        var metric = q["metric"].ToString() is { Length: > 0 } m ? m : "annualized_return";
        if (!TaskRunQuery.Metrics.Contains(metric)) return BadMetric(metric);
        var sort = q["sort"].ToString() is { Length: > 0 } so ? so : "started_at";
        if (!IndexSorts.Contains(sort))
        {
            return RdBridgeServer.Problem(400, "bad query",
                $"sort: task runs can be sorted by {string.Join(", ", IndexSorts)}, not '{sort}'");
        }
        var order = q["order"].ToString() is { Length: > 0 } o ? o : "desc";
        if (order is not ("asc" or "desc"))
            return RdBridgeServer.Problem(400, "bad query", $"order must be asc or desc, not '{order}'");

        using var store = AistockStores.Open(s, migrate: false);
        var text = q["q"].ToString().Trim();
        var scenario = q["scenario"].ToString().Trim();
        var runs = TaskRunStories.Read(s, store, null)
            .Where(r => text.Length == 0 || r.TaskRunId.StartsWith(text, StringComparison.OrdinalIgnoreCase)
                || r.Name.Contains(text, StringComparison.OrdinalIgnoreCase)
                || (r.LogFolder?.Contains(text, StringComparison.OrdinalIgnoreCase) ?? false))
            .Where(r => scenario.Length == 0 || string.Equals(r.Scenario, scenario, StringComparison.OrdinalIgnoreCase))
            .Select(r => r.IndexJson(metric)).ToList();
        Comparison<JsonObject> by = sort switch
        {
            "loops" => (a, b) => ((int)a["loops"]!).CompareTo((int)b["loops"]!),
            "accepted" => (a, b) => ((int)a["accepted"]!).CompareTo((int)b["accepted"]!),
            "best" => (a, b) => Nullable.Compare((double?)a["best"]?["value"], (double?)b["best"]?["value"]),
            "name" => (a, b) => string.CompareOrdinal((string?)a["name"], (string?)b["name"]),
            "ended_at" => (a, b) => string.CompareOrdinal((string?)a[EndedAtUtc], (string?)b[EndedAtUtc]),
            _ => (a, b) => string.CompareOrdinal((string?)a[StartedAtUtc], (string?)b[StartedAtUtc]),
        };
        // The id breaks ties, so the order is total and the same on every call.
        runs.Sort((a, b) =>
        {
            var c = by(a, b);
            if (c == 0) c = string.CompareOrdinal((string?)a[TaskRunId], (string?)b[TaskRunId]);
            return order == "desc" ? -c : c;
        });
        var scenarios = runs.Select(r => (string?)r["scenario"]).Where(x => x is not null).Distinct().Order();
        return ConsumerApi.Json(new JsonObject
        {
            ["total"] = runs.Count, ["metric"] = metric,
            ["scenarios"] = new JsonArray([.. scenarios.Select(x => (JsonNode?)JsonValue.Create(x))]),
            ["task_runs"] = new JsonArray([.. runs]),
        });
    }

    private static IResult BadMetric(string metric) => RdBridgeServer.Problem(400, "bad query",
        $"metric: a task run's story charts {string.Join(", ", TaskRunQuery.Metrics)}, not '{metric}'");

    /// <summary>The one task run an id or a prefix of it names, or the problem to answer with.</summary>
    private static (TaskRunStory? Run, IResult? Problem) Resolve(RdBridgeSettings s, ICatalogReader store, string id)
    {
        var found = TaskRunStories.Read(s, store, id);
        var exact = found.FirstOrDefault(r => r.TaskRunId == id);
        if (exact is not null) return (exact, null);
        return found.Count switch
        {
            0 => (null, RdBridgeServer.Problem(404, "no such task run",
                $"no task run's id starts with '{id}'; sync, or pick one at /rdagent/runs")),
            1 => (found[0], null),
            _ => (null, RdBridgeServer.Problem(409, "ambiguous task run",
                $"'{id}' starts {found.Count} task runs' ids (" +
                $"{string.Join(", ", found.Take(5).Select(r => r.TaskRunId))}{(found.Count > 5 ? ", …" : "")}); " +
                "give more of the id")),
        };
    }

    private static IResult Story(string taskRun, HttpContext http, RdBridgeSettings s)
    {
        var q = http.Request.Query;
        if (QueryParameters.Unknown(q, "metric") is { } bad) return bad;
        var metric = q["metric"].ToString() is { Length: > 0 } m ? m : "annualized_return";
        if (!TaskRunQuery.Metrics.Contains(metric)) return BadMetric(metric);
        using var store = AistockStores.Open(s, migrate: false);
        var (run, problem) = Resolve(s, store, taskRun);
        if (run is null) return problem!;
        var json = run.IndexJson(metric);
        json["metrics"] = new JsonArray([.. TaskRunQuery.Metrics.Select(x => (JsonNode?)JsonValue.Create(x))]);
        json["loop_items"] = new JsonArray([.. run.Loops.Select(l => (JsonNode?)l.ToJson())]);
        json["best_so_far"] = new JsonArray([.. run.BestSoFar(metric).Select((b, i) => (JsonNode?)new JsonObject
        {
            [LoopId] = b.LoopId, ["value"] = b.Value, ["best"] = b.Best, ["improved"] = b.Improved,
            ["baseline"] = i == 0,
        })]);
        return ConsumerApi.Json(json);
    }

    private static IResult Loop(string taskRun, long loopId, RdBridgeSettings s)
    {
        using var store = AistockStores.Open(s, migrate: false);
        var (run, problem) = Resolve(s, store, taskRun);
        if (run is null) return problem!;
        var loop = run.Loops.FirstOrDefault(l => l.LoopId == loopId);
        if (loop is null)
        {
            return RdBridgeServer.Problem(404, "no such loop",
                $"task run {run.TaskRunId} has no loop {loopId} in AIstock or the registry");
        }

        var json = loop.ToJson();
        json[TaskRunId] = run.TaskRunId;
        json["task_run_name"] = run.Name;
        json[Scenario] = run.Scenario;
        var index = run.Loops.ToList().IndexOf(loop);
        json["previous_loop_id"] = index > 0 ? run.Loops[index - 1].LoopId : null;
        json["next_loop_id"] = index < run.Loops.Count - 1 ? run.Loops[index + 1].LoopId : null;
        // What a researcher compares a loop with: the loop with results before it, and the task run's SOTA then
        // (the last loop RD-Agent accepted before it; the first accepted one for a loop before any).
        var before = run.Loops.Take(index);
        json["previous_result_loop_id"] = before.LastOrDefault(l => l.InCatalog)?.LoopId;
        json["sota_loop_id"] = (before.LastOrDefault(l => l.Decision == true && l.InCatalog)
            ?? run.Loops.FirstOrDefault(l => l.Decision == true && l.InCatalog && l.LoopId != loopId))?.LoopId;
        return ConsumerApi.Json(json);
    }

    internal const int DefaultCurvePoints = 160;
    internal const int MaxCurvePoints = 800;

    private static IResult Curves(string taskRun, HttpContext http, RdBridgeSettings s)
    {
        var q = http.Request.Query;
        if (QueryParameters.Unknown(q, "points", "series") is { } bad) return bad;
        var points = DefaultCurvePoints;
        if (q["points"].ToString() is { Length: > 0 } p
            && (!int.TryParse(p, CultureInfo.InvariantCulture, out points) || points < 2 || points > MaxCurvePoints))
        {
            return RdBridgeServer.Problem(400, "bad query",
                $"points must be a whole number from 2 to {MaxCurvePoints}, not '{p}'");
        }
        var series = q["series"].ToString() is { Length: > 0 } se ? se : "excess_return_with_cost";
        if (!BacktestCurve.SeriesNames.Contains(series))
        {
            return RdBridgeServer.Problem(400, "bad query",
                $"series must be one of {string.Join(", ", BacktestCurve.SeriesNames)}, not '{series}'");
        }

        using var store = AistockStores.Open(s, migrate: false);
        var (run, problem) = Resolve(s, store, taskRun);
        if (run is null) return problem!;
        var curves = new JsonArray();
        var missing = new JsonArray();
        foreach (var loop in run.Loops.Where(l => l.InCatalog))
        {
            var (curve, why) = ThinCurve(s, loop.AssetBundleId, series, points);
            if (curve is null)
            {
                missing.Add(new JsonObject { [LoopId] = loop.LoopId, ["reason"] = why });
                continue;
            }

            curves.Add(new JsonObject
            {
                [LoopId] = loop.LoopId, [Decision] = loop.Decision, ["trading_days"] = curve.TradingDays,
                ["dates"] = new JsonArray([.. curve.Dates.Select(d => (JsonNode?)JsonValue.Create(d))]),
                ["values"] = new JsonArray([.. curve.Values.Select(v => v is { } x ? JsonValue.Create(x) : null)]),
            });
        }
        return ConsumerApi.Json(new JsonObject
        {
            [TaskRunId] = run.TaskRunId, ["series"] = series, ["points"] = points, ["curves"] = curves,
            ["missing"] = missing,
        });
    }

    private sealed record Thin(int TradingDays, IReadOnlyList<string> Dates, IReadOnlyList<double?> Values);

    // A bundle's files never change under its id's extracted copy unless it is re-extracted, which rewrites them:
    // the report's size and write time key the thinned curve, so a page that redraws reads no file twice.
    private static readonly ConcurrentDictionary<string, Thin> ThinCache = new(StringComparer.Ordinal);
    private const int ThinCacheLimit = 4096;

    private static (Thin? Curve, string? Why) ThinCurve(RdBridgeSettings s, string? bundleId, string series,
        int points)
    {
        CachedBundle? bundle;
        try { bundle = CachedBundle.Open(s.AssetCache, bundleId); }
        catch (CompareException e) { return (null, e.Message); }
        if (bundle is null) return (null, $"bundle '{bundleId}' is not extracted in the asset cache");
        if (bundle.BacktestReportPath is not { } rel || bundle.Local(rel) is not { } path || !File.Exists(path))
            return (null, $"bundle '{bundleId}' carries no {BacktestCurve.FileName}");
        var info = new FileInfo(path);
        var key = string.Join('\n', path, info.Length.ToString(CultureInfo.InvariantCulture),
            info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture), series,
            points.ToString(CultureInfo.InvariantCulture));
        if (ThinCache.TryGetValue(key, out var cached)) return (cached, null);
        BacktestCurve? curve;
        try { curve = bundle.ReadBacktest(); }
        catch (CompareException e) { return (null, e.Message); }
        if (curve is null || !curve.Series.TryGetValue(series, out var values))
            return (null, $"the backtest report of bundle '{bundleId}' has no {series}");
        // Thinned by this one curve's highs and lows, so its peaks and troughs survive at any size.
        var one = new BacktestCurve(curve.Dates, new Dictionary<string, IReadOnlyList<double?>> { [series] = values },
            null);
        var days = one.DisplayDays(points);
        var thin = new Thin(curve.TradingDays, [.. days.Select(i => curve.Dates[i])], [.. days.Select(i => values[i])]);
        if (ThinCache.Count >= ThinCacheLimit) ThinCache.Clear();
        ThinCache[key] = thin;
        return (thin, null);
    }
}
