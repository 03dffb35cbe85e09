using System.Globalization;
using System.Text.Json.Nodes;
using RdBridge.Catalogs;
using RdBridge.Store;

namespace RdBridge.Tests.Store;

public partial class StoreQueryMutantTests
{
    /// <summary>
    /// The query trace (<c>RDBRIDGE_QUERY_TRACE</c>, which <c>bench/query-bench.sh</c> reads back): each statement a
    /// page runs, as one JSON line. The setting is the whole process's, so these cases run alone in the "process
    /// environment" collection; nested here, the StoreQuery plan's filter (this class's name) runs them. Each line is
    /// checked against the statement and arguments the page told its <c>ran</c> callback.
    /// </summary>
    [Collection("process environment")]
    public sealed class Trace
    {
        /// <summary>An argument's value as JSON writes it.</summary>
        private static string? Json(object? value) => value switch
        {
            null => null,
            string s => JsonValue.Create(s).ToJsonString(),
            bool b => b ? "true" : "false",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => throw new ArgumentException($"an argument of type {value.GetType()}"),
        };

        [Theory, MemberData(nameof(TestStore.Kinds), MemberType = typeof(TestStore))]
        public void With_the_query_trace_on_each_statement_a_page_runs_is_one_json_line_of_its_sql_and_arguments(
            string kind)
        {
            var (dir, db, opened) = LoopStore(kind);
            using var _ = dir;
            using var __ = db;
            using var store = (DbAistockStore)opened;
            var trace = dir["trace.jsonl"];
            var ran = new List<(string Sql, (string Name, object? Value)[] Args)>();
            var before = CatalogQuery.TraceFile;
            CatalogQuery.TraceFile = trace;
            try
            {
                // Three kinds of page: every loop; loops of one status and number; a factor search sorted by name.
                foreach (var q in new CatalogPageRequest[]
                {
                    new(CatalogKind.Loop),
                    new(CatalogKind.Loop, LoopId: 3) { Status = "failed" },
                    new(CatalogKind.Factor, Search: "momentum", Sort: "name"),
                })
                {
                    CatalogQuery.Run(store, q, null, (sql, args) => ran.Add((sql, [.. args])));
                }
            }
            finally { CatalogQuery.TraceFile = before; }

            // The filters' values went to the statements as arguments (how many statements, and which holds which
            // argument, is the query's choice; the trace must hold whatever it ran).
            var values = ran.SelectMany(r => r.Args).Select(a => a.Value).ToList();
            // (A premise: the arguments below are the request's own values, so the trace's lines carry them.)
            Assert.Contains("failed", values);
            Assert.Contains(3L, values);
            var text = File.ReadAllText(trace);
            Assert.EndsWith("\n", text);
            var lines = text[..^1].Split('\n');
            Assert.Equal(ran.Count, lines.Length);
            for (var i = 0; i < ran.Count; i++)
            {
                var line = JsonNode.Parse(lines[i])!.AsObject();
                Assert.Equal(["sql", "args"], line.Select(p => p.Key));
                Assert.Equal(ran[i].Sql, (string)line["sql"]!);
                Assert.Equal(ran[i].Args.Select(a => (a.Name, Json(a.Value))),
                    line["args"]!.AsObject().Select(p => (p.Key, p.Value?.ToJsonString())));
            }
        }
    }
}
