using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RdBridge.Catalogs;

/// <summary>
/// The order fields are written in, across the record hierarchy: a record's own key first, then the five links, then
/// its body. Explicit, because the serializer's order between a base record's properties and a derived one's is not a
/// promise we want the catalogs' bytes to rest on.
/// </summary>
internal static class FieldOrder
{
    public const int Key = -2;
    public const int Links = -1;
    public const int Trailer = 100;
}

/// <summary>
/// The five ids every catalog record carries (the guide's 强关联): from any record to its loop, its workspace and the
/// exact files that produced it. Fields another tool wrote that RdBridge does not know are kept in
/// <see cref="Unknown"/> and written back: a catalog of the fork's Python tools round-trips.
/// </summary>
public abstract record LoopLinks
{
    [JsonPropertyOrder(FieldOrder.Links)] public string? TaskRunId { get; init; }
    [JsonPropertyOrder(FieldOrder.Links)] public long? LoopId { get; init; }
    [JsonPropertyOrder(FieldOrder.Links)] public string? WorkspaceId { get; init; }
    [JsonPropertyOrder(FieldOrder.Links)] public string? WorkspacePath { get; init; }
    [JsonPropertyOrder(FieldOrder.Links)] public string? AssetBundleId { get; init; }

    // Settable: the serializer fills an extension bag after construction, not through it.
    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }

    /// <summary>The same links on another record kind.</summary>
    public T LinksOn<T>(T record) where T : LoopLinks => record with
    {
        TaskRunId = TaskRunId, LoopId = LoopId, WorkspaceId = WorkspaceId, WorkspacePath = WorkspacePath,
        AssetBundleId = AssetBundleId,
    };
}

/// <summary>Any record's links alone, its other fields left in <see cref="LoopLinks.Unknown"/>.</summary>
public sealed record RecordLinks : LoopLinks;

/// <summary>
/// A record of one of the four catalogs. <see cref="Origin"/> is not in the file: AIstock sets it to the publisher a
/// stored record came from when it serves one (<c>local</c> for its own RD-Agent).
/// </summary>
public abstract record CatalogRecord : LoopLinks
{
    [JsonPropertyOrder(FieldOrder.Trailer)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Origin { get; init; }
}

/// <summary>
/// One loop that found a factor: an entry of <c>factor_provenance.json</c> (with the factor's id), or of the inline
/// <c>provenance</c> list a factor record carried before catalog format v2 (without it). Its metrics are in the loop
/// catalog, once.
/// </summary>
public sealed record FactorOccurrence : LoopLinks
{
    /// <summary>The factor the loop found; null in an old catalog's inline list, where the record names it.</summary>
    [JsonPropertyOrder(FieldOrder.Key)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FactorId { get; init; }

    /// <summary>The combined factors file a loop only loaded the factor from (it wrote no code of its own).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? LoadedFrom { get; init; }
}

/// <summary>A record of <c>factor_catalog.json</c>: one factor, however many loops found it.</summary>
public sealed record FactorRecord : CatalogRecord
{
    /// <summary>
    /// The inline list of every loop that found the factor, as catalogs before format v2 (and the fork's tools'
    /// readers of them) have it. Export no longer writes it: a factor every loop uses grew by one entry a loop, so the
    /// loops are in <c>factor_provenance.json</c> (<see cref="ProvenanceFile"/>); read only from an old catalog.
    /// </summary>
    public const string ProvenanceField = "provenance";

    [JsonPropertyOrder(FieldOrder.Key)] public string? FactorId { get; init; }
    [JsonPropertyOrder(FieldOrder.Key)] public string? Name { get; init; }
    [JsonPropertyOrder(FieldOrder.Key)] public string? Source { get; init; }
    [JsonPropertyOrder(FieldOrder.Key)] public string? Expression { get; init; }
    [JsonPropertyOrder(FieldOrder.Key)] public string? DescriptionCn { get; init; }
    [JsonPropertyOrder(FieldOrder.Key)] public string? Fingerprint { get; init; }
    /// <summary>RD-Agent's <c>FactorTask.factor_formulation</c> (often LaTeX), under the fork's name.</summary>
    public string? FormulaHint { get; init; }
    /// <summary>RD-Agent's <c>FactorTask.variables</c>: each symbol of the formulation and what it means.</summary>
    public JsonNode? Variables { get; init; }
    /// <summary>CoSTEER's last evolving feedback on the factor's code and its number of evolving steps
    /// (<c>Metadata/CoderFeedback</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonNode? CoderFeedback { get; init; }
    public JsonNode? InputSchema { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public string? CodePath { get; init; }
    public JsonObject? PerformanceMetrics { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Aliases { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Occurrences { get; init; }
    [JsonPropertyName(ProvenanceField)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<FactorOccurrence>? Provenance { get; init; }
}

/// <summary>A record of <c>model_catalog.json</c>: the model one loop trained.</summary>
public sealed record ModelRecord : CatalogRecord
{
    [JsonPropertyOrder(FieldOrder.Key)] public string? ModelId { get; init; }
    public string? LogDir { get; init; }
    public string? Role { get; init; }
    public string? RunId { get; init; }
    public string? ConfigFile { get; init; }
    public string? ConfigSource { get; init; }
    public string? ModelType { get; init; }
    /// <summary>RD-Agent's own model type of the loop's <c>ModelTask</c> (<c>TimeSeries</c>, <c>Tabular</c>);
    /// <see cref="ModelType"/> is the Qlib model class the run trained.</summary>
    [JsonPropertyName(RdAgentModelTypeField)] public string? RdAgentModelType { get; init; }
    /// <summary>RD-Agent's spelling, not snake_case of the property's name (<c>rd_agent_…</c>).</summary>
    public const string RdAgentModelTypeField = "rdagent_model_type";
    public string? ModelModule { get; init; }
    public string? NetworkClass { get; init; }
    public JsonNode? ModelConfig { get; init; }
    public JsonNode? DatasetConfig { get; init; }
    public JsonNode? PreprocessConfig { get; init; }
    public JsonNode? FeatureSchema { get; init; }
    public JsonNode? ModelArtifacts { get; init; }
    public IReadOnlyList<string>? ParamsApplied { get; init; }
    public JsonObject? Metrics { get; init; }
    /// <summary>The <c>ModelTask</c> RD-Agent proposed and coded; null for a factor loop's baseline model.</summary>
    public ModelTaskRecord? ModelTask { get; init; }
}

/// <summary>A model loop's <c>ModelTask</c> as RD-Agent logged it, its texts exact.</summary>
public sealed record ModelTaskRecord
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public string? Formulation { get; init; }
    public string? Architecture { get; init; }
    public JsonNode? Variables { get; init; }
    public JsonNode? Hyperparameters { get; init; }
    public JsonNode? TrainingHyperparameters { get; init; }
    public string? ModelType { get; init; }
    /// <summary>CoSTEER's last evolving feedback on the model's code and its number of evolving steps.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonNode? CoderFeedback { get; init; }
    // Settable: the serializer fills an extension bag after construction, not through it.
    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>A record of <c>strategy_catalog.json</c>: one loop's portfolio and backtest setup.</summary>
public sealed record StrategyRecord : CatalogRecord
{
    [JsonPropertyOrder(FieldOrder.Key)] public string? StrategyId { get; init; }
    public string? ConfigFingerprint { get; init; }
    public string? Action { get; init; }
    public JsonNode? PortfolioConfig { get; init; }
    public JsonNode? BacktestConfig { get; init; }
    public string? ModelType { get; init; }
    public string? ModelId { get; init; }
    public string? RunId { get; init; }
    public IReadOnlyList<string>? FeatureList { get; init; }
    public JsonNode? PythonImplementation { get; init; }
    public JsonObject? Metrics { get; init; }
}

/// <summary>
/// A record of <c>loop_catalog.json</c>: one RD-Agent loop, with results or not (a failed or running loop has its
/// status, the step it reached and its error, and no bundle).
/// </summary>
public sealed record LoopRecord : CatalogRecord
{
    /// <summary>
    /// Where the experiment workspace is on the machine that exported the catalog, through its path map and relative
    /// to the AIstock root (null when it is not there): <c>workspace_path</c> keeps the registry's spelling, which may
    /// be another machine's (<c>F:\…</c> read under WSL), and the guide's step 6.3 check, run in the AIstock root,
    /// needs a path that opens there.
    /// </summary>
    public string? WorkspaceLocalPath { get; init; }
    public string? LogDir { get; init; }
    public string? Scenario { get; init; }
    public string? Action { get; init; }
    public string? Status { get; init; }
    /// <summary>The last step RD-Agent logged for the loop; for a failed loop the step that failed.</summary>
    public string? StepName { get; init; }
    public string? ErrorType { get; init; }
    public string? ErrorMessage { get; init; }
    public bool? HasResult { get; init; }
    public bool? IsSolidified { get; init; }
    public string? StartedAtUtc { get; init; }
    public string? EndedAtUtc { get; init; }
    public string? StrategyId { get; init; }
    public string? ConfigFingerprint { get; init; }
    public string? ModelType { get; init; }
    public IReadOnlyList<string>? FactorNames { get; init; }
    public double? AnnualizedReturn { get; init; }
    public double? MaxDrawdown { get; init; }
    public double? InformationRatio { get; init; }
    public double? Ic { get; init; }
    public double? IcIr { get; init; }
    public double? RankIc { get; init; }
    public JsonObject? Metrics { get; init; }
    public LoopBacktestSummary? Backtest { get; init; }
    public bool? Decision { get; init; }
    public JsonNode? SummaryTexts { get; init; }

    // RD-Agent's texts under its own names: the loop's Hypothesis (what its experiment tested), then the
    // HypothesisFeedback's (new_hypothesis is the suggestion for the next loop).
    public string? Hypothesis { get; init; }
    public string? HypothesisReason { get; init; }
    public string? ConciseReason { get; init; }
    public string? ConciseObservation { get; init; }
    public string? ConciseJustification { get; init; }
    public string? ConciseKnowledge { get; init; }
    public string? Observations { get; init; }
    public string? HypothesisEvaluation { get; init; }
    public string? DecisionReason { get; init; }
    public string? NewHypothesis { get; init; }
    public string? CodeChangeSummary { get; init; }
    public string? Exception { get; init; }

    /// <summary>
    /// A loop without results: the factor and model tasks RD-Agent logged for it (<c>experiment generation</c>, the
    /// coder's result and CoSTEER's feedback), since it has no factor or model record to carry them. Null for a loop
    /// with results, whose tasks are in its factor and model records.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonNode? Tasks { get; init; }

    public LoopPaths? Paths { get; init; }

    /// <summary>
    /// Every workspace of the loop, where a catalog lists the loop once per workspace (the fork's Python tools do):
    /// import keeps the loop's record on its experiment workspace and all of them here. RdBridge's own export names
    /// the experiment workspace in the links and writes no list.
    /// </summary>
    [JsonPropertyName(WorkspacesField)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LoopWorkspace>? Workspaces { get; init; }

    /// <summary>Which of the loop's workspaces this entry is on, where a catalog says so (the fork's tools may).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WorkspaceRole { get; init; }

    public const string WorkspacesField = "workspaces";
}

/// <summary>One workspace of a loop as a catalog named it.</summary>
public sealed record LoopWorkspace
{
    /// <summary>The role of the workspace a loop's experiment ran in (the others are its coders' sub-workspaces).
    /// </summary>
    public const string ExperimentRole = "experiment_workspace";


    public string? WorkspaceId { get; init; }
    public string? WorkspacePath { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WorkspaceRole { get; init; }
}

/// <summary>Where a loop's metadata files and weights are, relative to its experiment workspace.</summary>
public sealed record LoopPaths
{
    public string? FactorMeta { get; init; }
    public string? FactorPerf { get; init; }
    public string? Feedback { get; init; }
    public string? ModelMeta { get; init; }
    public string? StrategyMeta { get; init; }
    public string? Mlruns { get; init; }
    public IReadOnlyList<string>? ModelFiles { get; init; }
    // Settable: the serializer fills an extension bag after construction, not through it.
    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>
/// A loop's backtest curve in a few numbers, where it came from, and whether its max drawdown agrees with
/// <c>qlib_res.csv</c>'s.
/// </summary>
public sealed record LoopBacktestSummary : Backtests.BacktestSummaryRecord
{
    [JsonPropertyOrder(FieldOrder.Trailer)] public string? Source { get; init; }
    [JsonPropertyOrder(FieldOrder.Trailer)] public double? QlibMaxDrawdown { get; init; }
    [JsonPropertyOrder(FieldOrder.Trailer)] public bool? MaxDrawdownMatchesQlib { get; init; }
}

/// <summary>The head of a catalog file, before its list of records.</summary>
public record CatalogHeader
{
    /// <summary>The one field that differs between two exports of the same records.</summary>
    public const string GeneratedAtField = "generated_at_utc";

    [JsonPropertyOrder(FieldOrder.Key), JsonPropertyName(GeneratedAtField)]
    public string? GeneratedAtUtc { get; init; }
    [JsonPropertyOrder(FieldOrder.Key)] public string? Version { get; init; }
    [JsonPropertyOrder(FieldOrder.Key)] public string? Source { get; init; }
    // Settable: the serializer fills an extension bag after construction, not through it.
    [JsonExtensionData] public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>
/// A whole catalog file read at once: its head, its records, and any other top-level field another tool wrote. Export
/// and import stream records one at a time instead (<see cref="CatalogFile"/>, <see cref="CatalogReader"/>); this is
/// for small files and tests.
/// </summary>
public abstract record CatalogEnvelope<T> : CatalogHeader where T : CatalogRecord
{
    [JsonIgnore] public abstract IReadOnlyList<T> Records { get; }
}

public sealed record FactorCatalog : CatalogEnvelope<FactorRecord>
{
    public const string List = "factors";
    [JsonPropertyName(List)] public IReadOnlyList<FactorRecord> Factors { get; init; } = [];
    public override IReadOnlyList<FactorRecord> Records => Factors;
}

public sealed record ModelCatalog : CatalogEnvelope<ModelRecord>
{
    public const string List = "models";
    [JsonPropertyName(List)] public IReadOnlyList<ModelRecord> Models { get; init; } = [];
    public override IReadOnlyList<ModelRecord> Records => Models;
}

public sealed record StrategyCatalog : CatalogEnvelope<StrategyRecord>
{
    public const string List = "strategies";
    [JsonPropertyName(List)] public IReadOnlyList<StrategyRecord> Strategies { get; init; } = [];
    public override IReadOnlyList<StrategyRecord> Records => Strategies;
}

public sealed record LoopCatalog : CatalogEnvelope<LoopRecord>
{
    public const string List = "loops";
    [JsonPropertyName(List)] public IReadOnlyList<LoopRecord> Loops { get; init; } = [];
    public override IReadOnlyList<LoopRecord> Records => Loops;
}
