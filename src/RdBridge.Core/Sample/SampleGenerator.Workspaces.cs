namespace RdBridge.Sample;

// The files of a model or experiment workspace, and the market-data link of a factor workspace.
public sealed partial class SampleGenerator
{
    // RD-Agent links the shared market data into each factor workspace. Windows grants symbolic links only to
    // administrators or in developer mode; without that right the workspace simply has no link (bundles never
    // include it), and nothing else in the tree differs.
    private static void LinkMarketData(string link, string target)
    {
        try
        {
            File.CreateSymbolicLink(link, target);
        }
        catch (Exception e) when (OperatingSystem.IsWindows() && e is UnauthorizedAccessException or IOException)
        {
        }
    }

    private void WriteModelCode(string dir)
    {
        Directory.CreateDirectory(dir);
        var hidden = 32 << _rng.Next(3);
        File.WriteAllText(Path.Combine(dir, "model.py"), ModelPy(hidden));
    }

    private static string ModelPy(int hidden) => $$"""
        import torch
        from torch import nn


        class GRUModel(nn.Module):
            def __init__(self, num_features, num_timesteps=20):
                super().__init__()
                self.rnn = nn.GRU(num_features, {{hidden}}, batch_first=True)
                self.head = nn.Linear({{hidden}}, 1)

            def forward(self, x):
                out, _ = self.rnn(x)
                return self.head(out[:, -1, :]).squeeze(-1)


        model_cls = GRUModel

        """;

    /// <summary>Writes an experiment workspace; returns the backtest its runner logs, when it has results.</summary>
    private SampleBacktest? WriteExperimentWorkspace(string dir, string action, bool withResults)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "README.md"),
            "# Qlib experiment workspace\nRun `qrun <conf>.yaml` then `python read_exp_res.py`.\n");
        File.WriteAllText(Path.Combine(dir, "read_exp_res.py"),
            "# Reads the latest recorder and writes qlib_res.csv and ret.pkl.\nimport qlib\n");
        string runner;
        if (action == "factor")
        {
            File.WriteAllText(Path.Combine(dir, "conf_baseline.yaml"),
                Template(model: false, staticFactors: false, processors: true));
            File.WriteAllText(Path.Combine(dir, "conf_combined_factors.yaml"),
                Template(model: false, staticFactors: true, processors: false));
            File.WriteAllText(Path.Combine(dir, "conf_combined_factors_sota_model.yaml"),
                Template(model: true, staticFactors: true, processors: true));
            runner = "conf_combined_factors.yaml";
        }
        else
        {
            File.WriteAllText(Path.Combine(dir, "conf_baseline_factors_model.yaml"),
                Template(model: true, staticFactors: false, processors: true));
            File.WriteAllText(Path.Combine(dir, "conf_sota_factors_model.yaml"),
                Template(model: true, staticFactors: true, processors: true));
            File.WriteAllText(Path.Combine(dir, "model.py"), ModelPy(64));
            runner = "conf_baseline_factors_model.yaml";
        }
        if (!withResults) return null;
        var lgb = action == "factor";
        var metrics = Metrics(_rng, lgb);
        var order = metrics.Keys.ToDictionary(k => k, _ => _rng.Next());
        var (retPkl, mlflowReport) = SampleCurve.Write(CurveSeed(), metrics);
        var ordered = metrics.OrderBy(m => order[m.Key]).Select(m => (m.Key, m.Value)).ToList();
        var lines = ordered.Select(m => $"{m.Key},{m.Value.ToString("R", Inv)}");
        File.WriteAllText(Path.Combine(dir, "qlib_res.csv"), ",0\n" + string.Join("\n", lines) + "\n");
        File.WriteAllBytes(Path.Combine(dir, "ret.pkl"), retPkl);
        WriteMlruns(Path.Combine(dir, "mlruns"), runner, metrics, lgb);
        WriteMlflowReports(Path.Combine(dir, "mlruns"), mlflowReport);
        return new SampleBacktest(ordered, mlflowReport);
    }
}
