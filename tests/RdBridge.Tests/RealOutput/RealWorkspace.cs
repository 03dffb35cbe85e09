using RdBridge.Backfill;
using RdBridge.Configuration;
using RdBridge.Registry;
using RdBridge.Workspaces;

namespace RdBridge.Tests.RealOutput;

/// <summary>
/// A workspace grafted from real files in ../shared/fixtures/real/public (never copied into the repository): the
/// YAMLs and MLflow runs a test names, in a temporary folder laid out as RD-Agent's experiment workspace.
/// </summary>
public sealed class RealWorkspace : IDisposable
{
    private readonly TempDir _dir = new();
    public string Path => _dir.Path;

    public static string Public(string relative) => Paths.Fixture(System.IO.Path.Combine("public", relative));

    public RealWorkspace Yaml(string fixture, string? asName = null)
    {
        File.Copy(Public(fixture), _dir[asName ?? System.IO.Path.GetFileName(fixture)]);
        return this;
    }

    /// <summary>
    /// Copies <c>mlruns/&lt;experiment&gt;/&lt;run&gt;</c> of a real store, with its experiment's meta.yaml.
    /// </summary>
    public RealWorkspace Run(string store, string experiment, string run)
    {
        var from = Public(System.IO.Path.Combine(store, "mlruns", experiment));
        var to = _dir[System.IO.Path.Combine("mlruns", experiment)];
        Directory.CreateDirectory(to);
        var (metaFrom, metaTo) = (System.IO.Path.Combine(from, "meta.yaml"), System.IO.Path.Combine(to, "meta.yaml"));
        if (File.Exists(metaFrom) && !File.Exists(metaTo)) File.Copy(metaFrom, metaTo);
        Copy(System.IO.Path.Combine(from, run), System.IO.Path.Combine(to, run));
        return this;
    }

    public RealWorkspace Text(string name, string text)
    {
        File.WriteAllText(_dir[name], text);
        return this;
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        string Into(string entry) => System.IO.Path.Combine(to, System.IO.Path.GetFileName(entry));
        foreach (var f in Directory.EnumerateFiles(from)) File.Copy(f, Into(f));
        foreach (var d in Directory.EnumerateDirectories(from)) Copy(d, Into(d));
    }

    /// <summary>The metadata backfill derives for a loop whose experiment workspace this is.</summary>
    public LoopMetadata Derive(string action = "factor")
    {
        var loop = new LoopRow("tr1", 3, action, "success", true, null, null, null, null, null, null, false, null, null,
            "qlib", null);
        var row = new WorkspaceRow("ws1", "tr1", 3, "experiment", action, null, "success", Path);
        var lw = new LoopWorkspaces(loop, new LocatedWorkspace(row, new MappedPath(Path, Path, null)), [], []);
        return LoopMetadata.Derive(lw);
    }

    public void Dispose() => _dir.Dispose();
}
