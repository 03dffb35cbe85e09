using RdBridge.Backtests;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

/// <summary>
/// RdBridge's own pandas-layout pickles, as the sample generator will write ret.pkl, loaded by real pandas.
/// </summary>
public class PandasPickleWriterTests
{
    private static (List<DateTime> Dates, List<(string, IReadOnlyList<double>)> Columns) Curve()
    {
        var dates = Enumerable.Range(0, 30).Select(i => new DateTime(2020, 1, 1).AddDays(i + i / 5 * 2)).ToList();
        var columns = BacktestReport.QlibColumns
            .Select((c, k) => (c, (IReadOnlyList<double>)
                [.. dates.Select((_, i) => k == 1 && i == 3 ? double.NaN : Math.Sin(i + k) / 100)]))
            .ToList();
        return (dates, columns);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    public void Pandas_loads_the_report_RdBridge_writes(int protocol)
    {
        var (dates, columns) = Curve();
        using var dir = new TempDir();
        File.WriteAllBytes(dir["ret.pkl"], PandasPickleWriter.DataFrame(dates, columns, protocol));

        var seen = RealPandas.DescribeFrame(dir.Path, dir["ret.pkl"]);
        Assert.Equal("datetime", seen.GetProperty("index_name").GetString());
        Assert.Equal(dates.Select(d => d.ToString("yyyy-MM-dd'T'HH:mm:ss")),
            seen.GetProperty("index").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(BacktestReport.QlibColumns,
            seen.GetProperty("columns").EnumerateArray().Select(e => e.GetString()!));
        Assert.All(seen.GetProperty("dtypes").EnumerateArray(), t => Assert.Equal("float64", t.GetString()));
        foreach (var (name, values) in columns)
        {
            Assert.Equal(values.Select(BitConverter.DoubleToInt64Bits),
                seen.GetProperty("bits").GetProperty(name).EnumerateArray().Select(e => e.GetInt64()));
        }

        // Pandas can work with it, not just load it: Qlib's own analysis runs on it.
        var ok = RealPandas.Run(dir.Path, """
            import pandas as pd
            df = pd.read_pickle("ret.pkl")
            assert isinstance(df.index, pd.DatetimeIndex) and df.index.name == "datetime"
            r = df["return"] - df["bench"] - df["cost"]
            print((r.cumsum() - r.cumsum().cummax()).min())
            """);
        var report = BacktestReport.Read(dir["ret.pkl"]);
        var pandasMaxDrawdown = double.Parse(ok.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(pandasMaxDrawdown, report.Summary.MaxDrawdown!.Value, 1e-15);
    }

    [Fact]
    [RealData]
    public void The_written_report_names_the_same_classes_and_functions_as_a_real_Qlib_report()
    {
        var real = Directory.EnumerateFiles(Paths.Fixture("public/BiEchi__quants/mlruns/2"), "report_normal_1day.pkl",
            SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var report = BacktestReport.Read(real);
        using var dir = new TempDir();
        File.WriteAllBytes(dir["mine.pkl"], PandasPickleWriter.DataFrame(report.Dates,
            [.. report.Columns.Select(c => (c, report[c]))], protocol: 4));
        var globals = RealPandas.Run(dir.Path, $$"""
            import pickle
            def names(path):
                found = set()
                class Recorder(pickle.Unpickler):
                    def find_class(self, module, name):
                        found.add(module + "." + name)
                        return super().find_class(module, name)
                Recorder(open(path, "rb")).load()
                return sorted(found)
            theirs, mine = names({{RealPandas.Py(real)}}), names("mine.pkl")
            print(theirs == mine, mine, theirs)
            """);
        Assert.StartsWith("True", globals);
        Assert.Contains("numpy.core.multiarray._reconstruct", globals);
        Assert.Equal(report.Curves.ExcessReturnWithCost,
            BacktestReport.Read(dir["mine.pkl"]).Curves.ExcessReturnWithCost);
    }
}
