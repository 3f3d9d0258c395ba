using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AkkaUsers.Domain;

/// <summary>
/// A user id in MongoDB ObjectId layout, as Appmixer's are: 24 lowercase hex characters made of
/// a 4-byte big-endian seconds timestamp, 5 random bytes fixed per process, and a 3-byte counter.
/// </summary>
public readonly record struct UserId
{
    private static readonly byte[] ProcessRandom = RandomNumberGenerator.GetBytes(5);
    private static int _counter = RandomNumberGenerator.GetInt32(0, 0x1000000);

    /// <summary>Characters in an id.</summary>
    public const int Length = 24;

    public string Value { get; }

    private UserId(string value) => Value = value;

    public static UserId New(DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)now.ToUnixTimeSeconds());
        ProcessRandom.CopyTo(bytes[4..]);
        var counter = Interlocked.Increment(ref _counter) & 0xFFFFFF;
        bytes[9] = (byte)(counter >> 16);
        bytes[10] = (byte)(counter >> 8);
        bytes[11] = (byte)counter;
        return new UserId(Convert.ToHexStringLower(bytes));
    }

    /// <summary>
    /// The id that a sign-in with an unknown login asks instead of a user's: the same key always gets the same one, and
    /// no user ever has it (it is made by a hash, not by <see cref="New"/>), so that its entity starts and answers
    /// "not found" exactly where a known login's entity would start and answer.
    /// </summary>
    public static UserId StandIn(string normalizedKey) =>
        new(Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("stand-in:" + normalizedKey)))[..Length]);

    public static bool TryParse(string? text, out UserId id)
    {
        id = default;
        if (text is not { Length: Length } || !text.All(char.IsAsciiHexDigitLower))
            return false;
        id = new UserId(text);
        return true;
    }

    public static UserId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a 24-character lowercase hex user id");

    /// <summary>The seconds timestamp in the first four bytes.</summary>
    public DateTimeOffset CreatedAt =>
        DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadUInt32BigEndian(Convert.FromHexString(Value)[..4]));

    public override string ToString() => Value;
}
