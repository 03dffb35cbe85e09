using Dict = System.Collections.Generic.Dictionary<object, object?>;

namespace RdBridge.Pickles;

/// <summary>A class or function a pickle names (GLOBAL / STACK_GLOBAL); never imported, only named.</summary>
public sealed record PickledGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";
}

/// <summary>
/// What a pickle builds by calling something (REDUCE, NEWOBJ, NEWOBJ_EX): the callable's name, the arguments it would
/// have been called with, and the state BUILD would have given the result. Nothing is called.
/// </summary>
/// <remarks>
/// A class, not a record: BUILD sets <see cref="State"/> after the object was memoized (exactly as Python mutates it
/// in place), and a pickle can make objects refer to themselves, which value equality would recurse into forever.
/// </remarks>
public sealed class PickledObject(string className, object? state, IReadOnlyList<object?> arguments)
{
    public string ClassName { get; } = className;
    public IReadOnlyList<object?> Arguments { get; } = arguments;
    public IReadOnlyDictionary<object, object?>? Keywords { get; init; }
    public object? State { get; internal set; } = state;

    /// <summary>A field of a dict state (the object's <c>__dict__</c>), or null.</summary>
    public object? this[string key] => State is Dict d && d.TryGetValue(key, out var v) ? v : null;

    public override string ToString() => $"{ClassName}(…)";
}

/// <summary>A Python set or frozenset.</summary>
public sealed class PickledSet(bool frozen)
{
    public bool Frozen { get; } = frozen;
    public List<object?> Items { get; } = [];
}

/// <summary>
/// How much a pickle may make the reader do. The defaults scale with the input so time and memory stay proportional to
/// the file: every opcode is at least one byte and makes at most one object. Depth and container size are bounded
/// too: CPython's own pickler cannot write a graph deeper than its recursion limit (1,000), so a deeper one is made
/// by hand. A container that holds itself counts one level deeper each time it is added to itself, so a dict that
/// refers to itself thousands of times is refused here; fewer such references stay a small shared graph, and whoever
/// walks it (<c>LogValues.Json</c>) walks it within a budget of nodes.
/// </summary>
public sealed record PickleLimits(
    long MaxDeclaredLength, int MaxObjects, int MaxMemo, int MaxOpenMarks, int MaxDepth = PickleLimits.Depth,
    int MaxContainerItems = PickleLimits.ContainerItems)
{
    /// <summary>Deepest nesting of containers and objects (RD-Agent's logged objects: under 50).</summary>
    public const int Depth = 1000;

    /// <summary>Items one list, tuple, dict or set may hold (a curve's object index: one per row).</summary>
    public const int ContainerItems = 4_000_000;

    public static PickleLimits For(int inputLength) =>
        new(MaxDeclaredLength: Array.MaxLength, MaxObjects: inputLength + 16, MaxMemo: inputLength + 16,
            MaxOpenMarks: 512);
}
