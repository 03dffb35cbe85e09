using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RdBridge.Catalogs;
using RdBridge.Server;
using RdBridge.Store;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.Catalogs;

/// <summary>
/// Issue 23: a catalog field is added in one place, its record type, and reaches the catalog file, the store's
/// payload, the API and <c>show</c> with nothing else changed. The fields here are read off the record types by
/// reflection and named the way System.Text.Json's snake_case policy names a property (or as its attribute names it),
/// not through RdBridge's context; each is then looked for in what a user reads: the file, the payload column (SQL),
/// the API over HTTP and <c>show --json</c>. A property added tomorrow is in this list by itself, so a place that
/// picked fields by name and forgot the new one fails here.
/// </summary>
public class CatalogFieldReachTests
{
    /// <summary>The fields a record type declares, each with whether it is written even when empty.</summary>
    private static List<(string Name, bool Always)> Declared(Type type) =>
    [
        .. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonExtensionDataAttribute>() is null
                && p.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always }
                // Not in the file: the publisher a served record came from.
                && p.Name != nameof(CatalogRecord.Origin))
            .Select(p => (p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
                    ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name),
                p.GetCustomAttribute<JsonIgnoreAttribute>() is null)),
    ];

    private static readonly (CatalogKind Kind, Type Type, string Table, string Route)[] Kinds =
    [
        (CatalogKind.Factor, typeof(FactorRecord), "aistock_factor_catalog", "factors"),
        (CatalogKind.Model, typeof(ModelRecord), "aistock_model_catalog", "models"),
        (CatalogKind.Strategy, typeof(StrategyRecord), "aistock_strategy_catalog", "strategies"),
        (CatalogKind.Loop, typeof(LoopRecord), "aistock_loop_catalog", "loops"),
    ];

    private static HashSet<string> Keys(IEnumerable<JsonNode?> records) =>
        records.OfType<JsonObject>().SelectMany(o => o.Select(p => p.Key)).ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void Every_field_a_record_type_declares_reaches_the_file_the_payload_the_api_and_show()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, seed: 7);
        Assert.Equal(0, sample.Cli("init").Code);
        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);

        // show: every loop (its loop, model and strategy records) and every factor by its name.
        var shown = Kinds.ToDictionary(k => k.Kind, _ => new List<JsonNode?>());
        var loops = JsonNode.Parse(File.ReadAllText(CatalogPath(sample, CatalogKind.Loop)))!["loops"]!.AsArray();
        foreach (var loop in loops)
        {
            var (code, output, error) = sample.Cli("show", "loop", (string)loop!["task_run_id"]!,
                ((long)loop["loop_id"]!).ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
            Assert.True(code is 0 or 1, output + error);
            var view = JsonNode.Parse(output)!;
            shown[CatalogKind.Loop].Add(view["catalog"]);
            shown[CatalogKind.Model].Add(view["model"]);
            shown[CatalogKind.Strategy].Add(view["strategy"]);
        }
        var factors = JsonNode.Parse(File.ReadAllText(CatalogPath(sample, CatalogKind.Factor)))!["factors"]!.AsArray();
        foreach (var name in factors.Select(f => (string)f!["name"]!).Distinct())
        {
            var (code, output, error) = sample.Cli("show", "factor", name, "--json");
            Assert.True(code is 0 or 1, output + error);
            shown[CatalogKind.Factor].AddRange(JsonNode.Parse(output)!["matches"]!.AsArray());
        }

        foreach (var (kind, type, table, route) in Kinds)
        {
            var file = JsonNode.Parse(File.ReadAllText(CatalogPath(sample, kind)))![CatalogFile.ListName(kind)]!
                .AsArray();
            // Every record of the file is imported: the table holds a row for each (counted by SQL).
            Assert.Equal(file.Count, sample.Aistock.Scalar($"SELECT count(*) FROM {table}"));
            var inFile = Keys(file);
            var inPayload = Keys(sample.Aistock.Rows($"SELECT payload FROM {table}")
                .Select(r => JsonNode.Parse(r[0]!.ToString()!)));
            var inApi = Keys(JsonNode.Parse(RunningServer.Text(server.Get($"api/rdagent/{route}?page_size=500")))!
                ["items"]!.AsArray());
            var inShow = Keys(shown[kind]);
            foreach (var (name, always) in Declared(type))
            {
                if (always)
                {
                    // Presence in each record is the claim here; the values are each record's own, checked elsewhere.
                    Assert.True(file.All(r => r!.AsObject().ContainsKey(name)),
                        $"{type.Name}.{name} is not in every record of {CatalogFile.FileName(kind)}");
                }
                // A field written only when it has a value, and this sample has none: nothing to follow.
                if (!inFile.Contains(name)) continue;
                Assert.True(inPayload.Contains(name), $"{type.Name}'s {name} is not in {table}.payload");
                Assert.True(inApi.Contains(name), $"{type.Name}'s {name} is not in GET /api/rdagent/{route}");
                Assert.True(inShow.Contains(name), $"{type.Name}'s {name} is not in show --json");
            }
        }
    }

    private static string CatalogPath(Sample sample, CatalogKind kind) =>
        Path.Combine(sample.Settings.CatalogDirectory, CatalogFile.FileName(kind));

    [Fact]
    public void Every_name_of_the_fields_table_and_every_column_is_a_field_of_a_record_type()
    {
        // The record types' fields as System.Text.Json names them by reflection (not through RdBridge's context).
        var byKind = Kinds.ToDictionary(k => k.Kind, k => Declared(k.Type).Select(d => d.Name).ToHashSet());
        var all = byKind.Values.SelectMany(v => v)
            .Concat(Declared(typeof(ModelTaskRecord)).Select(d => d.Name))
            .Append(JsonNamingPolicy.SnakeCaseLower.ConvertName(nameof(CatalogRecord.Origin)))
            .ToHashSet();
        var names = typeof(CatalogFields).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (f.Name, Value: (string)f.GetValue(null)!)).ToList();
        // A guard that reflection found the table's fields (each is then checked by name); its size is no value.
        Assert.True(names.Count > 50, "the table names the fields others reach by name");
        Assert.All(names, n => Assert.True(all.Contains(n.Value), $"CatalogFields.{n.Name} is '{n.Value}', no field"));

        foreach (var table in CatalogTable.All)
        {
            foreach (var column in table.Columns.Where(c => c != CatalogTable.Origin))
            {
                var field = column.JsonField.Split('.')[0];
                Assert.True(byKind[table.Kind].Contains(field),
                    $"{table.Name}.{column.Name} comes from '{column.JsonField}', not a field of {table.Kind}");
            }
        }
    }
}
