using System.Diagnostics;
using RdBridge.IO;

namespace RdBridge.Tests.IO;

/// <summary>
/// Renames over a file another Windows program holds open. Linux never refuses such a rename, so the refusals here are
/// the exceptions .NET raises on Windows (sharing violation, HRESULT 0x80070020), thrown by the rename itself.
/// </summary>
public class HeldOpenRenameTests
{
    private static IOException SharingViolation() =>
        new("The process cannot access the file", unchecked((int)0x80070020));

    [Fact]
    public void A_rename_refused_while_another_program_holds_the_target_is_tried_again_and_lands()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["temp"], "new");
        File.WriteAllText(dir["target"], "old");
        var tries = 0;
        AtomicFile.RetryWhileHeldOpen(() =>
        {
            if (++tries < 3) throw SharingViolation();
            File.Move(dir["temp"], dir["target"], overwrite: true);
        }, dir["target"], retry: true);
        Assert.Equal(3, tries);
        Assert.Equal("new", File.ReadAllText(dir["target"]));
    }

    [Fact]
    public void A_target_held_open_for_good_is_reported_by_name_after_about_a_second_and_a_half()
    {
        var tries = 0;
        var denied = new UnauthorizedAccessException("Access denied");
        // The clock shows only that the six waits were slept (a lower bound, which load cannot break; see below).
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<IOException>(() =>
            AtomicFile.RetryWhileHeldOpen(() => { tries++; throw denied; },
                @"F:\AIstock\rdagent_data\loop_catalog.json", retry: true));
        Assert.Equal(7, tries);
        // A lower bound only (load cannot break it): the six waits between the seven tries were slept. That the wait
        // is bounded is the refusal itself, which came instead of trying forever.
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.5), $"gave up after {watch.Elapsed}");
        Assert.Equal(@"'F:\AIstock\rdagent_data\loop_catalog.json' is held open by another program (antivirus, "
            + "Explorer, an editor?) and could not be replaced after 7 tries; close it and run again", e.Message);
        Assert.Same(denied, e.InnerException);
    }

    [Fact]
    public void Other_failures_and_other_platforms_are_not_retried()
    {
        var tries = 0;
        var diskFull = new IOException("There is not enough space on the disk", unchecked((int)0x80070070));
        // The failure itself comes out, untouched.
        Assert.Same(diskFull, Assert.Throws<IOException>(
            () => AtomicFile.RetryWhileHeldOpen(() => { tries++; throw diskFull; }, "x", retry: true)));
        Assert.Equal(1, tries);
        var held = SharingViolation();
        Assert.Same(held, Assert.Throws<IOException>(
            () => AtomicFile.RetryWhileHeldOpen(() => { tries++; throw held; }, "x", retry: false)));
        Assert.Equal(2, tries);
    }
}
