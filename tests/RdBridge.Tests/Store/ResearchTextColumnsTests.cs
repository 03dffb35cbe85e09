using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// The columns of RD-Agent's texts (schema version <see cref="CatalogTable.ResearchTextsVersion"/>) on the fork's real
/// factor catalog, whose generated factors carry a LaTeX <c>formula_hint</c>: a database that imported it before the
/// version has the column filled from the rows it holds, and a user finds a factor by a piece of its formulation.
/// Expected values are read from the catalog file itself.
/// </summary>
public class ResearchTextColumnsTests
{
    private static string Fork(string name) => Path.Combine(Paths.Fixture("rdagent-aistock-fork/tmp"), name);

    /// <summary>Each generated factor's name and formulation as the fork's file has them.</summary>
    private static List<(string Name, string Formula)> Formulas() =>
        JsonNode.Parse(File.ReadAllText(Fork("factor_catalog.json")))!["factors"]!.AsArray()
            .Select(f => ((string)f!["name"]!, (string?)f["formula_hint"]))
            .Where(f => !string.IsNullOrEmpty(f.Item2))
            .Select(f => (f.Item1, f.Item2!)).OrderBy(f => f.Item1, StringComparer.Ordinal).ToList();

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    [RealData]
    public void Rows_imported_before_the_version_get_formula_hint_and_a_search_finds_a_factor_by_its_formulation(
        string kind)
    {
        var expected = Formulas();
        Assert.NotEmpty(expected); // a precondition on the real catalog: the equalities below are not of empty sets
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate(upTo: CatalogTable.ResearchTextsVersion - 1);
        // Every factor of the file is a row of its own (28 names, 28 expressions, counted with python3).
        var factors = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fork("factor_catalog.json")))!
            ["factors"]!.AsArray().Count;
        Assert.Equal(factors, StoreTests.Import(store, CatalogKind.Factor, Fork("factor_catalog.json")).Inserted);
        store.Migrate();

        var stored = db.Rows("SELECT name, formula_hint FROM aistock_factor_catalog WHERE formula_hint IS NOT NULL")
            .Select(r => ((string)r[0]!, (string)r[1]!)).OrderBy(r => r.Item1, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, stored);

        // A piece of one formulation (the part after its "=") finds that factor and no other.
        var (name, formula) = expected[0];
        var piece = formula[(formula.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim()[..12];
        var page = CatalogQuery.Run(store, new CatalogPageRequest(CatalogKind.Factor, Search: piece));
        var found = page.Items.Select(i => (string)JsonNode.Parse(i.Payload)!["name"]!).ToList();
        // The file's factors holding the piece in a searched text (name, expression, description, formulation): the
        // one it was taken from alone, and that is the page.
        var holders = JsonNode.Parse(File.ReadAllText(Fork("factor_catalog.json")))!["factors"]!.AsArray()
            .Where(f => new[] { "name", "expression", "description_cn", "formula_hint" }
                .Any(c => ((string?)f![c])?.Contains(piece, StringComparison.OrdinalIgnoreCase) == true))
            .Select(f => (string)f!["name"]!).ToList();
        Assert.Equal([name], holders);
        Assert.Equal([name], found);
    }
}
