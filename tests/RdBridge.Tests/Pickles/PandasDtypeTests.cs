using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RdBridge.Backtests;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

/// <summary>
/// A Qlib-shaped <c>ret.pkl</c> whose <c>return</c> column and an extra column <c>x</c> are in each numeric dtype
/// pandas writes, pickled by real pandas: 1.5.3 with numpy 1.24 (Debian bookworm, /usr/bin/python3) and 2.2.3 with
/// numpy 2.2 (Debian trixie, through scripts/rdagent-chroot.sh). Expected values are what pandas itself reads back,
/// widened to float64 by Python (as bit patterns) or to Python ints.
/// </summary>
public class PandasDtypeTests
{
    private static readonly string[] Dtypes =
    [
        "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "bool", "Float32", "Float64", "Int8", "Int32", "Int64", "UInt16", "UInt64", "boolean",
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var pandas in new[] { "1.5", "2.2" })
            foreach (var dtype in Dtypes) data.Add(pandas, dtype);
        return data;
    }

    // x holds each dtype's extremes (within what int64, and for a nullable column with a missing value float64,
    // holds exactly) and a missing value where the dtype has one; return holds small daily returns.
    private const string Script = """
        import json, struct, sys
        import numpy as np, pandas as pd
        dt = sys.argv[1]
        kind = pd.api.types.pandas_dtype(dt)
        nullable = isinstance(kind, pd.api.extensions.ExtensionDtype)
        npk = kind.numpy_dtype if nullable else kind
        if npk.kind == "f":
            x = [0.1, -1.0 / 3, float(np.finfo(npk).max), None if nullable else float("nan")]
            ret = [0.001, -0.002, 0.0005, 0.0]
        elif npk.kind in "iu":
            info = np.iinfo(npk)
            lo, hi = int(info.min), min(int(info.max), 2**63 - 1)
            if nullable:
                lo, hi = max(lo, -(2**53)), min(hi, 2**53)
            x = [lo, 0, hi, None if nullable else 7]
            ret = [1, 0, 2, 0]
        else:
            x = [True, False, True, None if nullable else False]
            ret = [True, False, False, True]
        idx = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], name="datetime")
        cols = ["account", "return", "total_turnover", "turnover", "total_cost", "cost", "value", "cash", "bench"]
        df = pd.DataFrame({c: [0.0, 0.5, 0.25, 0.125] for c in cols}, index=idx)
        df["return"] = pd.array(ret, dtype=dt)
        df["x"] = pd.array(x, dtype=dt)
        df.to_pickle("ret.pkl")
        back = pd.read_pickle("ret.pkl")
        def value(v):
            if v is pd.NA or (isinstance(v, float) and v != v and npk.kind != "f"):
                return None
            if npk.kind == "f":
                return struct.unpack("<q", struct.pack("<d", float(v)))[0]
            if npk.kind in "iu":
                return str(int(v))
            return bool(v)
        print(json.dumps({"versions": [pd.__version__, np.__version__], "dtype": str(back["x"].dtype),
                          "x": [value(v) for v in back["x"].tolist()],
                          "ret": [struct.unpack("<q", struct.pack("<d", float(v)))[0]
                                  for v in back["return"].tolist()]}))
        """;

    [Theory, MemberData(nameof(Cases))]
    public void A_backtest_pickle_in_each_numeric_dtype_is_read_with_its_values_widened_exactly(
        string pandas, string dtype)
    {
        using var dir = new TempDir();
        var expected = Write(pandas, dir, dtype);
        Assert.StartsWith(pandas + ".", expected.GetProperty("versions")[0].GetString());
        Assert.Equal(dtype, expected.GetProperty("dtype").GetString());
        var path = dir["ret.pkl"];
        var frame = Pandas.ReadFrame(File.ReadAllBytes(path), path);

        var x = expected.GetProperty("x").EnumerateArray().ToList();
        var column = frame.Data["x"];
        for (var i = 0; i < x.Count; i++)
        {
            var e = x[i];
            var at = $"x[{i}] ({dtype})";
            switch (column)
            {
                case FloatColumn f when e.ValueKind == JsonValueKind.Null:
                    Assert.True(double.IsNaN(f.Values[i]), at);
                    break;
                case FloatColumn f when e.ValueKind == JsonValueKind.String:
                    Assert.Equal(long.Parse(e.GetString()!, CultureInfo.InvariantCulture), (long)f.Values[i]);
                    break;
                case FloatColumn f:
                    Assert.True(e.GetInt64() == BitConverter.DoubleToInt64Bits(f.Values[i]), at);
                    break;
                case IntColumn n:
                    Assert.Equal(long.Parse(e.GetString()!, CultureInfo.InvariantCulture), n.Values[i]);
                    break;
                case BoolColumn b:
                    Assert.Equal(e.GetBoolean(), b.Values[i]);
                    break;
                case ObjectColumn o:
                    Assert.Equal(e.ValueKind == JsonValueKind.Null ? null : e.GetBoolean(), (bool?)o.Values[i]);
                    break;
                default:
                    Assert.Fail($"{at}: read as {column.GetType().Name}");
                    break;
            }
        }

        var report = BacktestReport.FromFrame(frame, path);
        Assert.Equal(expected.GetProperty("ret").EnumerateArray().Select(e => e.GetInt64()),
            report["return"].Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void A_uint64_value_above_int64_is_refused_with_the_column_named_not_rounded()
    {
        using var dir = new TempDir();
        RealPandas.Run(dir.Path, """
            import pandas as pd, numpy as np
            idx = pd.DatetimeIndex(["2020-01-02"], name="datetime")
            pd.DataFrame({"x": np.array([2**64 - 1], dtype="uint64")}, index=idx).to_pickle("big.pkl")
            """);
        var e = Assert.Throws<PickleException>(() => Pandas.ReadFrame(File.ReadAllBytes(dir["big.pkl"]), "big.pkl"));
        Assert.Equal($"'big.pkl' is not a pandas DataFrame or Series RdBridge reads: column 'x' holds the uint64 value "
            + $"{ulong.MaxValue}, above what int64 holds", e.Message);
    }

    private static JsonElement Write(string pandas, TempDir dir, string dtype)
    {
        if (pandas == "1.5")
        {
            return JsonDocument.Parse(RealPandas.Run(dir.Path, Script.Replace("sys.argv[1]", $"'{dtype}'")))
                .RootElement;
        }
        // pandas 2.2 / numpy 2.2: Debian trixie's, in the chroot the harness's script keeps (see the script).
        File.WriteAllText(dir["write.py"], Script);
        var script = Path.Combine(Paths.RepoRoot, "scripts", "rdagent-chroot.sh");
        var psi = new ProcessStartInfo(script)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "run", "--bind", $"{dir.Path}:/work", "--", "/bin/sh", "-c",
                     $"cd /work && python3 write.py {dtype}" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{script} run failed: {stderr}");
        return JsonDocument.Parse(stdout.Result).RootElement;
    }
}
