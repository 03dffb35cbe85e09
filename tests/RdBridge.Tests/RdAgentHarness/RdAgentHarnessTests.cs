using System.Globalization;
using System.Text.Json.Nodes;
using RdBridge.Server;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.RdAgentHarness;

/// <summary>
/// RdBridge on a tree Microsoft RD-Agent's own loops wrote (<see cref="HarnessRun"/>): every text and number the
/// harness's record holds — what RD-Agent was fed and what it logged — must reach the catalogs, the AIstock store,
/// <c>show</c> and the API exactly. Expected values come only from the record (RD-Agent's objects read back with
/// RD-Agent's FileStorage, metrics from qlib_res.csv read with pandas) and from the files RD-Agent's workspaces hold.
///
/// The tests are grouped by what they check. Numbers, decisions and code are what RdBridge carried before issue 25;
/// the texts (hypothesis and its fields, feedback texts, factor and model texts), failed and running loops are what
/// issue 25 adds. A text is looked for by its field where the fork's catalogs name one (<c>hypothesis</c>,
/// <c>description_cn</c>, <c>formula_hint</c>, <c>variables</c>, <c>decision</c>, <c>status</c>), else as an exact
/// string anywhere in the record, so the check does not depend on names the catalogs have yet to choose.
/// </summary>
[RealData]
public sealed class RdAgentHarnessTests(HarnessRun h) : IClassFixture<HarnessRun>
{
    /// <summary>RdBridge's metric names and the Qlib names they are read from (Metadata/MetricNames).</summary>
    private static readonly (string Canonical, string Qlib)[] Metrics =
    [
        ("ic", "IC"), ("icir", "ICIR"), ("rank_ic", "Rank IC"), ("rank_icir", "Rank ICIR"),
        ("annualized_return", "1day.excess_return_with_cost.annualized_return"),
        ("information_ratio", "1day.excess_return_with_cost.information_ratio"),
        ("max_drawdown", "1day.excess_return_with_cost.max_drawdown"),
        ("annualized_return_without_cost", "1day.excess_return_without_cost.annualized_return"),
        ("information_ratio_without_cost", "1day.excess_return_without_cost.information_ratio"),
        ("max_drawdown_without_cost", "1day.excess_return_without_cost.max_drawdown"),
    ];

    /// <summary>The loop catalog's metric columns and the Qlib metric each holds.</summary>
    private static readonly (string Column, string Qlib)[] LoopColumns =
    [
        ("annualized_return", "1day.excess_return_with_cost.annualized_return"),
        ("max_drawdown", "1day.excess_return_with_cost.max_drawdown"),
        ("information_ratio", "1day.excess_return_with_cost.information_ratio"),
        ("ic", "IC"), ("ic_ir", "ICIR"), ("rank_ic", "Rank IC"),
    ];

    private IEnumerable<(string TaskRun, JsonObject Loop)> Finished =>
        h.Loops().Where(l => (string)l.Loop["status"]! == "finished");

    private static long Id(JsonObject loop) => (long)loop["loop_id"]!;

    private static JsonObject? Find(JsonArray records, string taskRun, long loopId) =>
        records.Select(r => r!.AsObject())
            .SingleOrDefault(r => (string?)r["task_run_id"] == taskRun && (long?)r["loop_id"] == loopId);

    private JsonObject LoopRecord(string taskRun, long loopId) =>
        Find(h.Catalog("loop"), taskRun, loopId)
        ?? throw new Xunit.Sdk.XunitException($"loop_catalog.json has no loop {taskRun}/{loopId}");

    /// <summary>Every string value anywhere in a JSON document (object keys excluded).</summary>
    private static HashSet<string> Strings(JsonNode? node)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        void Walk(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o: foreach (var (_, v) in o) Walk(v); break;
                case JsonArray a: foreach (var v in a) Walk(v); break;
                case JsonValue v when v.TryGetValue<string>(out var s):
                    found.Add(s);
                    // A text field that holds JSON (a stored payload) is searched too.
                    if (s.StartsWith('{') || s.StartsWith('['))
                    {
                        // A text that only starts like JSON (prose in brackets) is a plain string, found above.
                        try { Walk(JsonNode.Parse(s)); } catch (System.Text.Json.JsonException) { }
                    }
                    break;
            }
        }
        Walk(node);
        return found;
    }

    /// <summary>Whether an object equal to <paramref name="expected"/> is anywhere in the document.</summary>
    private static bool HoldsObject(JsonNode? node, JsonNode expected) => node switch
    {
        null => false,
        _ when JsonNode.DeepEquals(node, expected) => true,
        JsonObject o => o.Any(p => HoldsObject(p.Value, expected)),
        JsonArray a => a.Any(v => HoldsObject(v, expected)),
        JsonValue v when v.TryGetValue<string>(out var s) && s.StartsWith('{') => TryParse(s) is { } p
            && HoldsObject(p, expected),
        _ => false,
    };

    private static JsonNode? TryParse(string s)
    {
        try { return JsonNode.Parse(s); } catch (System.Text.Json.JsonException) { return null; }
    }

    private static void AllPresent(List<string> missing, string where, JsonNode? document,
        IEnumerable<(string Field, string? Text)> texts)
    {
        var strings = Strings(document);
        foreach (var (field, text) in texts)
            if (text is not null && !strings.Contains(text)) missing.Add($"{where}: {field} = \"{text}\"");
    }

    private static void NoneMissing(List<string> missing, string what) =>
        Assert.True(missing.Count == 0, $"{missing.Count} {what} missing or different:\n" + string.Join("\n", missing));

    private static IEnumerable<(string, string?)> HypothesisTexts(JsonObject loop)
    {
        var hyp = loop["hypothesis"]!.AsObject();
        return new[] { "reason", "concise_reason", "concise_observation", "concise_justification", "concise_knowledge" }
            .Select(f => ($"hypothesis.{f}", (string?)hyp[f]));
    }

    private static IEnumerable<(string, string?)> FeedbackTexts(JsonObject loop)
    {
        var fb = loop["feedback"]!.AsObject();
        return new[] { "observations", "hypothesis_evaluation", "reason", "new_hypothesis" }
            .Select(f => ($"feedback.{f}", (string?)fb[f]));
    }

    // ---- the harness itself ------------------------------------------------------------------------------------

    [Fact]
    public void The_harness_ran_every_scenario_and_outcome_RD_Agent_has()
    {
        var byRun = h.Record["runs"]!.AsArray().ToDictionary(r => (string)r!["name"]!, r => r!.AsObject());
        Assert.Equal(["factor", "model", "quant", "resumed"], byRun.Keys.Order().ToArray());
        Assert.Equal(["finished", "failed", "finished"],
            byRun["factor"]["loops"]!.AsArray().Select(l => (string)l!["status"]!).ToArray());
        Assert.Equal(["model", "model"], byRun["model"]["loops"]!.AsArray().Select(l => (string)l!["action"]!));
        Assert.Equal(["factor", "model", "factor"],
            byRun["quant"]["loops"]!.AsArray().Select(l => (string)l!["action"]!));
        var stopped = HarnessRun.Run(h.RecordWhileRunning, "resumed")["loops"]![0]!;
        Assert.Equal("running", (string)stopped["status"]!);
        Assert.Equal("coding", (string)stopped["step_reached"]!);
        Assert.Equal("finished", (string)byRun["resumed"]["loops"]![0]!["status"]!);
        Assert.StartsWith("3.13", (string)h.Record["python"]!);
        Assert.StartsWith("2.", (string)h.Record["pandas"]!);
    }

    [Fact]
    public void RD_Agent_logged_exactly_what_the_harness_fed_it()
    {
        var wrong = new List<string>();
        foreach (var (run, loop) in h.Loops())
        {
            var fed = loop["fed"]!.AsObject();
            foreach (var (k, v) in fed["hypothesis"]!.AsObject())
                if (!JsonNode.DeepEquals(loop["hypothesis"]![k], v)) wrong.Add($"{run}/{Id(loop)} hypothesis.{k}");
            var tasks = loop["factors"]!.AsArray().Concat(loop["models"]!.AsArray()).Select(t => t!.AsObject());
            var fedTasks = fed["tasks"]!.AsObject();
            Assert.Equal(fedTasks.Select(t => t.Key), tasks.Select(t => (string)t["name"]!));
            foreach (var task in tasks)
            {
                foreach (var (k, v) in fedTasks[(string)task["name"]!]!.AsObject())
                    if (!JsonNode.DeepEquals(task[k], v)) wrong.Add($"{run}/{Id(loop)} {task["name"]}.{k}");
                var file = task.ContainsKey("architecture") ? "model.py" : "factor.py";
                if ((string?)task["code"] != (string?)fed["code"]![(string)task["name"]!])
                    wrong.Add($"{run}/{Id(loop)} {task["name"]} {file}");
            }
            if (fed["feedback"] is JsonObject answer && loop["feedback"] is JsonObject logged)
            {
                foreach (var (key, field) in new[] { ("Observations", "observations"),
                             ("Feedback for Hypothesis", "hypothesis_evaluation"), ("New Hypothesis", "new_hypothesis"),
                             ("Reasoning", "reason") })
                {
                    if ((string?)logged[field] != (string?)answer[key]) wrong.Add($"{run}/{Id(loop)} feedback.{field}");
                }
                if ((bool)logged["decision"]! != ((string)answer["Replace Best Result"]! == "yes"))
                    wrong.Add($"{run}/{Id(loop)} feedback.decision");
            }
        }
        NoneMissing(wrong, "logged values");
    }

    [Fact]
    public void Init_and_the_sync_after_the_resume_report_no_problem()
    {
        Assert.True(h.Init.Code == 0, $"init exits {h.Init.Code}:\n{h.Init.Out}\n{h.Init.Err}");
        Assert.True(h.Sync.Code == 0, $"sync exits {h.Sync.Code}:\n{h.Sync.Out}\n{h.Sync.Err}");
    }

    // ---- numbers, decisions, code (carried before issue 25) ------------------------------------------------------

    [Fact]
    public void Every_finished_loop_s_metrics_are_exact_in_the_loop_catalog()
    {
        var missing = new List<string>();
        foreach (var (run, loop) in Finished)
        {
            var qlib = loop["metrics"]!.AsObject();
            var rec = LoopRecord(run, Id(loop));
            foreach (var (canonical, name) in Metrics)
            {
                var got = (double?)rec["metrics"]?[canonical];
                if (got != (double)qlib[name]!)
                    missing.Add($"{run}/{Id(loop)} metrics.{canonical}: {got} ≠ {qlib[name]}");
            }
            foreach (var (column, name) in LoopColumns)
            {
                var got = (double?)rec[column];
                if (got != (double)qlib[name]!) missing.Add($"{run}/{Id(loop)} {column}: {got} ≠ {qlib[name]}");
            }
        }
        NoneMissing(missing, "metrics");
    }

    [Fact]
    public void Every_finished_loop_s_decision_is_RD_Agent_s_in_the_catalog_and_the_store()
    {
        var missing = new List<string>();
        foreach (var (run, loop) in Finished)
        {
            var expected = (bool)loop["feedback"]!["decision"]!;
            if ((bool?)LoopRecord(run, Id(loop))["decision"] != expected)
                missing.Add($"{run}/{Id(loop)} catalog decision ≠ {expected}");
            var row = h.Aistock.Rows("SELECT decision FROM aistock_loop_catalog "
                + $"WHERE task_run_id = '{run}' AND loop_id = {Id(loop)}");
            if (row.Count != 1 || row[0][0] is null || Convert.ToBoolean(row[0][0], CultureInfo.InvariantCulture)
                != expected)
            {
                missing.Add($"{run}/{Id(loop)} store decision ≠ {expected}");
            }
        }
        NoneMissing(missing, "decisions");
    }

    [Fact]
    public void Every_finished_loop_s_metric_columns_are_exact_in_the_store()
    {
        var missing = new List<string>();
        var columns = string.Join(", ", LoopColumns.Select(c => c.Column));
        foreach (var (run, loop) in Finished)
        {
            var rows = h.Aistock.Rows($"SELECT {columns} FROM aistock_loop_catalog "
                + $"WHERE task_run_id = '{run}' AND loop_id = {Id(loop)}");
            if (rows.Count != 1) { missing.Add($"{run}/{Id(loop)}: {rows.Count} rows"); continue; }
            for (var i = 0; i < LoopColumns.Length; i++)
            {
                var expected = (double)loop["metrics"]![LoopColumns[i].Qlib]!;
                var got = rows[0][i] is null ? (double?)null
                    : Convert.ToDouble(rows[0][i], CultureInfo.InvariantCulture);
                if (got != expected) missing.Add($"{run}/{Id(loop)} {LoopColumns[i].Column}: {got} ≠ {expected}");
            }
        }
        NoneMissing(missing, "metric columns");
    }

    [Fact]
    public void Every_finished_loop_s_factor_and_model_code_is_in_its_bundle_byte_for_byte()
    {
        var missing = new List<string>();
        foreach (var (run, loop) in Finished)
        {
            var bundle = Path.Combine(h.Root, "production_bundles", $"bundle_{run}_{Id(loop)}.tar.gz");
            if (!File.Exists(bundle)) { missing.Add($"{run}/{Id(loop)}: no bundle {bundle}"); continue; }
            var entries = BundleArchive.Entries(bundle).ToDictionary(e => e.Name, e => e.Data);
            var code = loop["factors"]!.AsArray().Select(f => (f!, "factor.py"))
                .Concat(loop["models"]!.AsArray().Select(m => (m!, "model.py")));
            foreach (var (task, file) in code)
            {
                var ws = Path.GetFileName((string)task["workspace_path"]!);
                var expected = File.ReadAllBytes(Path.Combine(h.Local((string)task["workspace_path"]!), file));
                Assert.Equal((string)task["code"]!, System.Text.Encoding.UTF8.GetString(expected));
                if (!entries.TryGetValue($"workspaces/{ws}/{file}", out var got) || !got.SequenceEqual(expected))
                    missing.Add($"{run}/{Id(loop)}: workspaces/{ws}/{file}");
            }
        }
        NoneMissing(missing, "code files");
    }

    [Fact]
    public void Every_finished_loop_s_numbers_and_decision_are_served_by_the_api()
    {
        var wrong = new List<string>();
        using var server = new RunningServer(h.Settings, ServeRole.Consumer);
        foreach (var group in Finished.GroupBy(l => l.TaskRun))
        {
            var api = JsonNode.Parse(RunningServer.Text(
                server.Get($"api/rdagent/loops?task_run_id={group.Key}&page_size=500")))!;
            var items = api.AsObject().Select(p => p.Value).OfType<JsonArray>().Single();
            foreach (var (run, loop) in group)
            {
                if (Find(items, run, Id(loop)) is not { } rec) { wrong.Add($"{run}/{Id(loop)}: not served"); continue; }
                if ((bool?)rec["decision"] != (bool)loop["feedback"]!["decision"]!)
                    wrong.Add($"{run}/{Id(loop)} decision");
                foreach (var (column, name) in LoopColumns)
                {
                    if ((double?)rec[column] != (double)loop["metrics"]![name]!)
                        wrong.Add($"{run}/{Id(loop)} {column}: {rec[column]} ≠ {loop["metrics"]![name]}");
                }
            }
        }
        NoneMissing(wrong, "numbers served by the API");
    }

    // ---- texts: the loop's hypothesis and the feedback (issue 25) ------------------------------------------------

    [Fact]
    public void The_loop_catalog_s_hypothesis_is_the_loop_s_own_not_the_next_one()
    {
        var wrong = new List<string>();
        foreach (var (run, loop) in Finished)
        {
            var expected = (string)loop["hypothesis"]!["hypothesis"]!;
            var got = (string?)LoopRecord(run, Id(loop))["hypothesis"];
            if (got != expected) wrong.Add($"{run}/{Id(loop)} hypothesis: \"{got}\" ≠ \"{expected}\"");
        }
        NoneMissing(wrong, "loop hypotheses");
    }

    [Fact]
    public void The_hypothesis_s_reason_and_concise_fields_are_in_the_loop_catalog()
    {
        var missing = new List<string>();
        foreach (var (run, loop) in Finished)
            AllPresent(missing, $"{run}/{Id(loop)}", LoopRecord(run, Id(loop)), HypothesisTexts(loop));
        NoneMissing(missing, "hypothesis texts");
    }

    [Fact]
    public void The_feedback_texts_and_the_next_hypothesis_are_in_the_loop_catalog()
    {
        var missing = new List<string>();
        foreach (var (run, loop) in Finished)
            AllPresent(missing, $"{run}/{Id(loop)}", LoopRecord(run, Id(loop)), FeedbackTexts(loop));
        NoneMissing(missing, "feedback texts");
    }

    [Fact]
    public void Hypothesis_and_feedback_texts_are_in_the_store_show_and_the_api()
    {
        var missing = new List<string>();
        using var server = new RunningServer(h.Settings, ServeRole.Consumer);
        foreach (var (run, loop) in Finished)
        {
            var texts = HypothesisTexts(loop).Concat(FeedbackTexts(loop))
                .Append(("hypothesis.hypothesis", (string?)loop["hypothesis"]!["hypothesis"])).ToList();
            var rows = h.Aistock.Rows("SELECT payload FROM aistock_loop_catalog "
                + $"WHERE task_run_id = '{run}' AND loop_id = {Id(loop)}");
            AllPresent(missing, $"store {run}/{Id(loop)}", rows.Count == 1 ? JsonValue.Create((string)rows[0][0]!)
                : null, texts);
            var show = h.Cli("show", "loop", run, Id(loop).ToString(CultureInfo.InvariantCulture), "--json");
            AllPresent(missing, $"show {run}/{Id(loop)}", TryParse(show.Out), texts);
            var api = TryParse(RunningServer.Text(server.Get($"api/rdagent/loops?task_run_id={run}&page_size=500")));
            var items = api?.AsObject().Select(p => p.Value).OfType<JsonArray>().FirstOrDefault() ?? [];
            AllPresent(missing, $"api {run}/{Id(loop)}", Find(items, run, Id(loop)), texts);
        }
        NoneMissing(missing, "texts in the store, show and the API");
    }

    // ---- texts: factors (issue 25) ---------------------------------------------------------------------------------

    private IEnumerable<(string Run, JsonObject Loop, JsonObject Factor)> RecordFactors() =>
        Finished.SelectMany(l => l.Loop["factors"]!.AsArray().Select(f => (l.TaskRun, l.Loop, f!.AsObject())));

    [Fact]
    public void Every_factor_s_description_formulation_and_variables_are_in_the_factor_catalog()
    {
        var wrong = new List<string>();
        var catalog = h.Catalog("factor").Select(f => f!.AsObject()).ToList();
        foreach (var (run, loop, factor) in RecordFactors())
        {
            var name = (string)factor["name"]!;
            var records = catalog.Where(f => (string?)f["name"] == name).ToList();
            if (records.Count == 0) { wrong.Add($"{run}/{Id(loop)} {name}: not in factor_catalog.json"); continue; }
            foreach (var f in records)
            {
                if ((string?)f["description_cn"] != (string)factor["description"]!)
                    wrong.Add($"{name} description_cn: \"{f["description_cn"]}\" ≠ \"{factor["description"]}\"");
                if ((string?)f["formula_hint"] != (string)factor["formulation"]!)
                    wrong.Add($"{name} formula_hint: \"{f["formula_hint"]}\" ≠ \"{factor["formulation"]}\"");
                if (!JsonNode.DeepEquals(f["variables"], factor["variables"]))
                {
                    wrong.Add($"{name} variables: {f["variables"]?.ToJsonString()} ≠ "
                        + factor["variables"]!.ToJsonString());
                }
            }
        }
        NoneMissing(wrong, "factor texts");
    }

    [Fact]
    public void Every_factor_s_texts_are_in_the_store()
    {
        var wrong = new List<string>();
        foreach (var (run, loop, factor) in RecordFactors())
        {
            var name = (string)factor["name"]!;
            var rows = h.Aistock.Rows(
                $"SELECT description_cn, payload FROM aistock_factor_catalog WHERE name = '{name}'");
            if (rows.Count == 0) { wrong.Add($"{name}: no row"); continue; }
            foreach (var row in rows)
            {
                if ((string?)row[0] != (string)factor["description"]!) wrong.Add($"{name} description_cn column");
                var payload = JsonNode.Parse((string)row[1]!)!;
                AllPresent(wrong, $"store {name}", payload, [("formulation", (string)factor["formulation"]!)]);
                if (!HoldsObject(payload, factor["variables"]!)) wrong.Add($"store {name}: variables");
            }
        }
        NoneMissing(wrong, "factor texts in the store");
    }

    // ---- texts: models (issue 25) ----------------------------------------------------------------------------------

    private IEnumerable<(string Run, JsonObject Loop, JsonObject Model)> RecordModels() =>
        Finished.SelectMany(l => l.Loop["models"]!.AsArray().Select(m => (l.TaskRun, l.Loop, m!.AsObject())));

    private static IEnumerable<(string, string?)> ModelTexts(JsonObject m) =>
        new[] { "name", "description", "formulation", "architecture", "model_type" }
            .Select(f => ($"model.{f}", (string?)m[f]));

    [Fact]
    public void Every_model_s_texts_are_in_the_model_catalog()
    {
        var wrong = new List<string>();
        var catalog = h.Catalog("model");
        foreach (var (run, loop, model) in RecordModels())
        {
            var records = catalog.Select(m => m!.AsObject())
                .Where(m => (string?)m["task_run_id"] == run && (long?)m["loop_id"] == Id(loop)).ToList();
            if (records.Count == 0) { wrong.Add($"{run}/{Id(loop)}: no model record"); continue; }
            var doc = new JsonArray(records.Select(r => (JsonNode?)r.DeepClone()).ToArray());
            AllPresent(wrong, $"{run}/{Id(loop)}", doc, ModelTexts(model));
            foreach (var field in new[] { "hyperparameters", "training_hyperparameters", "variables" })
                if (!HoldsObject(doc, model[field]!)) wrong.Add($"{run}/{Id(loop)}: model.{field}");
        }
        NoneMissing(wrong, "model texts");
    }

    [Fact]
    public void Every_model_s_texts_are_in_the_store()
    {
        var wrong = new List<string>();
        foreach (var (run, loop, model) in RecordModels())
        {
            var rows = h.Aistock.Rows("SELECT payload FROM aistock_model_catalog "
                + $"WHERE task_run_id = '{run}' AND loop_id = {Id(loop)}");
            if (rows.Count == 0) { wrong.Add($"{run}/{Id(loop)}: no model row"); continue; }
            var doc = new JsonArray(rows.Select(r => JsonNode.Parse((string)r[0]!)).ToArray());
            AllPresent(wrong, $"store {run}/{Id(loop)}", doc, ModelTexts(model));
            foreach (var field in new[] { "hyperparameters", "training_hyperparameters", "variables" })
                if (!HoldsObject(doc, model[field]!)) wrong.Add($"store {run}/{Id(loop)}: model.{field}");
        }
        NoneMissing(wrong, "model texts in the store");
    }

    // ---- the training configuration as the run used it (issue 25) ---------------------------------------------------

    [Fact]
    public void Every_loop_s_model_config_and_dataset_are_the_ones_its_run_executed()
    {
        var wrong = new List<string>();
        var catalog = h.Catalog("model").Select(m => m!.AsObject()).ToList();
        foreach (var (run, loop) in Finished)
        {
            var used = loop["run_config"]!.AsObject();
            var where = $"{run}/{Id(loop)} ({loop["action"]})";
            var records = catalog.Where(m => (string?)m["task_run_id"] == run && (long?)m["loop_id"] == Id(loop))
                .ToList();
            if (records.Count != 1) { wrong.Add($"{where}: {records.Count} model records"); continue; }
            var model = records[0];
            foreach (var (key, value) in used["model"]!["kwargs"]!.AsObject())
            {
                if (!JsonNode.DeepEquals(model["model_config"]?[key], value))
                {
                    wrong.Add($"{where} model_config.{key}: {model["model_config"]?[key]?.ToJsonString() ?? "null"}"
                        + $" ≠ {value?.ToJsonString()}");
                }
            }
            var datasetClass = (string?)model["dataset_config"]?["class"];
            if (datasetClass != (string)used["dataset_class"]!)
                wrong.Add($"{where} dataset_config.class: {datasetClass} ≠ {used["dataset_class"]}");
            var strings = Strings(model);
            foreach (var text in new[] { (string)used["model"]!["class"]!, (string)used["model"]!["module_path"]! })
                if (!strings.Contains(text)) wrong.Add($"{where}: model class or module {text}");
            if (used["step_len"] is JsonValue stepLen && !HoldsObject(model["dataset_config"], stepLen))
                wrong.Add($"{where}: dataset step_len {stepLen}");
        }
        NoneMissing(wrong, "training configuration values");
    }

    // ---- failed and running loops (issue 25) -----------------------------------------------------------------------

    [Fact]
    public void The_failed_loop_is_in_the_loop_catalog_and_the_store_with_its_status_step_and_error()
    {
        var (run, loop) = h.Loops().Single(l => (string)l.Loop["status"]! == "failed");
        Assert.Equal("running", (string)loop["failed_step"]!);
        var error = (string)loop["error"]!;
        Assert.Contains("数据中没有 $vwap 字段", error); // the qrun error the answers fed, through RD-Agent's exception
        var rec = LoopRecord(run, Id(loop));
        Assert.Equal("failed", (string?)rec["status"]);
        Assert.Contains(new[] { "step", "step_name", "step_reached" }, k => (string?)rec[k] == "running");
        Assert.Contains(error, Strings(rec));
        Assert.Equal(false, (bool?)rec["decision"]);
        Assert.Equal((string)loop["hypothesis"]!["hypothesis"]!, (string?)rec["hypothesis"]);
        var rows = h.Aistock.Rows($"SELECT status, payload FROM aistock_loop_catalog WHERE task_run_id = '{run}' "
            + $"AND loop_id = {Id(loop)}");
        Assert.Single(rows);
        Assert.Equal("failed", (string?)rows[0][0]);
        Assert.Contains(error, Strings(JsonNode.Parse((string)rows[0][1]!)));
        var show = h.Cli("show", "loop", run, Id(loop).ToString(CultureInfo.InvariantCulture), "--json");
        Assert.True(show.Code == 0, $"show loop exits {show.Code}: {show.Err}");
        Assert.Contains(error, Strings(JsonNode.Parse(show.Out)));
        Assert.False(File.Exists(Path.Combine(h.Root, "production_bundles", $"bundle_{run}_{Id(loop)}.tar.gz")));
    }

    /// <summary>
    /// What the catalogs' <c>coder_feedback</c> must be for one task, from the record's CoSTEER feedback (the
    /// feedback's pickled attributes): FactorSingleFeedback's <c>execution_feedback</c> and <c>code_feedback</c> are
    /// <c>execution</c> and <c>code</c>; a field the logged class does not have is null.
    /// </summary>
    private static JsonObject ExpectedCoderFeedback(JsonObject logged) => new()
    {
        ["evolving_steps"] = (int)logged["evolving_steps"]!,
        ["final_decision"] = (bool?)logged["final_decision"],
        ["execution"] = (string?)logged["execution_feedback"] ?? (string?)logged["execution"],
        ["return_checking"] = (string?)logged["return_checking"],
        ["value_feedback"] = (string?)logged["value_feedback"],
        ["shape_feedback"] = (string?)logged["shape_feedback"],
        ["code"] = (string?)logged["code_feedback"] ?? (string?)logged["code"],
        ["final_feedback"] = (string?)logged["final_feedback"],
    };

    [Fact]
    public void The_harness_s_coder_logged_two_evolving_steps_a_rejected_draft_then_the_accepted_code()
    {
        var tasks = h.Loops().SelectMany(l => l.Loop["factors"]!.AsArray().Concat(l.Loop["models"]!.AsArray()))
            .Select(t => t!["coder_feedback"]!.AsObject()).ToList();
        // One coder feedback for each task RD-Agent was fed (the answers' tasks, as the record says it fed them).
        Assert.Equal(h.Loops().Sum(l => l.Loop["fed"]!["tasks"]!.AsObject().Count), tasks.Count);
        Assert.All(tasks, fb => Assert.Equal(2, (int)fb["evolving_steps"]!));
        Assert.All(tasks, fb => Assert.True((bool)fb["final_decision"]!));
    }

    [Fact]
    public void Every_factor_s_coder_feedback_is_exact_in_the_factor_catalog_and_the_store()
    {
        var wrong = new List<string>();
        var catalog = h.Catalog("factor").Select(f => f!.AsObject()).ToList();
        foreach (var (run, loop, factor) in RecordFactors())
        {
            var name = (string)factor["name"]!;
            var expected = ExpectedCoderFeedback(factor["coder_feedback"]!.AsObject());
            foreach (var f in catalog.Where(f => (string?)f["name"] == name))
            {
                if (!JsonNode.DeepEquals(f["coder_feedback"], expected))
                {
                    wrong.Add($"{run}/{Id(loop)} {name}: {f["coder_feedback"]?.ToJsonString()} ≠ "
                        + expected.ToJsonString());
                }
            }
            var rows = h.Aistock.Rows($"SELECT payload FROM aistock_factor_catalog WHERE name = '{name}'");
            if (rows.Count == 0) wrong.Add($"store {name}: no row");
            foreach (var row in rows)
                if (!HoldsObject(JsonNode.Parse((string)row[0]!), expected)) wrong.Add($"store {name}: coder_feedback");
        }
        NoneMissing(wrong, "factor coder feedbacks");
    }

    [Fact]
    public void Every_model_s_coder_feedback_is_exact_in_the_model_catalog_and_the_store()
    {
        var wrong = new List<string>();
        var catalog = h.Catalog("model").Select(m => m!.AsObject()).ToList();
        foreach (var (run, loop, model) in RecordModels())
        {
            var expected = ExpectedCoderFeedback(model["coder_feedback"]!.AsObject());
            var record = catalog.SingleOrDefault(m =>
                (string?)m["task_run_id"] == run && (long?)m["loop_id"] == Id(loop));
            if (!JsonNode.DeepEquals(record?["model_task"]?["coder_feedback"], expected))
                wrong.Add($"{run}/{Id(loop)}: {record?["model_task"]?["coder_feedback"]?.ToJsonString()}");
            var rows = h.Aistock.Rows("SELECT payload FROM aistock_model_catalog "
                + $"WHERE task_run_id = '{run}' AND loop_id = {Id(loop)}");
            if (rows.Count != 1 || !HoldsObject(JsonNode.Parse((string)rows[0][0]!), expected))
                wrong.Add($"store {run}/{Id(loop)}: coder_feedback");
        }
        NoneMissing(wrong, "model coder feedbacks");
    }

    /// <summary>A task's texts of the record as (field, text) pairs, its coder feedback's texts among them.</summary>
    private static IEnumerable<(string, string?)> TaskTexts(JsonObject task, params string[] fields) =>
        fields.Select(f => ($"task.{f}", (string?)task[f]))
            .Concat(ExpectedCoderFeedback(task["coder_feedback"]!.AsObject())
                .Where(p => p.Value?.GetValueKind() == System.Text.Json.JsonValueKind.String)
                .Select(p => ($"coder_feedback.{p.Key}", (string?)p.Value)));

    [Fact]
    public void Every_factor_s_and_model_s_texts_and_coder_feedback_are_served_by_the_api_and_show()
    {
        var missing = new List<string>();
        using var server = new RunningServer(h.Settings, ServeRole.Consumer);
        var factorsApi = TryParse(RunningServer.Text(server.Get("api/rdagent/factors?page_size=500")));
        foreach (var (run, loop, factor) in RecordFactors())
        {
            var name = (string)factor["name"]!;
            var texts = TaskTexts(factor, "name", "description", "formulation").ToList();
            AllPresent(missing, $"api factor {name}", factorsApi, texts);
            var show = h.Cli("show", "factor", name, "--json");
            AllPresent(missing, $"show factor {name}", TryParse(show.Out), texts);
        }
        foreach (var (run, loop, model) in RecordModels())
        {
            var texts = TaskTexts(model, "name", "description", "formulation", "architecture").ToList();
            var api = TryParse(RunningServer.Text(server.Get($"api/rdagent/models?task_run_id={run}&page_size=500")));
            var items = api?.AsObject().Select(p => p.Value).OfType<JsonArray>().FirstOrDefault() ?? [];
            AllPresent(missing, $"api model {run}/{Id(loop)}", Find(items, run, Id(loop)), texts);
            var show = h.Cli("show", "loop", run, Id(loop).ToString(CultureInfo.InvariantCulture), "--json");
            AllPresent(missing, $"show loop {run}/{Id(loop)}", TryParse(show.Out)?["model"], texts);
        }
        NoneMissing(missing, "factor and model texts in the API and show");
    }

    [Fact]
    public void The_running_loop_s_logged_texts_are_in_the_loop_catalog_the_store_show_and_the_api_while_it_runs()
    {
        var stopped = HarnessRun.Run(h.RecordWhileRunning, "resumed");
        var loop = stopped["loops"]![0]!.AsObject();
        Assert.Equal("running", (string)loop["status"]!);
        var texts = HypothesisTexts(loop)
            .Concat(loop["factors"]!.AsArray().SelectMany(f => TaskTexts(f!.AsObject(), "name", "description",
                "formulation")))
            .ToList();
        var missing = new List<string>();
        var rec = Find(h.LoopCatalogWhileRunning, (string)stopped["folder"]!, 0);
        AllPresent(missing, "catalog", rec, texts);
        AllPresent(missing, "store", h.StoreRowsWhileRunning.Count == 1
            ? JsonValue.Create((string)h.StoreRowsWhileRunning[0][1]!) : null, texts);
        AllPresent(missing, "show", TryParse(h.ShowWhileRunning.Out), texts);
        var api = TryParse(h.ApiLoopsWhileRunning);
        var items = api?.AsObject().Select(p => p.Value).OfType<JsonArray>().FirstOrDefault() ?? [];
        AllPresent(missing, "api", Find(items, (string)stopped["folder"]!, 0), texts);
        foreach (var factor in loop["factors"]!.AsArray())
        {
            if (!HoldsObject(rec, factor!["variables"]!)) missing.Add($"catalog: {factor["name"]} variables");
        }
        NoneMissing(missing, "running loop's texts");
    }

    [Fact]
    public void The_failed_loop_s_logged_texts_are_in_the_loop_catalog_the_store_show_and_the_api()
    {
        var (run, loop) = h.Loops().Single(l => (string)l.Loop["status"]! == "failed");
        var hyp = loop["hypothesis"]!.AsObject();
        var rec = LoopRecord(run, Id(loop));
        // By field in the catalog: the hypothesis's reason and concise fields, the feedback RD-Agent wrote from the
        // exception, and each task with its texts and CoSTEER's feedback.
        var wrong = new List<string>();
        void Same(string field, string? expected)
        {
            if ((string?)rec[field] != expected) wrong.Add($"{field}: \"{rec[field]}\" ≠ \"{expected}\"");
        }
        Same("hypothesis_reason", (string?)hyp["reason"]);
        foreach (var f in new[]
                 { "concise_reason", "concise_observation", "concise_justification", "concise_knowledge" })
        {
            Same(f, (string?)hyp[f]);
        }
        var fb = loop["feedback"]!.AsObject();
        Same("decision_reason", (string?)fb["reason"]);
        Same("observations", (string?)fb["observations"]);
        Same("new_hypothesis", (string?)fb["new_hypothesis"]);
        var factors = loop["factors"]!.AsArray().Select(f => f!.AsObject()).ToList();
        Assert.Equal(loop["fed"]!["tasks"]!.AsObject().Select(t => t.Key), factors.Select(f => (string)f["name"]!));
        var tasks = rec["tasks"]?.AsArray().Select(t => t!.AsObject()).ToList() ?? [];
        foreach (var factor in factors)
        {
            var name = (string)factor["name"]!;
            var task = tasks.SingleOrDefault(t => (string?)t["name"] == name);
            if (task is null) { wrong.Add($"tasks: no {name}"); continue; }
            if ((string?)task["description"] != (string)factor["description"]!) wrong.Add($"{name} description");
            if ((string?)task["formulation"] != (string)factor["formulation"]!) wrong.Add($"{name} formulation");
            if (!JsonNode.DeepEquals(task["variables"], factor["variables"])) wrong.Add($"{name} variables");
            if ((string?)task["workspace_id"] != Path.GetFileName((string)factor["workspace_path"]!))
                wrong.Add($"{name} workspace_id");
            var coder = ExpectedCoderFeedback(factor["coder_feedback"]!.AsObject());
            if (!JsonNode.DeepEquals(task["coder_feedback"], coder))
                wrong.Add($"{name} coder_feedback: {task["coder_feedback"]?.ToJsonString()}");
        }
        NoneMissing(wrong, "failed loop's texts in loop_catalog.json");

        // Every text, exact, in the store's payload, show and the API.
        var texts = HypothesisTexts(loop).Concat(FeedbackTexts(loop))
            .Append(("hypothesis.hypothesis", (string?)hyp["hypothesis"]))
            .Append(("error", (string?)loop["error"]))
            .Concat(factors.SelectMany(f => new[]
            {
                ("factor.name", (string?)f["name"]), ("factor.description", (string?)f["description"]),
                ("factor.formulation", (string?)f["formulation"]),
            }))
            .Concat(factors.SelectMany(f => ExpectedCoderFeedback(f["coder_feedback"]!.AsObject())
                .Where(p => p.Value?.GetValueKind() == System.Text.Json.JsonValueKind.String)
                .Select(p => ($"coder_feedback.{p.Key}", (string?)p.Value))))
            .ToList();
        var missing = new List<string>();
        AllPresent(missing, "catalog", rec, texts);
        var rows = h.Aistock.Rows("SELECT payload FROM aistock_loop_catalog "
            + $"WHERE task_run_id = '{run}' AND loop_id = {Id(loop)}");
        AllPresent(missing, "store", rows.Count == 1 ? JsonValue.Create((string)rows[0][0]!) : null, texts);
        var show = h.Cli("show", "loop", run, Id(loop).ToString(CultureInfo.InvariantCulture), "--json");
        AllPresent(missing, "show", TryParse(show.Out), texts);
        using var server = new RunningServer(h.Settings, ServeRole.Consumer);
        var api = TryParse(RunningServer.Text(server.Get($"api/rdagent/loops?task_run_id={run}&page_size=500")));
        var items = api?.AsObject().Select(p => p.Value).OfType<JsonArray>().FirstOrDefault() ?? [];
        AllPresent(missing, "api", Find(items, run, Id(loop)), texts);
        foreach (var factor in factors)
        {
            if (rows.Count != 1 || !HoldsObject(JsonNode.Parse((string)rows[0][0]!), factor["variables"]!))
                missing.Add($"store: {factor["name"]} variables");
        }
        NoneMissing(missing, "failed loop's texts in the store, show and the API");
    }

    [Fact]
    public void The_loop_stopped_after_coding_has_the_coder_s_workspaces_while_it_runs()
    {
        var stopped = HarnessRun.Run(h.RecordWhileRunning, "resumed");
        var loop = stopped["loops"]![0]!.AsObject();
        var expected = loop["factors"]!.AsArray().Select(f => Path.GetFileName((string)f!["workspace_path"]!))
            .Order().ToList();
        // A workspace for each task the stopped loop was fed.
        Assert.Equal(loop["fed"]!["tasks"]!.AsObject().Count, expected.Count);
        foreach (var id in expected) Assert.Contains(id, h.RegistryWorkspacesWhileRunning);
        Assert.True(h.ShowWhileRunning.Code == 0,
            $"show loop exits {h.ShowWhileRunning.Code}: {h.ShowWhileRunning.Err}");
        var show = JsonNode.Parse(h.ShowWhileRunning.Out)!;
        Assert.Equal("running", (string?)show["status"]);
        var shown = Strings(show);
        foreach (var id in expected) Assert.Contains(id, shown);
        var rec = Find(h.LoopCatalogWhileRunning, (string)stopped["folder"]!, 0)
            ?? throw new Xunit.Sdk.XunitException("loop_catalog.json has no record of the running loop");
        Assert.Equal("running", (string?)rec["status"]);
        Assert.Equal((string)loop["hypothesis"]!["hypothesis"]!, (string?)rec["hypothesis"]);
        var recorded = Strings(rec);
        foreach (var id in expected) Assert.Contains(id, recorded);
        Assert.Single(h.StoreRowsWhileRunning);
        Assert.Equal("running", (string?)h.StoreRowsWhileRunning[0][0]);
        var stored = Strings(JsonNode.Parse((string)h.StoreRowsWhileRunning[0][1]!));
        foreach (var id in expected) Assert.Contains(id, stored);
    }

    [Fact]
    public void The_resumed_loop_is_finished_after_sync_with_its_metrics_and_decision()
    {
        var run = h.Run("resumed");
        var loop = run["loops"]![0]!.AsObject();
        var rec = LoopRecord((string)run["folder"]!, 0);
        Assert.Equal((bool)loop["feedback"]!["decision"]!, (bool?)rec["decision"]);
        foreach (var (column, name) in LoopColumns) Assert.Equal((double)loop["metrics"]![name]!, (double?)rec[column]);
        // The coder's workspaces before the stop are the ones the finished loop ran.
        var before = HarnessRun.Run(h.RecordWhileRunning, "resumed")["loops"]![0]!["factors"]!.AsArray()
            .Select(f => (string)f!["workspace_path"]!);
        Assert.Equal(before, loop["factors"]!.AsArray().Select(f => (string)f!["workspace_path"]!));
        // RD-Agent logged the loop's run and its feedback (the record: finished): the catalog's word is "success".
        Assert.Equal("finished", (string)loop["status"]!);
        Assert.Equal("success", (string?)rec["status"]);
    }
}
