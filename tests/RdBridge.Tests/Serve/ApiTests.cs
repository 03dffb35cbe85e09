using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using RdBridge.Configuration;
using RdBridge.Server;

namespace RdBridge.Tests.Serve;

/// <summary>The HTTP API as a client sees it, against real servers on loopback.</summary>
public class ApiTests
{
    private static JsonElement Json(HttpResponseMessage r)
    {
        var text = RunningServer.Text(r);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void A_kept_match_count_is_never_served_after_the_table_changed(string store)
    {
        using var sample = new Sample(taskRuns: 1, loops: 3, store: store);
        Assert.Equal(0, sample.Cli("init").Code);
        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);
        long Total(string query) =>
            Json(server.Get("api/rdagent/factors?page_size=1" + query)).GetProperty("total").GetInt64();
        var all = Total("");
        var local = Total("&origin=local");
        Assert.Equal(all, Total("")); // asked again: the kept count
        // Another program deletes a row behind RdBridge's back: the next page counts again.
        sample.Aistock.Exec(
            "DELETE FROM aistock_factor_catalog WHERE factor_id = (SELECT min(factor_id) FROM aistock_factor_catalog)");
        Assert.Equal(all - 1, Total(""));
        Assert.Equal(local - 1, Total("&origin=local"));
        Assert.Equal(sample.Aistock.Scalar("SELECT count(*) FROM aistock_factor_catalog"), Total(""));
    }

    [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
    public void Catalog_queries_filter_sort_and_page_in_the_database(string store)
    {
        using var sample = new Sample(taskRuns: 2, loops: 4, store: store);
        Assert.Equal(0, sample.Cli("init").Code);
        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);
        var all = Json(server.Get("api/rdagent/factors?page_size=500"));
        var total = all.GetProperty("total").GetInt64();
        Assert.Equal(sample.Aistock.Scalar("SELECT count(*) FROM aistock_factor_catalog"), total);

        // Sorted by IC, descending, in pages of 5 that neither overlap nor skip.
        var seen = new List<string>();
        var ics = new List<double>();
        for (var page = 1; ; page++)
        {
            var r = Json(server.Get($"api/rdagent/factors?sort=ic&order=desc&page={page}&page_size=5"));
            var items = r.GetProperty("items").EnumerateArray().ToList();
            if (items.Count == 0) break;
            foreach (var f in items)
            {
                seen.Add(f.GetProperty("factor_id").GetString()!);
                if (f.GetProperty("performance_metrics") is { ValueKind: JsonValueKind.Object } pm
                    && pm.TryGetProperty("ic", out var ic) && ic.ValueKind == JsonValueKind.Number)
                {
                    ics.Add(ic.GetDouble());
                }
            }
        }
        // Every IC the database holds, highest first, across the pages.
        Assert.Equal(sample.Aistock.Rows("SELECT ic FROM aistock_factor_catalog WHERE ic IS NOT NULL")
            .Select(r => Convert.ToDouble(r[0], System.Globalization.CultureInfo.InvariantCulture)).OrderDescending(),
            ics);
        Assert.Equal(total, seen.Count);
        Assert.Equal(total, seen.Distinct().Count());

        // Filters: by task run, by IC range, by name.
        var tr = (string)sample.Aistock.Rows("SELECT task_run_id FROM aistock_loop_catalog ORDER BY 1 LIMIT 1")[0][0]!;
        var loopsOfRun = Json(server.Get($"api/rdagent/loops?task_run_id={tr}&sort=loop_id&order=asc"));
        Assert.Equal(sample.Aistock.Scalar($"SELECT count(*) FROM aistock_loop_catalog WHERE task_run_id = '{tr}'"),
            loopsOfRun.GetProperty("total").GetInt64());
        var ids = loopsOfRun.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("loop_id").GetInt64())
            .ToList();
        Assert.Equal(ids.Order(), ids);
        var ranged = Json(server.Get("api/rdagent/factors?min_ic=0.02&max_ic=0.06&page_size=500"));
        Assert.Equal(
            sample.Aistock.Scalar("SELECT count(*) FROM aistock_factor_catalog WHERE ic >= 0.02 AND ic <= 0.06"),
            ranged.GetProperty("total").GetInt64());
        var search = Json(server.Get("api/rdagent/factors?q=cord&page_size=500"));
        // Exactly the factors of the imported catalog file whose searched texts hold "cord", in any case.
        using var exported = JsonDocument.Parse(
            File.ReadAllBytes(Path.Combine(sample.Settings.CatalogDirectory, "factor_catalog.json")));
        var holdingCord = exported.RootElement.GetProperty("factors").EnumerateArray()
            .Where(f => new[] { "name", "expression", "description_cn", "formula_hint" }
                .Any(k => f.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String
                    && v.GetString()!.Contains("cord", StringComparison.OrdinalIgnoreCase)))
            .Select(f => f.GetProperty("factor_id").GetString()!).Order().ToList();
        Assert.Equal(holdingCord, search.GetProperty("items").EnumerateArray()
            .Select(f => f.GetProperty("factor_id").GetString()!).Order());
        Assert.Equal(holdingCord.Count, search.GetProperty("total").GetInt64());

        // Bad parameters are problem details naming the parameter.
        var bad = server.Get("api/rdagent/factors?sort=payload;drop");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType!.MediaType);
        Assert.Equal("sort: factors can be sorted by loop_id, occurrences, ic, icir, rank_ic, rank_icir, "
            + "annualized_return, information_ratio, max_drawdown, name, source, task_run_id, updated_at",
            Json(bad).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, server.Get("api/rdagent/factors?min_payload=1").StatusCode);
    }

    [Fact]
    public void A_loop_shows_its_lineage_bundle_files_and_every_file_downloads()
    {
        using var sample = new Sample(taskRuns: 1, loops: 3);
        Assert.Equal(0, sample.Cli("init").Code);
        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);
        var row = sample.Aistock.Rows("SELECT task_run_id, loop_id FROM aistock_loop_catalog ORDER BY 1, 2")[0];
        var linkage = Json(server.Get($"api/rdagent/loops/{row[0]}/{row[1]}"));
        Assert.True(linkage.GetProperty("verified").GetBoolean(), linkage.GetProperty("links").ToString());
        var bundle = linkage.GetProperty("bundle");
        Assert.Equal($"bundle_{row[0]}_{row[1]}", bundle.GetProperty("asset_bundle_id").GetString());
        var files = bundle.GetProperty("manifest").GetProperty("files").EnumerateArray().ToList();
        // Exactly the regular files the bundle archive holds besides its manifest, listed by Python's tarfile.
        var archive = sample.Settings.Bundles.Archive(bundle.GetProperty("asset_bundle_id").GetString()!);
        var psi = new System.Diagnostics.ProcessStartInfo("python3", ["-c",
            "import sys, tarfile; print('\\n'.join(m.name for m in tarfile.open(sys.argv[1]) if m.isfile()))", archive])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["PYTHONIOENCODING"] = "utf-8";
        using (var python = System.Diagnostics.Process.Start(psi)!)
        {
            var listing = python.StandardOutput.ReadToEnd();
            var errors = python.StandardError.ReadToEnd();
            python.WaitForExit();
            Assert.True(python.ExitCode == 0, errors);
            Assert.Equal(listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(n => n != "manifest.json")
                .Order(StringComparer.Ordinal), files.Select(f => f.GetProperty("path").GetString()!)
                .Order(StringComparer.Ordinal));
        }
        foreach (var f in files.Take(5))
        {
            var r = server.Get($"api/aistock/bundles/{bundle.GetProperty("asset_bundle_id").GetString()}/files/" +
                $"{f.GetProperty("path").GetString()}");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(f.GetProperty("sha256").GetString(),
                Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(RunningServer.Bytes(r))));
        }
        Assert.Equal(HttpStatusCode.NotFound, server.Get("api/rdagent/loops/nope/0").StatusCode);
    }

    [Fact]
    public void Loop_routes_take_a_task_run_id_by_its_unique_start_and_name_the_ids_an_ambiguous_start_fits()
    {
        // 17 task runs with hexadecimal ids: at least two share their first character.
        using var sample = new Sample(taskRuns: 17, loops: 1);
        Assert.Equal(0, sample.Cli("init").Code);
        using var server = new RunningServer(sample.Settings, ServeRole.Consumer);
        // The ids as AIstock holds them, read with SQL, and the shortest start of each that no other id shares.
        var rows = sample.Aistock.Rows(
            "SELECT task_run_id, min(loop_id), max(asset_bundle_id) FROM aistock_loop_catalog GROUP BY 1 ORDER BY 1");
        var ids = rows.Select(r => (string)r[0]!).ToList();
        Assert.Equal(17, ids.Count);
        string Unique(string id) => id[..Enumerable.Range(1, id.Length)
            .First(k => ids.Count(other => other.StartsWith(id[..k], StringComparison.Ordinal)) == 1)];
        foreach (var r in rows)
        {
            var (id, loopId) = ((string)r[0]!, Convert.ToInt64(r[1]));
            var lineage = Json(server.Get($"api/rdagent/loops/{Unique(id)}/{loopId}"));
            Assert.Equal(id, lineage.GetProperty("loop").GetProperty("task_run_id").GetString());
        }
        var bundled = rows.First(r => r[2] is string);
        var (bid, bloop) = ((string)bundled[0]!, Convert.ToInt64(bundled[1]));
        var compare = server.Get($"api/rdagent/compare?a={Unique(bid)}:{bloop}&b={bid}:{bloop}");
        Assert.Equal(HttpStatusCode.OK, compare.StatusCode);

        // The longest start two ids share fits both: refused with a 400 that names them.
        var pairs = ids.Zip(ids.Skip(1)).Select(p => (p.First, p.Second,
            Common: new string(p.First.TakeWhile((c, i) => i < p.Second.Length && p.Second[i] == c).ToArray())));
        var shared = pairs.MaxBy(p => p.Common.Length);
        Assert.NotEmpty(shared.Common); // a precondition on the sample: some two ids share a start to be ambiguous
        var ambiguous = server.Get($"api/rdagent/loops/{shared.Common}/0");
        Assert.Equal(HttpStatusCode.BadRequest, ambiguous.StatusCode);
        var detail = Json(ambiguous).GetProperty("detail").GetString()!;
        Assert.Contains(shared.First, detail);
        Assert.Contains(shared.Second, detail);
        Assert.Equal(HttpStatusCode.NotFound, server.Get($"api/rdagent/loops/{ids[0]}0/0").StatusCode);
    }

    [Fact]
    public void Bundle_downloads_carry_the_digest_as_etag_and_honour_if_none_match_and_range()
    {
        using var m = new TwoMachines(taskRuns: 1, loops: 2);
        var archive = Directory.EnumerateFiles(m.Publisher.Settings.BundleDirectory, "*.tar.gz").Order().First();
        var id = Path.GetFileName(archive)[..^".tar.gz".Length];
        var bytes = File.ReadAllBytes(archive);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        var c = m.PublisherServer.Client;
        var whole = m.PublisherServer.Get($"api/rdagent/bundles/{id}");
        Assert.Equal($"\"{sha}\"", whole.Headers.ETag!.Tag);
        Assert.False(whole.Headers.ETag.IsWeak);
        Assert.Equal(bytes, RunningServer.Bytes(whole));

        var again = new HttpRequestMessage(HttpMethod.Get, $"api/rdagent/bundles/{id}");
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sha}\""));
        Assert.Equal(HttpStatusCode.NotModified, c.Send(again).StatusCode);

        var tail = new HttpRequestMessage(HttpMethod.Get, $"api/rdagent/bundles/{id}");
        tail.Headers.Range = new RangeHeaderValue(100, null);
        var part = c.Send(tail);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(bytes[100..], RunningServer.Bytes(part));

        Assert.Equal($"bytes 100-{bytes.Length - 1}/{bytes.Length}", part.Content.Headers.ContentRange!.ToString());

        // The last 10 bytes; a range past the end; a stale If-Range gets the whole (new) file.
        var last = new HttpRequestMessage(HttpMethod.Get, $"api/rdagent/bundles/{id}");
        last.Headers.Range = new RangeHeaderValue(null, 10);
        Assert.Equal(bytes[^10..], RunningServer.Bytes(c.Send(last)));
        var past = new HttpRequestMessage(HttpMethod.Get, $"api/rdagent/bundles/{id}");
        past.Headers.Range = new RangeHeaderValue(bytes.Length + 5, null);
        var unsatisfiable = c.Send(past);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
        Assert.Equal($"bytes */{bytes.Length}", unsatisfiable.Content.Headers.ContentRange!.ToString());
        var stale = new HttpRequestMessage(HttpMethod.Get, $"api/rdagent/bundles/{id}");
        stale.Headers.Range = new RangeHeaderValue(100, null);
        stale.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"0000\""));
        var full = c.Send(stale);
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(bytes, RunningServer.Bytes(full));

        var listing = Json(m.PublisherServer.Get($"api/rdagent/bundles/{id}/files"));
        Assert.Equal(id, listing.GetProperty("asset_bundle_id").GetString());
    }

    [Theory]
    [InlineData("api/rdagent/bundles/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("api/rdagent/bundles/%2e%2e%2f%2e%2e%2fetc%2fpasswd")]
    [InlineData("api/rdagent/bundles/..%252F..%252Fetc%252Fpasswd")]
    [InlineData("api/rdagent/bundles/%2e%2e")]
    [InlineData("api/rdagent/bundles/..%5C..%5Cetc%5Cpasswd")]
    [InlineData("api/rdagent/catalogs/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("api/aistock/bundles/..%2F..%2Fetc%2Fpasswd/files")]
    [InlineData("api/aistock/bundles/BUNDLE/files/..%2F..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("api/aistock/bundles/BUNDLE/files/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("api/aistock/bundles/BUNDLE/files/manifest.json/../../../../../etc/passwd")]
    [InlineData("rdagent/assets/..%2F..%2F..%2Fetc%2Fpasswd")]
    public void No_path_reaches_a_file_outside_its_root(string path)
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        Assert.Equal(0, sample.Cli("init").Code);
        using var server = new RunningServer(sample.Settings, ServeRole.Both);
        var bundle = (string)sample.Aistock.Rows("SELECT asset_bundle_id FROM aistock_loop_catalog LIMIT 1")[0][0]!;
        // Sent as written: no client-side normalisation of dots or escapes.
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Url, path.Replace("BUNDLE", bundle)));
        var response = server.Client.Send(request);
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound
            || response.Content.Headers.ContentType?.MediaType == "text/html",
            $"{path}: {(int)response.StatusCode}");
        Assert.DoesNotContain("root:", RunningServer.Text(response));
    }

    [Fact]
    public void State_changing_requests_need_the_token_and_an_open_bind_needs_one_configured()
    {
        using var sample = new Sample(taskRuns: 1, loops: 2);
        var open = sample.Settings with { ServerToken = null };
        var refused = Assert.Throws<ConfigurationException>(() =>
            RdBridgeServer.Build(open, ServeRole.Consumer, ["http://0.0.0.0:0"]));
        Assert.Equal("serve is asked to listen on http://0.0.0.0:0, beyond this machine, but no token is configured; "
            + "set server.token in rdbridge.json (or RDBRIDGE_SERVER__TOKEN), or listen on http://127.0.0.1:PORT",
            refused.Message);

        using var server = new RunningServer(
            sample.Settings with { ServerToken = "s3cret-token" }, ServeRole.Consumer, host: "0.0.0.0");
        var anonymous = server.Post("api/rdagent/catalog/sync");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType!.MediaType);
        var wrong = new HttpRequestMessage(HttpMethod.Post, "api/rdagent/catalog/sync");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-tokeX");
        Assert.Equal(HttpStatusCode.Unauthorized, server.Client.Send(wrong).StatusCode);
        var right = new HttpRequestMessage(HttpMethod.Post, "api/rdagent/catalog/sync?mode=full");
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token");
        var accepted = server.Client.Send(right);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = Json(accepted).GetProperty("id").GetInt64();
        var status = WaitForSync(server.Client, id);
        Assert.Equal("succeeded", status.GetProperty("status").GetString());
        Assert.Equal(1.0, status.GetProperty("progress").GetDouble());
        // Reading stays open.
        Assert.Equal(HttpStatusCode.OK, server.Get("api/rdagent/loops").StatusCode);
    }

    internal static JsonElement WaitForSync(HttpClient client, long id) =>
        NextSyncEvent(client, s => s.TryGetProperty("id", out var sid) && sid.GetInt64() == id
            && s.GetProperty("status").GetString() != "running");

    /// <summary>
    /// The first state of the last sync run that matches, as the server's live events tell it (the stream the web
    /// UI listens to: the current state at once, then each change).
    /// </summary>
    internal static JsonElement NextSyncEvent(HttpClient client, Func<JsonElement, bool> match)
    {
        using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, "api/rdagent/live/events"),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var seen = new List<string>();
        var reading = Task.Run(() =>
        {
            using var reader = new StreamReader(response.Content.ReadAsStream());
            var name = "";
            while (reader.ReadLine() is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
                if (name != "sync" || !line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                seen.Add(line);
                var state = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                if (match(state)) return state;
            }
            return (JsonElement?)null;
        });
        // The wait is on the event; the two minutes only turn a hung run into a failure instead of a hung test.
        var arrived = reading.Wait(TimeSpan.FromMinutes(2));
        response.Dispose();
        Assert.True(arrived && reading.Result is not null,
            "the sync never reached the awaited state; its events: " + string.Join(" | ", seen));
        return reading.Result!.Value;
    }

    [Fact]
    public void Two_concurrent_sync_requests_never_run_two_syncs()
    {
        // The consumer's only source accepts connections and never answers, so the first sync stays busy.
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var held = new System.Collections.Concurrent.ConcurrentBag<Socket>();
        var accepting = Task.Run(() =>
        {
            try { while (true) held.Add(silent.AcceptSocket()); }
            // Stopping the listener is how this loop ends: AcceptSocket then throws one of these.
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        });
        using var dir = new TempDir();
        File.WriteAllText(dir["rdbridge.json"], """{ "aistock": { "root": "AIstock" }, "sources": [ """ +
            $$"""{ "name": "slow", "url": "http://127.0.0.1:{{port}}/" } ] }""");
        var settings = SettingsLoader.Load(dir["rdbridge.json"]);
        using (var store = RdBridge.Store.AistockStores.Open(settings)) { }
        try
        {
            using var server = new RunningServer(settings, ServeRole.Consumer);
            var responses = new HttpResponseMessage[2];
            Parallel.For(0, 2, i => responses[i] = server.Post("api/rdagent/catalog/sync"));
            Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Conflict],
                responses.Select(r => r.StatusCode).Order());
            var conflict = responses.Single(r => r.StatusCode == HttpStatusCode.Conflict);
            Assert.Equal("a sync is already running", Json(conflict).GetProperty("title").GetString());
            // The run reaches its source a moment after the 202: wait for the event of that stage (or of an end,
            // which fails the test below).
            var running = NextSyncEvent(server.Client, r => r.GetProperty("status").GetString() != "running"
                || (r.GetProperty("stage").GetString() ?? "").StartsWith("pull slow", StringComparison.Ordinal));
            Assert.Equal("running", running.GetProperty("status").GetString());
            Assert.StartsWith("pull slow", running.GetProperty("stage").GetString());
            Assert.Equal(1, Json(server.Get("api/rdagent/sync-runs")).GetProperty("runs").GetArrayLength());
            // Let the source drop its connections: the run ends (failed, the source is down) and a new one may start.
            silent.Stop();
            foreach (var s in held.ToArray()) s.Close();
            var id = running.GetProperty("id").GetInt64();
            Assert.Equal("failed", WaitForSync(server.Client, id).GetProperty("status").GetString());
        }
        finally
        {
            silent.Stop();
            foreach (var s in held.ToArray()) s.Dispose();
        }
    }
}
