using RdBridge.IO;

namespace RdBridge.Tests.IO;

/// <summary>A count printed with its noun reads right at every number, one above all.</summary>
public class CountedTests
{
    [Theory]
    [InlineData(0, "0 gaps")]
    [InlineData(1, "1 gap")]
    [InlineData(2, "2 gaps")]
    public void A_count_takes_the_singular_noun_only_when_it_is_one(long count, string expected)
    {
        Assert.Equal(expected, Counted.Of(count, "gap"));
    }

    [Theory]
    [InlineData(1, "1 entry")]
    [InlineData(2, "2 entries")]
    [InlineData(0, "0 entries")]
    public void An_irregular_noun_uses_the_plural_it_is_given(long count, string expected)
    {
        Assert.Equal(expected, Counted.Of(count, "entry", "entries"));
    }

    [Fact]
    public void Words_before_the_noun_are_kept_in_both_numbers()
    {
        Assert.Equal("1 broken link", Counted.Of(1, "broken link"));
        Assert.Equal("3 broken links", Counted.Of(3, "broken link"));
    }

    [Fact]
    public void A_number_format_is_applied_to_the_count()
    {
        Assert.Equal("1,234,567 bytes", Counted.Of(1_234_567, "byte", format: "N0"));
        Assert.Equal("1 byte", Counted.Of(1, "byte", format: "N0"));
    }

    [Fact]
    public void The_noun_alone_agrees_with_the_count_it_is_given()
    {
        Assert.Equal("check", Counted.Noun(1, "check"));
        Assert.Equal("checks", Counted.Noun(5, "check"));
        Assert.Equal("entries", Counted.Noun(0, "entry", "entries"));
    }
}
