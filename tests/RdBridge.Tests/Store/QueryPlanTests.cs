using System.Diagnostics;
using System.Text.Json;
using RdBridge.Server;
using RdBridge.Tests.Serve;

namespace RdBridge.Tests.Store;

/// <summary>
/// A metric range sorted by another metric is read either by walking the sort's index or by sorting the range's
/// matches, whichever reads less (decided per page from the match count); both plans must give the same pages. The
/// expected pages are computed here from the catalog file itself.
/// </summary>
public class QueryPlanTests
{
    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Every_page_of_a_range_sorted_by_another_metric_is_the_same_whichever_plan_reads_it(string store)
    {
        using var sample = new Sample(taskRuns: 1, loops: 2, store: store);
        var catalogs = sample.Dir["catalogs"];
        // 400 factors over 20 loops, metrics drawn uniformly (bench/gen_catalogs.py, the benchmarks' generator).
        using (var gen = Process.Start(new ProcessStartInfo("python3",
            [Path.Combine(Paths.RepoRoot, "bench", "gen_catalogs.py"), catalogs, "400", "20"]))!)
        {
            gen.WaitForExit();
            Assert.Equal(0, gen.ExitCode);
        }
        var (code, output, err) = sample.Cli("import", "--catalogs", catalogs);
        Assert.True(code == 0, output + err);

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(catalogs, "factor_catalog.json")));
        var factors = doc.RootElement.GetProperty("factors").EnumerateArray().Select(f => (
            Id: f.GetProperty("factor_id").GetString()!,
            Ic: f.GetProperty("performance_metrics").GetProperty("ic").GetDouble(),
            Ar: f.GetProperty("performance_metrics").GetProperty("annualized_return").GetDouble())).ToList();

        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);
        const int size = 20;
        // ic ≥ 0 keeps about 80% of the rows: the first pages walk the annualized-return index, later ones sort.
        var matching = factors.Where(f => f.Ic >= 0).ToList();
        var byReturn = matching.OrderByDescending(f => f.Ar).ThenByDescending(f => f.Id, StringComparer.Ordinal)
            .Select(f => f.Id).ToList();
        var byIcAsc = matching.OrderBy(f => f.Ic).ThenBy(f => f.Id, StringComparer.Ordinal).Select(f => f.Id).ToList();
        for (var page = 1; page <= (matching.Count + size - 1) / size; page++)
        {
            Assert.Equal(byReturn.Skip((page - 1) * size).Take(size),
                Ids(server, $"min_ic=0&sort=annualized_return&order=desc&page={page}&page_size={size}"));
            // The range on the sort column itself: its index seeks and reads in order.
            Assert.Equal(byIcAsc.Skip((page - 1) * size).Take(size),
                Ids(server, $"min_ic=0&sort=ic&order=asc&page={page}&page_size={size}"));
        }
        // A narrow range (few matches) is sorted, whatever the page.
        var narrow = factors.Where(f => f.Ic is >= 0.03 and <= 0.035)
            .OrderByDescending(f => f.Ar).ThenByDescending(f => f.Id, StringComparer.Ordinal).Select(f => f.Id);
        Assert.Equal(narrow.Take(size),
            Ids(server, $"min_ic=0.03&max_ic=0.035&sort=annualized_return&page_size={size}"));
    }

    private static List<string> Ids(RunningServer server, string query)
    {
        using var doc = JsonDocument.Parse(RunningServer.Text(server.Get("api/rdagent/factors?" + query)));
        return [.. doc.RootElement.GetProperty("items").EnumerateArray()
            .Select(i => i.GetProperty("factor_id").GetString()!)];
    }
}
