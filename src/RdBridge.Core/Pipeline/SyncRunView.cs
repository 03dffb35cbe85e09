using System.Text.Json.Nodes;
using RdBridge.Store;

namespace RdBridge.Pipeline;

/// <summary>One sync run as <c>sync-status</c>, the API and the web UI show it (the same JSON everywhere).</summary>
public static class SyncRunView
{
    public static JsonObject ToJson(SyncRun? run, IReadOnlyList<SourceState>? sources = null)
    {
        if (run is null) return new JsonObject { ["status"] = "never" };
        return new JsonObject
        {
            ["id"] = run.Id,
            ["mode"] = run.Mode,
            ["status"] = run.Status,
            ["stage"] = run.Stage,
            ["progress"] = run.Progress ?? (run.Status == "running" ? 0 : 1),
            ["started_at"] = run.StartedAt,
            ["finished_at"] = run.FinishedAt,
            ["since"] = run.Since,
            ["counts"] = run.CountsJson is null ? null : JsonNode.Parse(run.CountsJson),
            ["errors"] = run.ErrorsJson is null ? new JsonArray() : JsonNode.Parse(run.ErrorsJson),
            ["sources"] = sources is null ? null : new JsonArray(sources.Select(s => (JsonNode?)new JsonObject
            {
                ["name"] = s.Name, ["url"] = s.Url, ["watermark"] = s.Watermark, ["last_sync_at"] = s.LastSyncAt,
                ["last_status"] = s.LastStatus, ["last_error"] = s.LastError,
            }).ToArray()),
        };
    }
}
