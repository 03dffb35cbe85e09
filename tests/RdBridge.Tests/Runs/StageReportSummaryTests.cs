using RdBridge.Runs;

namespace RdBridge.Tests.Runs;

/// <summary>A stage's summary line says each count in the right number: one loop, two files.</summary>
public class StageReportSummaryTests
{
    [Fact]
    public void A_count_of_one_takes_the_counter_s_singular_and_others_its_plural()
    {
        var report = new StageReport("backfill");
        report.Add(Counter.Tally("loops", "loop"));
        report.Add(Counter.Change("files written", "file written"), 2);
        report.Add(Counter.Tally("already materialized"));
        report.Problem("tr/0", null, "missing");

        Assert.Equal("1 loop, 2 files written, 1 already materialized — 1 problem", report.Summary());
    }

    [Fact]
    public void Two_problems_are_counted_in_the_plural()
    {
        var report = new StageReport("bundle");
        report.Add(Counter.Tally("loops", "loop"), 3);
        report.Problem("tr/0", null, "a");
        report.Problem("tr/1", null, "b");

        Assert.Equal("3 loops — 2 problems", report.Summary());
    }

    [Fact]
    public void A_counter_made_again_by_its_name_alone_reads_the_same_count()
    {
        var report = new StageReport("import");
        report.Add(Counter.Change("catalog copies written", "catalog copy written"), 5);

        Assert.Equal(5L, report.Get(Counter.Change("catalog copies written")));
    }
}
