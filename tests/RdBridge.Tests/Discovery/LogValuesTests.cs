using System.Text.Json.Nodes;
using RdBridge.Discovery;
using RdBridge.Pickles;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// The values discovery takes out of RD-Agent's pickled objects, each shape the way CPython pickles it (class name and
/// reduce arguments, or a <c>__dict__</c> state). Written for the mutants Stryker left alive in <c>LogValues</c>
/// (bench/mutation-survivors.md, Discovery): every expected value is read off the object built here.
/// </summary>
public class LogValuesTests
{
    private static PickledObject Obj(string cls, params object?[] args) => new(cls, null, args);

    private static PickledObject WithState(string cls, params (string Key, object? Value)[] fields)
    {
        var state = new Dictionary<object, object?>();
        foreach (var (k, v) in fields) state[k] = v;
        return new PickledObject(cls, state, []);
    }

    // datetime(2025, 7, 1, 8, 30, 12, 123456): the year in two bytes, month, day, hour, minute, second, and the
    // microseconds in three.
    private static readonly byte[] State = [0x07, 0xe9, 7, 1, 8, 30, 12, 0x01, 0xe2, 0x40];

    private static PickledObject Zone(long days, long seconds, long micros = 0) =>
        Obj("datetime.timezone", Obj("datetime.timedelta", days, seconds, micros));

    private static readonly DateTimeOffset AsWritten =
        new DateTimeOffset(2025, 7, 1, 8, 30, 12, TimeSpan.Zero).AddTicks(123_456 * 10);

    [Fact]
    public void A_pathlib_path_is_its_parts_joined_after_the_root_as_python_prints_it()
    {
        // Python 3.11 reduces a path to cls(*parts); 3.12 to cls(parts): both are read.
        Assert.Equal("/home/rd/ws1", LogValues.PathText(Obj("pathlib.PosixPath", "/", "home", "rd", "ws1")));
        Assert.Equal("/home/rd/ws1",
            LogValues.PathText(Obj("pathlib.PosixPath", new object?[] { "/", "home", "rd", "ws1" })));
        // Python prints a Windows path with backslashes: str(PureWindowsPath('F:/Dev/ws1')) is 'F:\\Dev\\ws1'.
        Assert.Equal(@"F:\Dev\ws1", LogValues.PathText(Obj("pathlib.WindowsPath", @"F:\", "Dev", "ws1")));
        Assert.Equal(@"\\srv\share\ws1",
            LogValues.PathText(Obj("pathlib.PureWindowsPath", @"\\srv\share\", "ws1")));
        // A pure Windows path of several parts is joined by backslashes too, not only after its root.
        Assert.Equal(@"D:\runs\Dev\ws1",
            LogValues.PathText(Obj("pathlib.PureWindowsPath", @"D:\", "runs", "Dev", "ws1")));
        Assert.Equal("rel/ws1", LogValues.PathText(Obj("pathlib.PurePosixPath", "rel", "ws1")));
        Assert.Equal("/", LogValues.PathText(Obj("pathlib.PosixPath", "/")));
        Assert.Equal("/already/a/string", LogValues.PathText("/already/a/string"));
        // Not a path: another class, no parts, a part that is not text.
        Assert.Null(LogValues.PathText(Obj("os.PathLike", "/", "x")));
        Assert.Null(LogValues.PathText(Obj("pathlib.PosixPath")));
        Assert.Null(LogValues.PathText(Obj("pathlib.PosixPath", "/", 42L)));
        Assert.Null(LogValues.PathText(42L));
    }

    [Fact]
    public void A_datetime_is_read_from_its_ten_byte_state_and_its_timezone_offset_to_utc()
    {
        Assert.Equal(AsWritten, LogValues.Time(Obj("datetime.datetime", State)));
        Assert.Equal(AsWritten, LogValues.Time(Obj("datetime.datetime", State, Zone(0, 0))));
        // +08:00: 08:30 there is 00:30 UTC. -01:00 pickles as timedelta(days=-1, seconds=82800).
        Assert.Equal(AsWritten.AddHours(-8), LogValues.Time(Obj("datetime.datetime", State, Zone(0, 8 * 3600))));
        Assert.Equal(AsWritten.AddHours(1), LogValues.Time(Obj("datetime.datetime", State, Zone(-1, 82800))));
        // +14:00 (Kiribati) is the largest offset in use, and one DateTimeOffset holds.
        Assert.Equal(AsWritten.AddHours(-14), LogValues.Time(Obj("datetime.datetime", State, Zone(0, 14 * 3600))));
        // A timezone of another shape counts as UTC (RD-Agent writes datetime.now(timezone.utc)).
        Assert.Equal(AsWritten, LogValues.Time(Obj("datetime.datetime", State, Obj("pytz.UTC"))));
        Assert.Equal(AsWritten, LogValues.Time(Obj("datetime.datetime", State, Obj("datetime.timezone"))));
        // Not a datetime: another class, no state, a state of another length.
        Assert.Null(LogValues.Time(Obj("datetime.date", State)));
        Assert.Null(LogValues.Time(Obj("datetime.datetime")));
        Assert.Null(LogValues.Time(Obj("datetime.datetime", State[..9])));
        // Month 13 is no date.
        Assert.Null(LogValues.Time(Obj("datetime.datetime", new byte[] { 0x07, 0xe9, 13, 1, 8, 30, 12, 0, 0, 0 })));
    }

    [Fact]
    public void Booleans_items_classes_and_attributes_are_read_as_python_has_them()
    {
        Assert.True(LogValues.Bool(true));
        Assert.False(LogValues.Bool(false));
        Assert.True(LogValues.Bool(2L));     // any non-zero int is true
        Assert.False(LogValues.Bool(0L));
        Assert.Null(LogValues.Bool("True"));
        Assert.Null(LogValues.Bool(null));

        Assert.Equal(["a", 1L], LogValues.Items(new List<object?> { "a", 1L }));
        Assert.Equal(["a", 1L], LogValues.Items(new object?[] { "a", 1L }));
        Assert.Empty(LogValues.Items("ab"));

        var hypothesis = WithState("rdagent.core.proposal.Hypothesis", ("hypothesis", "h"));
        Assert.True(LogValues.IsClass(hypothesis, "Hypothesis"));
        Assert.True(LogValues.IsClass(Obj("Hypothesis"), "Hypothesis"));
        Assert.False(LogValues.IsClass(Obj("rdagent.core.proposal.QuantHypothesis"), "Hypothesis"));
        Assert.False(LogValues.IsClass("Hypothesis", "Hypothesis"));
        Assert.Equal("h", LogValues.Get(hypothesis, "hypothesis"));
        Assert.Null(LogValues.Get(hypothesis, "reason"));
        Assert.Equal(3L, LogValues.Get(new Dictionary<object, object?> { ["k"] = 3L }, "k"));
        Assert.Null(LogValues.Get(new Dictionary<object, object?> { ["k"] = 3L }, "other"));
        Assert.Null(LogValues.Get("k", "k"));
    }

    [Fact]
    public void A_pickle_s_description_names_its_class_or_type_in_at_most_120_printable_characters()
    {
        Assert.Equal("None", LogValues.Describe(null));
        Assert.Equal("rdagent.X(…)", LogValues.Describe(Obj("rdagent.X", 1L)));
        Assert.Equal("rdagent.X", LogValues.Describe(Obj("rdagent.X")));
        Assert.Equal("a str of 5 characters", LogValues.Describe("héllo"));
        // Python's words for what the pickle held, never the .NET type the reader keeps it in.
        Assert.Equal("an integer", LogValues.Describe(5L));
        Assert.Equal("a float", LogValues.Describe(0.5));
        Assert.Equal("a dict of 2 entries",
            LogValues.Describe(new Dictionary<object, object?> { ["a"] = 1L, ["b"] = null }));
        Assert.Equal("a list of 1 item", LogValues.Describe(new List<object?> { 1L }));
        Assert.Equal("a list of 2 items", LogValues.Describe(new List<object?> { 1L, 2L }));
        Assert.Equal("a tuple of 1 item", LogValues.Describe(new object?[] { 1L }));
        Assert.Equal("a tuple of 3 items", LogValues.Describe(new object?[] { 1L, 2L, 3L }));
        Assert.Equal("a frozenset", LogValues.Describe(new PickledSet(frozen: true)));
        var hostile = "evil\u001b[31m" + new string('x', 200);
        var described = LogValues.Describe(Obj(hostile));
        Assert.Equal(120, described.Length);
        Assert.Equal("evil?[31m" + new string('x', 111), described);
    }

    [Fact]
    public void Settings_become_json_with_keys_in_order_plain_values_kept_and_each_bound_marked()
    {
        var shared = new Dictionary<object, object?> { ["n"] = 1L };
        var settings = new Dictionary<object, object?>
        {
            ["zeta"] = "z", ["alpha"] = true, [7L] = "a non-text key is left out",
            ["nan"] = double.NaN, ["ratio"] = 0.5, ["bytes"] = new byte[] { 1, 2, 3 },
            ["path"] = Obj("pathlib.PosixPath", "/", "ws"),
            ["when"] = Obj("datetime.datetime", State),
            ["cls"] = Obj("rdagent.scenarios.Scen"),
            // One dict reached twice side by side is no recursion: both are written whole.
            ["a"] = shared, ["b"] = shared,
            ["none"] = null,
        };
        var json = LogValues.Json(settings)!.AsObject();
        Assert.Equal(["a", "alpha", "b", "bytes", "cls", "nan", "none", "path", "ratio", "when", "zeta"],
            json.Select(p => p.Key).ToList());
        Assert.Equal("z", (string?)json["zeta"]);
        Assert.True((bool)json["alpha"]!);
        Assert.Equal("NaN", (string?)json["nan"]);
        Assert.Equal(0.5, (double)json["ratio"]!);
        Assert.Equal(Convert.ToBase64String([1, 2, 3]), (string?)json["bytes"]);
        Assert.Equal("/ws", (string?)json["path"]);
        Assert.Equal("2025-07-01T08:30:12.123456Z", (string?)json["when"]);
        Assert.Equal("rdagent.scenarios.Scen", (string?)json["cls"]);
        Assert.Equal(1L, (long)json["a"]!["n"]!);
        Assert.Equal(1L, (long)json["b"]!["n"]!);
        Assert.Null(json["none"]);
    }

    [Fact]
    public void Settings_json_cuts_long_texts_long_lists_deep_nesting_recursion_and_too_many_values()
    {
        // A text of 4,001 characters keeps its first 4,000 and says it was cut; one of 4,000 is whole.
        Assert.Equal(new string('x', 4000) + "…", (string?)LogValues.Json(new string('x', 4001)));
        Assert.Equal(new string('x', 4000), (string?)LogValues.Json(new string('x', 4000)));
        // 300 items: the first 200 are written, then how many more there are.
        var list = Enumerable.Range(0, 300).Select(i => (object?)(long)i).ToList();
        var array = LogValues.Json(list)!.AsArray();
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), array.Take(200).Select(n => (long)n!));
        Assert.Equal("(100 more items not shown)", (string?)array[200]);
        Assert.Equal(201, array.Count);
        var dict = Enumerable.Range(0, 300).ToDictionary(i => (object)$"k{i:D3}", i => (object?)(long)i);
        var shown = LogValues.Json(dict)!.AsObject();
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"k{i:D3}").Append("…"), shown.Select(kv => kv.Key));
        Assert.Equal("(100 more entries not shown)", (string?)shown["…"]);
        // Bytes: the first 256 of 300.
        var bytes = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        Assert.Equal(Convert.ToBase64String(bytes[..256]), (string?)LogValues.Json(bytes));

        // Nine lists deep: the lists at depths 0 to 8 are written, the value at depth 9 is "…".
        object? nested = "leaf";
        for (var i = 0; i < 9; i++) nested = new List<object?> { nested };
        JsonNode? node = LogValues.Json(nested);
        for (var depth = 0; depth < 9; depth++) node = node!.AsArray().Single();
        Assert.Equal("…", (string?)node);
        object? eight = "leaf";
        for (var i = 0; i < 8; i++) eight = new List<object?> { eight };
        node = LogValues.Json(eight);
        for (var depth = 0; depth < 8; depth++) node = node!.AsArray().Single();
        Assert.Equal("leaf", (string?)node);

        // A list holding itself.
        var self = new List<object?> { 1L };
        self.Add(self);
        var selfJson = LogValues.Json(self)!.AsArray();
        Assert.Equal(1L, (long)selfJson[0]!);
        Assert.Equal("(recursion)", (string?)selfJson[1]);

        // 5,000 values in all: 30 lists of 200 are 1 + 30 × 201 = 6,031 nodes; the 5,001st and later are "…".
        var wide = Enumerable.Range(0, 30).Select(_ => (object?)Enumerable.Range(0, 200)
            .Select(i => (object?)(long)i).ToList()).ToList();
        var values = LogValues.Json(wide)!.AsArray()
            .SelectMany(l => l is JsonArray a ? a.ToList() : new List<JsonNode?> { l }).ToList();
        var cut = values.Count(v => v is JsonValue j && j.TryGetValue<string>(out var s) && s == "…");
        var kept = values.Count(v => v is JsonValue j && j.TryGetValue<long>(out _));
        // Node 1 is the outer list, each inner list one node and then its 200 items: nodes 2 to 5,000 are 24 whole
        // lists and the 25th list with its first 174 items; its other 26 items and the last 5 lists are "…".
        Assert.Equal(24 * 200 + 174, kept);
        Assert.Equal(26 + 5, cut);
    }

    [Fact]
    public void A_timezone_s_timedelta_is_its_days_seconds_and_microseconds_summed_within_fourteen_hours()
    {
        // A timedelta of two fields (days, seconds) has no microseconds: +01:00.
        Assert.Equal(AsWritten.AddHours(-1), LogValues.Time(Obj("datetime.datetime", State,
            Obj("datetime.timezone", Obj("datetime.timedelta", 0L, 3600L)))));
        // 3,599 s and 1,000,000 µs are one hour: the third field is microseconds.
        Assert.Equal(AsWritten.AddHours(-1), LogValues.Time(Obj("datetime.datetime", State, Zone(0, 3599, 1_000_000))));
        // +15:00 is a Python timezone but past what an offset can be: counted as UTC, the time itself kept.
        Assert.Equal(AsWritten, LogValues.Time(Obj("datetime.datetime", State, Zone(0, 15 * 3600))));
    }

    [Fact]
    public void Settings_json_marks_only_what_is_cut_counts_with_separators_and_bounds_nested_dicts()
    {
        // Exactly 200 items or entries are all shown, with no "more" marker.
        var list = Enumerable.Range(0, 200).Select(i => (object?)(long)i).ToList();
        Assert.Equal(200, LogValues.Json(list)!.AsArray().Count);
        var dict = Enumerable.Range(0, 200).ToDictionary(i => (object)$"k{i:D3}", i => (object?)(long)i);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"k{i:D3}"), LogValues.Json(dict)!.AsObject()
            .Select(kv => kv.Key));
        // 1,300 items: 1,100 more, written with a thousands separator.
        var long1300 = Enumerable.Range(0, 1300).Select(i => (object?)(long)i).ToList();
        Assert.Equal("(1,100 more items not shown)", (string?)LogValues.Json(long1300)!.AsArray()[200]);
        // Nine dicts deep: the dicts at depths 0 to 8 are written, the value at depth 9 is "…".
        object? nested = "leaf";
        for (var i = 0; i < 9; i++) nested = new Dictionary<object, object?> { ["k"] = nested };
        JsonNode? node = LogValues.Json(nested);
        for (var depth = 0; depth < 9; depth++) node = node!["k"];
        Assert.Equal("…", (string?)node);
    }
}
