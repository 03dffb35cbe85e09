using System.Buffers.Binary;
using System.Text;

namespace RdBridge.Pickles;

/// <summary>
/// A numpy dtype as pickled: kind letter (f, i, u, b, M, O, …), item size, byte order, datetime unit.
/// </summary>
public sealed record NumpyDtype(char Kind, int ItemSize, bool BigEndian, string? Unit)
{
    /// <summary>The name numpy prints: float64, int64, bool, datetime64[ns], object.</summary>
    public string Name => Kind switch
    {
        'f' => $"float{ItemSize * 8}",
        'i' => $"int{ItemSize * 8}",
        'u' => $"uint{ItemSize * 8}",
        'b' => "bool",
        'M' => $"datetime64[{Unit}]",
        'm' => $"timedelta64[{Unit}]",
        'O' => "object",
        _ => $"{Kind}{ItemSize}",
    };

    /// <summary>
    /// Reads the <c>numpy.dtype</c> call a pickle records: its arguments and the state BUILD gave it.
    /// </summary>
    public static NumpyDtype From(object? node, string where)
    {
        if (node is not PickledObject { ClassName: "numpy.dtype", Arguments: [string spec, ..] } o)
            throw new PickleException($"{where} is {Pandas.Describe(node)}, not a numpy dtype");
        if (spec.Length < 2 || !int.TryParse(spec.AsSpan(1), out var size) || size is < 1 or > 64)
            throw new PickleException($"{where} has the numpy dtype '{spec}', which RdBridge does not read");
        var kind = spec[0];
        var bigEndian = false;
        string? unit = null;
        if (o.State is object?[] state && state.Length >= 2)
        {
            bigEndian = state[1] is ">";
            // numpy keeps a datetime's unit in the 9th state item: (metadata, (unit, count, 1, 1)).
            if (state.Length >= 9 && state[8] is object?[] { Length: 2 } meta
                && meta[1] is object?[] { Length: >= 2 } dt)
            {
                unit = dt[0] switch { byte[] b => Encoding.ASCII.GetString(b), string s => s, _ => null };
                if (dt[1] is not 1L) unit = $"{dt[1]}{unit}";
            }
        }
        if (kind is 'M' or 'm' && unit is null)
            throw new PickleException($"{where} is a {(kind == 'M' ? "datetime64" : "timedelta64")} without a unit");
        return new NumpyDtype(kind, size, bigEndian, unit);
    }
}

/// <summary>
/// A numpy array read from a pickle as data: its dtype, shape, memory order and either its raw bytes or, for the object
/// dtype, its items. Built only from numpy's own reconstructors (<c>_reconstruct</c> + state, <c>_frombuffer</c>).
/// </summary>
public sealed record NumpyArray(NumpyDtype Dtype, IReadOnlyList<int> Shape, bool FortranOrder, byte[]? Bytes,
    IReadOnlyList<object?>? Objects)
{
    public int Count => Shape.Aggregate(1, (a, b) => a * b);

    private static readonly string[] ReconstructNames =
        ["numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct"];
    private static readonly string[] FromBufferNames =
        ["numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer"];

    public static bool IsArray(object? node) =>
        node is PickledObject o && (ReconstructNames.Contains(o.ClassName) || FromBufferNames.Contains(o.ClassName));

    /// <summary>
    /// The array a pickle node rebuilds, checked: the byte count must match shape × item size exactly.
    /// </summary>
    public static NumpyArray From(object? node, string where)
    {
        if (node is PickledObject r && ReconstructNames.Contains(r.ClassName))
        {
            // ndarray.__reduce__: _reconstruct(ndarray, (0,), b'b') then BUILD (version, shape, dtype, fortran, data).
            if (r.Arguments is not [PickledGlobal { FullName: "numpy.ndarray" }, ..])
            {
                throw new PickleException($"{where} is a numpy array subclass " +
                    $"({Pandas.Describe(r.Arguments.FirstOrDefault())}), which RdBridge does not read");
            }

            var state = r.State as object?[]
                ?? throw new PickleException($"{where} is a numpy array without its state");
            if (state.Length == 5) state = state[1..];
            if (state.Length != 4)
                throw new PickleException($"{where} has a numpy array state of {IO.Counted.Of(state.Length, "item")}");
            var dtype = NumpyDtype.From(state[1], where);
            return Checked(dtype, ShapeOf(state[0], where), state[2] is true, state[3], where);
        }
        if (node is PickledObject f && FromBufferNames.Contains(f.ClassName))
        {
            // Protocol 5: _frombuffer(buffer, dtype, shape, order[, axis_order]).
            if (f.Arguments.Count is < 4 or > 5)
            {
                throw new PickleException($"{where} calls _frombuffer with "
                    + $"{IO.Counted.Of(f.Arguments.Count, "argument")}");
            }
            var dtype = NumpyDtype.From(f.Arguments[1], where);
            var shape = ShapeOf(f.Arguments[2], where);
            var fortran = f.Arguments[3] is "F";
            if (f.Arguments[3] is "K" && f.Arguments.Count == 5 && f.Arguments[4] is object?[] axes)
            {
                // numpy 2: the C-ordered buffer of the transposed array, transposed back by axis_order.
                if (axes.Length <= 1) { }
                else if (axes is [1L, 0L]) { shape = [shape[1], shape[0]]; fortran = true; }
                else if (!axes.Select((a, i) => a is long l && l == i).All(x => x))
                {
                    throw new PickleException($"{where} is a numpy array with axis order ({string.Join(", ", axes)})");
                }
            }
            else if (f.Arguments[3] is not ("C" or "F" or "K"))
            {
                throw new PickleException($"{where} has the numpy memory order '{f.Arguments[3]}'");
            }

            return Checked(dtype, shape, fortran, f.Arguments[0], where);
        }
        throw new PickleException($"{where} is {Pandas.Describe(node)}, not a numpy array");
    }

    private static int[] ShapeOf(object? node, string where)
    {
        if (node is not object?[] dims || dims.Length > 32)
            throw new PickleException($"{where} has no numpy shape tuple");
        var shape = new int[dims.Length];
        for (var i = 0; i < dims.Length; i++)
        {
            shape[i] = dims[i] is long d && d >= 0 && d <= Array.MaxLength
                ? (int)d : throw new PickleException($"{where} has the impossible dimension {dims[i]}");
        }

        return shape;
    }

    private static NumpyArray Checked(NumpyDtype dtype, int[] shape, bool fortran, object? data, string where)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count *= d;
            if (count > Array.MaxLength)
                throw new PickleException($"{where} declares a numpy array of more than {Array.MaxLength} items");
        }
        if (dtype.Kind == 'O')
        {
            var items = data as List<object?>
                ?? throw new PickleException($"{where} is an object array without its items");
            if (items.Count != count)
                throw new PickleException($"{where} has {IO.Counted.Of(items.Count, "item")} for a shape of {count}");
            return new NumpyArray(dtype, shape, fortran, null, items);
        }
        var bytes = data as byte[] ?? throw new PickleException($"{where} is a numpy array without its bytes");
        if (bytes.LongLength != count * dtype.ItemSize)
        {
            throw new PickleException($"{where} holds {IO.Counted.Of(bytes.LongLength, "byte")} for a {dtype.Name} "
                + "array of shape " +
                $"({string.Join(", ", shape)}), which needs {count * dtype.ItemSize}; the file is corrupt");
        }

        return new NumpyArray(dtype, shape, fortran, bytes, null);
    }

    /// <summary>
    /// Row <paramref name="row"/> of a two-dimensional array (a pandas block: one row per column), as 1-D.
    /// </summary>
    public NumpyArray Row(int row)
    {
        if (Shape.Count != 2 || row < 0 || row >= Shape[0]) throw new ArgumentOutOfRangeException(nameof(row));
        int rows = Shape[0], n = Shape[1];
        int Source(int j) => FortranOrder ? j * rows + row : row * n + j;
        if (Objects is not null)
        {
            List<object?> items = [.. Enumerable.Range(0, n).Select(j => Objects[Source(j)])];
            return this with { Shape = [n], FortranOrder = false, Objects = items };
        }
        var size = Dtype.ItemSize;
        var bytes = new byte[n * size];
        for (var j = 0; j < n; j++) Bytes.AsSpan(Source(j) * size, size).CopyTo(bytes.AsSpan(j * size));
        return this with { Shape = [n], FortranOrder = false, Bytes = bytes };
    }

    public double[] ToDoubles() => Dtype is { Kind: 'f', ItemSize: 8 }
        ? Read(8, s => Dtype.BigEndian
            ? BinaryPrimitives.ReadDoubleBigEndian(s) : BinaryPrimitives.ReadDoubleLittleEndian(s))
        : throw new PickleException($"a {Dtype.Name} array is not float64");

    public long[] ToInt64s() => Dtype is { Kind: 'i' or 'M' or 'm', ItemSize: 8 }
        ? Read(8, s => Dtype.BigEndian
            ? BinaryPrimitives.ReadInt64BigEndian(s) : BinaryPrimitives.ReadInt64LittleEndian(s))
        : throw new PickleException($"a {Dtype.Name} array is not int64");

    public bool[] ToBools() => Dtype is { Kind: 'b', ItemSize: 1 }
        ? Read(1, s => s[0] != 0)
        : throw new PickleException($"a {Dtype.Name} array is not bool");

    /// <summary>A float16, float32 or float64 array as float64: every value (NaN and infinities too) is
    /// exact.</summary>
    public double[] ToWidenedDoubles()
    {
        var big = Dtype.BigEndian;
        return Dtype switch
        {
            { Kind: 'f', ItemSize: 8 } => ToDoubles(),
            { Kind: 'f', ItemSize: 4 } => Read(4, s => (double)(big
                ? BinaryPrimitives.ReadSingleBigEndian(s) : BinaryPrimitives.ReadSingleLittleEndian(s))),
            { Kind: 'f', ItemSize: 2 } => Read(2, s => (double)(big
                ? BinaryPrimitives.ReadHalfBigEndian(s) : BinaryPrimitives.ReadHalfLittleEndian(s))),
            _ => throw new PickleException($"a {Dtype.Name} array is not a float array"),
        };
    }

    /// <summary>A signed or unsigned integer array of any size as int64; a uint64 value above the int64 range is
    /// refused (it has no exact int64).</summary>
    public long[] ToWidenedInt64s(string where)
    {
        var big = Dtype.BigEndian;
        return Dtype switch
        {
            { Kind: 'i', ItemSize: 8 } => ToInt64s(),
            { Kind: 'i', ItemSize: 4 } => Read(4, s => (long)(big
                ? BinaryPrimitives.ReadInt32BigEndian(s) : BinaryPrimitives.ReadInt32LittleEndian(s))),
            { Kind: 'i', ItemSize: 2 } => Read(2, s => (long)(big
                ? BinaryPrimitives.ReadInt16BigEndian(s) : BinaryPrimitives.ReadInt16LittleEndian(s))),
            { Kind: 'i', ItemSize: 1 } => Read(1, s => (long)(sbyte)s[0]),
            { Kind: 'u', ItemSize: 8 } => Read(8, s =>
            {
                var v = big ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s);
                return v <= long.MaxValue ? (long)v
                    : throw new PickleException($"{where} holds the uint64 value {v}, above what int64 holds");
            }),
            { Kind: 'u', ItemSize: 4 } => Read(4, s => (long)(big
                ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s))),
            { Kind: 'u', ItemSize: 2 } => Read(2, s => (long)(big
                ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s))),
            { Kind: 'u', ItemSize: 1 } => Read(1, s => (long)s[0]),
            _ => throw new PickleException($"a {Dtype.Name} array is not an integer array"),
        };
    }

    private T[] Read<T>(int size, Func<ReadOnlySpan<byte>, T> read)
    {
        var bytes = Bytes!;
        var values = new T[bytes.Length / size];
        for (var i = 0; i < values.Length; i++) values[i] = read(bytes.AsSpan(i * size, size));
        return values;
    }
}
