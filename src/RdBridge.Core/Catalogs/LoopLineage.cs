using System.Text.Json.Nodes;

namespace RdBridge.Catalogs;

/// <summary>
/// One loop's lineage as AIstock holds it — task run → loop → workspace ↔ bundle → factors, model, strategy — with
/// every link marked verified or broken. Built by <c>Show/LinkageQuery</c>, compared by <c>Compare</c>, served by the
/// API; it is made of catalog records, so it is serialised by the catalogs' context (<see cref="CatalogJson"/>).
/// </summary>
public sealed record LoopLineage
{
    public required string TaskRunId { get; init; }
    public required long LoopId { get; init; }
    public LoopRecord? Loop { get; init; }
    public ModelRecord? Model { get; init; }
    public StrategyRecord? Strategy { get; init; }
    public IReadOnlyList<LineageFactor> Factors { get; init; } = [];
    /// <summary>The bundle's state in the asset cache, with its manifest as the bundle holds it.</summary>
    public JsonObject? Bundle { get; init; }
    public IReadOnlyList<LineageLink> Links { get; init; } = [];
    public bool Verified { get; init; }
}

/// <summary>A factor as a loop's lineage lists it.</summary>
public sealed record LineageFactor
{
    public string? Name { get; init; }
    public string? Source { get; init; }
    public string? FactorId { get; init; }
    public double? Ic { get; init; }
    public double? AnnualizedReturn { get; init; }
}

/// <summary>One link of a lineage and whether it holds.</summary>
public sealed record LineageLink(string From, string To, bool Ok, string Detail);
