using System.Runtime.Versioning;
using RdBridge.Discovery;

namespace RdBridge.Tests.Discovery;

/// <summary>
/// A loop folder that is there but whose listing fails: the step it reached is then told by its pickles alone, and
/// reading it goes on. Part of <see cref="LoopReaderTests"/>, so the Discovery plan of bench/mutation.sh runs it.
/// </summary>
public partial class LoopReaderTests
{
    /// <summary>
    /// A loop that has just started (its step folders made, no pickle yet) read by a process that has run out of file
    /// descriptors: the folder is seen (stat needs none) and its listing fails with "Too many open files", an
    /// <see cref="IOException"/>. Nothing tells a step then, and the loop is still read: running, no step.
    /// </summary>
    [Fact]
    [SupportedOSPlatform("linux")]
    public void A_loop_folder_whose_listing_fails_with_an_IO_error_is_read_without_a_step()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir, 5);
        Directory.CreateDirectory(Path.Combine(loop.Path, "direct_exp_gen", "debug_llm"));
        Directory.CreateDirectory(Path.Combine(loop.Path, "coding"));

        // Listed, the folders tell the step: this is what the failed listing loses.
        var listed = loop.Read().Loop!;
        Assert.Equal((DiscoveredLoop.Running, "coding"), (listed.Status, listed.Step));

        var unlisted = ThreadFileLimits.WithNoFileDescriptorLeft(() => loop.Read()).Loop!;
        Assert.Equal((DiscoveredLoop.Running, (string?)null), (unlisted.Status, unlisted.Step));
    }

    /// <summary>
    /// The same loop folder with mode 000 (an <see cref="UnauthorizedAccessException"/> on listing): read without a
    /// step too.
    /// </summary>
    [Fact]
    [SupportedOSPlatform("linux")]
    public void A_loop_folder_that_cannot_be_listed_for_its_mode_is_read_without_a_step()
    {
        using var dir = new TempDir();
        var loop = new Loop(dir, 5);
        Directory.CreateDirectory(Path.Combine(loop.Path, "coding"));
        var mode = File.GetUnixFileMode(loop.Path);
        File.SetUnixFileMode(loop.Path, UnixFileMode.None);
        try
        {
            var unlisted = ThreadFileLimits.WithFileModesEnforced(() => loop.Read()).Loop!;
            Assert.Equal((DiscoveredLoop.Running, (string?)null), (unlisted.Status, unlisted.Step));
        }
        finally
        {
            File.SetUnixFileMode(loop.Path, mode);
        }
    }
}
