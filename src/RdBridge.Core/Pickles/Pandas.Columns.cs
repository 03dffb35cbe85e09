using System.Globalization;
using System.Numerics;

namespace RdBridge.Pickles;

// Numpy arrays and pickled scalars made into typed columns, labels and names: what a frame's parts hold.
public static partial class Pandas
{
    /// <summary>
    /// A column in its dtype, numbers widened exactly: every float to float64, every signed or unsigned integer to
    /// int64 (a uint64 above the int64 range is refused, not rounded). A nullable column's missing values are NaN in
    /// a float column; a nullable integer column with missing values becomes float64 when each value is exact there.
    /// </summary>
    private static PandasColumn Column(NumpyArray array, string where, int rows, bool[]? missing = null)
    {
        if (array.Count != rows)
        {
            throw new PickleException($"{where} has {IO.Counted.Of(array.Count, "value")} for "
                + $"{IO.Counted.Of(rows, "row")}");
        }
        var anyMissing = missing is not null && missing.Contains(true);
        if (anyMissing && array.Dtype.Kind is not ('f' or 'i' or 'u' or 'b'))
            throw new PickleException($"{where} is a nullable {array.Dtype.Name} column");
        switch (array.Dtype)
        {
            case { Kind: 'f', ItemSize: 2 or 4 or 8 }:
            {
                var values = array.ToWidenedDoubles();
                if (anyMissing) for (var i = 0; i < values.Length; i++) if (missing![i]) values[i] = double.NaN;
                return new FloatColumn(values);
            }
            case { Kind: 'i' or 'u', ItemSize: 1 or 2 or 4 or 8 }:
            {
                var values = array.ToWidenedInt64s(where);
                if (!anyMissing) return new IntColumn(values);
                const long exact = 1L << 53;
                var widened = new double[values.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    if (missing![i]) { widened[i] = double.NaN; continue; }
                    if (values[i] is > exact or < -exact)
                    {
                        throw new PickleException($"{where} is a nullable integer column with missing values and " +
                            $"the value {values[i]}, which float64 cannot hold exactly");
                    }
                    widened[i] = values[i];
                }
                return new FloatColumn(widened);
            }
            case { Kind: 'b', ItemSize: 1 }:
            {
                var values = array.ToBools();
                return anyMissing
                    ? new ObjectColumn([.. values.Select((v, i) => missing![i] ? null : (object?)v)])
                    : new BoolColumn(values);
            }
            case { Kind: 'M', ItemSize: 8 }:
                return new DateTimeColumn(DateTimes(array, where));
            case { Kind: 'O' }:
                return new ObjectColumn([.. array.Objects!.Select(o => Scalar(o, where))]);
            default:
                throw new PickleException($"{where} has the dtype {array.Dtype.Name}; RdBridge reads floats, signed " +
                    "and unsigned integers, bool (each also nullable), datetime64 and object");
        }
    }

    /// <summary>
    /// A numeric column as float64 where each value is exact there (integers within ±2^53, booleans as 0 and 1);
    /// null for a column that is not numeric or holds an integer float64 would round.
    /// </summary>
    public static FloatColumn? AsFloat64(PandasColumn column)
    {
        const long exact = 1L << 53;
        return column switch
        {
            FloatColumn f => f,
            IntColumn i when i.Values.All(v => v is <= exact and >= -exact) =>
                new FloatColumn([.. i.Values.Select(v => (double)v)]),
            BoolColumn b => new FloatColumn([.. b.Values.Select(v => v ? 1.0 : 0.0)]),
            _ => null,
        };
    }

    private static DateTime?[] DateTimes(NumpyArray array, string where)
    {
        long ticksPer = array.Dtype.Unit switch
        {
            "ns" => 0, "us" => 10, "ms" => TimeSpan.TicksPerMillisecond, "s" => TimeSpan.TicksPerSecond,
            "D" => TimeSpan.TicksPerDay,
            _ => throw new PickleException($"{where} has the datetime unit '{array.Dtype.Unit}'"),
        };
        var raw = array.ToInt64s();
        var result = new DateTime?[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == long.MinValue) continue; // NaT
            var ticks = ticksPer == 0 ? raw[i] / 100 : raw[i] * (Int128)ticksPer;
            if (ticks < -DateTime.UnixEpoch.Ticks || ticks > DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks)
                throw new PickleException($"{where} has a date outside the years 1 to 9999");
            result[i] = DateTime.UnixEpoch.AddTicks((long)ticks);
        }
        return result;
    }

    /// <summary>An item of an object array: a plain scalar, or a numpy scalar turned into one.</summary>
    private static object? Scalar(object? item, string where) => item switch
    {
        null or string or long or double or bool => item,
        BigInteger big => (double)big,
        PickledObject { ClassName: "numpy.core.multiarray.scalar" or "numpy._core.multiarray.scalar",
            Arguments: [var dtype, byte[] bytes] } => NumpyScalar(NumpyDtype.From(dtype, where), bytes, where),
        _ => throw new PickleException($"{where} holds {Describe(item)}, not a plain value"),
    };

    private static object NumpyScalar(NumpyDtype dtype, byte[] bytes, string where)
    {
        var one = new NumpyArray(dtype, [1], false, bytes, null);
        if (bytes.Length != dtype.ItemSize)
            throw new PickleException($"{where} holds a numpy scalar of the wrong size");
        return dtype switch
        {
            { Kind: 'f', ItemSize: 8 } => one.ToDoubles()[0],
            { Kind: 'i', ItemSize: 8 } => one.ToInt64s()[0],
            { Kind: 'b', ItemSize: 1 } => one.ToBools()[0],
            _ => throw new PickleException($"{where} holds a numpy {dtype.Name} scalar"),
        };
    }

    /// <summary>A column or index name as text: pandas allows any hashable, RdBridge reads text and numbers.</summary>
    private static string? Label(object? value, string where) => value switch
    {
        null => null,
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "True" : "False",
        PickledObject o when o.ClassName.EndsWith(".scalar", StringComparison.Ordinal) =>
            Label(Scalar(o, where), where),
        _ => throw new PickleException($"{where} is {Describe(value)}"),
    };

    private static List<string> ColumnNames(PandasColumn columns) => columns switch
    {
        ObjectColumn o => [.. o.Values.Select(v => Label(v, "a column name") ?? "None")],
        IntColumn i => [.. i.Values.Select(v => v.ToString(CultureInfo.InvariantCulture))],
        _ => throw new PickleException($"the column names are {columns.Dtype}"),
    };

    /// <summary>
    /// A short description of a pickled value for error messages, in Python's words (the pickle's own types), never
    /// the .NET type the reader holds it in.
    /// </summary>
    internal static string Describe(object? value) => value switch
    {
        null => "None",
        PickledObject o => $"a {o.ClassName} object",
        PickledGlobal g => $"the name {g.FullName}",
        string => "a string",
        long or BigInteger => "an integer",
        double => "a float",
        bool => "a boolean",
        byte[] => "bytes",
        object?[] => "a tuple",
        List<object?> => "a list",
        Dictionary<object, object?> => "a dict",
        PickledSet s => s.Frozen ? "a frozenset" : "a set",
        // Nothing else comes out of the pickle reader; a value that did would still not be named in .NET's terms.
        _ => "a value of a kind pickles do not hold",
    };
}
