namespace RdBridge.Catalogs;

/// <summary>
/// The JSON names of catalog fields, for code that reaches a field without going through its record type: a store's
/// column, a view that puts a field beside others (<c>show</c>, <c>compare</c>), a check that reads a stored record's
/// text. Each is derived from its record property (the one place a field is named) exactly as
/// <see cref="CatalogJson"/> names it, or is the constant its record type gives the property, so renaming a property
/// renames the field everywhere and no name is spelled twice.
/// </summary>
public static class CatalogFields
{
    // The five links (LoopLinks).
    public static readonly string TaskRunId = Of(nameof(LoopLinks.TaskRunId));
    public static readonly string LoopId = Of(nameof(LoopLinks.LoopId));
    public static readonly string WorkspaceId = Of(nameof(LoopLinks.WorkspaceId));
    public static readonly string WorkspacePath = Of(nameof(LoopLinks.WorkspacePath));
    public static readonly string AssetBundleId = Of(nameof(LoopLinks.AssetBundleId));

    // Factor records.
    public static readonly string FactorId = Of(nameof(FactorRecord.FactorId));
    public static readonly string Name = Of(nameof(FactorRecord.Name));
    public static readonly string Source = Of(nameof(FactorRecord.Source));
    public static readonly string Expression = Of(nameof(FactorRecord.Expression));
    public static readonly string DescriptionCn = Of(nameof(FactorRecord.DescriptionCn));
    public static readonly string Fingerprint = Of(nameof(FactorRecord.Fingerprint));
    public static readonly string FormulaHint = Of(nameof(FactorRecord.FormulaHint));
    public static readonly string InputSchema = Of(nameof(FactorRecord.InputSchema));
    public static readonly string Tags = Of(nameof(FactorRecord.Tags));
    public static readonly string CodePath = Of(nameof(FactorRecord.CodePath));
    public static readonly string PerformanceMetrics = Of(nameof(FactorRecord.PerformanceMetrics));
    public static readonly string Occurrences = Of(nameof(FactorRecord.Occurrences));
    public const string Provenance = FactorRecord.ProvenanceField;

    // Model records.
    public static readonly string ModelId = Of(nameof(ModelRecord.ModelId));
    public static readonly string LogDir = Of(nameof(ModelRecord.LogDir));
    public static readonly string ModelType = Of(nameof(ModelRecord.ModelType));
    public const string RdAgentModelType = ModelRecord.RdAgentModelTypeField;
    public static readonly string ModelModule = Of(nameof(ModelRecord.ModelModule));
    public static readonly string NetworkClass = Of(nameof(ModelRecord.NetworkClass));
    public static readonly string ModelConfig = Of(nameof(ModelRecord.ModelConfig));
    public static readonly string DatasetConfig = Of(nameof(ModelRecord.DatasetConfig));
    public static readonly string PreprocessConfig = Of(nameof(ModelRecord.PreprocessConfig));
    public static readonly string FeatureSchema = Of(nameof(ModelRecord.FeatureSchema));
    public static readonly string ModelArtifacts = Of(nameof(ModelRecord.ModelArtifacts));
    public static readonly string ModelTask = Of(nameof(ModelRecord.ModelTask));
    public static readonly string ModelTaskName = Of(nameof(ModelTaskRecord.Name));
    public static readonly string Metrics = Of(nameof(ModelRecord.Metrics));

    // Strategy records.
    public static readonly string StrategyId = Of(nameof(StrategyRecord.StrategyId));
    public static readonly string ConfigFingerprint = Of(nameof(StrategyRecord.ConfigFingerprint));
    public static readonly string Action = Of(nameof(StrategyRecord.Action));
    public static readonly string PortfolioConfig = Of(nameof(StrategyRecord.PortfolioConfig));
    public static readonly string BacktestConfig = Of(nameof(StrategyRecord.BacktestConfig));
    public static readonly string FeatureList = Of(nameof(StrategyRecord.FeatureList));
    public static readonly string PythonImplementation = Of(nameof(StrategyRecord.PythonImplementation));

    // Loop records.
    public static readonly string Scenario = Of(nameof(LoopRecord.Scenario));
    public static readonly string Status = Of(nameof(LoopRecord.Status));
    public static readonly string StepName = Of(nameof(LoopRecord.StepName));
    public static readonly string ErrorType = Of(nameof(LoopRecord.ErrorType));
    public static readonly string ErrorMessage = Of(nameof(LoopRecord.ErrorMessage));
    public static readonly string HasResult = Of(nameof(LoopRecord.HasResult));
    public static readonly string IsSolidified = Of(nameof(LoopRecord.IsSolidified));
    public static readonly string StartedAtUtc = Of(nameof(LoopRecord.StartedAtUtc));
    public static readonly string EndedAtUtc = Of(nameof(LoopRecord.EndedAtUtc));
    public static readonly string FactorNames = Of(nameof(LoopRecord.FactorNames));
    public static readonly string AnnualizedReturn = Of(nameof(LoopRecord.AnnualizedReturn));
    public static readonly string MaxDrawdown = Of(nameof(LoopRecord.MaxDrawdown));
    public static readonly string InformationRatio = Of(nameof(LoopRecord.InformationRatio));
    public static readonly string Ic = Of(nameof(LoopRecord.Ic));
    public static readonly string IcIr = Of(nameof(LoopRecord.IcIr));
    public static readonly string RankIc = Of(nameof(LoopRecord.RankIc));
    public static readonly string Decision = Of(nameof(LoopRecord.Decision));
    public static readonly string SummaryTexts = Of(nameof(LoopRecord.SummaryTexts));
    public static readonly string Hypothesis = Of(nameof(LoopRecord.Hypothesis));
    public static readonly string Paths = Of(nameof(LoopRecord.Paths));
    public const string Workspaces = LoopRecord.WorkspacesField;
    public static readonly string WorkspaceRole = Of(nameof(LoopRecord.WorkspaceRole));

    /// <summary>Not in the file: the publisher a served record came from (<see cref="CatalogRecord.Origin"/>).
    /// </summary>
    public static readonly string Origin = Of(nameof(CatalogRecord.Origin));

    private static string Of(string property) => CatalogJson.FieldName(property);
}
