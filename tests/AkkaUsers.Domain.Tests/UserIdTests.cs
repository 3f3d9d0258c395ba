using System.Buffers.Binary;
using System.Reflection;
using AkkaUsers.Domain;

namespace AkkaUsers.Domain.Tests;

/// <summary>
/// The counter of <see cref="UserId"/> is process-wide; only this class calls <see cref="UserId.New"/>
/// (other test classes use literal ids), so consecutive calls here see consecutive counter values.
/// </summary>
public class UserIdTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    private static byte[] BytesOf(UserId id) => Convert.FromHexString(id.Value);

    private static int CounterOf(UserId id)
    {
        var b = BytesOf(id);
        return (b[9] << 16) | (b[10] << 8) | b[11];
    }

    [Fact]
    public void New_gives_24_lowercase_hex_characters()
    {
        var id = UserId.New(Now);

        Assert.Equal(24, id.Value.Length);
        Assert.All(id.Value, c => Assert.True(char.IsAsciiHexDigitLower(c), $"'{c}' is not a lowercase hex digit"));
        Assert.Equal(id.Value, id.ToString());
    }

    [Fact]
    public void First_four_bytes_are_the_big_endian_seconds_timestamp()
    {
        var id = UserId.New(Now);

        // 1_700_000_000 == 0x6553F100
        Assert.StartsWith("6553f100", id.Value, StringComparison.Ordinal);
        Assert.Equal(1_700_000_000u, BinaryPrimitives.ReadUInt32BigEndian(BytesOf(id)));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(1_700_000_000L)]
    [InlineData(4_294_967_295L)] // the last second a 4-byte timestamp holds (year 2106)
    public void CreatedAt_round_trips_the_second_given(long seconds)
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(seconds);

        Assert.Equal(at, UserId.New(at).CreatedAt);
    }

    [Fact]
    public void CreatedAt_drops_the_sub_second_part()
    {
        var at = Now.AddMilliseconds(999);

        Assert.Equal(Now, UserId.New(at).CreatedAt);
    }

    [Fact]
    public void Process_random_bytes_are_the_same_for_two_ids_of_one_process()
    {
        var first = BytesOf(UserId.New(Now));
        var second = BytesOf(UserId.New(Now.AddDays(3)));

        Assert.Equal(first[4..9], second[4..9]);
    }

    [Fact]
    public void Counter_increments_between_consecutive_ids_modulo_2_pow_24()
    {
        var previous = CounterOf(UserId.New(Now));
        for (var i = 0; i < 1000; i++)
        {
            var next = CounterOf(UserId.New(Now));
            Assert.Equal(1, (next - previous) & 0xFFFFFF);
            previous = next;
        }
    }

    [Theory]
    [InlineData(0x00FFFFFE, 0xFFFFFF, 0x000000)] // the 3-byte counter wraps
    [InlineData(int.MaxValue - 1, 0xFFFFFF, 0x000000)] // and so does the int behind it
    public void Counter_wraps_around_at_2_pow_24(int before, int expectedFirst, int expectedSecond)
    {
        // The counter starts at a random value; set it to just before the wrap to see the wrap happen.
        var field = typeof(UserId).GetField("_counter", BindingFlags.NonPublic | BindingFlags.Static);
        Assert.NotNull(field);
        field.SetValue(null, before);

        Assert.Equal(expectedFirst, CounterOf(UserId.New(Now)));
        Assert.Equal(expectedSecond, CounterOf(UserId.New(Now)));
    }

    [Fact]
    public void Many_ids_are_distinct()
    {
        const int count = 100_000;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
            ids.Add(UserId.New(Now).Value);

        Assert.Equal(count, ids.Count);
    }

    [Fact]
    public void Many_ids_made_concurrently_are_distinct()
    {
        const int count = 100_000;
        var ids = new string[count];
        Parallel.For(0, count, i => ids[i] = UserId.New(Now).Value);

        Assert.Equal(count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("507f1f77bcf86cd799439011")]
    [InlineData("000000000000000000000000")]
    [InlineData("ffffffffffffffffffffffff")]
    [InlineData("0123456789abcdef01234567")]
    public void TryParse_accepts_valid_ids(string text)
    {
        Assert.True(UserId.TryParse(text, out var id));
        Assert.Equal(text, id.Value);
        Assert.Equal(id, UserId.Parse(text));
    }

    [Fact]
    public void TryParse_accepts_a_new_id()
    {
        var id = UserId.New(Now);

        Assert.True(UserId.TryParse(id.Value, out var parsed));
        Assert.Equal(id, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("507f1f77bcf86cd79943901")] // 23
    [InlineData("507f1f77bcf86cd7994390111")] // 25
    [InlineData("507F1F77BCF86CD799439011")] // uppercase
    [InlineData("507f1f77bcf86cd79943901A")] // one uppercase digit
    [InlineData("507f1f77bcf86cd79943901g")] // non-hex
    [InlineData("507f1f77bcf86cd79943901 ")] // space
    [InlineData(" 507f1f77bcf86cd79943901")]
    [InlineData("507f1f77-bcf86cd7994390")]
    [InlineData("507f1f77bcf86cd79943901\u0660")] // Arabic-Indic digit zero: a digit, but not ASCII hex
    [InlineData("507f1f77bcf86cd79943901\uff41")] // fullwidth 'a'
    public void TryParse_rejects_invalid_text(string? text)
    {
        Assert.False(UserId.TryParse(text, out var id));
        Assert.Equal(default, id);
    }

    [Fact]
    public void Parse_throws_FormatException_on_invalid_text()
    {
        Assert.Throws<FormatException>(() => UserId.Parse("507F1F77BCF86CD799439011"));
    }
}
