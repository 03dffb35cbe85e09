namespace RdBridge.Tests;

/// <summary>
/// An expected count with its noun, both words written out by the test: "1 gap" or "3 gaps". Kept apart from the
/// product's <c>Counted</c>, so that a wrong helper in the product cannot make a test agree with it.
/// </summary>
public static class Words
{
    public static string N(long n, string one, string many) => n == 1 ? $"1 {one}" : $"{n} {many}";
}
