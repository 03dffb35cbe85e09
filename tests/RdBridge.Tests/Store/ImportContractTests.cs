using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;

namespace RdBridge.Tests.Store;

/// <summary>
/// <c>import --catalogs DIR</c> on an AIstock-only machine, as the guide's step 4 on the AIstock side: exit codes say
/// whether every record landed, a broken catalog never replaces the good copy, and every problem names the file.
/// </summary>
public sealed class ImportContractTests : IDisposable
{
    private readonly TempDir _dir = new();
    private string Config => _dir["rdbridge.json"];
    private string Incoming => _dir["incoming"];
    private RdBridgeSettings Settings => SettingsLoader.Load(Config, rdAgentOptional: true);

    public ImportContractTests()
    {
        // Only the AIstock side: no rdagent.root, no sources.
        File.WriteAllText(Config, """{ "aistock": { "root": "AIstock" } }""");
        Directory.CreateDirectory(Incoming);
        Write(CatalogKind.Loop, Loop("tr1", 0), Loop("tr1", 1));
        Write(CatalogKind.Factor, new JsonObject { ["name"] = "MOM5", ["expression"] = "$close/Ref($close,5)-1",
            ["task_run_id"] = "tr1", ["loop_id"] = 0 });
        Write(CatalogKind.Model, new JsonObject { ["model_id"] = "model_tr1_0", ["task_run_id"] = "tr1",
            ["loop_id"] = 0, ["model_type"] = "LGBModel" });
        Write(CatalogKind.Strategy, new JsonObject { ["strategy_id"] = "s1", ["task_run_id"] = "tr1",
            ["loop_id"] = 0 });
    }

    private static JsonObject Loop(string tr, long loop) => new() { ["task_run_id"] = tr, ["loop_id"] = loop,
        ["status"] = "success" };

    private void Write(CatalogKind kind, params JsonObject[] records) =>
        WriteText(kind, new JsonObject { [CatalogFile.ListName(kind)] = new JsonArray(records) }.ToJsonString());

    private void WriteText(CatalogKind kind, string text) => File.WriteAllText(Path.Combine(Incoming,
        CatalogFile.FileName(kind)), text);

    private (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = RdBridge.Cli.Program.Run([.. args, "--config", Config], o, e);
        return (code, o.ToString(), e.ToString());
    }

    private long Rows(string table) => Db.Scalar(Settings.AistockDatabase, $"SELECT count(*) FROM {table}");

    [Fact]
    public void A_loop_listed_once_per_workspace_is_one_loop_on_its_experiment_workspace_with_all_its_workspaces()
    {
        // As the Python exporter writes it (loops joined to workspaces): the sub-workspace rows carry no results.
        JsonObject Row(string workspace, bool results) => new()
        {
            ["task_run_id"] = "tr1", ["loop_id"] = 0, ["workspace_id"] = workspace, ["status"] = "success",
            ["metrics"] = results ? new JsonObject { ["IC"] = 0.04 } : new JsonObject(),
            ["paths"] = results ? new JsonObject { ["factor_meta"] = "factor_meta.json" } : new JsonObject(),
        };
        Write(CatalogKind.Loop, Row("sub_a", false), Row("sub_b", false), Row("experiment", true), Loop("tr1", 1));

        var (code, output, error) = Cli("import", "--catalogs", Incoming);

        Assert.True(code == 0, output + error); // the other rows are the loop's other workspaces, not problems
        Assert.DoesNotContain("✗", output);
        var row = Db.Rows(Settings.AistockDatabase,
            "SELECT workspace_id, payload FROM aistock_loop_catalog WHERE task_run_id = 'tr1' AND loop_id = 0")[0];
        Assert.Equal("experiment", row[0]);
        var payload = JsonNode.Parse((string)row[1]!)!;
        Assert.Equal(0.04, (double)payload["metrics"]!["IC"]!);
        Assert.Equal(["sub_a", "sub_b", "experiment"],
            payload["workspaces"]!.AsArray().Select(w => (string)w!["workspace_id"]!).ToArray());
    }

    [Fact]
    public void Import_of_a_catalog_folder_works_with_only_aistock_configured()
    {
        var (code, output, error) = Cli("import", "--catalogs", Incoming);
        Assert.True(code == 0, output + error);
        Assert.Equal(2, Rows("aistock_loop_catalog"));
        Assert.Equal(1, Rows("aistock_factor_catalog"));
        foreach (var kind in CatalogFile.All)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(Incoming, CatalogFile.FileName(kind))),
                File.ReadAllBytes(Path.Combine(Settings.AistockCatalogDirectory, CatalogFile.FileName(kind))));
        }
    }

    [Fact]
    public void Import_without_catalogs_folder_on_an_aistock_only_machine_says_what_to_set()
    {
        var (code, _, error) = Cli("import");
        Assert.Equal(2, code);
        Assert.Equal($"error: 'rdagent.root' is not set; put it in {Config} (\"rdagent\": {{ \"root\": "
            + "\"/path/to/RD-Agent-main\" }) or set RDBRIDGE_RDAGENT__ROOT — or, on a machine that only pulls from "
            + "publishers, list them under \"sources\"", error.TrimEnd('\n'));
    }

    [Fact]
    public void A_broken_catalog_never_replaces_the_good_AIstock_copy_and_the_problem_names_the_source_file()
    {
        Assert.Equal(0, Cli("import", "--catalogs", Incoming).Code);
        var copy = Path.Combine(Settings.AistockCatalogDirectory, CatalogFile.FileName(CatalogKind.Factor));
        var good = File.ReadAllBytes(copy);
        var source = Path.Combine(Incoming, CatalogFile.FileName(CatalogKind.Factor));
        File.WriteAllText(source, """{ "factors": [ { "name": "MOM5", "expression": "$close" }, { "name": "MOM10" """);

        var (code, output, _) = Cli("import", "--catalogs", Incoming);
        Assert.Equal(1, code);
        Assert.Contains(source, output);
        Assert.Equal(good, File.ReadAllBytes(copy));
        Assert.Equal(1, Rows("aistock_factor_catalog"));
        Assert.Equal(2, Rows("aistock_loop_catalog"));
    }

    [Fact]
    public void An_import_that_skips_records_exits_1_and_names_each()
    {
        // Two loops lack their task run: each is a skipped record with its own problem line; the others land.
        Write(CatalogKind.Loop, Loop("tr1", 0), new JsonObject { ["loop_id"] = 5 }, Loop("tr1", 1),
            new JsonObject { ["loop_id"] = 6 });
        var (code, output, _) = Cli("import", "--catalogs", Incoming);
        Assert.Equal(1, code);
        Assert.Equal(2, output.Split('\n').Count(l => l.Contains('✗') && l.Contains("record has no task_run_id")));
        Assert.Equal(2, Rows("aistock_loop_catalog"));
    }

    [Fact]
    public void A_catalog_of_the_wrong_shape_is_reported_not_imported_as_empty()
    {
        WriteText(CatalogKind.Loop, """{ "loops": 42 }""");
        var (code, output, _) = Cli("import", "--catalogs", Incoming);
        Assert.Equal(1, code);
        var file = Path.Combine(Incoming, "loop_catalog.json");
        Assert.Contains($"  ✗ loop_catalog.json: {file} is valid JSON but not a catalog of the shape expected: 'loops' "
            + "must be a list of records, not a number; a catalog is {\"loops\": [{…}, …]} (or a bare list of "
            + $"records); nothing from this file was imported [{file}]", output.Split('\n'));
    }

    [Fact]
    public void A_record_giving_a_property_twice_is_reported_not_stored_with_the_last_value()
    {
        WriteText(CatalogKind.Model,
            """{ "models": [ { "model_id": "m1", "task_run_id": "tr1", "loop_id": 0,""" +
            """ "model_type": "LGBModel", "model_type": "Linear" } ] }""");
        var (code, output, _) = Cli("import", "--catalogs", Incoming);
        Assert.Equal(1, code);
        // The whole line of the report (one of the run's lines: the others are its summary).
        Assert.Contains("  ✗ model_catalog.json: model record #1 (m1) skipped: property 'model_type' is given twice; "
            + "which value is meant is unclear — write it once "
            + $"[{Path.Combine(Incoming, "model_catalog.json")}]", output.Split('\n'));
        Assert.Equal(0, Rows("aistock_model_catalog"));
    }

    [Fact]
    public void A_number_beyond_a_double_is_refused_by_name_wherever_it_sits_in_the_record()
    {
        // Stored, 1e400 reads back as infinity, which JSON cannot carry: the API's page for that loop failed whole.
        WriteText(CatalogKind.Factor, """
            { "factors": [
              { "factor_id": "f_big", "name": "BIG", "task_run_id": "tr1", "loop_id": 0,
                "performance_metrics": { "ic": 1e400 } },
              { "factor_id": "f_ok", "name": "OK", "task_run_id": "tr1", "loop_id": 0,
                "performance_metrics": { "ic": 0.031 } } ] }
            """);
        WriteText(CatalogKind.Loop, """
            { "loops": [
              { "task_run_id": "tr1", "loop_id": 0, "status": "success" },
              { "task_run_id": "tr1", "loop_id": 1, "status": "success", "metrics": { "max_drawdown": -2E+999 } } ] }
            """);
        WriteText(CatalogKind.Model, """
            { "models": [ { "model_id": "m1", "task_run_id": "tr1", "loop_id": 0,
                "params": { "layers": [64, 32, 1e309] } } ] }
            """);
        var (code, output, _) = Cli("import", "--catalogs", Incoming);
        Assert.Equal(1, code);
        var lines = output.Split('\n');
        string Refused(string file, string record, string path, string text) =>
            $"  ✗ {file}: {record} skipped: '{path}' is {text}, beyond what a number can hold here (a double: "
            + $"±1.8e308); write a finite number, or null when there is none [{Path.Combine(Incoming, file)}]";
        Assert.Contains(Refused("factor_catalog.json", "factor record #1 (f_big)", "performance_metrics.ic", "1e400"),
            lines);
        Assert.Contains(Refused("loop_catalog.json", "loop record #2 (tr1/1)", "metrics.max_drawdown", "-2E+999"),
            lines);
        Assert.Contains(Refused("model_catalog.json", "model record #1 (m1)", "params.layers[2]", "1e309"), lines);
        Assert.Equal(["f_ok"], Db.Rows(Settings.AistockDatabase, "SELECT factor_id FROM aistock_factor_catalog")
            .Select(r => r[0]));
        Assert.Equal(1, Rows("aistock_loop_catalog"));
        Assert.Equal(0, Rows("aistock_model_catalog"));
    }

    [Fact]
    public void A_negative_loop_id_is_refused_by_name()
    {
        Write(CatalogKind.Loop, Loop("tr1", 0), Loop("tr1", -3));
        var (code, output, _) = Cli("import", "--catalogs", Incoming);
        Assert.Equal(1, code);
        // The whole line of the report, as above.
        Assert.Contains("  ✗ loop_catalog.json: loop record #2 (tr1/-3) skipped: loop_id is -3; an id or a count is "
            + $"never negative [{Path.Combine(Incoming, "loop_catalog.json")}]", output.Split('\n'));
        Assert.Equal(1, Rows("aistock_loop_catalog"));
    }

    [Fact]
    public void An_aistock_root_that_names_a_file_is_exit_2_naming_the_setting()
    {
        File.WriteAllText(_dir["AIstock.txt"], "not a folder");
        File.WriteAllText(Config, """{ "aistock": { "root": "AIstock.txt" } }""");
        var (code, _, error) = Cli("import", "--catalogs", Incoming);
        Assert.Equal(2, code);
        Assert.Equal($"error: 'aistock.root' names a file, '{_dir["AIstock.txt"]}'; it must be a folder — fix it in "
            + Config, error.TrimEnd('\n'));
    }

    public void Dispose() => _dir.Dispose();
}
