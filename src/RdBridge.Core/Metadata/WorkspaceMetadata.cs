using System.Text.Json;

namespace RdBridge.Metadata;

/// <summary>
/// The metadata files found in one workspace, each null when absent or unreadable. A malformed file is reported
/// through the callback with its name, path and the parser's message, and then treated as absent.
/// </summary>
public sealed record WorkspaceMetadata(
    FactorMetaFile? FactorMeta, FactorPerfFile? FactorPerf, FeedbackFile? Feedback,
    ModelMetaFile? ModelMeta, StrategyMetaFile? StrategyMeta)
{
    /// <summary>The five file names, in the order backfill writes them.</summary>
    public static readonly string[] FileNames =
    [
        FactorMetaFile.FileName, FactorPerfFile.FileName, FeedbackFile.FileName, ModelMetaFile.FileName,
        StrategyMetaFile.FileName,
    ];

    public static readonly WorkspaceMetadata None = new(null, null, null, null, null);

    public static WorkspaceMetadata Read(string workspace, Action<string, string, string> malformed)
    {
        T? One<T>(string name, Func<string, T> read) where T : class
        {
            var path = Path.Combine(workspace, name);
            if (!File.Exists(path)) return null;
            try { return read(path); }
            catch (JsonException e)
            {
                malformed(name, path, e.Message);
                return null;
            }
        }
        return new WorkspaceMetadata(
            One(FactorMetaFile.FileName, FactorMetaFile.Read), One(FactorPerfFile.FileName, FactorPerfFile.Read),
            One(FeedbackFile.FileName, FeedbackFile.Read), One(ModelMetaFile.FileName, ModelMetaFile.Read),
            One(StrategyMetaFile.FileName, StrategyMetaFile.Read));
    }
}
