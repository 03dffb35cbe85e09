using System.Globalization;
using System.Text;

namespace RdBridge.IO;

/// <summary>
/// Makes text from input (folder names, file contents, ids, values of a pickle) safe to print on a terminal or write to
/// a log: every control character (C0, DEL, C1: ESC, NUL, CR, line feeds, the bytes of ANSI sequences) and every
/// invisible direction override is written as a visible escape (<c>\x1b</c>, <c>\u202e</c>), so no input can move the
/// cursor, recolour, hide or reorder what a reviewer reads. Printable text, backslashes of Windows paths and non-Latin
/// scripts are kept as they are. The one escaping function: every message built from input goes through it.
/// </summary>
public static class Visible
{
    public static string Text(string? text)
    {
        if (text is null) return "";
        var i = 0;
        while (i < text.Length && !Hidden(text, i)) i++;
        if (i == text.Length) return text;
        var sb = new StringBuilder(text.Length + 16).Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (!Hidden(text, i)) sb.Append(c);
            else if (c < 0x100) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>The first <paramref name="max"/> characters of a long value, marked as cut with "…": a message names
    /// an item by it without printing all of it.</summary>
    public static string Cut(string text, int max) => text.Length > max ? text[..max] + "…" : text;

    /// <summary>A text that is already one line of a multi-line output: tabs stay, everything else as above.</summary>
    public static string Line(string? text)
    {
        if (text is null) return "";
        if (!text.Contains('\t')) return Text(text);
        return string.Join('\t', text.Split('\t').Select(Text));
    }

    private static bool Hidden(string text, int i)
    {
        var c = text[i];
        if (c < 0x20 || c is >= '\x7f' and <= '\x9f') return true;
        // Bidirectional overrides and isolates, zero-width joiners and marks: they reorder or hide what follows.
        if (c is >= '\u200b' and <= '\u200f' or >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069'
            or '\ufeff')
        {
            return true;
        }

        // A lone surrogate (from a name that was not valid UTF-16) is shown, not passed to the terminal.
        if (char.IsHighSurrogate(c)) return i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]);
        if (char.IsLowSurrogate(c)) return i == 0 || !char.IsHighSurrogate(text[i - 1]);
        return false;
    }
}
