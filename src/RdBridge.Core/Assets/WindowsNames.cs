namespace RdBridge.Assets;

/// <summary>
/// File names Windows cannot hold, and names Windows would treat as one. A bundle built on Linux may carry
/// <c>aux.py</c> or both <c>Data.csv</c> and <c>data.csv</c>; extracted on Windows the first would open a device and
/// the second would overwrite the first, so such entries are refused by name before anything is written.
/// </summary>
public static class WindowsNames
{
    private static readonly HashSet<string> Devices = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    };

    // '\\' too: a Linux name may hold one (a Linux bundle keeps it as part of the name), but Windows reads it as a
    // folder separator.
    private const string Forbidden = "<>:\"|?*\\";

    /// <summary>Why Windows cannot create this relative path (parts separated by <c>/</c>); null when it can.</summary>
    public static string? Problem(string relativePath)
    {
        foreach (var part in relativePath.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            // A device name stays a device with any extension: "aux.py" opens AUX.
            var stem = part.Split('.')[0].TrimEnd(' ');
            if (Devices.Contains(stem)) return $"'{part}' is a device name on Windows ({stem.ToUpperInvariant()})";
            foreach (var c in part)
            {
                if (c < 32) return $"'{part}' holds a control character (code {(int)c}), not allowed on Windows";
                if (Forbidden.Contains(c)) return $"'{part}' holds '{c}', which Windows does not allow in names";
            }
            if (part.EndsWith('.') || part.EndsWith(' '))
                return $"'{part}' ends with a {(part.EndsWith('.') ? "dot" : "space")}, which Windows drops";
        }
        return null;
    }

    /// <summary>Remembers the paths seen so far; tells when a new one differs from one of them only in case.</summary>
    public sealed class CaseCollisions
    {
        private readonly Dictionary<string, string> _seen = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>The earlier path this one collides with, or null.</summary>
        public string? Add(string relativePath)
        {
            if (_seen.TryGetValue(relativePath, out var earlier)) return earlier == relativePath ? null : earlier;
            _seen[relativePath] = relativePath;
            return null;
        }
    }
}
