using Xunit.Abstractions;
using Xunit.Sdk;

namespace RdBridge.Tests;

/// <summary>
/// Marks a test that reads the team's files beside the repository, not in it: real RD-Agent/Qlib output in
/// <c>../shared/fixtures/real/</c>, or the user's guide in <c>../shared/seed/</c>. Such a
/// test carries the xunit trait <c>Category=RealData</c>; on a plain clone, where that folder is absent, ./test.sh
/// runs with <c>--filter "Category!=RealData"</c> and says how many it left out. Read the files through
/// <see cref="RealData.Path"/>, which names the missing folder instead of failing on a file not found.
/// </summary>
[TraitDiscoverer("RdBridge.Tests.RealDataDiscoverer", "RdBridge.Tests")]
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = false)]
public sealed class RealDataAttribute : Attribute, ITraitAttribute
{
    public const string Category = "Category";
    public const string Value = "RealData";
}

public sealed class RealDataDiscoverer : ITraitDiscoverer
{
    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute) =>
        [new(RealDataAttribute.Category, RealDataAttribute.Value)];
}

/// <summary>Where the real-data fixtures are, found from the repository root: <c>../shared/fixtures/real</c>.</summary>
public static class RealData
{
    public static string Root => System.IO.Path.Combine(Paths.Shared, "fixtures", "real");

    public static bool Present => Directory.Exists(Root);

    /// <summary>A file or folder under fixtures/real; a clear failure when the whole folder is absent.</summary>
    public static string Path(string relative)
    {
        if (!Present)
        {
            throw new InvalidOperationException(
                $"this test reads real files from {Root}, which is not beside this clone; mark it [RealData] so " +
                "./test.sh leaves it out when the folder is absent");
        }

        return System.IO.Path.Combine(Root, relative);
    }
}
