using System.Runtime.InteropServices;

namespace RdBridge.Pipeline;

/// <summary>
/// Gives the memory a finished stage no longer uses back to the system before the next stage starts.
/// </summary>
/// <remarks>
/// Why (issue 22, point 4; README "Memory"): each stage of <c>init</c> and <c>sync</c> holds little (a loop, a batch,
/// a record), but the process kept what the earlier stages had used and the next stage added its own on top. At
/// 2,000 loops the import stage started with the collector's free regions and glibc's freed-but-kept arenas of
/// bundling's packing threads, about 25–30 MB more than the same import run alone. An aggressive full collection
/// decommits the collector's free regions; <c>malloc_trim</c> returns free pages of every malloc arena (SQLite, zlib
/// and the runtime allocate there). Both take milliseconds with the small live heap between stages.
/// </remarks>
internal static class StageMemory
{
    public static void Release()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!OperatingSystem.IsLinux()) return;
        try { _ = malloc_trim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl): there is nothing more to give back this way.
        }
    }

    [DllImport("libc")]
    private static extern int malloc_trim(nuint pad);
}
