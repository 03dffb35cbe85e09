namespace RdBridge.Tests.Ui;

/// <summary>
/// The UI's view logic (assets/view.js) run where it runs for users: imported into a page in Chromium, each exported
/// function called with records as the API returns them.
/// </summary>
[Collection("browser")]
public class ViewLogicTests(Chromium chromium, ServedSample served)
    : IClassFixture<ServedSample>
{
    private async Task<UiPage> Open()
    {
        var ui = await chromium.OpenAsync(served.Server.Url);
        await ui.Page.GotoAsync("/rdagent/verify");
        return ui;
    }

    [Fact]
    public async Task Routes_map_every_path_under_rdagent_to_its_page()
    {
        await using var ui = await Open();
        var r = await ui.ViewAsync("""
            return [
              v.route('/rdagent/'), v.route('/rdagent/factors'), v.route('/rdagent/models'),
              v.route('/rdagent/strategies'),
              v.route('/rdagent/loops'), v.route('/rdagent/loops/abc%2Fd/12'), v.route('/rdagent/runs/t1'),
              v.route('/rdagent/sync'),
              v.route('/rdagent/verify'), v.route('/rdagent/loops/abc/x'), v.route('/rdagent/nope'),
              v.loopHref('a b/c', 3), v.runHref('t<1>'), v.bundleFileHref('bundle_x_1', 'workspaces/w 1/因子.py'),
            ];
            """);
        string Page(int i) => r[i].GetProperty("page").GetString()!;
        Assert.Equal(["factors", "factors", "models", "strategies", "loops"], Enumerable.Range(0, 5).Select(Page));
        Assert.Equal("loop", Page(5));
        Assert.Equal("abc/d", r[5].GetProperty("taskRunId").GetString());
        Assert.Equal(12, r[5].GetProperty("loopId").GetInt32());
        Assert.Equal("run", Page(6));
        Assert.Equal("t1", r[6].GetProperty("taskRunId").GetString());
        Assert.Equal(["sync", "verify", "notfound", "notfound"], Enumerable.Range(7, 4).Select(Page));
        Assert.Equal("/rdagent/loops/a%20b%2Fc/3", r[11].GetString());
        Assert.Equal("/rdagent/runs/t%3C1%3E", r[12].GetString());
        Assert.Equal("/api/aistock/bundles/bundle_x_1/files/workspaces/w%201/%E5%9B%A0%E5%AD%90.py", r[13].GetString());
    }

    [Fact]
    public async Task Table_state_round_trips_through_the_url_and_becomes_the_api_query()
    {
        await using var ui = await Open();
        var r = await ui.ViewAsync("""
            const s = v.tableState('factors',
              '?q=%E5%8A%A8%E9%87%8F&source=rdagent_generated&tag=sota&sort=icir&order=asc&page=3&min_ic=0.02'
              + '&bogus=1');
            const defaults = v.tableState('factors', '');
            const flipped = v.nextSort(s, 'icir');
            const other = v.nextSort(s, 'max_drawdown');
            return { s, url: v.stateQuery('factors', s), api: v.apiUrl('factors', s),
                     defaultUrl: v.stateQuery('factors', defaults),
                     defaultApi: v.apiUrl('factors', defaults), flipped, other,
                     loops: v.apiUrl('loops', v.tableState('loops', '?task_run_id=t1')) };
            """);
        var s = r.GetProperty("s");
        Assert.Equal("动量", s.GetProperty("q").GetString());
        Assert.Equal("rdagent_generated", s.GetProperty("filters").GetProperty("source").GetString());
        Assert.Equal(3, s.GetProperty("page").GetInt32());
        Assert.Equal("0.02", s.GetProperty("ranges").GetProperty("min_ic").GetString());
        Assert.Equal(
            "?q=%E5%8A%A8%E9%87%8F&source=rdagent_generated&tag=sota&min_ic=0.02&sort=icir&order=asc&page=3",
            r.GetProperty("url").GetString());
        Assert.Equal(
            "/api/rdagent/factors?q=%E5%8A%A8%E9%87%8F&source=rdagent_generated&tag=sota&min_ic=0.02&sort=icir"
            + "&order=asc&page=3&page_size=50",
            r.GetProperty("api").GetString());
        Assert.Equal("", r.GetProperty("defaultUrl").GetString());
        // By default factors sort by how many loops found them (their IC is their loop's).
        Assert.Equal("/api/rdagent/factors?sort=occurrences&order=desc&page=1&page_size=50",
            r.GetProperty("defaultApi").GetString());
        Assert.Equal("desc", r.GetProperty("flipped").GetProperty("order").GetString());
        Assert.Equal(1, r.GetProperty("flipped").GetProperty("page").GetInt32());
        Assert.Equal("max_drawdown", r.GetProperty("other").GetProperty("sort").GetString());
        Assert.Equal("desc", r.GetProperty("other").GetProperty("order").GetString());
        Assert.Equal("/api/rdagent/loops?task_run_id=t1&sort=task_run_id&order=desc&page=1&page_size=50",
            r.GetProperty("loops").GetString());
    }

    [Fact]
    public async Task A_count_takes_its_noun_in_the_singular_only_when_it_is_one()
    {
        await using var ui = await Open();
        var r = await ui.ViewAsync("""
            return [v.countOf(0, 'loop'), v.countOf(1, 'loop'), v.countOf(2, 'loop'), v.countOf(1, 'entry', 'entries'),
                    v.countOf(2, 'entry', 'entries'), v.countOf(1234567, 'day', 'days', (n) => v.fmtNum(n, 0)),
                    v.countOf(1, 'day', 'days', (n) => v.fmtNum(n, 0))];
            """);
        Assert.Equal(["0 loops", "1 loop", "2 loops", "1 entry", "2 entries", "1,234,567 days", "1 day"],
            r.EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public async Task Numbers_sizes_times_and_ranges_are_formatted_for_reading()
    {
        await using var ui = await Open();
        var r = await ui.ViewAsync("""
            return [v.fmtNum(0.0571718), v.fmtNum(null), v.fmtNum(1234567), v.fmtNum('x'), v.fmtPct(0.016600687),
                    v.fmtPct(-0.0695),
                    v.fmtPct(undefined), v.fmtBytes(512), v.fmtBytes(115112), v.fmtBytes(5 * 1024 * 1024),
                    v.fmtTime('2025-07-01T15:10:12Z'),
                    v.fmtTime('not a time'), v.rangeText(120, 3, 50), v.rangeText(0, 1, 50),
                    v.rangeText(10000, 1, 50, false), v.pageCount(120, 50), v.pageCount(0, 50)];
            """);
        Assert.Equal(["0.0572", "—", "1,234,567", "—", "1.66%", "-6.95%", "—", "512 B", "112 KB", "5.0 MB",
            "2025-07-01 15:10:12 UTC",
            "not a time", "101–120 of 120 条", "0 rows 条", "1–50 of 10,000+ 条"],
            r.EnumerateArray().Take(15).Select(e => e.GetString()!));
        Assert.Equal(3, r[15].GetInt32());
        Assert.Equal(1, r[16].GetInt32());
    }

    [Fact]
    public async Task Table_rows_are_built_from_the_records_the_api_returns()
    {
        await using var ui = await Open();
        var factors = await served.Server.Client.GetStringAsync(
            "api/rdagent/factors?source=rdagent_generated&page_size=5");
        var loops = await served.Server.Client.GetStringAsync("api/rdagent/loops?page_size=5&sort=loop_id&order=asc");
        var models = await served.Server.Client.GetStringAsync("api/rdagent/models?page_size=5");
        var strategies = await served.Server.Client.GetStringAsync("api/rdagent/strategies?page_size=5");
        var r = await ui.ViewAsync("""
            const [f, l, m, s] = arg.map((t) => JSON.parse(t).items);
            return { f, l, m, s, factors: v.tableRows('factors', f),
                     loops: v.tableRows('loops', l.map((x) => ({ ...x, bundle_status: 'extracted' }))),
                     models: v.tableRows('models', m), strategies: v.tableRows('strategies', s),
                     urls: v.cacheStateUrls([...l, ...l, { asset_bundle_id: null }], 2),
                     heads: Object.fromEntries(
                       Object.entries(v.TABLES).map(([k, t]) => [k, t.columns.map((c) => c.label)])) };
            """, new[] { factors, loops, models, strategies });

        var heads = r.GetProperty("heads");
        int Col(string kind, string label) => heads.GetProperty(kind).EnumerateArray().Select(e => e.GetString())
            .ToList().FindIndex(h => h!.StartsWith(label, StringComparison.Ordinal));

        // Factors: name with the Chinese description, IC to 4 places, input schema, and one link per loop that found
        // it.
        var f = r.GetProperty("f")[0];
        var row = r.GetProperty("factors")[0];
        Assert.Equal(f.GetProperty("name").GetString(), row[Col("factors", "Factor")].GetProperty("text").GetString());
        Assert.Equal(f.GetProperty("description_cn").GetString(),
            row[Col("factors", "Factor")].GetProperty("sub").GetString());
        Assert.Equal(
            f.GetProperty("performance_metrics").GetProperty("ic").GetDouble()
                .ToString("F4", System.Globalization.CultureInfo.InvariantCulture),
            row[Col("factors", "Loop IC")].GetProperty("text").GetString());
        var schema = f.GetProperty("input_schema");
        Assert.StartsWith(
            string.Join(", ", schema.GetProperty("required_fields").EnumerateArray().Select(x => x.GetString()))
                + $" · {schema.GetProperty("lookback_days").GetInt32()}d",
            row[Col("factors", "Input schema")].GetProperty("text").GetString());
        // A v2 record names its first loop and how many loops found it (the rest are on the factor's page).
        Assert.False(f.TryGetProperty("provenance", out _));
        var found = row[Col("factors", "Found in")];
        var links = found.GetProperty("links");
        Assert.Equal(1, links.GetArrayLength());
        Assert.Equal(
            $"/rdagent/loops/{f.GetProperty("task_run_id").GetString()}/{f.GetProperty("loop_id").GetInt64()}",
            links[0].GetProperty("href").GetString());
        Assert.Equal($"{f.GetProperty("occurrences").GetInt64()}×", found.GetProperty("text").GetString());

        // Loops: action, decision, metrics, bundle status; the loop cell links to its detail page, the run to its
        // chart.
        var l = r.GetProperty("l")[0];
        var lrow = r.GetProperty("loops")[0];
        Assert.Equal(
            $"/rdagent/loops/{l.GetProperty("task_run_id").GetString()}/{l.GetProperty("loop_id").GetInt64()}",
            lrow[Col("loops", "Loop")].GetProperty("href").GetString());
        Assert.Equal($"/rdagent/runs/{l.GetProperty("task_run_id").GetString()}",
            lrow[Col("loops", "Task run")].GetProperty("href").GetString());
        Assert.Equal(l.GetProperty("action").GetString(), lrow[Col("loops", "Action")].GetProperty("text").GetString());
        Assert.Equal(l.GetProperty("decision").GetBoolean() ? "✓ accepted 采纳" : "✗ rejected 拒绝",
            lrow[Col("loops", "Decision")].GetProperty("text").GetString());
        Assert.Equal(
            (l.GetProperty("annualized_return").GetDouble() * 100)
                .ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + "%",
            lrow[Col("loops", "Ann. return")].GetProperty("text").GetString());
        Assert.Equal("ok", lrow[Col("loops", "Bundle")].GetProperty("cls").GetString());

        // Models: type and preprocessing chain; strategies: class, topk, n_drop.
        var m = r.GetProperty("m")[0];
        var mrow = r.GetProperty("models")[0];
        Assert.Equal(m.GetProperty("model_type").GetString(),
            mrow[Col("models", "Type")].GetProperty("text").GetString());
        // Every processor the record lists (a factor loop's baseline model has only learn processors).
        var preprocess = m.GetProperty("preprocess_config");
        foreach (var group in new[] { "infer_processors", "learn_processors" })
        {
            foreach (var processor in preprocess.GetProperty(group).EnumerateArray())
            {
                Assert.Contains(processor.GetProperty("class").GetString()!,
                    mrow[Col("models", "Preprocessing")].GetProperty("text").GetString());
            }
        }

        var s = r.GetProperty("s")[0];
        var srow = r.GetProperty("strategies")[0];
        Assert.Equal(s.GetProperty("portfolio_config").GetProperty("class").GetString(),
            srow[Col("strategies", "Class")].GetProperty("text").GetString());
        Assert.Equal(s.GetProperty("portfolio_config").GetProperty("kwargs").GetProperty("topk").GetInt32().ToString(),
            srow[Col("strategies", "topk")].GetProperty("text").GetString());
        Assert.Equal(
            s.GetProperty("portfolio_config").GetProperty("kwargs").GetProperty("n_drop").GetInt32().ToString(),
            srow[Col("strategies", "n_drop")].GetProperty("text").GetString());

        // Cache-state lookups: distinct ids only, in chunks.
        Assert.Equal((int)Math.Ceiling(r.GetProperty("l").GetArrayLength() / 2.0),
            r.GetProperty("urls").GetArrayLength());
    }

    [Fact]
    public async Task Lineage_layout_places_the_chain_left_to_right_and_marks_broken_links()
    {
        await using var ui = await Open();
        var row = served.Sample.Aistock.Rows("SELECT task_run_id, loop_id FROM aistock_loop_catalog ORDER BY 1, 2")[0];
        var lineage = await served.Server.Client.GetStringAsync($"api/rdagent/loops/{row[0]}/{row[1]}");
        var r = await ui.ViewAsync("""
            const lin = JSON.parse(arg);
            const good = v.lineageLayout(lin);
            const broken = v.lineageLayout(
              { ...lin, links: lin.links.map((l) => l.to === 'cache' ? { ...l, ok: false } : l) });
            return { links: lin.links, good, broken };
            """, lineage);
        var good = r.GetProperty("good");
        var nodes = good.GetProperty("nodes").EnumerateArray()
            .ToDictionary(n => n.GetProperty("id").GetString()!, n => n);
        Assert.Equal(
            new[] { "task_run", "loop", "workspace", "bundle", "cache", "manifest", "strategy", "model", "factors" }
                .Order(),
            nodes.Keys.Order());
        double X(string id) => nodes[id].GetProperty("x").GetDouble();
        // The chain's columns, left to right, each at an x of its own (the pixels themselves are the layout's choice).
        string[] chain = ["task_run", "loop", "workspace", "bundle", "cache"];
        Assert.Equal(chain, Enumerable.Reverse(chain).OrderBy(X)); // reversed first: a tie would keep the wrong order
        Assert.Equal(chain.Length, chain.Select(X).Distinct().Count());
        Assert.Equal(X("workspace"), X("factors"));
        Assert.Equal(X("workspace"), X("strategy"));
        Assert.All(nodes.Values, n => Assert.True(n.GetProperty("ok").GetBoolean()));
        Assert.Equal(r.GetProperty("links").GetArrayLength(), good.GetProperty("edges").GetArrayLength());
        // Every edge runs rightwards.
        Assert.All(good.GetProperty("edges").EnumerateArray(),
            e => Assert.Equal(1, Math.Sign(e.GetProperty("x2").GetDouble() - e.GetProperty("x1").GetDouble())));
        // Nodes never overlap and all fit the drawing.
        var boxes = nodes.Values.Select(n => (X: n.GetProperty("x").GetDouble(), Y: n.GetProperty("y").GetDouble(),
            W: n.GetProperty("w").GetDouble(), H: n.GetProperty("h").GetDouble())).ToList();
        foreach (var a in boxes)
        {
            // Inside the drawing: a bound by nature (how much room is left over is the layout's choice).
            Assert.True(a.X + a.W <= good.GetProperty("width").GetDouble()
                && a.Y + a.H <= good.GetProperty("height").GetDouble());
            Assert.Single(boxes, b => a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H);
        }

        var broken = r.GetProperty("broken");
        Assert.False(broken.GetProperty("nodes").EnumerateArray()
            .Single(n => n.GetProperty("id").GetString() == "cache").GetProperty("ok").GetBoolean());
        Assert.False(broken.GetProperty("edges").EnumerateArray()
            .Single(e => e.GetProperty("to").GetString() == "cache").GetProperty("ok").GetBoolean());
        Assert.Equal(1, broken.GetProperty("edges").EnumerateArray().Count(e => !e.GetProperty("ok").GetBoolean()));
    }

    [Fact]
    public async Task Metric_series_follow_loop_order_mark_accepted_loops_and_scale_into_the_chart()
    {
        await using var ui = await Open();
        var r = await ui.ViewAsync("""
            const loops = [
              { loop_id: 2, decision: false, ic: 0.03, annualized_return: -0.02 },
              { loop_id: 0, decision: true, ic: 0.05, annualized_return: 0.10 },
              { loop_id: 1, decision: true, ic: null, metrics: { ic: 0.04 }, annualized_return: 0.05 },
              { loop_id: 3, decision: null, annualized_return: 0.01 },
            ];
            const ic = v.metricSeries(loops, 'ic');
            const ret = v.metricSeries(loops, 'annualized_return');
            return { ic, ret, chart: v.chartLayout(ret, 400, 200), empty: v.chartLayout([], 400, 200),
                     one: v.chartLayout([{ loopId: 5, value: 0.3 }], 400, 200) };
            """);
        Assert.Equal([0, 1, 2], r.GetProperty("ic").EnumerateArray().Select(p => p.GetProperty("loopId").GetInt32()));
        Assert.Equal([true, true, false],
            r.GetProperty("ic").EnumerateArray().Select(p => p.GetProperty("accepted").GetBoolean()));
        Assert.Equal(0.04, r.GetProperty("ic")[1].GetProperty("value").GetDouble());
        var points = r.GetProperty("chart").GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(4, points.Count);
        Assert.True(points.Zip(points.Skip(1))
            .All(p => p.First.GetProperty("x").GetDouble() < p.Second.GetProperty("x").GetDouble()));
        // y is a linear function of the value, higher values drawn higher (smaller y), and the zero line is where that
        // function puts 0. The returns above, in loop order:
        double[] values = [0.10, 0.05, -0.02, 0.01];
        var ys = points.Select(p => p.GetProperty("y").GetDouble()).ToList();
        var slope = (ys[2] - ys[0]) / (values[2] - values[0]);
        Assert.Equal(-1, Math.Sign(slope));
        for (var i = 0; i < values.Length; i++) Assert.Equal(ys[0] + (values[i] - values[0]) * slope, ys[i], 9);
        Assert.Equal(ys[0] - values[0] * slope, r.GetProperty("chart").GetProperty("zeroY").GetDouble(), 9);
        // Inside the 200 px chart: a bound by nature (the margins are the layout's choice).
        Assert.All(points, p => Assert.InRange(p.GetProperty("y").GetDouble(), 0, 200));
        Assert.StartsWith("M", r.GetProperty("chart").GetProperty("path").GetString());
        Assert.Equal("", r.GetProperty("empty").GetProperty("path").GetString());
        Assert.Single(r.GetProperty("one").GetProperty("points").EnumerateArray());
    }

    [Fact]
    public async Task Sync_runs_read_as_one_line_and_counts_per_stage()
    {
        await using var ui = await Open();
        var r = await ui.ViewAsync("""
            return [v.syncLine({ id: 7, status: 'running', stage: 'import', progress: 0.456 }),
                    v.syncLine({ id: 7, status: 'succeeded', stage: 'verify', progress: 1 }),
                    v.syncLine({ status: 'never' }),
                    v.countsSummary(
                      { import: { loops_inserted: 1, factors_unchanged: 0, factors_updated: 3 },
                        verify: { failed: 0 } })];
            """);
        Assert.Equal("#7 running 同步中 · import · 46%", r[0].GetString());
        Assert.Equal("#7 succeeded 成功 · verify", r[1].GetString());
        Assert.Equal("never synced 尚未同步", r[2].GetString());
        Assert.Equal("import", r[3][0].GetProperty("stage").GetString());
        Assert.Equal("loops inserted 1, factors updated 3", r[3][0].GetProperty("text").GetString());
        Assert.Equal("nothing 无变化", r[3][1].GetProperty("text").GetString());
    }
}
