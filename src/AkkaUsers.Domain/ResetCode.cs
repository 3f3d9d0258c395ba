using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AkkaUsers.Domain;

/// <summary>
/// The one-time code that resets a forgotten password: <c>&lt;user id&gt;.&lt;43 base64url characters&gt;</c>, the
/// user's id (so that the code addresses the user's entity without any index) and 32 random bytes. The entity keeps
/// only the SHA-256 of the whole code: the code has 256 bits of entropy, so a fast hash is enough to make the stored
/// value useless to anyone who reads the journal.
/// </summary>
public static class ResetCode
{
    /// <summary>How long a code works after it was issued.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    /// <summary>At most one new code per account this often: a stranger can neither void the owner's code nor flood the journal.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMinutes(1);

    /// <summary>Who changed the password, in the <see cref="UserProtocol.PasswordChanged"/> of a reset with a code.</summary>
    public const string ChangedBy = "reset-code";

    private const int RandomBytes = 32;
    private const int RandomLength = 43; // base64url of 32 bytes, without padding
    public const int Length = UserId.Length + 1 + RandomLength;

    /// <summary>A fresh code for <paramref name="userId"/>, from the system's cryptographic random number generator.</summary>
    public static string New(string userId) =>
        $"{userId}.{Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes))}";

    /// <summary>The SHA-256 of the whole code, as 64 lowercase hex digits: what the entity stores and compares.</summary>
    public static string Hash(string code) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)));

    /// <summary>The user id of a well-formed code; false for anything else (the random part is checked for its form only).</summary>
    public static bool TryGetUserId(string code, out string userId)
    {
        userId = "";
        if (code.Length != Length || code[UserId.Length] != '.') return false;
        if (!code.AsSpan(UserId.Length + 1).ContainsOnlyBase64UrlCharacters()) return false;
        if (!UserId.TryParse(code[..UserId.Length], out var id)) return false;
        userId = id.Value;
        return true;
    }

    /// <summary>Compares two hashes in time that depends on their length only, never on where they differ.</summary>
    public static bool HashesEqual(string expected, string given) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(given));

    private static bool ContainsOnlyBase64UrlCharacters(this ReadOnlySpan<char> text)
    {
        foreach (var c in text)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_')) return false;
        return true;
    }
}
