using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace AkkaUsers.Accounts.Passwords;

/// <summary>
/// The password hashes a user base moved over from elsewhere comes with: bcrypt, Argon2 (i and id, any lanes) and
/// ASP.NET Core Identity's v2 and v3. Each is verified by a well-kept implementation (BCrypt.Net, Isopoh, .NET's own
/// PBKDF2) until the user's first sign-in replaces it with the service's Argon2id. A hash whose costs are out of
/// bounds is no known format: verifying it could hold a CPU for minutes or take gigabytes.
/// </summary>
public static partial class ImportedHashes
{
    public const string Bcrypt = "bcrypt";
    public const string Argon2id = "argon2id";
    public const string Argon2i = "argon2i";
    public const string IdentityV3 = "aspnet-identity-v3";
    public const string IdentityV2 = "aspnet-identity-v2";

    public const int MaxBcryptCost = 15;
    public const int MaxArgon2MemoryKiB = 262_144;
    public const int MaxArgon2Iterations = 16;
    public const int MaxArgon2Lanes = 16;
    public const int MaxPbkdf2Iterations = 1_000_000;

    /// <summary>The format of <paramref name="hash"/>, or null when it is none of the known ones within bounds.</summary>
    public static string? FormatOf(string hash)
    {
        if (BcryptHash().Match(hash) is { Success: true } bcrypt)
            return int.Parse(bcrypt.Groups["cost"].Value) is >= 4 and <= MaxBcryptCost ? Bcrypt : null;
        if (Argon2Hash().Match(hash) is { Success: true } argon2)
            return Argon2CostsAreSane(argon2) ? (argon2.Groups["type"].Value == "id" ? Argon2id : Argon2i) : null;
        return IdentityHash.TryRead(hash, out var identity) ? identity.Format : null;
    }

    /// <summary>Whether <paramref name="password"/> is the one <paramref name="hash"/> was made of; false for an unknown format.</summary>
    public static bool Verify(string hash, string password) => FormatOf(hash) switch
    {
        Bcrypt => BCrypt.Net.BCrypt.Verify(password, hash),
        Argon2id or Argon2i => Isopoh.Cryptography.Argon2.Argon2.Verify(hash, password),
        IdentityV3 or IdentityV2 => IdentityHash.TryRead(hash, out var identity) && identity.Matches(password),
        _ => false,
    };

    private static bool Argon2CostsAreSane(Match argon2)
    {
        if (!int.TryParse(argon2.Groups["m"].Value, out var memory) || !int.TryParse(argon2.Groups["t"].Value, out var iterations)
            || !int.TryParse(argon2.Groups["p"].Value, out var lanes))
            return false;
        return lanes is >= 1 and <= MaxArgon2Lanes && iterations is >= 1 and <= MaxArgon2Iterations
            && memory >= 8 * lanes && memory <= MaxArgon2MemoryKiB
            && DecodedLength(argon2.Groups["salt"].Value) >= 8 && DecodedLength(argon2.Groups["hash"].Value) >= 16;
    }

    /// <summary>The bytes in unpadded standard base64 of this many characters.</summary>
    private static int DecodedLength(string base64) => base64.Length * 3 / 4;

    [GeneratedRegex(@"^\$2[aby]\$(?<cost>\d\d)\$[./A-Za-z0-9]{53}$")]
    private static partial Regex BcryptHash();

    [GeneratedRegex(@"^\$argon2(?<type>id|i)\$v=19\$m=(?<m>\d{1,9}),t=(?<t>\d{1,9}),p=(?<p>\d{1,9})\$(?<salt>[A-Za-z0-9+/]+)\$(?<hash>[A-Za-z0-9+/]+)$")]
    private static partial Regex Argon2Hash();

    /// <summary>
    /// ASP.NET Core Identity's PasswordHasher output, base64: v3 is 0x01, the PRF, the iteration count and the salt's
    /// length (each a big-endian uint32), the salt and the subkey; v2 is 0x00, a 16-byte salt and a 32-byte subkey of
    /// PBKDF2-HMAC-SHA1 with 1000 iterations.
    /// </summary>
    private sealed record IdentityHash(string Format, HashAlgorithmName Prf, int Iterations, byte[] Salt, byte[] Subkey)
    {
        public static bool TryRead(string hash, out IdentityHash identity)
        {
            identity = null!;
            var bytes = new byte[hash.Length];
            if (!Convert.TryFromBase64String(hash, bytes, out var length) || length == 0) return false;
            var decoded = bytes.AsSpan(0, length);
            switch (decoded[0])
            {
                case 0x00 when length == 1 + 16 + 32:
                    identity = new IdentityHash(IdentityV2, HashAlgorithmName.SHA1, 1000, decoded[1..17].ToArray(), decoded[17..].ToArray());
                    return true;
                case 0x01 when length >= 13:
                    HashAlgorithmName? prf = BinaryPrimitives.ReadUInt32BigEndian(decoded[1..]) switch
                    {
                        0 => HashAlgorithmName.SHA1,
                        1 => HashAlgorithmName.SHA256,
                        2 => HashAlgorithmName.SHA512,
                        _ => null,
                    };
                    var iterations = BinaryPrimitives.ReadUInt32BigEndian(decoded[5..]);
                    var saltLength = BinaryPrimitives.ReadUInt32BigEndian(decoded[9..]);
                    if (prf is null || iterations is < 1 or > MaxPbkdf2Iterations || saltLength is < 16 or > 1024) return false;
                    var subkeyAt = 13 + (int)saltLength;
                    if (length - subkeyAt < 16) return false;
                    identity = new IdentityHash(IdentityV3, prf.Value, (int)iterations,
                        decoded[13..subkeyAt].ToArray(), decoded[subkeyAt..].ToArray());
                    return true;
                default:
                    return false;
            }
        }

        public bool Matches(string password) => CryptographicOperations.FixedTimeEquals(
            Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Salt, Iterations, Prf, Subkey.Length), Subkey);
    }
}
