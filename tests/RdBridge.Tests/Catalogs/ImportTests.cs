using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Catalogs;

public class ImportTests
{
    private static string ForkCatalogs => Paths.Fixture("rdagent-aistock-fork/tmp");

    [Fact]
    public void Catalogs_written_by_the_python_tools_stream_without_loss()
    {
        Assert.Equal(28, CatalogReader.ReadRecords(Path.Combine(ForkCatalogs, "factor_catalog.json"), CatalogKind.Factor).Count());
        Assert.Equal(30, CatalogReader.ReadRecords(Path.Combine(ForkCatalogs, "loop_catalog.json"), CatalogKind.Loop).Count());
        Assert.Equal(2, CatalogReader.ReadRecords(Path.Combine(ForkCatalogs, "strategy_catalog.json"), CatalogKind.Strategy).Count());
    }

    [Fact]
    public void A_truncated_catalog_is_an_error_naming_the_file()
    {
        using var dir = new TempDir();
        var text = File.ReadAllText(Path.Combine(ForkCatalogs, "factor_catalog.json"));
        File.WriteAllText(dir["factor_catalog.json"], text[..(text.Length / 2)]);
        var e = Assert.Throws<FormatException>(() => CatalogReader.ReadRecords(dir["factor_catalog.json"], CatalogKind.Factor).ToList());
        Assert.Contains("factor_catalog.json", e.Message);
    }

    [Fact]
    public void Import_twice_reports_everything_unchanged_and_keeps_one_row_per_loop()
    {
        using var dir = new TempDir();
        using var store = new SqliteAistockStore(dir["aistock.db"]);
        Assert.Equal([1], store.Migrate());
        Assert.Empty(store.Migrate());
        ImportSummary Once()
        {
            using var session = store.BeginImport();
            var s = session.Import(CatalogKind.Loop, CatalogReader.ReadRecords(Path.Combine(ForkCatalogs, "loop_catalog.json"), CatalogKind.Loop));
            session.Commit();
            return s;
        }
        var first = Once();
        var distinctLoops = store.Query("SELECT count(*) FROM aistock_loop_catalog")[0][0];
        Assert.Equal(first.Inserted, (long)distinctLoops!);
        Assert.True(first.Skipped > 0); // the Python export lists a loop once per workspace
        Assert.All(first.SkipReasons, r => Assert.Contains("more than once", r));
        var second = Once();
        Assert.Equal(0, second.Inserted);
        Assert.Equal(0, second.Updated);
        Assert.Equal(first.Inserted, second.Unchanged);
    }

    [Fact]
    public void Sideways_qlib_res_metrics_of_the_python_loop_catalog_are_read_by_metric_name()
    {
        using var dir = new TempDir();
        using var store = new SqliteAistockStore(dir["aistock.db"]);
        store.Migrate();
        using (var session = store.BeginImport())
        {
            session.Import(CatalogKind.Loop, CatalogReader.ReadRecords(Path.Combine(ForkCatalogs, "loop_catalog.json"), CatalogKind.Loop));
            session.Commit();
        }
        var metrics = (string)store.Query("SELECT metrics FROM aistock_loop_catalog WHERE task_run_id = '95fde9f8cec7490580a12a992457dfd7' AND loop_id = 0")[0][0]!;
        using var doc = System.Text.Json.JsonDocument.Parse(metrics);
        Assert.Equal(0.9220809085731948, doc.RootElement.GetProperty("annualized_return_without_cost").GetDouble());
        Assert.False(doc.RootElement.TryGetProperty("Unnamed: 0", out _));
    }

    [Fact]
    public void Python_factor_catalog_gets_stable_factor_ids()
    {
        using var dir = new TempDir();
        using var store = new SqliteAistockStore(dir["aistock.db"]);
        store.Migrate();
        using (var session = store.BeginImport())
        {
            var s = session.Import(CatalogKind.Factor, CatalogReader.ReadRecords(Path.Combine(ForkCatalogs, "factor_catalog.json"), CatalogKind.Factor));
            Assert.Equal(28, s.Inserted);
            session.Commit();
        }
        var names = store.Query("SELECT name, source FROM aistock_factor_catalog WHERE name = 'CORD10'");
        Assert.Single(names);
        Assert.Equal("qlib_alpha158", names[0][1]);
    }
}
