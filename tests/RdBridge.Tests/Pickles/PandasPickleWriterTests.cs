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
    public void Pandas_loads_a_dated_series_as_Qlib_s_daily_IC()
    {
        var dates = Enumerable.Range(0, 12).Select(i => new DateTime(2017, 1, 2).AddDays(i)).ToList();
        var values = dates.Select((_, i) => i == 4 ? double.NaN : Math.Cos(i) / 10).ToList();
        using var dir = new TempDir();
        File.WriteAllBytes(dir["ic.pkl"], PandasPickleWriter.DatedSeries(dates, values));

        var seen = RealPandas.Run(dir.Path, """
            import pandas as pd, struct
            s = pd.read_pickle("ic.pkl")
            assert isinstance(s, pd.Series) and isinstance(s.index, pd.DatetimeIndex)
            print(s.name, s.index.name, s.dtype)
            print(",".join(d.strftime("%Y-%m-%d") for d in s.index))
            print(",".join(str(struct.unpack("<q", struct.pack("<d", v))[0]) for v in s.values))
            """).Split('\n');
        Assert.Equal("None datetime float64", seen[0].Trim());
        Assert.Equal(string.Join(",", dates.Select(d => d.ToString("yyyy-MM-dd"))), seen[1].Trim());
        Assert.Equal(string.Join(",", values.Select(BitConverter.DoubleToInt64Bits)), seen[2].Trim());
    }

    [Fact]
    public void The_sample_s_daily_IC_series_average_to_the_loop_s_IC_metrics_as_pandas_reads_them()
    {
        using var dir = new TempDir();
        new RdBridge.Sample.SampleGenerator(
            new RdBridge.Sample.SampleOptions(dir.Path, TaskRuns: 1, LoopsPerTaskRun: 3, Seed: 5)).Generate();
        var analyses = Directory.GetDirectories(dir.Path, "sig_analysis", SearchOption.AllDirectories);
        // One per MLflow run that logged an IC metric.
        Assert.Equal(Directory.GetFiles(dir.Path, "IC", SearchOption.AllDirectories).Length, analyses.Length);
        foreach (var folder in analyses)
        {
            var metrics = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(folder)!)!, "metrics");
            double Metric(string name) => double.Parse(File.ReadAllText(Path.Combine(metrics, name)).Split(' ')[1],
                System.Globalization.CultureInfo.InvariantCulture);
            var means = RealPandas.Run(folder, """
                import pandas as pd
                print(repr(pd.read_pickle("ic.pkl").mean()), repr(pd.read_pickle("ric.pkl").mean()))
                """).Trim().Split(' ');
            Assert.Equal(Metric("IC"), double.Parse(means[0], System.Globalization.CultureInfo.InvariantCulture),
                1e-12);
            Assert.Equal(Metric("Rank IC"), double.Parse(means[1], System.Globalization.CultureInfo.InvariantCulture),
                1e-12);
        }
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
        // The whole list equals the real report's (above); this names the numpy 1 spelling pandas 1.5 can load.
        Assert.Contains("numpy.core.multiarray._reconstruct", globals);
        Assert.Equal(report.Curves.ExcessReturnWithCost,
            BacktestReport.Read(dir["mine.pkl"]).Curves.ExcessReturnWithCost);
    }
}
