using System.Text;
using System.Text.Json.Nodes;
using RdBridge.Discovery;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

/// <summary>
/// Issue 26, class 1: pickles small on disk whose object graph is huge once walked. The reader bounds what it builds
/// (depth, items per container) and whoever walks the graph bounds the walk, so memory stays proportional to the file.
/// </summary>
public class PickleGraphBoundsTests
{
    private const long Budget = 64L * 1024 * 1024;   // what reading and rendering one settings pickle may allocate

    private static (byte[] Bytes, string Python) Written(TempDir dir, string script)
    {
        var python = RealPandas.Run(dir.Path, script + "\nimport pickle, sys\n" +
            "open('s.pkl', 'wb').write(pickle.dumps(obj, protocol=4))\n" +
            "print(repr(obj)[:200] if isinstance(obj, dict) and obj.get('again_000') is obj else '')");
        return (File.ReadAllBytes(dir["s.pkl"]), python);
    }

    private static (string Json, long Allocated) Rendered(byte[] pickle)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var json = LogValues.Json(PickleReader.Read(pickle))?.ToJsonString() ?? "";
        return (json, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Pickle_graph_bounds_a_settings_dict_that_refers_to_itself_200_times()
    {
        using var dir = new TempDir();
        var (bytes, python) = Written(dir, """
            obj = {"model": "LGBModel", "max_loop": 10, "market": "csi300"}
            for i in range(200):
                obj[f"again_{i:03d}"] = obj
            """);
        Assert.InRange(bytes.Length, 1000, 4096);   // the 2 KB
        Assert.Contains("{...}", python);            // CPython itself sees the recursion

        var (json, allocated) = Rendered(bytes);
        // A ceiling, not a value (what is allocated is the runtime's to size): the bound the issue asks for.
        Assert.InRange(allocated, 0, Budget);
        // The dict's first 200 entries in CPython's insertion order (a log value is drawn with at most 200): the
        // three plain values, then the first 197 keys that point back at the dict, each drawn as a recursion; then
        // how many of the 203 were not drawn.
        var expected = new JsonObject { ["model"] = "LGBModel", ["max_loop"] = 10, ["market"] = "csi300" };
        for (var i = 0; i < 197; i++) expected[$"again_{i:000}"] = "(recursion)";
        expected["…"] = "(3 more entries not shown)";
        var actual = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(expected.Select(kv => kv.Key).Order(StringComparer.Ordinal),
            actual.Select(kv => kv.Key).Order(StringComparer.Ordinal));
        Assert.All(expected, kv => Assert.True(JsonNode.DeepEquals(kv.Value, actual[kv.Key]), kv.Key));
        // The bound the test names, on top of the exact entries above.
        Assert.InRange(json.Length, 0, 64 * 1024);
    }

    [Fact]
    public void A_long_list_is_drawn_with_its_first_200_items_and_says_how_many_more_it_holds()
    {
        using var dir = new TempDir();
        var (bytes, _) = Written(dir, "obj = {'ic': [i * 0.5 for i in range(1234)]}");

        var (json, _) = Rendered(bytes);
        var expected = new JsonArray([.. Enumerable.Range(0, 200).Select(i => (JsonNode)JsonValue.Create(i * 0.5)),
            JsonValue.Create("(1,034 more items not shown)")]);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["ic"] = expected }, JsonNode.Parse(json)), json);
    }

    [Fact]
    public void Pickle_graph_bounds_shared_lists_that_expand_exponentially()
    {
        using var dir = new TempDir();
        // Ten levels of a list holding the level below 50 times: 50^10 leaves as a tree, a few hundred bytes on disk.
        var (bytes, _) = Written(dir, """
            obj = ["leaf"]
            for _ in range(10):
                obj = [obj] * 50
            obj = {"lists": obj, "id": "laughs"}
            """);
        // A premise about the file CPython wrote: small on disk, however large as a tree.
        Assert.InRange(bytes.Length, 0, 4096);

        var (json, allocated) = Rendered(bytes);
        // Ceilings, not values: where the expansion stops is the reader's budget, what it allocates the runtime's.
        Assert.InRange(allocated, 0, Budget);
        Assert.Equal("laughs", (string?)JsonNode.Parse(json)!["id"]);
        // "…", as JSON escapes it: where the expansion stopped (the depth is the reader's budget, not the input's).
        Assert.Contains("\"\\u2026\"", json);
        // (The drawn text's size is the budget's too: its bound is what the test promises.)
        Assert.InRange(json.Length, 0, 256 * 1024);
    }

    [Fact]
    public void Pickle_graph_bounds_depth_and_self_additions_in_the_reader()
    {
        // A list nested 1,001 deep by hand (CPython's pickler cannot write it): EMPTY_LIST × n, APPEND × n-1.
        const int n = PickleLimits.Depth + 1;
        var deep = new List<byte> { 0x80, 4 };
        deep.AddRange(Enumerable.Repeat((byte)']', n));
        deep.AddRange(Enumerable.Repeat((byte)'a', n - 1));
        deep.Add((byte)'.');
        var e = Assert.Throws<PickleException>(() => PickleReader.Read([.. deep]));
        // At the 1,000th APPEND: 2 header bytes, 1,001 EMPTY_LISTs and 999 APPENDs before it.
        Assert.Equal($"pickle nests objects more than {PickleLimits.Depth} deep at byte {2 + n + 999} (or adds a "
            + "container to itself that many times); the file is corrupt or hostile", e.Message);

        // One list appended to itself 1,001 times: EMPTY_LIST, MEMOIZE, then (BINGET 0, APPEND) × n.
        var self = new List<byte> { 0x80, 4, (byte)']', 0x94 };
        for (var i = 0; i < n; i++) self.AddRange([(byte)'h', 0, (byte)'a']);
        self.Add((byte)'.');
        e = Assert.Throws<PickleException>(() => PickleReader.Read([.. self]));
        // At the 1,000th APPEND: 4 header bytes (PROTO, EMPTY_LIST, MEMOIZE), 999 triples of BINGET 0 (2 bytes) and
        // APPEND, then the 1,000th BINGET.
        Assert.Equal($"pickle nests objects more than {PickleLimits.Depth} deep at byte {4 + 3 * 999 + 2} (or adds a "
            + "container to itself that many times); the file is corrupt or hostile", e.Message);

        // The same list appended to itself 200 times is a small, legal graph.
        var few = new List<byte> { 0x80, 4, (byte)']', 0x94 };
        for (var i = 0; i < 200; i++) few.AddRange([(byte)'h', 0, (byte)'a']);
        few.Add((byte)'.');
        Assert.Equal(200, Assert.IsType<List<object?>>(PickleReader.Read([.. few])).Count);
    }

    [Fact]
    public void Pickle_graph_bounds_items_per_container()
    {
        var limits = PickleLimits.For(100_000) with { MaxContainerItems = 1000 };
        var list = new List<byte> { 0x80, 4, (byte)']', (byte)'(' };
        list.AddRange(Enumerable.Repeat((byte)'N', 1001));
        list.AddRange(Encoding.ASCII.GetBytes("e."));
        var e = Assert.Throws<PickleException>(() => PickleReader.Read([.. list], limits));
        // At the APPENDS that would add 1,001 items: PROTO, EMPTY_LIST and MARK take bytes 0 to 3, the Nones 4 to 1004.
        Assert.Equal(
            $"pickle fills one list with more than 1000 items at byte {4 + 1001}; the file is corrupt or hostile",
            e.Message);
        list.RemoveAt(4);
        Assert.Equal(1000, Assert.IsType<List<object?>>(PickleReader.Read([.. list], limits)).Count);
    }
}
