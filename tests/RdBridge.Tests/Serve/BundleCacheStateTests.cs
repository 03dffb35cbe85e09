using System.Net;
using System.Text.Json;
using RdBridge.Server;

namespace RdBridge.Tests.Serve;

/// <summary>
/// GET /api/aistock/bundles/cache-state: where each bundle of a loops page stands in the asset cache.
/// </summary>
public class BundleCacheStateTests
{
    [Fact]
    public void Cache_state_tells_extracted_archive_only_and_missing_bundles_apart()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        var ids = sample.Aistock.Rows("SELECT asset_bundle_id FROM aistock_loop_catalog ORDER BY loop_id")
            .Select(r => (string)r[0]!).ToList();
        Assert.True(ids.Count >= 2); // a precondition on the sample: the test needs two bundles to break
        var cache = sample.Settings.AssetCacheDirectory;
        // One bundle loses its extracted copy, another its archive too.
        Directory.Delete(Path.Combine(cache, ids[0]), recursive: true);
        Directory.Delete(Path.Combine(cache, ids[1]), recursive: true);
        File.Delete(Path.Combine(cache, ids[1] + ".tar.gz"));

        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);
        var r = server.Get($"api/aistock/bundles/cache-state?ids={string.Join(',', ids)},../etc,bundle_nope");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var json = JsonDocument.Parse(RunningServer.Text(r));
        var states = json.RootElement.GetProperty("states");
        Assert.Equal("cached", states.GetProperty(ids[0]).GetString());
        Assert.Equal("missing", states.GetProperty(ids[1]).GetString());
        foreach (var id in ids.Skip(2)) Assert.Equal("extracted", states.GetProperty(id).GetString());
        Assert.Equal("missing", states.GetProperty("../etc").GetString());
        Assert.Equal("missing", states.GetProperty("bundle_nope").GetString());

        var tooMany = server.Get("api/aistock/bundles/cache-state?ids=" +
            string.Join(',', Enumerable.Range(0, 201).Select(i => $"b{i}")));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal("application/problem+json", tooMany.Content.Headers.ContentType!.MediaType);
    }
}
