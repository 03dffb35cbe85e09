using System.Buffers.Binary;
using System.Text;

namespace RdBridge.Pickles;

/// <summary>
/// Writes a DataFrame of float64 columns indexed by dates in the layout pandas 1.5 with numpy 1.x pickles it: one
/// block per column as Qlib builds its report, module paths <c>numpy.core</c>, a DatetimeIndex through
/// <c>_new_DatetimeIndex</c>. Protocol 4 is what Qlib's recorder writes; protocol 5 is pandas' <c>to_pickle</c> default
/// (<c>ret.pkl</c>), where float arrays travel as in-band buffers through <c>_frombuffer</c>. The sample generator uses
/// it so its <c>ret.pkl</c> files are what real pandas reads.
/// </summary>
public static class PandasPickleWriter
{
    /// <summary>The Cython layout checksum pandas 1.x writes for its NDArrayBacked arrays (_dtype, _ndarray).</summary>
    private const int NdArrayBackedChecksum = 223698104;

    public static byte[] DataFrame(IReadOnlyList<DateTime> dates,
        IReadOnlyList<(string Name, IReadOnlyList<double> Values)> columns, int protocol = 5,
        string indexName = "datetime")
    {
        if (protocol is not (4 or 5)) throw new ArgumentOutOfRangeException(nameof(protocol), "protocol 4 or 5");
        if (columns.Any(c => c.Values.Count != dates.Count))
            throw new ArgumentException("every column needs one value per date", nameof(columns));
        var w = new Emitter(protocol);
        w.Proto();
        w.Global("pandas.core.frame", "DataFrame");
        w.Op(')'); w.Op(0x81);                                     // NEWOBJ with no arguments
        w.Op('}'); w.Op('(');
        w.Text("_mgr");
        w.Global("pandas.core.internals.managers", "BlockManager");
        w.Op('(');
        for (var k = 0; k < columns.Count; k++)
        {
            w.Global("pandas._libs.internals", "_unpickle_block");
            FloatArray(w, columns[k].Values, [1, dates.Count]);
            w.Global("builtins", "slice");
            w.Int(k); w.Int(k + 1); w.Int(1); w.Op(0x87); w.Op('R');
            w.Int(2); w.Op(0x87); w.Op('R');
        }
        w.Op('t');
        w.Op(']'); w.Op('(');
        ColumnIndex(w, columns.Select(c => c.Name).ToList());
        DatetimeIndex(w, dates, indexName);
        w.Op('e');
        w.Op(0x86); w.Op('R');
        w.Text("_typ"); w.Text("dataframe");
        w.Text("_metadata"); w.Op(']');
        w.Text("attrs"); w.Op('}');
        w.Text("_flags"); w.Op('}'); w.Text("allows_duplicate_labels"); w.Op(0x88); w.Op('s');
        w.Op('u'); w.Op('b');
        w.Op('.');
        return w.ToArray();
    }

    /// <summary>
    /// A Series of float64 values indexed by strings, as pandas 1.5 with numpy 1.x pickles it: the Series' state with a
    /// <c>SingleBlockManager</c> whose own state is the legacy tuple pandas keeps writing (axes, values, items, and
    /// the <c>"0.14.1"</c> dict pandas reads back). This is how RD-Agent's runner holds the metrics it read back from
    /// <c>qlib_res.csv</c> (<c>read_csv(index_col=0).iloc[:, 0]</c>: name <c>"0"</c>, an object index).
    /// </summary>
    public static byte[] Series(IReadOnlyList<(string Name, double Value)> values, string name = "0", int protocol = 4)
    {
        var names = values.Select(v => v.Name).ToList();
        var w = new Emitter(protocol);
        return SeriesOf(w, () => ColumnIndex(w, names), values.Select(v => v.Value).ToList(), name, protocol);
    }

    /// <summary>
    /// A Series of float64 values indexed by dates, unnamed: what Qlib's <c>SigAnaRecord</c> saves as
    /// <c>sig_analysis/ic.pkl</c> and <c>ric.pkl</c> (one IC per trading day, index named <c>datetime</c>).
    /// </summary>
    public static byte[] DatedSeries(IReadOnlyList<DateTime> dates, IReadOnlyList<double> values, int protocol = 4)
    {
        if (dates.Count != values.Count) throw new ArgumentException("one value per date", nameof(values));
        var w = new Emitter(protocol);
        return SeriesOf(w, () => DatetimeIndex(w, dates, "datetime"), values, name: null, protocol);
    }

    private static byte[] SeriesOf(Emitter w, Action index, IReadOnlyList<double> numbers, string? name,
        int protocol)
    {
        if (protocol is not (4 or 5)) throw new ArgumentOutOfRangeException(nameof(protocol), "protocol 4 or 5");
        void Index() => index();
        void Values() => FloatArray(w, numbers, [numbers.Count]);
        w.Proto();
        w.Global("pandas.core.series", "Series");
        w.Op(')'); w.Op(0x81);
        w.Op('}'); w.Op('(');
        w.Text("_mgr");
        w.Global("pandas.core.internals.managers", "SingleBlockManager");
        w.Op(')'); w.Op(0x81);
        w.Op('(');
        w.Op(']'); Index(); w.Op('a');
        w.Op(']'); Values(); w.Op('a');
        w.Op(']'); Index(); w.Op('a');
        w.Op('}'); w.Text("0.14.1");
        w.Op('}'); w.Op('(');
        w.Text("axes"); w.Op(']'); Index(); w.Op('a');
        w.Text("blocks"); w.Op(']');
        w.Op('}'); w.Op('(');
        w.Text("values"); Values();
        w.Text("mgr_locs");
        w.Global("builtins", "slice"); w.Int(0); w.Int(numbers.Count); w.Int(1); w.Op(0x87); w.Op('R');
        w.Op('u'); w.Op('a');
        w.Op('u'); w.Op('s');
        w.Op('t'); w.Op('b');
        w.Text("_typ"); w.Text("series");
        w.Text("_metadata"); w.Op(']'); w.Text("name"); w.Op('a');
        w.Text("attrs"); w.Op('}');
        w.Text("_flags"); w.Op('}'); w.Text("allows_duplicate_labels"); w.Op(0x88); w.Op('s');
        w.Text("name");
        if (name is null) w.Op('N'); else w.Text(name);
        w.Op('u'); w.Op('b');
        w.Op('.');
        return w.ToArray();
    }

    private static void Dtype(Emitter w, string spec, string byteOrder, int flags, string? unit)
    {
        w.Global("numpy", "dtype");
        w.Text(spec); w.Op(0x89); w.Op(0x88); w.Op(0x87); w.Op('R');
        w.Op('(');
        w.Int(unit is null ? 3 : 4); w.Text(byteOrder);
        w.Op('N'); w.Op('N'); w.Op('N'); w.Int(-1); w.Int(-1); w.Int(flags);
        if (unit is not null)
        {
            w.Op('}');
            w.Op('('); w.Bytes(Encoding.ASCII.GetBytes(unit)); w.Int(1); w.Int(1); w.Int(1); w.Op('t');
            w.Op(0x86);
        }
        w.Op('t'); w.Op('b');
    }

    private static void Shape(Emitter w, int[] shape)
    {
        w.Op('(');
        foreach (var d in shape) w.Int(d);
        w.Op('t');
    }

    /// <summary>
    /// ndarray.__reduce__: _reconstruct(ndarray, (0,), b'b'), then BUILD (1, shape, dtype, False, data).
    /// </summary>
    private static void Reconstruct(Emitter w, int[] shape, Action dtype, Action data)
    {
        w.Global("numpy.core.multiarray", "_reconstruct");
        w.Global("numpy", "ndarray");
        w.Int(0); w.Op(0x85); w.Bytes([(byte)'b']); w.Op(0x87); w.Op('R');
        w.Op('(');
        w.Int(1); Shape(w, shape); dtype(); w.Op(0x89); data();
        w.Op('t'); w.Op('b');
    }

    private static void FloatArray(Emitter w, IReadOnlyList<double> values, int[] shape)
    {
        var bytes = new byte[values.Count * 8];
        for (var i = 0; i < values.Count; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), values[i]);
        if (w.Protocol >= 5)
        {
            // numpy >= 1.16 with protocol 5: _frombuffer(PickleBuffer, dtype, shape, order), the buffer in band.
            w.Global("numpy.core.numeric", "_frombuffer");
            w.Op('(');
            w.ByteArray(bytes); Dtype(w, "f8", "<", 0, null); Shape(w, shape); w.Text("C");
            w.Op('t'); w.Op('R');
        }
        else
        {
            Reconstruct(w, shape, () => Dtype(w, "f8", "<", 0, null), () => w.Bytes(bytes));
        }
    }

    private static void ColumnIndex(Emitter w, IReadOnlyList<string> names)
    {
        w.Global("pandas.core.indexes.base", "_new_Index");
        w.Global("pandas.core.indexes.base", "Index");
        w.Op('}'); w.Op('(');
        w.Text("data");
        Reconstruct(w, [names.Count], () => Dtype(w, "O8", "|", 63, null), () =>
        {
            w.Op(']'); w.Op('(');
            foreach (var n in names) w.Text(n);
            w.Op('e');
        });
        w.Text("name"); w.Op('N');
        w.Op('u');
        w.Op(0x86); w.Op('R');
    }

    private static void DatetimeIndex(Emitter w, IReadOnlyList<DateTime> dates, string name)
    {
        var bytes = new byte[dates.Count * 8];
        for (var i = 0; i < dates.Count; i++)
        {
            var nanoseconds = checked((dates[i].Ticks - DateTime.UnixEpoch.Ticks) * 100);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), nanoseconds);
        }
        w.Global("pandas.core.indexes.datetimes", "_new_DatetimeIndex");
        w.Global("pandas.core.indexes.datetimes", "DatetimeIndex");
        w.Op('}'); w.Op('(');
        w.Text("data");
        w.Global("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked");
        w.Global("pandas.core.arrays.datetimes", "DatetimeArray");
        w.Int(NdArrayBackedChecksum); w.Op('N'); w.Op(0x87); w.Op('R');
        // BUILD state (dtype, ndarray, attributes); datetime64 arrays do not export a buffer, so even protocol 5
        // pickles them through _reconstruct.
        Dtype(w, "M8", "<", 0, "ns");
        Reconstruct(w, [dates.Count], () => Dtype(w, "M8", "<", 0, "ns"), () => w.Bytes(bytes));
        w.Op('}'); w.Text("_freq"); w.Op('N'); w.Op('s');
        w.Op(0x87); w.Op('b');
        w.Text("name"); w.Text(name);
        w.Op('u');
        w.Op(0x86); w.Op('R');
    }

    /// <summary>Appends opcodes; strings and bytes use the shortest form the protocol has.</summary>
    private sealed class Emitter(int protocol)
    {
        private readonly MemoryStream _out = new();
        public int Protocol { get; } = protocol;

        public void Op(char op) => _out.WriteByte((byte)op);
        public void Op(byte op) => _out.WriteByte(op);
        public void Proto() { Op(0x80); Op((byte)Protocol); }

        public void Global(string module, string name)
        {
            Text(module); Text(name); Op(0x93);
        }

        public void Text(string s)
        {
            var utf8 = Encoding.UTF8.GetBytes(s);
            if (utf8.Length < 256) { Op(0x8c); Op((byte)utf8.Length); }
            else { Op('X'); Little32(utf8.Length); }
            _out.Write(utf8);
        }

        public void Bytes(byte[] b)
        {
            if (b.Length < 256) { Op('C'); Op((byte)b.Length); }
            else { Op('B'); Little32(b.Length); }
            _out.Write(b);
        }

        public void ByteArray(byte[] b)
        {
            Op(0x96);
            Span<byte> n = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(n, (ulong)b.Length);
            _out.Write(n);
            _out.Write(b);
        }

        public void Int(long v)
        {
            if (v is >= 0 and < 256) { Op('K'); Op((byte)v); }
            else if (v is >= 0 and < 65536)
            {
                Op('M');
                Span<byte> b = stackalloc byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v);
                _out.Write(b);
            }
            else { Op('J'); Little32(checked((int)v)); }
        }

        private void Little32(int v)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, v);
            _out.Write(b);
        }

        public byte[] ToArray() => _out.ToArray();
    }
}
