using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RdBridge.Tests.Store;

/// <summary>The user's guide, read from ../shared/seed: its fenced blocks, found by the heading they follow.</summary>
internal static class GuideText
{
    public static string Text => File.ReadAllText(Directory.GetFiles(Path.Combine(Paths.Shared, "seed"), "*.md")
        .Single(f => File.ReadAllText(f).Contains("关联查询示例")));

    /// <summary>The fenced blocks of one language after a heading, up to the next heading of the same level.
    /// </summary>
    public static IReadOnlyList<string> Blocks(string heading, string language)
    {
        var text = Text;
        var start = text.IndexOf(heading, StringComparison.Ordinal);
        // A guard naming the missing heading; the blocks themselves are compared exactly by the callers.
        Assert.True(start >= 0, $"the guide has no '{heading}'");
        var level = heading.TakeWhile(c => c == '#').Count();
        // The section ends at the next heading of its level or above; a "# " line inside a code block (a shell or
        // Python comment) is no heading.
        var lines = text[start..].Split('\n');
        var fenced = false;
        var section = new List<string> { lines[0] };
        foreach (var line in lines.Skip(1))
        {
            if (line.StartsWith("```", StringComparison.Ordinal)) fenced = !fenced;
            var hashes = line.TakeWhile(c => c == '#').Count();
            if (!fenced && hashes is > 0 && hashes <= level && line.Length > hashes && line[hashes] == ' ') break;
            section.Add(line);
        }
        return Regex.Matches(string.Join("\n", section), $"```{language}\\n(.*?)```", RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value).ToList();
    }
}

/// <summary>
/// Issue 26, point 15: the guide's 关联查询示例 join AIstock's catalog tables to the registry's <c>loops</c> and
/// <c>production_bundles</c>. They run verbatim on AIstock's database, both stores, and give the rows of the input: the
/// guide's own example records (关键关联字段说明), imported as catalogs.
/// </summary>
public sealed class GuideRegistryQueryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The guide's example loop and factor (its JSON blocks 1 and 2), as catalog files.</summary>
    private (JsonObject Loop, JsonObject Factor) WriteGuideCatalogs(string folder)
    {
        var examples = GuideText.Blocks("### 关键关联字段说明", "json");
        var loop = JsonNode.Parse(examples[0])!.AsObject();
        var factor = JsonNode.Parse(examples[1])!.AsObject();
        Assert.Equal("feature_PriceStrength_10D", (string?)factor["name"]);
        Directory.CreateDirectory(_dir[folder]);
        void Write(string file, string list, params JsonObject[] records) => File.WriteAllText(
            _dir[$"{folder}/{file}"], new JsonObject { [list] = new JsonArray(records.Select(r =>
                (JsonNode?)r.DeepClone()).ToArray()) }.ToJsonString());
        Write("loop_catalog.json", "loops", loop);
        Write("factor_catalog.json", "factors", factor);
        Write("model_catalog.json", "models");
        Write("strategy_catalog.json", "strategies");
        return (loop, factor);
    }

    private string Import(TestStore db, string catalogs)
    {
        var config = _dir["rdbridge.json"];
        File.WriteAllText(config, new JsonObject
        {
            ["aistock"] = new JsonObject { ["root"] = "AIstock", ["database"] = db.Setting },
        }.ToJsonString());
        var o = new StringWriter();
        var code = RdBridge.Cli.Program.Run(["import", "--catalogs", catalogs, "--config", config], o, o);
        Assert.True(code == 0, o.ToString());
        return o.ToString();
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void The_guide_s_loop_and_factor_queries_run_verbatim_on_aistock_s_database(string kind)
    {
        var queries = GuideText.Blocks("### 关联查询示例", "sql");
        Assert.Equal(2, queries.Count);
        var (loop, factor) = WriteGuideCatalogs("incoming");
        using var db = TestStore.Create(kind, _dir);
        Import(db, _dir["incoming"]);

        var bundle = (string)loop["asset_bundle_id"]!;
        // 查询 Loop 的完整信息: the loop's links, and its bundle where AIstock keeps it (步骤 5's folder).
        Assert.Equal(new object?[][]
            {
                [(string?)loop["task_run_id"], (long)loop["loop_id"]!, (string?)loop["workspace_id"],
                (string?)loop["workspace_path"], (string?)loop["log_dir"], bundle,
                    $"rdagent_assets/bundles/{bundle}.tar.gz"],
            },
            db.Rows(queries[0]).Select(r => r.ToArray()).ToArray());
        // 查询 Factor 的完整信息: the factor's links, its loop's log folder and its loop's bundle.
        Assert.Equal(new object?[][]
            {
                [(string?)factor["name"], (string?)factor["task_run_id"], (long)factor["loop_id"]!,
                (string?)factor["workspace_id"], (string?)factor["workspace_path"], (string?)loop["log_dir"],
                    bundle],
            },
            db.Rows(queries[1]).Select(r => r.ToArray()).ToArray());
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void The_registry_tables_in_aistock_s_database_follow_each_import(string kind)
    {
        var (loop, _) = WriteGuideCatalogs("first");
        using var db = TestStore.Create(kind, _dir);
        Import(db, _dir["first"]);
        // The loop's workspace moved and RD-Agent ran a second loop: exported again, imported again.
        var second = loop.DeepClone().AsObject();
        second["loop_id"] = 2;
        second["workspace_id"] = "ws_67890";
        second["asset_bundle_id"] = "bundle_20250107_001_2";
        loop["workspace_path"] = "F:/Dev/RD-Agent-main/log/20250107_001/workspace_ws_12345_moved";
        File.WriteAllText(_dir["first/loop_catalog.json"],
            new JsonObject { ["loops"] = new JsonArray(loop.DeepClone(), second.DeepClone()) }.ToJsonString());
        Import(db, _dir["first"]);

        Assert.Equal(new object?[][]
            {
                ["20250107_001", 1L, "ws_12345", (string?)loop["workspace_path"]],
                ["20250107_001", 2L, "ws_67890", (string?)second["workspace_path"]],
            },
            db.Rows("SELECT task_run_id, loop_id, workspace_id, workspace_path FROM loops ORDER BY loop_id")
                .Select(r => r.ToArray()).ToArray());
        Assert.Equal(new object?[][] { ["ws_12345"], ["ws_67890"] },
            db.Rows("SELECT workspace_id FROM workspaces ORDER BY workspace_id").Select(r => r.ToArray()).ToArray());
        Assert.Equal(new object?[][] { ["20250107_001", 2L] },
            db.Rows("SELECT task_run_id, loop_count FROM task_runs").Select(r => r.ToArray()).ToArray());
        Assert.Equal(new object?[][] { ["bundle_20250107_001_1"], ["bundle_20250107_001_2"] },
            db.Rows("SELECT bundle_id FROM production_bundles ORDER BY bundle_id").Select(r => r.ToArray()).ToArray());
    }
}
