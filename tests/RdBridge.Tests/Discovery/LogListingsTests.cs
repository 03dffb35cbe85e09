using RdBridge.Discovery;
using RdBridge.Sample;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// Backfill and export read a loop's logged texts loop by loop; a v0.3 flat log is walked whole to tell its loops
/// apart, so each stage lists a task run's log once and answers every loop of it from that listing — with exactly the
/// texts a listing of its own gives.
/// </summary>
public sealed class LogListingsTests
{
    [Fact]
    public void A_flat_v03_log_is_listed_once_for_all_its_loops_with_the_same_texts_as_listing_it_per_loop()
    {
        using var sample = new Sample(taskRuns: 2, loops: 5, generation: SampleLogGeneration.V03);
        var s = sample.Settings;
        var runs = Directory.GetDirectories(s.LogRoot).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, runs.Count);
        var listings = new LogListings();
        var loopsRead = 0;
        foreach (var run in runs)
        {
            // The loops as the flat log holds them: each 'hypothesis generation' pickle starts one.
            var loops = Directory.GetFiles(Path.Combine(run, "r", "hypothesis generation"), "*.pkl",
                SearchOption.AllDirectories).Length;
            Assert.Equal(5, loops);
            for (var loop = 0L; loop < loops; loop++)
            {
                var (alone, shared) = (new List<string>(), new List<string>());
                var expected = LoopTexts.OfLoop(run, loop, s.PathMap, alone);
                var got = LoopTexts.OfLoop(run, loop, s.PathMap, shared, listings);
                // A guard that the reference read found the loop's hypothesis: the shared read must give the same.
                Assert.NotNull(expected.Hypothesis?.Text);
                Assert.Equal(expected.Hypothesis, got.Hypothesis);
                Assert.Equal(expected.Feedback, got.Feedback);
                Assert.Equal(expected.Research(), got.Research());
                Assert.Equal(expected.Tasks.Select(t => t.Name), got.Tasks.Select(t => t.Name));
                Assert.Equal(alone, shared);
                loopsRead++;
            }
        }
        Assert.Equal(10, loopsRead);
        // Once per task run's log, not once per loop.
        Assert.Equal(2, listings.Listed);
    }
}
