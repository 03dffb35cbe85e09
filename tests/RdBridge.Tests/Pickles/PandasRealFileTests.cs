using System.Globalization;
using RdBridge.Pickles;

namespace RdBridge.Tests.Pickles;

/// <summary>
/// Qlib's own report_normal_1day.pkl files from a public repository's MLflow store (protocol 4, numpy 1.x).
/// </summary>
[RealData]
public class PandasRealFileTests
{
    public static TheoryData<string> Reports()
    {
        var data = new TheoryData<string>();
        var root = Paths.Fixture("public/BiEchi__quants/mlruns/2");
        if (!Directory.Exists(root))
        {
            data.Add($"(missing: {root})"); // fails naming the folder, rather than failing test discovery
            return data;
        }
        var files = Directory.EnumerateFiles(root, "report_normal_1day.pkl", SearchOption.AllDirectories);
        foreach (var f in files.Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(root, f));
        return data;
    }

    private static string Report(string relative) =>
        Path.Combine(Paths.Fixture("public/BiEchi__quants/mlruns/2"), relative);

    [Theory]
    [MemberData(nameof(Reports))]
    public void Every_day_and_column_of_a_real_Qlib_report_matches_what_pandas_reads(string relative)
    {
        var file = Report(relative);
        using var dir = new TempDir();
        var expected = RealPandas.DescribeFrame(dir.Path, file);

        var frame = Pandas.ReadFrame(File.ReadAllBytes(file), file);

        Assert.Equal(expected.GetProperty("index_name").GetString(), frame.Index.Name);
        var dates = Assert.IsType<DateTimeColumn>(frame.Index.Values).Values;
        var expectedDates = expected.GetProperty("index").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(871, expectedDates.Count);
        Assert.Equal(expectedDates,
            dates.Select(d => d!.Value.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)));
        Assert.Equal(expected.GetProperty("columns").EnumerateArray().Select(e => e.GetString()!), frame.Columns);
        foreach (var column in expected.GetProperty("bits").EnumerateObject())
        {
            var values = Assert.IsType<FloatColumn>(frame.Data[column.Name]).Values;
            Assert.Equal(column.Value.EnumerateArray().Select(e => e.GetInt64()),
                values.Select(BitConverter.DoubleToInt64Bits));
        }
    }
}
