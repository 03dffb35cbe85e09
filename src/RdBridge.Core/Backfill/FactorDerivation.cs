using RdBridge.Discovery;
using RdBridge.IO;
using RdBridge.Metadata;
using RdBridge.Workspaces;

namespace RdBridge.Backfill;

/// <summary>
/// The factors of a loop for <c>factor_meta.json</c>: the base features of the workflow config, then the factors the
/// loop's sub-workspaces implemented, then those the run only loaded from the combined factors file.
/// </summary>
public static class FactorDerivation
{
    public static IReadOnlyList<FactorEntry> Derive(LoopWorkspaces lw, LoopRun run, List<string> problems,
        LoopTexts? texts = null)
    {
        var factors = new List<FactorEntry>();
        factors.AddRange(BaseFactors(run));
        factors.AddRange(GeneratedFactors(lw, problems).Select(f => WithTask(f, texts)));
        factors.AddRange(LoadedFactors(run, factors, problems));
        return factors;
    }

    private static IEnumerable<FactorEntry> BaseFactors(LoopRun run)
    {
        if (run.Features is null) yield break;
        foreach (var (name, expression) in run.Features.Features)
        {
            var schema = expression is null ? InputSchema.FromCode("", name) : InputSchema.FromExpression(expression);
            yield return new FactorEntry(name, FactorEntry.BaseSource, expression, null, null, run.Origin.WorkspaceId,
                null, null, schema.ToJson(), ["alpha158", "base"]);
        }
    }

    private static IEnumerable<FactorEntry> GeneratedFactors(LoopWorkspaces lw, List<string> problems)
    {
        var generated = new List<(FactorCode Code, string WorkspaceId)>();
        foreach (var sub in lw.SubWorkspaces)
        {
            var factorPy = Path.Combine(sub.Local!, "factor.py");
            if (!File.Exists(factorPy)) continue;
            var id = sub.Row.WorkspaceId;
            try { generated.Add((FactorCode.Read(factorPy, $"factor_{id[..Math.Min(8, id.Length)]}"), id)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add($"factor.py in sub-workspace {id} cannot be read: {e.Message}");
            }
        }
        return generated
            .OrderBy(g => g.Code.Name, StringComparer.Ordinal).ThenBy(g => g.WorkspaceId, StringComparer.Ordinal)
            .Select(g => new FactorEntry(g.Code.Name, FactorEntry.GeneratedSource, null, g.Code.Description,
                CodeFingerprint(g.Code.Code), g.WorkspaceId, $"workspaces/{g.WorkspaceId}/factor.py", null,
                g.Code.Schema.ToJson(), ["rdagent"]));
    }

    /// <summary>
    /// A generated factor with what RD-Agent's <c>FactorTask</c> says of it (found by the sub-workspace the coder
    /// wrote it in, else by name): the description (over the code's docstring), the formulation as
    /// <c>formula_hint</c> and the variables. <c>expression</c> stays a Qlib expression only: the catalogs tell factors
    /// apart by it.
    /// </summary>
    private static FactorEntry WithTask(FactorEntry factor, LoopTexts? texts)
    {
        if (texts?.TaskFor(factor.WorkspaceId, factor.Name, LoggedTask.Factor) is not { } task) return factor;
        return factor with
        {
            DescriptionCn = task.Description ?? factor.DescriptionCn,
            FormulaHint = task.Formulation,
            Variables = task.Variables?.DeepClone(),
            CoderFeedback = task.Coder,
        };
    }

    /// <summary>The code's digest with white space removed, so reformatting does not make a new factor.</summary>
    public static string CodeFingerprint(string code) =>
        FileDigest.Sha256OfText(string.Concat(code.Where(c => !char.IsWhiteSpace(c))))[..16];

    /// <summary>
    /// Factors the run loaded from <c>combined_factors_df.parquet</c> (this loop's and the SOTA ones).
    /// </summary>
    private static IReadOnlyList<FactorEntry> LoadedFactors(LoopRun run, IReadOnlyList<FactorEntry> known,
        List<string> problems)
    {
        var parquet = Path.Combine(run.Directory, CombinedFactors.FileName);
        if (!File.Exists(parquet)) return [];
        try
        {
            var names = known.Select(f => f.Name).ToHashSet();
            return CombinedFactors.Names(parquet).Where(n => !names.Contains(n)).Order(StringComparer.Ordinal)
                .Select(name => new FactorEntry(name, FactorEntry.GeneratedSource, null, null, null,
                    run.Origin.WorkspaceId, null, CombinedFactors.FileName, InputSchema.FromCode("", name).ToJson(),
                    ["rdagent", "sota"]))
                .ToList();
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            problems.Add($"{CombinedFactors.FileName} in workspace {run.Origin.WorkspaceId}: {e.Message}");
            return [];
        }
    }
}
