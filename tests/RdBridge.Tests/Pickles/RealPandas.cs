using System.Diagnostics;
using System.Text.Json;

namespace RdBridge.Tests.Pickles;

/// <summary>
/// Debian's CPython with pandas 1.5.3 (<c>apt-get install -y python3-pandas</c> gives it to /usr/bin/python3, not to
/// the python3 on PATH): it writes the pickles these tests read and says what is in the real ones.
/// </summary>
internal static class RealPandas
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> in <paramref name="workdir"/> and returns what it printed.</summary>
    public static string Run(string workdir, string script)
    {
        var psi = new ProcessStartInfo(Python, ["-c", script])
        {
            WorkingDirectory = workdir,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{Python} cannot start ({e.Message}): install Debian's " +
                "python3-pandas (apt-get install -y python3-pandas); ./test.sh does so when it is missing");
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (err.Contains("No module named 'pandas'", StringComparison.Ordinal))
            {
                throw new Xunit.Sdk.XunitException($"pandas is missing for {Python}: install Debian's python3-pandas " +
                    "(apt-get install -y python3-pandas); ./test.sh does so when it is missing");
            }

            Assert.True(p.ExitCode == 0, $"python failed:\n{err}");
            return stdout.Result;
        }
    }

    /// <summary>
    /// What pandas reads from a DataFrame pickle: index as ISO dates, column names and each column's values as the
    /// 64-bit patterns of the floats (so NaN and every last bit compare exactly).
    /// </summary>
    public static JsonElement DescribeFrame(string workdir, string pickle) => JsonDocument.Parse(Run(workdir, $$"""
        import json, struct, pandas as pd
        df = pd.read_pickle({{Py(pickle)}})
        index = [t.isoformat() if hasattr(t, "isoformat") else t for t in df.index]
        out = {"index_name": df.index.name, "index": index,
               "columns": [str(c) for c in df.columns], "dtypes": [str(t) for t in df.dtypes], "bits": dict()}
        for c in df.columns:
            if str(df[c].dtype) == "float64":
                out["bits"][str(c)] = [struct.unpack("<q", struct.pack("<d", v))[0] for v in df[c].tolist()]
        print(json.dumps(out))
        """)).RootElement;

    public static string Py(string text) => RdBridge.Metadata.PythonNames.StringLiteral(text);
}
