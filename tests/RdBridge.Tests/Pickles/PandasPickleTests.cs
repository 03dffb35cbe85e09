using System.Text.Json;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

/// <summary>DataFrames and Series pickled in the test by real pandas (Debian's 1.5.3), read back by RdBridge.</summary>
public class PandasPickleTests
{
    // A Qlib-shaped report of three days with a NaN, as Qlib's PortAnaRecord would save it.
    private const string ThreeDays = """
        import pandas as pd, numpy as np
        idx = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"], name="datetime")
        df = pd.DataFrame({"account": [1e8, 1.0001e8, 0.9999e8], "return": [0.01, np.nan, -0.02],
                           "total_turnover": [0.0, 1.0, 2.0], "turnover": [0.5, 0.25, 0.125],
                           "total_cost": [0.0, 0.1, 0.2], "cost": [0.001, 0.0, 0.002], "value": [1.0, 2.0, 3.0],
                           "cash": [3.0, 2.0, 1.0], "bench": [0.005, 0.004, -0.01]}, index=idx)
        """ + "\n";

    private static PandasFrame WriteAndRead(TempDir dir, string build, int protocol, out JsonElement expected)
    {
        RealPandas.Run(dir.Path, build + $"\ndf.to_pickle('f.pkl', protocol={protocol})\n");
        expected = RealPandas.DescribeFrame(dir.Path, dir["f.pkl"]);
        return Pandas.ReadFrame(File.ReadAllBytes(dir["f.pkl"]), dir["f.pkl"]);
    }

    private static void AssertSameFloats(JsonElement expected, PandasFrame frame)
    {
        Assert.Equal(expected.GetProperty("columns").EnumerateArray().Select(e => e.GetString()!), frame.Columns);
        foreach (var column in expected.GetProperty("bits").EnumerateObject())
        {
            Assert.Equal(column.Value.EnumerateArray().Select(e => e.GetInt64()),
                Assert.IsType<FloatColumn>(frame.Data[column.Name]).Values.Select(BitConverter.DoubleToInt64Bits));
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void A_report_pickled_by_pandas_reads_the_same_with_every_protocol(int protocol)
    {
        using var dir = new TempDir();
        var frame = WriteAndRead(dir, ThreeDays, protocol, out var expected);
        AssertSameFloats(expected, frame);
        Assert.Equal("datetime", frame.Index.Name);
        Assert.Equal([new DateTime(2020, 1, 2), new DateTime(2020, 1, 3), new DateTime(2020, 1, 6)],
            Assert.IsType<DateTimeColumn>(frame.Index.Values).Values.Select(d => d!.Value));
        Assert.True(double.IsNaN(((FloatColumn)frame.Data["return"]).Values[1]));
    }

    [Fact]
    public void A_consolidated_frame_with_int_bool_object_and_date_columns_keeps_each_type()
    {
        using var dir = new TempDir();
        // Built from a 2-D array and then extended, so pandas holds several multi-column blocks in Fortran order.
        var frame = WriteAndRead(dir, """
            import pandas as pd, numpy as np
            df = pd.DataFrame(np.arange(12, dtype="float64").reshape(4, 3), columns=["a", "b", "c"])
            df["n"] = np.array([1, -2, 3, 2**40], dtype="int64")
            df["ok"] = [True, False, True, True]
            df["label"] = ["甲", None, "c", "d"]
            df["when"] = pd.to_datetime(["2021-03-01", None, "2021-03-03 09:30", "2021-03-04"])
            df = df._consolidate()
            """, 4, out var expected);
        AssertSameFloats(expected, frame);
        Assert.Equal(["a", "b", "c", "n", "ok", "label", "when"], frame.Columns);
        Assert.Equal([0.0, 3, 6, 9], ((FloatColumn)frame.Data["a"]).Values);
        Assert.Equal([2.0, 5, 8, 11], ((FloatColumn)frame.Data["c"]).Values);
        Assert.Equal([1L, -2, 3, 1L << 40], ((IntColumn)frame.Data["n"]).Values);
        Assert.Equal([true, false, true, true], ((BoolColumn)frame.Data["ok"]).Values);
        Assert.Equal(["甲", null, "c", "d"], ((ObjectColumn)frame.Data["label"]).Values);
        Assert.Equal([new DateTime(2021, 3, 1), null, new DateTime(2021, 3, 3, 9, 30, 0), new DateTime(2021, 3, 4)],
            ((DateTimeColumn)frame.Data["when"]).Values);
        Assert.Equal([0L, 1, 2, 3], Assert.IsType<IntColumn>(frame.Index.Values).Values);
    }

    [Fact]
    public void A_single_day_and_an_empty_frame_are_read()
    {
        using var dir = new TempDir();
        var one = WriteAndRead(dir, ThreeDays + "df = df.iloc[:1]\n", 5, out var expected);
        AssertSameFloats(expected, one);
        Assert.Equal(1, one.RowCount);

        using var dir2 = new TempDir();
        var empty = WriteAndRead(dir2, ThreeDays + "df = df.iloc[:0]\n", 5, out _);
        Assert.Equal(0, empty.RowCount);
        Assert.Equal(9, empty.Columns.Count);
        Assert.All(empty.Data.Values, c => Assert.Equal(0, c.Count));

        using var dir3 = new TempDir();
        var nothing = WriteAndRead(dir3, "import pandas as pd\ndf = pd.DataFrame()\n", 4, out _);
        Assert.Equal(0, nothing.RowCount);
        Assert.Empty(nothing.Columns);
    }

    [Fact]
    public void An_unexpected_extra_column_is_kept()
    {
        using var dir = new TempDir();
        var frame = WriteAndRead(dir, ThreeDays + "df['my_signal'] = [7.0, 8.0, 9.0]\n", 5, out var expected);
        AssertSameFloats(expected, frame);
        Assert.Equal("my_signal", frame.Columns[^1]);
        Assert.Equal([7.0, 8, 9], ((FloatColumn)frame.Data["my_signal"]).Values);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(5)]
    public void A_metrics_series_like_RD_Agents_experiment_result_is_read(int protocol)
    {
        using var dir = new TempDir();
        // exp.result: qlib_res.csv read back with read_csv(index_col=0).iloc[:, 0], so its name is the string "0".
        RealPandas.Run(dir.Path, $"""
            import pandas as pd, io
            csv = ",0\nIC,0.0448\n1day.excess_return_with_cost.max_drawdown,-0.1038\nl2.valid,nan\n"
            s = pd.read_csv(io.StringIO(csv), index_col=0).iloc[:, 0]
            s.to_pickle("s.pkl", protocol={protocol})
            """);
        var series = Pandas.ReadSeries(File.ReadAllBytes(dir["s.pkl"]), dir["s.pkl"]);
        Assert.Equal("0", series.Name);
        Assert.Equal(["IC", "1day.excess_return_with_cost.max_drawdown", "l2.valid"],
            Assert.IsType<ObjectColumn>(series.Index.Values).Values);
        var values = Assert.IsType<FloatColumn>(series.Values).Values;
        Assert.Equal(0.0448, values[0]);
        Assert.Equal(-0.1038, values[1]);
        Assert.True(double.IsNaN(values[2]));
    }

    [Fact]
    public void The_numpy_2_and_pandas_2_layout_is_read()
    {
        using var dir = new TempDir();
        // numpy 2 renamed numpy.core to numpy._core, and pickles name the new module. The same pickler writes the
        // frame with every array's reconstructor under numpy 2's names (stand-in modules only give pickle the names;
        // nothing here is ever unpickled by Python), and with blocks through pandas' new_block instead of
        // _unpickle_block.
        RealPandas.Run(dir.Path, ThreeDays + """
            import pickle, sys, types
            def stand_in(module, name):
                for m in (module.rsplit(".", 1)[0], module):
                    sys.modules.setdefault(m, types.ModuleType(m))
                def f(*args):
                    raise RuntimeError("only a name")
                f.__module__, f.__qualname__, f.__name__ = module, name, name
                setattr(sys.modules[module], name, f)
                return f
            names = {"_reconstruct": stand_in("numpy._core.multiarray", "_reconstruct"),
                     "_frombuffer": stand_in("numpy._core.numeric", "_frombuffer")}
            from pandas.core.internals.blocks import new_block
            class Numpy2(pickle.Pickler):
                def reducer_override(self, obj):
                    if type(obj) is np.ndarray:
                        r = obj.__reduce_ex__(self.p)
                        return (names[r[0].__name__],) + tuple(r[1:])
                    if type(obj).__module__ == "pandas.core.internals.blocks" and hasattr(obj, "mgr_locs"):
                        return (new_block, (obj.values, obj.mgr_locs.indexer, obj.ndim))
                    return NotImplemented
            for p in (4, 5):
                with open(f"np2_{p}.pkl", "wb") as f:
                    pickler = Numpy2(f, protocol=p)
                    pickler.p = p
                    pickler.dump(df)
            """);
        var expected = RealPandas.DescribeFrame(dir.Path, ThreeDaysFile(dir));
        foreach (var p in new[] { 4, 5 })
        {
            var bytes = File.ReadAllBytes(dir[$"np2_{p}.pkl"]);
            var text = System.Text.Encoding.Latin1.GetString(bytes);
            // Premises about the file the script wrote (it names numpy 2's modules and pandas 2's block maker, not
            // numpy 1's): which globals it holds besides is pandas' business; the frame read is checked exactly below.
            string[] names = p == 5
                ? ["numpy._core.multiarray", "new_block", "numpy._core.numeric"]
                : ["numpy._core.multiarray", "new_block"];
            Assert.All(names, name => Assert.Contains(name, text));
            Assert.DoesNotContain("numpy.core.", text);
            var frame = Pandas.ReadFrame(bytes, dir[$"np2_{p}.pkl"]);
            AssertSameFloats(expected, frame);
            Assert.Equal(3, frame.RowCount);
        }
    }

    [Fact]
    public void The_DatetimeArray_states_pandas_accepts_are_all_read()
    {
        using var dir = new TempDir();
        // NDArrayBacked.__setstate__ takes (dtype, ndarray, attrs), the two swapped, and pandas 1.0-1.2's __dict__;
        // pandas itself loads each file before RdBridge reads it.
        RealPandas.Run(dir.Path, ThreeDays + """
            import copyreg, pickle
            from pandas._libs.arrays import __pyx_unpickle_NDArrayBacked as unpickle
            from pandas.core.arrays.datetimes import DatetimeArray
            class Layout(pickle.Pickler):
                def reducer_override(self, obj):
                    if type(obj) is not DatetimeArray:
                        return NotImplemented
                    if self.layout == "swapped":
                        return (unpickle, (DatetimeArray, 223698104, None), (obj._ndarray, obj.dtype, {"_freq": None}))
                    return (copyreg.__newobj__, (DatetimeArray,), {"_data": obj._ndarray, "_dtype": obj.dtype})
            for layout in ("swapped", "dict"):
                with open(layout + ".pkl", "wb") as f:
                    pickler = Layout(f, protocol=4)
                    pickler.layout = layout
                    pickler.dump(df)
                assert pd.read_pickle(layout + ".pkl").index.equals(df.index)
            df.index = df.index.tz_localize("Asia/Shanghai")
            df.to_pickle("tz.pkl")
            """);
        foreach (var layout in new[] { "swapped", "dict" })
        {
            var frame = Pandas.ReadFrame(File.ReadAllBytes(dir[$"{layout}.pkl"]), layout);
            Assert.Equal([new DateTime(2020, 1, 2), new DateTime(2020, 1, 3), new DateTime(2020, 1, 6)],
                Assert.IsType<DateTimeColumn>(frame.Index.Values).Values.Select(d => d!.Value));
        }
        var e = Assert.Throws<PickleException>(() => Pandas.Read(File.ReadAllBytes(dir["tz.pkl"]), dir["tz.pkl"]));
        Assert.Equal($"'{dir["tz.pkl"]}' is not a pandas DataFrame or Series RdBridge reads: the row index has the "
            + "dtype pandas.core.dtypes.dtypes.DatetimeTZDtype (time zones are not read)", e.Message);
    }

    private static string ThreeDaysFile(TempDir dir)
    {
        RealPandas.Run(dir.Path, ThreeDays + "df.to_pickle('three.pkl')\n");
        return dir["three.pkl"];
    }

    [Fact]
    public void A_pickle_that_is_not_a_DataFrame_or_Series_is_reported_with_its_path()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, """
            import pandas as pd, numpy as np, pickle
            pickle.dump({"return": [0.1]}, open("dict.pkl", "wb"), protocol=4)
            np.array([1.0, 2.0]).dump("array.pkl")
            pd.DataFrame({"x": [1.0]}, index=pd.MultiIndex.from_tuples([("a", 1)])).to_pickle("multi.pkl")
            pd.DataFrame({"x": pd.Categorical(["a"])}).to_pickle("cat.pkl")
            """);
        // What each file holds, as Python wrote it. numpy's reconstructor is named by its module, which numpy 2 moved
        // (numpy.core → numpy._core): that one is checked up to the module.
        foreach (var (file, why) in new[]
                 {
                     ("dict.pkl", "the pickle holds a dict"),
                     ("array.pkl", "the pickle holds a numpy."),
                     ("multi.pkl",
                         "the row index is a pandas.core.indexes.multi.MultiIndex, which RdBridge does not read"),
                     ("cat.pkl", "a block is a pandas.core.arrays.categorical.Categorical"),
                 })
        {
            var e = Assert.Throws<PickleException>(() => Pandas.Read(File.ReadAllBytes(dir[file]), dir[file]));
            var expected = $"'{dir[file]}' is not a pandas DataFrame or Series RdBridge reads: {why}";
            if (file == "array.pkl") Assert.StartsWith(expected, e.Message);
            else Assert.Equal(expected, e.Message);
        }
    }
}
