using System.Text.Json.Nodes;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// CoSTEER's <c>evolving feedback</c> (the coder's last word on each task's code) and the texts of a loop without
/// results reach the metadata files, the catalogs and the store exactly, from every log generation: the deprecated
/// <c>FactorSingleFeedback</c> class, the newer <c>CoSTEERSingleFeedback</c> (v0.8 here), the bare list v0.3 logged,
/// a task the coder skipped (None). Expected values are the objects write_log.py pickled, as it reports them.
/// </summary>
public class CoderFeedbackTests
{
    private const string TaskRun = "2025-07-01_08-30-12-123456";

    public static TheoryData<string, string> Generations => new()
    {
        { "head", "fin_factor" }, { "head", "fin_quant" }, { "v08", "fin_model" }, { "v08", "fin_factor" },
        { "v04", "fin_quant" }, { "v03", "fin_factor" },
    };

    /// <summary>A metadata file of the loop's experiment workspace, as its bundle carries it.</summary>
    private static JsonObject Entry(string bundle, JsonObject loop, string name)
    {
        var experiment = UpstreamRdAgent.Ids(loop, "experiment_workspace").Single();
        return JsonNode.Parse(BundleArchive.Entries(bundle).Single(e => e.Name == $"workspaces/{experiment}/{name}")
            .Data)!.AsObject();
    }

    [Theory, MemberData(nameof(Generations))]
    public void Each_factor_and_model_carries_CoSTEER_s_last_feedback_on_its_code(string generation, string scenario)
    {
        using var rd = new UpstreamRdAgent([$"{generation}:{scenario}:3:{TaskRun}"]);
        var (code, output, err) = rd.Cli("init");
        Assert.True(code == 0, output + err);
        var factorCatalog = JsonNode.Parse(File.ReadAllText(Path.Combine(rd.Settings.CatalogDirectory,
            "factor_catalog.json")))!["factors"]!.AsArray().Select(f => f!.AsObject()).ToList();
        var provenance = JsonNode.Parse(File.ReadAllText(Path.Combine(rd.Settings.CatalogDirectory,
            "factor_provenance.json")))!["provenance"]!.AsArray().Select(p => p!.AsObject()).ToList();
        var modelCatalog = JsonNode.Parse(File.ReadAllText(Path.Combine(rd.Settings.CatalogDirectory,
            "model_catalog.json")))!["models"]!.AsArray().Select(m => m!.AsObject()).ToList();
        var seen = 0;
        foreach (var loop in rd.Loops())
        {
            var id = (long)loop["loop_id"]!;
            var bundle = Path.Combine(rd.Settings.BundleDirectory, $"bundle_{TaskRun}_{id}.tar.gz");
            var tasks = loop["texts"]!["tasks"]!.AsArray();
            var coder = loop["texts"]!["coder"]!.AsArray();
            Assert.Equal(tasks.Count, coder.Count);
            if ((string)loop["action"]! == "factor")
            {
                var factors = Entry(bundle, loop, "factor_meta.json")["factors"]!.AsArray().Select(f => f!.AsObject())
                    .ToList();
                for (var i = 0; i < tasks.Count; i++)
                {
                    var name = (string)tasks[i]!["factor_name"]!;
                    var entry = factors.Single(f => (string)f["name"]! == name);
                    Assert.True(JsonNode.DeepEquals(coder[i], entry["coder_feedback"]),
                        $"{name}: {entry["coder_feedback"]?.ToJsonString()} ≠ {coder[i]?.ToJsonString()}");
                    foreach (var record in factorCatalog.Where(f => (string?)f["name"] == name
                                 && provenance.Any(p => (string?)p["factor_id"] == (string?)f["factor_id"]
                                     && (long?)p["loop_id"] == id)))
                    {
                        Assert.True(JsonNode.DeepEquals(coder[i], record["coder_feedback"]),
                            $"factor_catalog {name}: {record["coder_feedback"]?.ToJsonString()}");
                    }
                    seen++;
                }
            }
            else
            {
                var task = Entry(bundle, loop, "model_meta.json")["model_task"]!;
                Assert.True(JsonNode.DeepEquals(coder[0], task["coder_feedback"]), task.ToJsonString());
                var record = modelCatalog.Single(m => (long?)m["loop_id"] == id);
                Assert.True(JsonNode.DeepEquals(coder[0], record["model_task"]!["coder_feedback"]),
                    record["model_task"]!.ToJsonString());
                seen++;
            }
        }
        // A guard that the log had tasks to check, not the check: each task's feedback is compared exactly above.
        Assert.True(seen >= 3, $"only {seen} tasks checked");
    }

    public static TheoryData<string> FailingGenerations => new() { "head", "v08", "v04", "v03" };

    [Theory, MemberData(nameof(FailingGenerations))]
    public void A_failed_loop_s_record_carries_every_text_RD_Agent_logged_for_it(string generation)
    {
        using var rd = new UpstreamRdAgent([$"{generation}:fin_factor:3:{TaskRun}"], fail: true);
        var (code, output, err) = rd.Cli("init");
        Assert.True(code == 0, output + err);
        var loop = rd.Loops().Single(l => (string)l["status"]! == "failed");
        var id = (long)loop["loop_id"]!;
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(rd.Settings.CatalogDirectory, "loop_catalog.json")))!
            ["loops"]!.AsArray().Select(l => l!.AsObject()).Single(l => (long?)l["loop_id"] == id);
        var texts = loop["texts"]!;
        var hypothesis = texts["hypothesis"]!;
        Assert.Equal((string)hypothesis["hypothesis"]!, (string?)record["hypothesis"]);
        Assert.Equal((string)hypothesis["reason"]!, (string?)record["hypothesis_reason"]);
        foreach (var field in new[]
                 { "concise_reason", "concise_observation", "concise_justification", "concise_knowledge" })
        {
            Assert.Equal((string)hypothesis[field]!, (string?)record[field]);
        }
        if (texts["feedback"] is { } feedback)
        {
            Assert.Equal((string)feedback["reason"]!, (string?)record["decision_reason"]);
            Assert.Equal((string)feedback["new_hypothesis"]!, (string?)record["new_hypothesis"]);
            Assert.Equal((string)feedback["hypothesis_evaluation"]!, (string?)record["hypothesis_evaluation"]);
            Assert.Equal("CoderError: " + (string)loop["error"]!, (string?)record["exception"]);
        }
        else
        {
            // v0.3 logged no feedback for a loop it skipped: nothing is made up for it.
            Assert.Null(record["decision_reason"]);
        }
        var tasks = record["tasks"]!.AsArray().Select(t => t!.AsObject()).ToList();
        var logged = texts["tasks"]!.AsArray();
        Assert.Equal(logged.Count, tasks.Count);
        for (var i = 0; i < logged.Count; i++)
        {
            Assert.Equal("factor", (string?)tasks[i]["kind"]);
            Assert.Equal((string)logged[i]!["factor_name"]!, (string?)tasks[i]["name"]);
            Assert.Equal((string)logged[i]!["description"]!, (string?)tasks[i]["description"]);
            Assert.Equal((string)logged[i]!["factor_formulation"]!, (string?)tasks[i]["formulation"]);
            Assert.True(JsonNode.DeepEquals(logged[i]!["variables"], tasks[i]["variables"]));
            Assert.True(JsonNode.DeepEquals(texts["coder"]![i], tasks[i]["coder_feedback"]),
                tasks[i].ToJsonString());
        }
        // The same record in AIstock's store (its payload), whole.
        var rows = rd.Aistock.Rows($"SELECT payload FROM aistock_loop_catalog WHERE loop_id = {id}");
        var payload = JsonNode.Parse((string)Assert.Single(rows)[0]!)!;
        Assert.Equal((string)hypothesis["reason"]!, (string?)payload["hypothesis_reason"]);
        Assert.True(JsonNode.DeepEquals(record["tasks"], payload["tasks"]), payload["tasks"]?.ToJsonString());
    }

    [Fact]
    public void A_truncated_evolving_feedback_is_named_and_the_loop_keeps_its_other_texts()
    {
        using var rd = new UpstreamRdAgent([$"head:fin_factor:3:{TaskRun}"]);
        var loopFolder = Path.Combine(rd.LogFolder(TaskRun), "Loop_0");
        var last = Directory.EnumerateFiles(Path.Combine(loopFolder, "coding", "evo_loop_1", "evolving feedback"),
            "*.pkl", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(last);
        File.WriteAllBytes(last, bytes[..(bytes.Length / 2)]);
        File.SetLastWriteTimeUtc(last, DateTime.UtcNow.AddHours(-2));
        var (code, output, err) = rd.Cli("init");
        var loop = rd.Loops().First();
        // The loop, the file, where it ends (half its bytes, as cut above) and the item cut short there: the pickle's
        // first frame (opcode 0x95 at byte 2, its 8-byte little-endian length after it, its data from byte 11).
        Assert.Equal(0x95, bytes[2]);
        var frame = BitConverter.ToUInt64(bytes, 3);
        var workspace = Path.Combine(rd.Settings.WorkspaceRoot,
            UpstreamRdAgent.Ids(loop, "experiment_workspace").Single());
        Assert.Contains($"  ✗ {TaskRun}/0: the log pickle '{last}' is truncated; RD-Agent stopped while writing it "
            + $"(pickle ends after {Words.N(bytes.Length / 2, "byte", "bytes")}, inside an item that needs {frame} "
            + $"more from byte 11; the file may still be being written); its texts are left out [{workspace}]",
            OutputLines.Of(output));
        Assert.Equal(ExitCodes.ItemFailures, code);
        var bundle = Path.Combine(rd.Settings.BundleDirectory, $"bundle_{TaskRun}_0.tar.gz");
        var factors = Entry(bundle, loop, "factor_meta.json")["factors"]!.AsArray().Select(f => f!.AsObject())
            .ToList();
        Assert.All(factors, f => Assert.Null(f["coder_feedback"]));
        var feedback = Entry(bundle, loop, "feedback.json");
        Assert.Equal((string)loop["texts"]!["hypothesis"]!["reason"]!, (string?)feedback["hypothesis_reason"]);
        var task = loop["texts"]!["tasks"]![0]!;
        var entry = factors.Single(f => (string)f["name"]! == (string)task["factor_name"]!);
        Assert.Equal((string)task["description"]!, (string?)entry["description_cn"]);
    }
}
