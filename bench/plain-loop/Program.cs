// A plain TarWriter + GZipStream loop over N threads, one .tar.gz per directory: no manifest, no hashing, no fsync,
// no registry. The bundling benchmark runs it beside RdBridge to show what those cost.
// Usage: plain-loop DIRS_FILE OUT_DIR THREADS   (prints: seconds input_bytes)
using System.Formats.Tar;
using System.IO.Compression;

var dirs = File.ReadAllLines(args[0]);
var outDir = args[1];
Directory.CreateDirectory(outDir);
var next = -1;
long bytes = 0;
var clock = System.Diagnostics.Stopwatch.StartNew();
var threads = Enumerable.Range(0, int.Parse(args[2])).Select(_ => new Thread(() =>
{
    int i;
    while ((i = Interlocked.Increment(ref next)) < dirs.Length)
    {
        var dir = dirs[i];
        using var file = File.Create(Path.Combine(outDir, $"{i}.tar.gz"));
        using var gzip = new GZipStream(file, CompressionLevel.Optimal);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var path in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal))
        {
            tar.WriteEntry(path, Path.GetRelativePath(dir, path));
            Interlocked.Add(ref bytes, new FileInfo(path).Length);
        }
    }
})).ToList();
threads.ForEach(t => t.Start());
threads.ForEach(t => t.Join());
Console.WriteLine($"{clock.Elapsed.TotalSeconds:F3} {bytes}");
