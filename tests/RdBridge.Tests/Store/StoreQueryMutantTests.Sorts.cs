using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

/// <summary>
/// Sorts the first <c>StoreQuery</c> survivors list showed untested (2026-12-07): by import time, by a metric whose
/// text order is not its numeric order under another filter (PostgreSQL's order expression), and the task-run index
/// over loops imported out of order. Expected orders come from the records and times written here.
/// </summary>
public partial class StoreQueryMutantTests
{
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Every_kind_can_be_sorted_by_import_time_with_ties_broken_by_its_key(string kind)
    {
        var (dir, db, store) = LoopStore(kind);
        using var _ = dir;
        using var __ = db;
        using var ___ = store;
        // Import times set by hand: loops 2 of A and 1 of B share one, the rest differ and run against the key.
        string Stamp(Loop l) => l.Key switch
        {
            $"{A}/2" or $"{B}/1" => "2026-12-01T08:00:00.000Z",
            _ => $"2026-12-0{2 + Array.IndexOf(Loops, l) % 7}T0{Array.IndexOf(Loops, l)}:00:00.000Z",
        };
        foreach (var l in Loops)
        {
            db.Exec($"UPDATE aistock_loop_catalog SET updated_at = '{Stamp(l)}' " +
                $"WHERE task_run_id = '{l.Run}' AND loop_id = {l.Id}");
        }
        List<string> Expected(IEnumerable<Loop> loops, bool descending)
        {
            var ordered = loops.OrderBy(Stamp, StringComparer.Ordinal).ThenBy(l => l.Run, StringComparer.Ordinal)
                .ThenBy(l => l.Id).Select(l => l.Key).ToList();
            if (descending) ordered.Reverse();
            return ordered;
        }
        foreach (var descending in new[] { true, false })
        {
            Assert.Equal(Expected(Loops, descending),
                Found(store, new(CatalogKind.Loop, Sort: "updated_at", Descending: descending)));
            // Under a filter on another column the sort is read from the matches (PostgreSQL's order expression).
            Assert.Equal(Expected(Loops.Where(l => l.Status == "success"), descending),
                Found(store, new(CatalogKind.Loop, Sort: "updated_at", Descending: descending) { Status = "success" }));
        }

        // Factors and models: ids written in one order, import times set in the other.
        var factors = WriteCatalog(dir, "f/factor_catalog.json", "factors", Enumerable.Range(1, 3).Select(i =>
            (JsonNode)new JsonObject
            {
                ["factor_id"] = $"factor_{i}", ["name"] = $"F{i}", ["source"] = "rdagent_generated",
                ["task_run_id"] = A, ["loop_id"] = i,
            }));
        Assert.Equal(3, StoreTests.Import(store, CatalogKind.Factor, factors).Inserted);
        var models = WriteCatalog(dir, "m/model_catalog.json", "models", Enumerable.Range(1, 3).Select(i =>
            (JsonNode)new JsonObject
            {
                ["model_id"] = $"model_{i}", ["task_run_id"] = A, ["loop_id"] = i, ["model_type"] = "LGBModel",
            }));
        Assert.Equal(3, StoreTests.Import(store, CatalogKind.Model, models).Inserted);
        for (var i = 1; i <= 3; i++)
        {
            db.Exec($"UPDATE aistock_factor_catalog SET updated_at = '2026-12-0{4 - i}T00:00:00.000Z' " +
                $"WHERE factor_id = 'factor_{i}'");
            db.Exec($"UPDATE aistock_model_catalog SET updated_at = '2026-12-0{4 - i}T00:00:00.000Z' " +
                $"WHERE model_id = 'model_{i}'");
        }
        List<string> Ids(CatalogKind k, string idField) => [.. CatalogQuery.Run(store,
                new(k, Sort: "updated_at", Descending: false)).Items
            .Select(i => (string)JsonNode.Parse(i.Payload)![idField]!)];
        Assert.Equal(["factor_3", "factor_2", "factor_1"], Ids(CatalogKind.Factor, "factor_id"));
        Assert.Equal(["model_3", "model_2", "model_1"], Ids(CatalogKind.Model, "model_id"));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_metric_sorted_under_a_filter_on_another_column_is_ordered_by_value_not_by_its_text(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate();
        // As text "-0.04" < "-0.5" < "0.3" < "10"; as numbers -0.5 < -0.04 < 0.3 < 10.
        Loop[] loops =
        [
            new(A, 1, "success", true, "2025-07-01T10:00:00Z", 0.01, 10),
            new(A, 2, "success", true, "2025-07-01T11:00:00Z", 0.02, -0.5),
            new(A, 3, "failed", false, "2025-07-01T12:00:00Z", 0.03, 0.05),
            new(A, 4, "success", true, "2025-07-01T13:00:00Z", 0.04, 0.3),
            new(A, 5, "success", null, "2025-07-01T14:00:00Z", 0.05, -0.04),
            new(A, 6, "success", null, "2025-07-01T15:00:00Z", 0.06, null),
        ];
        var path = WriteCatalog(dir, "loop_catalog.json", "loops", loops.Select(Record));
        Assert.Equal(loops.Length, StoreTests.Import(store, CatalogKind.Loop, path).Inserted);
        Assert.Equal([$"{A}/1", $"{A}/4", $"{A}/5", $"{A}/2", $"{A}/6"],
            Found(store, new(CatalogKind.Loop, Sort: "annualized_return") { Status = "success" }));
        Assert.Equal([$"{A}/6", $"{A}/2", $"{A}/5", $"{A}/4", $"{A}/1"],
            Found(store, new(CatalogKind.Loop, Sort: "annualized_return", Descending: false) { Status = "success" }));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void The_task_run_index_is_in_run_and_loop_order_whatever_order_the_loops_were_imported_in(string kind)
    {
        using var dir = new TempDir();
        using var db = TestStore.Create(kind, dir);
        using var store = db.Open();
        store.Migrate();
        var reversed = Loops.Where(l => l.Origin is null).Reverse().ToList();
        var path = WriteCatalog(dir, "loop_catalog.json", "loops", reversed.Select(Record));
        Assert.Equal(reversed.Count, StoreTests.Import(store, CatalogKind.Loop, path).Inserted);
        Assert.Equal(ByRun(reversed, descending: false),
            store.LoopSummaries(null).Select(s => $"{s.TaskRunId}/{s.LoopId}"));
    }
}
