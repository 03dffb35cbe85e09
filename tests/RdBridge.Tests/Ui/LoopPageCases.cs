using RdBridge.Tests.Discovery;

namespace RdBridge.Tests.Ui;

/// <summary>
/// What the researcher-view sample needs beyond what the generator writes, set up before <c>init</c>: real daily IC
/// and Rank IC pickles (the generator's are placeholders), and two loops with the same model code.
/// </summary>
public static class LoopPageCases
{
    public static string WorkspaceFolder(Sample sample, string workspaceId) =>
        Path.Combine(sample.Dir.Path, "RD-Agent-main", "git_ignore_folder", "RD-Agent_workspace", workspaceId);

    /// <summary>
    /// Every MLflow run's <c>sig_analysis/ic.pkl</c> and <c>ric.pkl</c> rewritten by CPython + pandas as Qlib's
    /// SigAnaRecord writes them: a float Series over a DatetimeIndex named <c>datetime</c>, one value per trading day,
    /// with a NaN day (a day whose predictions were constant) in each.
    /// </summary>
    public static void WriteDailyIc(Sample sample)
    {
        var root = Path.Combine(sample.Dir.Path, "RD-Agent-main", "git_ignore_folder", "RD-Agent_workspace");
        var folders = Directory.EnumerateFiles(root, "ic.pkl", SearchOption.AllDirectories)
            .Select(Path.GetDirectoryName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(folders); // a guard: with no folder the Python below would rewrite nothing and still pass
        UpstreamRdAgent.RunPython(["-c", """
            import sys
            import numpy as np, pandas as pd
            # Qlib's IC comes out of a groupby: a DatetimeIndex without a frequency.
            days = pd.DatetimeIndex(pd.bdate_range("2017-01-03", "2020-07-31").values, name="datetime")
            for i, folder in enumerate(sys.argv[1:]):
                rng = np.random.default_rng(1000 + i)
                ic = pd.Series(rng.normal(0.04, 0.09, len(days)), index=days)
                ric = pd.Series(ic.values * 1.05 + rng.normal(0, 0.02, len(days)), index=days)
                ic.iloc[7 + i] = np.nan
                ric.iloc[7 + i] = np.nan
                ic.to_pickle(folder + "/ic.pkl")
                ric.to_pickle(folder + "/ric.pkl")
            """, .. folders]);
    }

    /// <summary>
    /// Two model loops with results whose model sub-workspaces then hold byte-identical <c>model.py</c> (the second
    /// takes the first's), and whose experiment workspaces' <c>read_exp_res.py</c> differ only in line endings (the
    /// second's in CRLF). Returns the two loops as <c>task_run:loop</c>.
    /// </summary>
    public static (string A, string B) SameModelCode(Sample sample)
    {
        var registry = sample.Settings.RegistryPath;
        var rows = Db.Rows(registry,
            "SELECT l.task_run_id, l.loop_id, w.workspace_id, w.workspace_role FROM loops l JOIN workspaces w " +
            "ON w.task_run_id = l.task_run_id AND w.loop_id = l.loop_id " +
            "WHERE l.action = 'model' AND l.has_result = 1 ORDER BY 1, 2, 3");
        var loops = rows.GroupBy(r => $"{r[0]}:{Convert.ToInt64(r[1])}")
            .Select(g => (Key: g.Key,
                Experiment: g.Where(r => (string)r[3]! == "experiment_workspace").Select(r => (string)r[2]!).Single(),
                Model: g.Where(r => (string)r[3]! != "experiment_workspace")
                    .Select(r => Path.Combine(WorkspaceFolder(sample, (string)r[2]!), "model.py"))
                    .Where(File.Exists).ToList()))
            .Where(l => l.Model.Count == 1)
            .Take(2).ToList();
        Assert.True(loops.Count == 2, "the sample has fewer than two model loops with a model sub-workspace");
        var (a, b) = (loops[0], loops[1]);
        File.Copy(a.Model[0], b.Model[0], overwrite: true);
        var runner = Path.Combine(WorkspaceFolder(sample, b.Experiment), "read_exp_res.py");
        var text = File.ReadAllText(runner);
        Assert.DoesNotContain("\r", text);
        Assert.Equal(text, File.ReadAllText(Path.Combine(WorkspaceFolder(sample, a.Experiment), "read_exp_res.py")));
        File.WriteAllText(runner, text.Replace("\n", "\r\n", StringComparison.Ordinal));
        return (a.Key, b.Key);
    }
}
