namespace AkkaUsers.Domain.Tests;

public class IsoTimeTests
{
    [Theory]
    [InlineData("2025-03-14", "2025-03-14T00:00:00.0000000+00:00")]
    [InlineData("2025-03-14T15:09", "2025-03-14T15:09:00.0000000+00:00")]
    [InlineData("2025-03-14T15:09:26Z", "2025-03-14T15:09:26.0000000+00:00")]
    [InlineData("2025-03-14T15:09:26.5358979Z", "2025-03-14T15:09:26.5358979+00:00")]
    [InlineData("2025-03-14T17:09:26+02:00", "2025-03-14T15:09:26.0000000+00:00")]
    [InlineData("2025-03-14T15:09:26", "2025-03-14T15:09:26.0000000+00:00")]
    public void Iso_8601_times_parse_to_utc(string text, string expected)
    {
        Assert.True(IsoTime.TryParse(text, out var time));
        Assert.Equal(expected, time.ToString("O"));
        Assert.Equal(TimeSpan.Zero, time.Offset);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("3/14/2025")]
    [InlineData("14.03.2025")]
    [InlineData("2025-13-01")]
    [InlineData("2025-02-30T00:00:00Z")]
    [InlineData("2025-03-14 15:09:26")]
    [InlineData("2025-03-14T15:09:26 02:00")]
    [InlineData("12345")]
    [InlineData(" 2025-03-14")]
    public void Anything_else_does_not_parse(string? text)
    {
        Assert.False(IsoTime.TryParse(text, out _));
    }
}
