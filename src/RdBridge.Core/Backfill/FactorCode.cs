using System.Text.RegularExpressions;
using RdBridge.IO;

namespace RdBridge.Backfill;

/// <summary>A factor implemented by RD-Agent in a sub-workspace's <c>factor.py</c>.</summary>
public sealed partial record FactorCode(string Name, string? Description, string Code, InputSchema Schema)
{
    public static FactorCode Read(string factorPy, string fallbackName)
    {
        var code = RegularFile.ReadAllText(factorPy, ReadLimits.PythonSource);
        var name = CalculateFunction().Match(code) is { Success: true } m ? m.Groups[1].Value : fallbackName;
        var description = Docstring().Match(code) is { Success: true } d ? d.Groups[1].Value.Trim() : null;
        return new FactorCode(name, description, code, InputSchema.FromCode(code, name));
    }

    [GeneratedRegex(@"^def\s+calculate_(\w+)\s*\(", RegexOptions.Multiline)]
    private static partial Regex CalculateFunction();
    [GeneratedRegex(@"^\s*(?:""""""|''')(.*?)(?:""""""|''')", RegexOptions.Singleline)]
    private static partial Regex Docstring();
}
