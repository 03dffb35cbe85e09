using System.Text.Json.Nodes;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// The research texts RD-Agent logs for a loop (its hypothesis, the feedback, each FactorTask and ModelTask) reach the
/// metadata files in the loop's bundle exactly, from every log generation and scenario. Expected values are the
/// objects write_log.py pickled, as it reports them.
/// </summary>
public class LoggedTextsTests
{
    public static TheoryData<string, string> Generations => new()
    {
        { "head", "fin_factor" }, { "head", "fin_quant" }, { "v08", "fin_model" }, { "v04", "fin_quant" },
        { "v03", "fin_factor" }, { "v03", "fin_model" },
    };

    [Theory, MemberData(nameof(Generations))]
    public void Each_bundled_loop_carries_its_own_hypothesis_the_feedback_texts_and_every_task_text(
        string generation, string scenario)
    {
        const string taskRun = "2025-07-01_08-30-12-123456";
        using var rd = new UpstreamRdAgent([$"{generation}:{scenario}:3:{taskRun}"]);
        var (code, output, err) = rd.Cli("init");
        Assert.True(code == 0, output + err);
        foreach (var loop in rd.Loops())
        {
            var id = (long)loop["loop_id"]!;
            var experiment = UpstreamRdAgent.Ids(loop, "experiment_workspace").Single();
            var bundle = Path.Combine(rd.Settings.BundleDirectory, $"bundle_{taskRun}_{id}.tar.gz");
            var files = BundleArchive.Entries(bundle).ToDictionary(e => e.Name, e => e.Data);
            JsonObject Meta(string name) => JsonNode.Parse(files[$"workspaces/{experiment}/{name}"])!.AsObject();
            var texts = loop["texts"]!;
            var hypothesis = texts["hypothesis"]!;
            var feedback = texts["feedback"]!;

            var fb = Meta("feedback.json");
            // The loop's own hypothesis, not the feedback's suggestion for the next loop.
            Assert.Equal((string)hypothesis["hypothesis"]!, (string)fb["hypothesis"]!);
            Assert.Equal((string)hypothesis["reason"]!, (string)fb["hypothesis_reason"]!);
            foreach (var field in new[]
                     { "concise_reason", "concise_observation", "concise_justification", "concise_knowledge" })
            {
                Assert.Equal((string)hypothesis[field]!, (string)fb[field]!);
            }
            Assert.Equal((string?)hypothesis["action"], (string?)fb["hypothesis_action"]);
            Assert.Equal((string)feedback["new_hypothesis"]!, (string)fb["new_hypothesis"]!);
            Assert.Equal((string)feedback["observations"]!, (string)fb["observations"]!);
            Assert.Equal((string)feedback["hypothesis_evaluation"]!, (string)fb["hypothesis_evaluation"]!);
            Assert.Equal((string)feedback["reason"]!, (string)fb["decision_reason"]!);
            Assert.Equal((string)feedback["code_change_summary"]!, (string)fb["code_change_summary"]!);
            Assert.Equal((bool)feedback["decision"]!, (bool)fb["decision"]!);

            var tasks = texts["tasks"]!.AsArray().Select(t => t!.AsObject()).ToList();
            if ((string)loop["action"]! == "factor")
            {
                var factors = Meta("factor_meta.json")["factors"]!.AsArray().Select(f => f!.AsObject())
                    .Where(f => (string?)f["code_path"] is not null).ToList();
                Assert.Equal(tasks.Count, factors.Count);
                foreach (var task in tasks)
                {
                    var entry = factors.Single(f => (string)f["name"]! == (string)task["factor_name"]!);
                    Assert.Equal((string)task["description"]!, (string)entry["description_cn"]!);
                    Assert.Equal((string)task["factor_formulation"]!, (string)entry["formula_hint"]!);
                    Assert.True(JsonNode.DeepEquals(task["variables"], entry["variables"]), entry.ToJsonString());
                }
            }
            else
            {
                var task = tasks.Single();
                var meta = Meta("model_meta.json");
                var logged = meta["model_task"]!;
                foreach (var field in new[] { "name", "description", "formulation", "architecture", "model_type" })
                    Assert.Equal((string)task[field]!, (string)logged[field]!);
                foreach (var field in new[] { "variables", "hyperparameters", "training_hyperparameters" })
                    Assert.True(JsonNode.DeepEquals(task[field], logged[field]), field + ": " + logged.ToJsonString());
                Assert.Equal((string)task["model_type"]!, (string)meta["rdagent_model_type"]!);
                // model_type keeps its meaning: the Qlib model class the run used.
                Assert.Equal("GeneralPTNN", (string)meta["model_type"]!);
                AssertConfigAsRun(rd.Root, experiment, meta);
            }
        }
    }

    /// <summary>
    /// model_meta.json's model and dataset are what the run used: every plain model and dataset param Qlib logged
    /// (read here from the workspace's mlruns), where the template in the workspace holds Jinja placeholders.
    /// </summary>
    private static void AssertConfigAsRun(string root, string workspaceId, JsonObject meta)
    {
        var workspace = Path.Combine(root, "git_ignore_folder", "RD-Agent_workspace", workspaceId);
        var run = Directory.GetDirectories(Path.Combine(workspace, "mlruns", "402845839201358417")).Single();
        Assert.Equal(Path.GetFileName(run), (string)meta["run_id"]!);
        var checkedParams = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(run, "params")))
        {
            var name = Path.GetFileName(file);
            var logged = File.ReadAllText(file);
            JsonNode? node = name switch
            {
                _ when name.StartsWith("model.kwargs.", StringComparison.Ordinal) => Walk(meta["model_config"],
                    name["model.kwargs.".Length..]),
                "dataset.class" => meta["dataset_config"]!["class"],
                "dataset.module_path" => meta["dataset_config"]!["module_path"],
                _ when name.StartsWith("dataset.kwargs.", StringComparison.Ordinal)
                    && !name.Contains("segments", StringComparison.Ordinal) =>
                    Walk(meta["dataset_config"]!["kwargs"], name["dataset.kwargs.".Length..]),
                _ => JsonValue.Create("skip"),
            };
            if ((string?)(node as JsonValue)?.ToString() == "skip") continue;
            Assert.True(node is JsonValue, $"{name} is missing from model_meta.json");
            var text = node!.GetValueKind() == System.Text.Json.JsonValueKind.Number
                ? node.GetValue<double>().ToString("R", System.Globalization.CultureInfo.InvariantCulture)
                : node.ToString();
            var expected = double.TryParse(logged, System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var d)
                ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : logged;
            Assert.True(expected == text, $"{name}: the run logged {logged}, model_meta.json says {text}");
            checkedParams++;
        }
        // A guard that the run logged params, not the check: each one is compared exactly above.
        Assert.True(checkedParams >= 14, $"only {checkedParams} params checked");
        Assert.Equal("TSDatasetH", (string)meta["dataset_config"]!["class"]!);
    }

    private static JsonNode? Walk(JsonNode? node, string dotted)
    {
        foreach (var part in dotted.Split('.')) node = (node as JsonObject)?[part];
        return node;
    }

    [Fact]
    public void A_running_loop_has_the_workspaces_its_coder_logged_and_no_bundle()
    {
        const string taskRun = "2025-07-01_08-30-12-123456";
        using var rd = new UpstreamRdAgent([$"head:fin_quant:3:{taskRun}"], running: true);
        var (code, output, err) = rd.Cli("init");
        Assert.True(code == 0, output + err);
        var loop = rd.Loops().Single(l => (string)l["status"]! == "running");
        var id = (long)loop["loop_id"]!;
        var rows = Db.Rows(rd.Registry, "SELECT workspace_id, workspace_role, step_name, status FROM workspaces "
            + $"WHERE task_run_id = '{taskRun}' AND loop_id = {id}");
        var expected = UpstreamRdAgent.Ids(loop, "experiment_workspace", "sub_workspace").Order().ToList();
        Assert.NotEmpty(expected); // a precondition: the equality below is not of two empty lists
        Assert.Equal(expected, rows.Select(r => (string)r[0]!).Order().ToList());
        Assert.All(rows, r => Assert.Equal("coding", r[2]));
        Assert.All(rows, r => Assert.Equal("running", r[3]));
        Assert.False(File.Exists(Path.Combine(rd.Settings.BundleDirectory, $"bundle_{taskRun}_{id}.tar.gz")));
        // Where each loop is: the running one in its running step (the folder RD-Agent made for it), the others
        // through their last step (record, in the HEAD log).
        var steps = Db.Rows(rd.Registry, "SELECT loop_id, step, status FROM rdbridge_discovery "
            + "WHERE loop_id IS NOT NULL ORDER BY loop_id");
        Assert.Equal(3, steps.Count);
        foreach (var row in steps)
            Assert.Equal((long)row[0]! == id ? "running" : "record", row[1]);
    }

    [Fact]
    public void A_failed_loop_carries_its_status_its_last_step_and_the_error_RD_Agent_logged()
    {
        const string taskRun = "2025-07-01_08-30-12-123456";
        using var rd = new UpstreamRdAgent([$"v08:fin_factor:3:{taskRun}"], fail: true);
        var (code, output, err) = rd.Cli("init");
        Assert.True(code == 0, output + err);
        var loop = rd.Loops().Single(l => (string)l["status"]! == "failed");
        var id = (long)loop["loop_id"]!;
        var row = Db.Rows(rd.Registry, "SELECT l.status, l.error_type, l.error_message, d.step FROM loops l "
            + "JOIN rdbridge_discovery d ON d.task_run_id = l.task_run_id AND d.loop_id = l.loop_id "
            + $"WHERE l.loop_id = {id}").Single();
        Assert.Equal("failed", row[0]);
        Assert.Equal("CoderError", row[1]);
        Assert.Equal((string)loop["error"]!, row[2]);
        // The step that failed (the log's last before feedback, which RD-Agent skipped the loop to), as the fork's
        // step_name has it.
        Assert.Equal("running", row[3]);
        // Its coder's workspaces are recorded, and it has no bundle.
        var ids = Db.Rows(rd.Registry, $"SELECT workspace_id FROM workspaces WHERE loop_id = {id}")
            .Select(r => (string)r[0]!).Order().ToList();
        Assert.Equal(UpstreamRdAgent.Ids(loop, "sub_workspace").Order().ToList(), ids);
        Assert.False(File.Exists(Path.Combine(rd.Settings.BundleDirectory, $"bundle_{taskRun}_{id}.tar.gz")));
    }
}
