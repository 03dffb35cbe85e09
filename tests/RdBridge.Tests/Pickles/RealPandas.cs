using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RdBridge.Tests.Pickles;

/// <summary>
/// Debian's CPython with pandas 1.5.3 (<c>apt-get install -y python3-pandas</c> gives it to /usr/bin/python3, not to
/// the python3 on PATH): it writes the pickles these tests read and says what is in the real ones.
/// </summary>
internal static class RealPandas
{
    public const string Python = "/usr/bin/python3";

    /// <summary>
    /// Set by <c>bench/mutation.sh</c> only: a folder where each run's output and the files it wrote are kept, keyed
    /// by the script and every file of the working folder before it ran. Stryker runs the same tests once per mutant,
    /// and CPython + pandas starting again for each (a second or more each) made a whole-folder run take hours; the
    /// pickles are still pandas' own, written once per run of the script. The suite itself never sets it.
    /// </summary>
    public const string CacheVariable = "RDBRIDGE_TEST_PANDAS_CACHE";

    /// <summary>Runs <paramref name="script"/> in <paramref name="workdir"/> and returns what it printed.</summary>
    public static string Run(string workdir, string script)
    {
        var cache = Environment.GetEnvironmentVariable(CacheVariable);
        if (string.IsNullOrEmpty(cache)) return RunPython(workdir, script);
        var before = Snapshot(workdir);
        // The working folder is a new temporary folder each time: the key names it by its place, not its name.
        var key = Sha256(script.Replace(Path.GetFullPath(workdir), "<workdir>", StringComparison.Ordinal) + "\0"
            + string.Join("\0", before.Select(kv => kv.Key + "=" + kv.Value)));
        var entry = Path.Combine(cache, key);
        if (Directory.Exists(entry))
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(entry, "files"), "*",
                         SearchOption.AllDirectories))
            {
                var target = Path.Combine(workdir, Path.GetRelativePath(Path.Combine(entry, "files"), file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target, overwrite: true);
            }
            return File.ReadAllText(Path.Combine(entry, "stdout")).Replace("<workdir>", Path.GetFullPath(workdir),
                StringComparison.Ordinal);
        }
        var output = RunPython(workdir, script);
        var staging = Path.Combine(cache, key + "." + Guid.NewGuid().ToString("N"));
        foreach (var (name, digest) in Snapshot(workdir))
        {
            if (before.TryGetValue(name, out var was) && was == digest) continue;
            var copy = Path.Combine(staging, "files", name);
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(Path.Combine(workdir, name), copy);
        }
        Directory.CreateDirectory(Path.Combine(staging, "files"));
        File.WriteAllText(Path.Combine(staging, "stdout"),
            output.Replace(Path.GetFullPath(workdir), "<workdir>", StringComparison.Ordinal));
        try { Directory.Move(staging, entry); }
        catch (IOException) { Directory.Delete(staging, recursive: true); } // another test host kept it first
        return output;
    }

    /// <summary>Every file under <paramref name="workdir"/> (relative name, sha256 of its bytes), by name.</summary>
    private static SortedDictionary<string, string> Snapshot(string workdir) => new(
        Directory.EnumerateFiles(workdir, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(workdir, f),
            f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    private static string Sha256(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string RunPython(string workdir, string script)
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
