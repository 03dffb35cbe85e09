using System.Globalization;

namespace RdBridge.IO;

/// <summary>
/// A count and its noun in the right number, for every message a person reads: "1 gap", "2 gaps", "0 gaps". A fixed
/// plural reads wrong exactly when the count is one, which is the case tests and reviews see least; one function keeps
/// every message right. Nouns whose plural is not the singular plus "s" name it (<c>"entry", "entries"</c>).
/// </summary>
public static class Counted
{
    /// <summary>
    /// <paramref name="count"/> written with <paramref name="format"/> (as <c>{count:N0}</c> would, none by default),
    /// a space, and <paramref name="noun"/> when it is one, else <paramref name="plural"/> (the noun plus "s" unless
    /// given). The noun may carry words before it: <c>Of(n, "broken link")</c> is "1 broken link", "2 broken links".
    /// </summary>
    public static string Of(long count, string noun, string? plural = null, string? format = null) =>
        count.ToString(format, CultureInfo.InvariantCulture) + " " + Noun(count, noun, plural);

    /// <summary>The noun alone, in the number <paramref name="count"/> asks for: for a message that writes the count
    /// apart from its noun, as in "1 of 1 check", where the noun agrees with the total.</summary>
    public static string Noun(long count, string noun, string? plural = null) =>
        count == 1 ? noun : plural ?? noun + "s";
}
