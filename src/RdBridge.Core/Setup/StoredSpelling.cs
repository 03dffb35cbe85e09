namespace RdBridge.Setup;

/// <summary>The ways RD-Agent's writers store a path, as the user would recognise them.</summary>
public enum StoredSpelling
{
    /// <summary><c>F:\Dev\…</c>: the fork on Windows.</summary>
    WindowsBackslash,
    /// <summary><c>F:/Dev/…</c>: Python on Windows writing forward slashes.</summary>
    WindowsSlash,
    /// <summary><c>/mnt/f/Dev/…</c>: RD-Agent inside WSL on a Windows drive.</summary>
    WslDrive,
    /// <summary><c>\\wsl$\Ubuntu\…</c>: Windows reaching into WSL's disk.</summary>
    WslShare,
    /// <summary>An absolute path of this kind of machine (<c>/home/…</c>).</summary>
    Posix,
    /// <summary>Relative to the RD-Agent folder.</summary>
    Relative,
}

/// <summary>Tells which spelling a stored path uses, and names it the way the user wrote it.</summary>
public static class StoredSpellings
{
    public static StoredSpelling Of(string stored)
    {
        var p = stored.Trim();
        if (p.StartsWith(@"\\wsl", StringComparison.OrdinalIgnoreCase)
            || p.StartsWith("//wsl", StringComparison.OrdinalIgnoreCase))
        {
            return StoredSpelling.WslShare;
        }
        if (p.Length >= 3 && char.IsAsciiLetter(p[0]) && p[1] == ':')
            return p[2] == '\\' ? StoredSpelling.WindowsBackslash : StoredSpelling.WindowsSlash;
        if (p.Length >= 6 && p.StartsWith("/mnt/", StringComparison.Ordinal) && char.IsAsciiLetter(p[5])
            && (p.Length == 6 || p[6] == '/'))
        {
            return StoredSpelling.WslDrive;
        }
        return p.StartsWith('/') ? StoredSpelling.Posix : StoredSpelling.Relative;
    }

    public static string Label(StoredSpelling s) => s switch
    {
        StoredSpelling.WindowsBackslash => @"F:\…",
        StoredSpelling.WindowsSlash => "F:/…",
        StoredSpelling.WslDrive => "/mnt/f/…",
        StoredSpelling.WslShare => @"\\wsl$\…",
        StoredSpelling.Posix => "/…",
        _ => "relative",
    };
}
