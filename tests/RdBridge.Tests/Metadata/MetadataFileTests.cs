using System.Text.Json;
using System.Text.Json.Nodes;
using RdBridge.Metadata;

namespace RdBridge.Tests.Metadata;

/// <summary>
/// Each metadata file has one record type: what backfill writes, the record reads back and writes again unchanged.
/// </summary>
public class MetadataFileTests
{
    [Fact]
    public void Every_metadata_file_backfill_writes_reads_back_into_its_record_and_writes_the_same_bytes()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, store: "sqlite");
        Assert.Equal(0, sample.Cli("backfill", "--all-task-runs").Code);
        var checkedFiles = 0;
        foreach (var path in Directory.EnumerateFiles(sample.Dir.Path, "*.json", SearchOption.AllDirectories))
        {
            Func<string, JsonObject>? roundTrip = Path.GetFileName(path) switch
            {
                FactorMetaFile.FileName => p => FactorMetaFile.Read(p).ToJson(),
                FactorPerfFile.FileName => p => FactorPerfFile.Read(p).ToJson(),
                FeedbackFile.FileName => p => FeedbackFile.Read(p).ToJson(),
                ModelMetaFile.FileName => p => ModelMetaFile.Read(p).ToJson(),
                StrategyMetaFile.FileName => p => StrategyMetaFile.Read(p).ToJson(),
                _ => null,
            };
            if (roundTrip is null) continue;
            var written = System.Text.Encoding.UTF8.GetString(MetadataJson.ToFileBytes(roundTrip(path)));
            Assert.Equal(File.ReadAllText(path), written);
            checkedFiles++;
        }
        // Read from the registry and the disk: every experiment workspace gets its four files, and factor_perf.json
        // when the run left results (qlib_res.csv).
        var s = sample.Settings;
        var workspaces = Db.Rows(s.RegistryPath,
                "SELECT workspace_id FROM workspaces WHERE workspace_role = 'experiment_workspace'")
            .Select(r => Path.Combine(s.WorkspaceRoot, (string)r[0]!)).Where(Directory.Exists).ToList();
        Assert.Equal(workspaces.Sum(w => File.Exists(Path.Combine(w, "qlib_res.csv")) ? 5 : 4), checkedFiles);
    }

    [Fact]
    public void A_metadata_file_that_is_not_a_JSON_object_is_reported_with_its_name_and_treated_as_absent()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir[ModelMetaFile.FileName], "[1, 2]");
        File.WriteAllText(dir[FeedbackFile.FileName], "{ not json");
        var reported = new List<string>();
        var meta = WorkspaceMetadata.Read(dir.Path, (name, _, _) => reported.Add(name));
        Assert.Null(meta.ModelMeta);
        Assert.Null(meta.Feedback);
        Assert.Null(meta.FactorMeta);
        Assert.Equal([FeedbackFile.FileName, ModelMetaFile.FileName], reported.Order(StringComparer.Ordinal));
        Assert.Equal("not a JSON object",
            Assert.Throws<JsonException>(() => ModelMetaFile.Read(dir[ModelMetaFile.FileName])).Message);
    }

    [Fact]
    public void A_field_of_the_wrong_type_reads_as_absent_instead_of_failing_the_file()
    {
        var file = FactorMetaFile.From(JsonNode.Parse("""
            {"version": "v1", "task_run_id": "t", "loop_id": 2, "workspace_id": "w", "config_file": 7,
             "factors": [{"name": "a", "expression": 3, "tags": ["x", 1]}, {"expression": "$close"}]}
            """)!.AsObject());
        Assert.Null(file.ConfigFile);
        var only = Assert.Single(file.Factors);
        Assert.Equal("a", only.Name);
        Assert.Null(only.Expression);
        Assert.Equal(["x"], only.Tags);
        Assert.Equal(new MetadataOrigin("t", 2, "w"), file.Origin);
    }
}
