using RdBridge.Configuration;
using RdBridge.Registry;

namespace RdBridge.Workspaces;

/// <summary>A workspace of a loop, with where it lives on this machine.</summary>
public sealed record LocatedWorkspace(WorkspaceRow Row, MappedPath Path)
{
    public string? Local => Path.Local;
    public bool Exists => Path.Local is not null && Directory.Exists(Path.Local);
}

/// <summary>
/// A loop linked to its own workspaces: through <c>workspaces.task_run_id</c> AND <c>loop_id</c>, never the task run
/// alone. The experiment workspace is the primary one; sub-workspaces hold the factor or model code.
/// </summary>
public sealed record LoopWorkspaces(LoopRow Loop, LocatedWorkspace? Primary,
    IReadOnlyList<LocatedWorkspace> SubWorkspaces, IReadOnlyList<string> Problems)
{
    public bool IsUsable => Primary is not null && Primary.Exists;

    /// <summary>What the loop researched: the registry's action, else what its workspace holds (decided once, in
    /// <c>Resolve</c>).</summary>
    public string Kind { get; init; } = "factor";

    private static string KindOf(LoopRow loop, LocatedWorkspace? primary)
    {
        if (loop.Action is "factor" or "model") return loop.Action;
        if (primary?.Row.ExperimentType is "factor" or "model") return primary.Row.ExperimentType;
        if (primary?.Local is { } dir && Directory.Exists(dir)
            && Directory.EnumerateFiles(dir, "conf_*model*.yaml").Any())
        {
            return "model";
        }

        return "factor";
    }

    public static LoopWorkspaces Resolve(RegistryDatabase registry, PathMap map, LoopRow loop) =>
        Resolve(registry.ReadWorkspaces(loop.TaskRunId, loop.LoopId), map, loop);

    /// <summary>Resolves a loop from its workspace rows already read (ordered by workspace id).</summary>
    public static LoopWorkspaces Resolve(IReadOnlyList<WorkspaceRow> rows, PathMap map, LoopRow loop)
    {
        var problems = new List<string>();
        if (rows.Count == 0)
        {
            problems.Add($"loop {loop.Key} has no row in the workspaces table; RD-Agent did not record its " +
                "workspace, so it cannot be bundled");
            return new LoopWorkspaces(loop, null, [], problems) { Kind = KindOf(loop, null) };
        }
        var usable = rows.Where(r => r.IsUsable).ToList();
        var experiment = usable.Where(r => r.IsExperiment).ToList();
        if (experiment.Count > 1)
        {
            problems.Add($"loop {loop.Key} has {experiment.Count} experiment workspaces " +
                $"({string.Join(", ", experiment.Select(e => e.WorkspaceId))}); using {experiment[0].WorkspaceId}");
        }

        var primaryRow = experiment.FirstOrDefault() ?? usable.FirstOrDefault(r => !r.IsSubWorkspace);
        LocatedWorkspace? primary = null;
        if (primaryRow is null)
        {
            problems.Add($"loop {loop.Key} has no usable experiment workspace (statuses: " +
                $"{string.Join(", ", rows.Select(r => $"{r.WorkspaceId}={r.Status ?? "NULL"}"))})");
        }
        else
        {
            primary = new LocatedWorkspace(primaryRow, map.Map(primaryRow.WorkspacePath));
            if (primary.Path.Problem is { } p)
            {
                problems.Add($"loop {loop.Key} workspace {primaryRow.WorkspaceId}: {p}");
            }
            else if (!primary.Exists)
            {
                problems.Add($"loop {loop.Key} workspace {primaryRow.WorkspaceId} is missing: '{primary.Local}' " +
                    $"(stored as '{primaryRow.WorkspacePath}'); check the pathMap in rdbridge.json or whether the " +
                    "folder was deleted");
            }
        }
        var subs = usable.Where(r => r.IsSubWorkspace && r != primaryRow)
            .Select(r => new LocatedWorkspace(r, map.Map(r.WorkspacePath)))
            .ToList();
        foreach (var sub in subs.Where(s => !s.Exists))
        {
            problems.Add(sub.Path.Problem is { } why
                ? $"loop {loop.Key} sub-workspace {sub.Row.WorkspaceId}: {why}"
                : $"loop {loop.Key} sub-workspace {sub.Row.WorkspaceId} is missing: '{sub.Local}'");
        }

        return new LoopWorkspaces(loop, primary, subs.Where(s => s.Exists).ToList(), problems)
        {
            Kind = KindOf(loop, primary),
        };
    }
}
