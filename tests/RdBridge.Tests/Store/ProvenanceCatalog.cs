using System.Text.Json.Nodes;

namespace RdBridge.Tests.Store;

/// <summary>
/// Catalog files as the provenance tests write them: a file under a new folder, the envelope export puts around a
/// list, and a factor record of one known task run (<see cref="RunA"/>), with or without an inline provenance list.
/// </summary>
internal static class ProvenanceCatalog
{
    public const string RunA = "0a1b2c3d4e5f60718293a4b5c6d7e8f9", RunB = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

    public static void Write(string path, JsonObject doc)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, doc.ToJsonString());
    }

    public static JsonObject Envelope(string version, string list, IEnumerable<JsonNode> records) => new()
    {
        ["generated_at_utc"] = "2026-12-06T00:00:00.000Z", ["version"] = version, ["source"] = "rdbridge",
        // Copies: a node belongs to one document, and a test may write the same records into several.
        [list] = new JsonArray([.. records.Select(r => r.DeepClone())]),
    };

    public static JsonObject Factor(string id, JsonNode? provenance = null)
    {
        var f = new JsonObject
        {
            ["factor_id"] = id, ["name"] = "F_" + id, ["source"] = "rdagent_generated", ["task_run_id"] = RunA,
            ["loop_id"] = 1,
        };
        if (provenance is not null) f["provenance"] = provenance;
        return f;
    }
}
