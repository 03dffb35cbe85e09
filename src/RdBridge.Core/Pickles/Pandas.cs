namespace RdBridge.Pickles;

/// <summary>
/// Turns what <see cref="PickleReader"/> read into the DataFrames and Series that pandas 1.x and 2.x pickle (numpy 1.x
/// and 2.x module paths; BlockManager state or REDUCE; float, int, uint and bool blocks of every size (nullable too),
/// datetime64 and object blocks; Index,
/// RangeIndex and DatetimeIndex). It only reads the recorded calls it knows; anything else is "not a DataFrame or
/// Series" with the file's path and the part that did not fit.
/// </summary>
public static partial class Pandas
{
    public static PandasFrame ReadFrame(byte[] data, string path) =>
        Read(data, path) as PandasFrame
        ?? throw new PickleException($"'{path}' holds a pandas Series, not a DataFrame");

    public static PandasSeries ReadSeries(byte[] data, string path) =>
        Read(data, path) as PandasSeries
        ?? throw new PickleException($"'{path}' holds a pandas DataFrame, not a Series");

    /// <summary>Reads a pickle file no larger than its <paramref name="kind"/> allows.</summary>
    public static object ReadFile(string path, PickleKind kind) => Read(PickleFile.ReadAllBytes(path, kind), path);

    /// <summary>A <see cref="PandasFrame"/> or <see cref="PandasSeries"/>.</summary>
    public static object Read(byte[] data, string path)
    {
        object? root;
        try
        {
            root = PickleReader.Read(data);
        }
        catch (TruncatedPickleException e) { throw new TruncatedPickleException($"'{path}': {e.Message}"); }
        catch (PickleException e) { throw new PickleException($"'{path}': {e.Message}"); }
        try
        {
            return root switch
            {
                PickledObject { ClassName: "pandas.core.frame.DataFrame" } frame => Frame(frame, data.Length),
                PickledObject { ClassName: "pandas.core.series.Series" } series => Series(series, data.Length),
                _ => throw new PickleException($"the pickle holds {Describe(root)}"),
            };
        }
        catch (PickleException e)
        {
            throw new PickleException($"'{path}' is not a pandas DataFrame or Series RdBridge reads: {e.Message}");
        }
        catch (Exception e) when (e is OverflowException or ArgumentException or InvalidCastException)
        {
            // Every step checks what it reads; this only keeps a combination nobody foresaw from escaping as a crash.
            throw new PickleException($"'{path}' is not a pandas DataFrame or Series RdBridge reads: {e.Message}");
        }
    }

    private static PandasFrame Frame(PickledObject frame, int fileBytes)
    {
        var (axes, blocks) = Manager(State(frame, "DataFrame"), "pandas.core.internals.managers.BlockManager");
        if (axes.Count != 2)
        {
            throw new PickleException($"the DataFrame has {IO.Counted.Of(axes.Count, "axis", "axes")} instead of 2");
        }
        var columns = Index(axes[0], "the column index", fileBytes);
        var index = Index(axes[1], "the row index", fileBytes);
        var names = ColumnNames(columns.Values);
        var data = new PandasColumn?[names.Count];
        foreach (var (valuesNode, placementNode) in blocks)
        {
            var placement = Placement(placementNode, names.Count);
            var (values, missing) = BlockValues(valuesNode);
            for (var k = 0; k < placement.Count; k++)
            {
                var one = values.Shape.Count switch
                {
                    2 when values.Shape[0] == placement.Count && missing is null => values.Row(k),
                    1 when placement.Count == 1 => values,
                    _ => throw new PickleException($"a block of shape ({string.Join(", ", values.Shape)}) " +
                        $"holds {IO.Counted.Of(placement.Count, "column")}"),
                };
                var col = placement[k];
                if (data[col] is not null) throw new PickleException($"column '{names[col]}' is in two blocks");
                data[col] = Column(one, $"column '{names[col]}'", index.Values.Count, missing);
            }
        }
        var byName = new Dictionary<string, PandasColumn>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            if (!byName.TryAdd(names[i], data[i] ?? throw new PickleException($"column '{names[i]}' has no block")))
                throw new PickleException($"column '{names[i]}' appears twice");
        }
        return new PandasFrame(index, names, byName);
    }

    private static PandasSeries Series(PickledObject series, int fileBytes)
    {
        var state = State(series, "Series");
        var (axes, blocks) = Manager(state, "pandas.core.internals.managers.SingleBlockManager");
        if (axes.Count != 1 || blocks.Count != 1)
        {
            throw new PickleException($"the Series has {IO.Counted.Of(axes.Count, "axis", "axes")} and "
                + $"{IO.Counted.Of(blocks.Count, "block")} instead of 1 and 1");
        }
        var index = Index(axes[0], "the index", fileBytes);
        var (values, missing) = BlockValues(blocks[0].Values);
        if (values.Shape.Count != 1) throw new PickleException("the Series' values are not one-dimensional");
        var name = state is Dictionary<object, object?> d && d.TryGetValue("name", out var n)
            ? Label(n, "the Series name") : null;
        return new PandasSeries(name, index, Column(values, "the values", index.Values.Count, missing));
    }

    private static object? State(PickledObject o, string what) => o.State switch
    {
        Dictionary<object, object?> d when d.TryGetValue("_mgr", out var m) || d.TryGetValue("_data", out m) => d,
        PickledObject => o.State,
        _ => throw new PickleException($"the {what} has no block manager"),
    };

    private static PickledObject ManagerNode(object? state) => state switch
    {
        Dictionary<object, object?> d => (d.TryGetValue("_mgr", out var m) ? m : d["_data"]) as PickledObject
            ?? throw new PickleException("the block manager is not an object"),
        PickledObject m => m,
        _ => throw new PickleException("the block manager is missing"),
    };

    /// <summary>
    /// The axes and (values, placement) blocks of a block manager, in either of the layouts pandas writes.
    /// </summary>
    private static (List<object?> Axes, List<(object? Values, object? Placement)> Blocks) Manager(object? state,
        string expected)
    {
        var mgr = ManagerNode(state);
        if (mgr.ClassName != expected)
            throw new PickleException($"its block manager is {mgr.ClassName}, not {expected}");
        if (mgr.Arguments.Count >= 2)
        {
            // pandas >= 1.3 (and 2.x): BlockManager(blocks, axes) / SingleBlockManager(block, axis) by REDUCE.
            if (expected.EndsWith(".SingleBlockManager", StringComparison.Ordinal))
                return ([mgr.Arguments[1]], [BlockCall(mgr.Arguments[0])]);
            var blocks = mgr.Arguments[0] switch
            {
                object?[] t => t.ToList(),
                List<object?> l => l,
                _ => throw new PickleException("the blocks are not a tuple"),
            };
            var axes = mgr.Arguments[1] as List<object?> ?? throw new PickleException("the axes are not a list");
            return (axes, blocks.Select(BlockCall).ToList());
        }
        // __getstate__: (axes, values, items, {"0.14.1": {"axes": [...], "blocks": [{"values", "mgr_locs"}]}}).
        if (mgr.State is object?[] { Length: >= 4 } s && s[3] is Dictionary<object, object?> extra
            && extra.TryGetValue("0.14.1", out var v) && v is Dictionary<object, object?> layout
            && layout.TryGetValue("axes", out var a) && a is List<object?> stateAxes
            && layout.TryGetValue("blocks", out var b) && b is List<object?> stateBlocks)
        {
            var blocks = stateBlocks.Select(x => x is Dictionary<object, object?> blk
                    && blk.TryGetValue("values", out var vals) && blk.TryGetValue("mgr_locs", out var locs)
                ? (vals, locs) : throw new PickleException("a block's state has no values or mgr_locs")).ToList();
            return (stateAxes, blocks);
        }
        throw new PickleException("its block manager has neither blocks and axes nor a pandas 0.14.1+ state");
    }

    private static (object? Values, object? Placement) BlockCall(object? node) => node switch
    {
        PickledObject { ClassName: "pandas._libs.internals._unpickle_block" or "pandas.core.internals.blocks.new_block",
            Arguments: [var values, var placement, ..] } => (values, placement),
        _ => throw new PickleException($"a block is {Describe(node)}"),
    };

    private static List<int> Placement(object? node, int columns)
    {
        IEnumerable<long> positions = node switch
        {
            PickledObject { ClassName: "builtins.slice", Arguments: [var start, var stop, var step] } =>
                Range(start, stop, step, columns),
            List<object?> list =>
                list.Select(x => x as long? ?? throw new PickleException("a block placement is not an integer")),
            _ when NumpyArray.IsArray(node) => NumpyArray.From(node, "a block placement").ToInt64s(),
            _ => throw new PickleException($"a block placement is {Describe(node)}"),
        };
        var result = new List<int>();
        foreach (var p in positions)
        {
            if (p < 0 || p >= columns) throw new PickleException($"a block is placed at column {p} of {columns}");
            result.Add((int)p);
        }
        return result;
    }

    private static IEnumerable<long> Range(object? start, object? stop, object? step, int columns)
    {
        long first = start as long? ?? 0, end = stop as long? ?? columns, by = step as long? ?? 1;
        if (by <= 0 || end - first > columns) throw new PickleException("a block placement slice is out of range");
        for (var i = first; i < end; i += by) yield return i;
    }

    /// <summary>
    /// A block's values: a numpy array, the numpy array inside a pandas DatetimeArray, or the values and the missing
    /// mask of a nullable (masked) array.
    /// </summary>
    private static (NumpyArray Values, bool[]? Missing) BlockValues(object? node)
    {
        if (NumpyArray.IsArray(node)) return (NumpyArray.From(node, "a block"), null);
        if (node is PickledObject { ClassName: var cls } masked && MaskedArrays.Contains(cls))
            return MaskedValues(masked, cls[(cls.LastIndexOf('.') + 1)..]);
        return (BackedArray(node, "a block"), null);
    }

    /// <summary>pandas' nullable arrays (<c>Float64</c>, <c>Int64</c>…, <c>boolean</c>), pandas 1.0 to 2.x.</summary>
    private static readonly HashSet<string> MaskedArrays =
    [
        "pandas.core.arrays.floating.FloatingArray", "pandas.core.arrays.integer.IntegerArray",
        "pandas.core.arrays.boolean.BooleanArray",
    ];

    // Pickled by NEWOBJ of the class and a __dict__ holding _data (the values) and _mask (true where missing).
    private static (NumpyArray Values, bool[]? Missing) MaskedValues(PickledObject array, string what)
    {
        if (array.State is not Dictionary<object, object?> d || !d.TryGetValue("_data", out var data)
            || !d.TryGetValue("_mask", out var mask))
        {
            throw new PickleException($"a {what} block has no _data and _mask");
        }

        var values = NumpyArray.From(data, $"a {what} block's values");
        var missing = NumpyArray.From(mask, $"a {what} block's mask").ToBools();
        if (values.Shape.Count != 1 || missing.Length != values.Count)
            throw new PickleException($"a {what} block's mask does not match its {values.Count} values");
        return (values, missing);
    }

    /// <summary>The ndarray a pandas extension array wraps: DatetimeArray (pandas 1.0 to 2.x layouts).</summary>
    private static NumpyArray BackedArray(object? node, string where)
    {
        // pandas >= 1.3 pickles it through Cython's __pyx_unpickle_NDArrayBacked(cls, checksum, None) and BUILD;
        // pandas 1.0 to 1.2 by NEWOBJ of the class and BUILD. Either state is a (dtype, ndarray, attributes) tuple
        // (NDArrayBacked.__setstate__ also takes the two swapped, or a one-dict tuple) or a __dict__ holding
        // _dtype and _ndarray (_data before pandas 1.3).
        var cls = node switch
        {
            PickledObject { ClassName: "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
                Arguments: [PickledGlobal c, ..] } => c.FullName,
            PickledObject { ClassName: "pandas.core.arrays.datetimes.DatetimeArray" } o => o.ClassName,
            _ => throw new PickleException($"{where} is {Describe(node)}, not a numpy array or DatetimeArray"),
        };
        if (cls != "pandas.core.arrays.datetimes.DatetimeArray") throw new PickleException($"{where} is a {cls}");
        var state = ((PickledObject)node).State;
        if (state is object?[] { Length: 1 } single) state = single[0];
        var (dtype, values) = state switch
        {
            object?[] { Length: >= 2 } t => NumpyArray.IsArray(t[0]) ? (t[1], t[0]) : (t[0], t[1]),
            Dictionary<object, object?> d => (d.GetValueOrDefault("_dtype"),
                d.GetValueOrDefault("_ndarray") ?? d.GetValueOrDefault("_data")),
            _ => throw new PickleException($"{where} is a DatetimeArray without its values"),
        };
        if (dtype is PickledObject { ClassName: not "numpy.dtype" } tz)
            throw new PickleException($"{where} has the dtype {tz.ClassName} (time zones are not read)");
        return NumpyArray.From(values, where);
    }

    private static PandasIndex Index(object? node, string where, int fileBytes)
    {
        if (node is not PickledObject { Arguments: [PickledGlobal cls, Dictionary<object, object?> d] } call
            || call.ClassName is not ("pandas.core.indexes.base._new_Index"
                or "pandas.core.indexes.datetimes._new_DatetimeIndex"))
        {
            throw new PickleException($"{where} is {Describe(node)}");
        }

        var name = d.TryGetValue("name", out var n) ? Label(n, $"{where}'s name") : null;
        switch (cls.FullName)
        {
            case "pandas.core.indexes.range.RangeIndex":
            {
                var start = d.GetValueOrDefault("start") as long? ?? 0;
                var stop = d.GetValueOrDefault("stop") as long? ?? 0;
                var step = d.GetValueOrDefault("step") as long? ?? 1;
                if (step == 0) throw new PickleException($"{where} is a RangeIndex with step 0");
                var count = Math.Max(0, checked(stop - start + step - Math.Sign(step)) / step);
                // Nothing in the file backs a RangeIndex's entries, so its length is held to the file's size.
                if (count > fileBytes)
                    throw new PickleException($"{where} is a RangeIndex of {count} entries in a {fileBytes}-byte file");
                long[] entries = [.. Enumerable.Range(0, (int)count).Select(i => checked(start + i * step))];
                return new PandasIndex(name, new IntColumn(entries));
            }
            case "pandas.core.indexes.base.Index" or "pandas.core.indexes.numeric.Int64Index"
                or "pandas.core.indexes.numeric.Float64Index" or "pandas.core.indexes.numeric.NumericIndex"
                or "pandas.core.indexes.datetimes.DatetimeIndex":
            {
                if (!d.TryGetValue("data", out var data)) throw new PickleException($"{where} has no data");
                if (d.TryGetValue("tz", out var tz) && tz is not null)
                    throw new PickleException($"{where} has a time zone");
                var array = NumpyArray.IsArray(data) ? NumpyArray.From(data, where) : BackedArray(data, where);
                if (array.Shape.Count != 1) throw new PickleException($"{where} is not one-dimensional");
                return new PandasIndex(name, Column(array, where, array.Count));
            }
            default:
                throw new PickleException($"{where} is a {cls.FullName}, which RdBridge does not read");
        }
    }
}
