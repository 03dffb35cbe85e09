using System.Globalization;
using System.IO.Hashing;
using System.Text;
using RdBridge.Configuration;

namespace RdBridge.Watch;

/// <summary>What a stat scan saw: a digest of the log tree's folders and one of the registry's files.</summary>
public sealed record ScanStamp(string Log, string Registry);

/// <summary>
/// The fallback when events cannot be trusted: the modification time of every folder of the log tree (RD-Agent adds a
/// pickle by creating a file, which changes its folder's time) and the size and time of the registry's files. Only
/// stat calls, no file is opened; the folders RD-Agent fills with LLM traces are not entered.
/// </summary>
public static class StatScan
{
    private static readonly HashSet<string> Skipped =
        new(StringComparer.Ordinal) { "debug_llm", "debug_tpl", "token_cost", "__session__" };

    public static ScanStamp Take(RdBridgeSettings settings) => new(LogStamp(settings.LogRoot), RegistryStamp(settings));

    public static string RegistryStamp(RdBridgeSettings settings)
    {
        var sb = new StringBuilder();
        foreach (var suffix in new[] { "", "-wal", "-journal" })
        {
            var f = new FileInfo(settings.RegistryPath + suffix);
            if (f.Exists)
            {
                sb.Append(suffix).Append(':').Append(f.Length.ToString(CultureInfo.InvariantCulture)).Append(':')
                    .Append(f.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append(';');
            }
        }
        return sb.ToString();
    }

    private static string LogStamp(string root)
    {
        if (!Directory.Exists(root)) return "";
        var hash = new XxHash128();
        var pending = new Stack<DirectoryInfo>();
        pending.Push(new DirectoryInfo(root));
        var options = new EnumerationOptions
        {
            IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint, ReturnSpecialDirectories = false,
        };
        while (pending.TryPop(out var dir))
        {
            hash.Append(Encoding.UTF8.GetBytes(dir.FullName));
            hash.Append(BitConverter.GetBytes(dir.LastWriteTimeUtc.Ticks));
            try
            {
                foreach (var sub in dir.EnumerateDirectories("*", options))
                    if (!Skipped.Contains(sub.Name)) pending.Push(sub);
            }
            catch (IOException) { } // removed while scanned: the next scan sees the tree as it is then
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }
}
