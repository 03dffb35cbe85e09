namespace RdBridge.Tests.Architecture;

/// <summary>
/// The project's own source holds the style STYLE.md asks for, so a change that breaks it fails here.
/// </summary>
public class SourceStyleTests
{
    private const int MaxLine = 120;

    private static readonly string[] Folders = ["src", "tests", "bench", "scripts"];

    private static readonly string[] Extensions = [".cs", ".js", ".css", ".html", ".sh", ".py", ".ps1", ".cmd"];

    [Fact]
    public void Every_source_line_fits_120_characters()
    {
        var tooLong = new List<string>();
        foreach (var folder in Folders)
        {
            var root = Path.Combine(Paths.RepoRoot, folder);
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(Paths.RepoRoot, file).Replace('\\', '/');
                if (!Extensions.Contains(Path.GetExtension(file)) || relative.Contains("/bin/")
                    || relative.Contains("/obj/"))
                {
                    continue;
                }

                var number = 0;
                foreach (var line in File.ReadLines(file))
                {
                    number++;
                    // Characters as a reader sees them: a Chinese character or an arrow is one, not three bytes.
                    var length = line.EnumerateRunes().Count();
                    if (length > MaxLine) tooLong.Add($"{relative}:{number} ({length})");
                }
            }
        }
        Assert.True(tooLong.Count == 0,
            $"{tooLong.Count} lines longer than {MaxLine} characters:\n{string.Join("\n", tooLong.Take(40))}");
    }
}
