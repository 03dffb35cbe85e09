using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Configuration;
using RdBridge.Runs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// <see cref="ImportStage"/> as a whole, on each store: what it reports for a folder without catalogs, a missing or
/// broken catalog, a record another source holds and a second import of the same files, and which files it copies to
/// the AIstock side. Written for the mutants Stryker left alive in <c>ImportStage</c> and <c>ImportSummary</c>
/// (bench/mutation.sh StoreSchema); every expected name, count and file is read off what the test writes here.
/// </summary>
public sealed class ImportStageMutantTests : IDisposable
{
    private const string Missing = "catalog file is missing; it is not imported";
    private const string NotImported = "; nothing from this file was imported";
    private const string Kept = "; the AIstock copy from the last good import is kept";

    private readonly TempDir _dir = new();
    private TestStore? _db;
    private RdBridgeSettings? _settings;

    private string From => _dir["incoming"];
    private string To => _dir["AIstock/rdagent_data"];
    private TestStore Db => _db!;

    private void Open(string kind)
    {
        _db = TestStore.Create(kind, _dir);
        File.WriteAllText(_dir["rdbridge.json"], new JsonObject
        {
            ["aistock"] = new JsonObject { ["root"] = "AIstock", ["database"] = _db.Setting },
        }.ToJsonString());
        _settings = SettingsLoader.Load(_dir["rdbridge.json"], rdAgentOptional: true);
        Directory.CreateDirectory(From);
    }

    public void Dispose()
    {
        _db?.Dispose();
        _dir.Dispose();
    }

    private (StageReport Report, IReadOnlyList<ImportSummary> Summaries) Import() =>
        new ImportStage(new RunContext(_settings!)).Run(From);

    private static string In(string folder, string file) => Path.Combine(folder, file);

    private void Write(string file, string list, params JsonObject[] records) =>
        File.WriteAllText(In(From, file), new JsonObject { [list] = new JsonArray(records) }.ToJsonString());

    private void WriteLoops(int n) => Write("loop_catalog.json", "loops", Enumerable.Range(0, n)
        .Select(i => new JsonObject { ["task_run_id"] = "tr1", ["loop_id"] = i, ["status"] = "success" }).ToArray());

    private void WriteModel(string type) => Write("model_catalog.json", "models",
        new JsonObject { ["model_id"] = "m1", ["task_run_id"] = "tr1", ["loop_id"] = 0, ["model_type"] = type });

    private void WriteAll()
    {
        WriteLoops(2);
        WriteModel("LGBModel");
        Write("strategy_catalog.json", "strategies",
            new JsonObject { ["strategy_id"] = "s1", ["task_run_id"] = "tr1", ["loop_id"] = 0 });
        File.WriteAllText(In(From, "factor_catalog.json"), new JsonObject
        {
            ["version"] = "v2",
            ["factors"] = new JsonArray(new JsonObject { ["factor_id"] = "f1", ["name"] = "MOM5",
                ["task_run_id"] = "tr1", ["loop_id"] = 0 }),
        }.ToJsonString());
        File.WriteAllText(In(From, "factor_provenance.json"), new JsonObject
        {
            ["version"] = "v2",
            ["provenance"] = new JsonArray(new JsonObject { ["factor_id"] = "f1", ["task_run_id"] = "tr1",
                ["loop_id"] = 0 }),
        }.ToJsonString());
    }

    private static string[] Names(IEnumerable<KeyValuePair<Counter, long>> counts) =>
        counts.Select(c => $"{c.Key.Name}={c.Value}").ToArray();

    private static string[] CountsOf(string list, long inserted, long updated = 0, long unchanged = 0,
        long skipped = 0) =>
        [$"{list} inserted={inserted}", $"{list} updated={updated}", $"{list} unchanged={unchanged}",
            $"{list} skipped={skipped}"];

    [Theory]
    [MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_folder_without_catalogs_stops_the_import_with_one_problem_naming_the_folder(string kind)
    {
        Open(kind);
        var (report, summaries) = Import();

        var why = $"no catalog files in '{From}'; run 'rdbridge export' first or pass --catalogs DIR";
        Assert.Equal(why, report.Aborted);
        Assert.Equal([new ItemProblem("import", "catalogs", From, why)], report.Problems);
        Assert.Empty(summaries);
        Assert.False(Directory.Exists(To));
    }

    [Theory]
    [MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Missing_catalogs_are_named_and_the_present_ones_land_counted_and_copied(string kind)
    {
        Open(kind);
        WriteLoops(2);
        WriteModel("LGBModel");

        var (report, summaries) = Import();

        Assert.Equal([
            new ItemProblem("import", "factor_catalog.json", In(From, "factor_catalog.json"), Missing),
            new ItemProblem("import", "strategy_catalog.json", In(From, "strategy_catalog.json"), Missing),
        ], report.Problems);
        Assert.Equal([(CatalogKind.Model, 1L), (CatalogKind.Loop, 2L)],
            summaries.Select(s => (s.Kind, s.Inserted)).ToArray());
        Assert.Equal([.. CountsOf("models", 1), .. CountsOf("loops", 2), "catalog copies written=2"],
            Names(report.Counts));
        Assert.Empty(report.Notes);
        Assert.Equal(["loop_catalog.json", "model_catalog.json"],
            Directory.GetFiles(To).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(File.ReadAllBytes(In(From, "model_catalog.json")),
            File.ReadAllBytes(In(To, "model_catalog.json")));
        Assert.Equal(2L, Convert.ToInt64(Db.Rows("SELECT count(*) FROM aistock_loop_catalog").Single()[0]));
    }

    [Theory]
    [MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void The_same_files_again_are_noted_unchanged_and_no_copy_is_written_again(string kind)
    {
        Open(kind);
        WriteAll();
        var files = new[] { "factor_catalog.json", "model_catalog.json", "strategy_catalog.json",
            "loop_catalog.json", "factor_provenance.json" };

        var (first, _) = Import();
        Assert.Empty(first.Problems);
        Assert.Empty(first.Notes);
        Assert.Equal(5L, first.Get(Counter.Change("catalog copies written")));
        Assert.Equal(0L, first.Get(Counter.Tally("catalog copies unchanged")));
        Assert.Equal(files.Order(StringComparer.Ordinal),
            Directory.GetFiles(To).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var f in files) Assert.Equal(File.ReadAllBytes(In(From, f)), File.ReadAllBytes(In(To, f)));

        var (again, summaries) = Import();
        Assert.Empty(again.Problems);
        Assert.Equal(files[..4].Select(f => $"{f}: identical to the last import and its table untouched since; "
            + "nothing to compare"), again.Notes);
        Assert.Equal([true, true, true, true], summaries.Select(s => s.FileUnchanged));
        Assert.Equal(0L, again.Get(Counter.Change("catalog copies written")));
        Assert.Equal(5L, again.Get(Counter.Tally("catalog copies unchanged")));
    }

    [Theory]
    [MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_broken_catalog_is_refused_alone_and_says_whether_the_last_good_copy_is_kept(string kind)
    {
        Open(kind);
        WriteLoops(1);
        File.WriteAllText(In(From, "model_catalog.json"), """{ "models": [ { "model_id": """);

        var (report, summaries) = Import();
        Assert.Equal([CatalogKind.Model, CatalogKind.Loop], summaries.Select(s => s.Kind));
        var refused = summaries[0];
        Assert.Equal((0L, 0L, 0L, 0L), (refused.Inserted, refused.Updated, refused.Unchanged, refused.Skipped));
        var why = Assert.Single(refused.Failures);
        Assert.Equal(["factor_catalog.json", "strategy_catalog.json", "model_catalog.json"],
            report.Problems.Select(p => p.Item));
        Assert.Equal(new ItemProblem("import", "model_catalog.json", In(From, "model_catalog.json"), why + NotImported),
            report.Problems[2]);
        Assert.Equal(["loop_catalog.json"], Directory.GetFiles(To).Select(Path.GetFileName));

        WriteModel("LGBModel");
        var good = File.ReadAllBytes(In(From, "model_catalog.json"));
        Assert.DoesNotContain(Import().Report.Problems, p => p.Item == "model_catalog.json");
        File.WriteAllText(In(From, "model_catalog.json"), """{ "models": [ { "model_id": """);

        (report, summaries) = Import();
        why = Assert.Single(summaries[0].Failures);
        Assert.Equal(new ItemProblem("import", "model_catalog.json", In(From, "model_catalog.json"),
            why + NotImported + Kept), report.Problems[2]);
        Assert.Equal(good, File.ReadAllBytes(In(To, "model_catalog.json")));
        Assert.Equal("LGBModel", Db.Rows("SELECT model_type FROM aistock_model_catalog").Single()[0]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_record_another_source_holds_is_a_problem_naming_the_catalog_file(string kind)
    {
        Open(kind);
        WriteModel("LGBModel");
        Assert.Equal(3, Import().Report.Problems.Count); // the three other catalogs are missing
        Db.Exec("UPDATE aistock_model_catalog SET origin = 'pub'");
        WriteModel("GRU");

        var (report, summaries) = Import();

        var collision = "model m1: the same key was already imported from source 'pub'; records of different sources "
            + "never overwrite each other — rename or remove one of them at its source";
        Assert.Equal([collision], summaries.Single().Failures);
        Assert.Equal(new ItemProblem("import", "model_catalog.json", In(From, "model_catalog.json"), collision),
            report.Problems[^1]);
        Assert.Equal(4, report.Problems.Count);
        Assert.Equal("LGBModel", Db.Rows("SELECT model_type FROM aistock_model_catalog").Single()[0]);
    }

    [Theory]
    [MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Skipped_records_past_the_fiftieth_are_one_note_not_problems(string kind)
    {
        Open(kind);
        // 51 loops without a task run (skipped) and one good loop.
        Write("loop_catalog.json", "loops", [.. Enumerable.Range(0, 51)
                .Select(i => new JsonObject { ["loop_id"] = i, ["status"] = "success" }),
            new JsonObject { ["task_run_id"] = "tr1", ["loop_id"] = 0, ["status"] = "success" }]);

        var (report, _) = Import();

        Assert.Equal(["… further skipped records are counted, not listed"], report.Notes);
        var loops = report.Problems.Where(p => p.Item == "loop_catalog.json").ToList();
        Assert.Equal(50, loops.Count);
        Assert.Equal("loop record #50 (∅/49) skipped: record has no task_run_id", loops[^1].Message);
        Assert.Equal([.. CountsOf("loops", 1, skipped: 51), "catalog copies written=1"], Names(report.Counts));
    }

    [Fact]
    public void A_summary_s_total_adds_every_count_and_the_failures()
    {
        var summary = new ImportSummary(CatalogKind.Model, 1, 2, 4, 8, [],
            Enumerable.Range(0, 16).Select(i => $"f{i}").ToArray());
        Assert.Equal(31L, summary.Total);
    }
}
