namespace RdBridge.Workspaces;

/// <summary>
/// The file a loop's backtest curve is read from: the workspace's <c>ret.pkl</c>, else the chosen MLflow run's
/// <c>artifacts/portfolio_analysis/report_normal_1day.pkl</c>. <see cref="Source"/> names it for a reader:
/// <c>ret.pkl</c> or <c>mlflow:&lt;run_id&gt;</c>.
/// </summary>
public sealed record BacktestFile(string Path, string Source)
{
    public const string MlflowReport = "report_normal_1day.pkl";

    public static BacktestFile? Find(string workspace, MlflowRun? chosen)
    {
        var ret = System.IO.Path.Combine(workspace, WorkspaceFiles.RetPkl);
        if (File.Exists(ret)) return new BacktestFile(ret, WorkspaceFiles.RetPkl);
        if (chosen is null) return null;
        var report = System.IO.Path.Combine(chosen.Folder, "artifacts", "portfolio_analysis", MlflowReport);
        return File.Exists(report) ? new BacktestFile(report, $"mlflow:{chosen.RunId}") : null;
    }
}
