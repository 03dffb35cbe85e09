namespace RdBridge.Tests;

/// <summary>
/// A command's output as its lines, so a test asserts one whole line (<c>Assert.Contains(line, Lines(output))</c>)
/// instead of a fragment that a line naming the wrong item or missing its "what to do" would still contain.
/// </summary>
public static class OutputLines
{
    public static IReadOnlyList<string> Of(string output) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
}
