using System.Text;
using Isopoh.Cryptography.Argon2;

namespace AkkaUsers.Accounts.Passwords;

/// <summary>Argon2id cost parameters (OWASP's defaults: 19 MiB, two passes, one lane).</summary>
public sealed record Argon2Parameters(int MemoryKiB = 19456, int Iterations = 2, int Parallelism = 1)
{
    /// <summary>How a hash at this cost begins in the PHC string format, up to the salt.</summary>
    public string PhcPrefix => $"$argon2id$v=19$m={MemoryKiB},t={Iterations},p={Parallelism}$";
}

/// <summary>Argon2id in the standard "$argon2id$v=19$m=..,t=..,p=..$salt$hash" form, 16-byte salt, 32-byte hash.</summary>
public interface IPasswordHasher
{
    Argon2Parameters Parameters { get; }
    string Hash(string password);
    bool Verify(string encodedHash, string password);
    /// <summary>Whether this engine verifies such a hash itself; any other is an imported one (see <see cref="ImportedHashes"/>).</summary>
    bool Verifies(string encodedHash);
    /// <summary>True when the hash was made with other parameters than the configured ones.</summary>
    bool NeedsRehash(string encodedHash);
}

/// <summary>libsodium through Geralt: the fast engine. libsodium computes one lane only (p=1).</summary>
public sealed class LibsodiumArgon2Hasher : IPasswordHasher
{
    public LibsodiumArgon2Hasher(Argon2Parameters parameters)
    {
        if (parameters.Parallelism != 1)
            throw new ArgumentException("libsodium computes Argon2id with one lane only: set Password:Parallelism to 1 or Password:Engine to Owned or Managed");
        Parameters = parameters;
    }

    public Argon2Parameters Parameters { get; }

    public string Hash(string password)
    {
        Span<char> encoded = stackalloc char[Geralt.Argon2id.HashSize];
        Geralt.Argon2id.ComputeHash(encoded, Encoding.UTF8.GetBytes(password), Parameters.Iterations, MemoryBytes);
        return encoded.TrimEnd('\0').ToString();
    }

    public bool Verify(string encodedHash, string password) =>
        Verifies(encodedHash) && Geralt.Argon2id.VerifyHash(encodedHash, Encoding.UTF8.GetBytes(password));

    public bool Verifies(string encodedHash) => IsArgon2id(encodedHash) && encodedHash.Contains(",p=1$", StringComparison.Ordinal);

    public bool NeedsRehash(string encodedHash) =>
        !IsArgon2id(encodedHash) || Geralt.Argon2id.NeedsRehash(encodedHash, Parameters.Iterations, MemoryBytes);

    private int MemoryBytes => Parameters.MemoryKiB * 1024;

    private static bool IsArgon2id(string encodedHash) => encodedHash.StartsWith("$argon2id$", StringComparison.Ordinal);
}

/// <summary>Isopoh's fully managed Argon2id: the fallback engine, and an independent oracle in tests.</summary>
public sealed class ManagedArgon2Hasher(Argon2Parameters parameters) : IPasswordHasher
{
    public Argon2Parameters Parameters { get; } = parameters;

    public string Hash(string password) => Argon2.Hash(
        password, Parameters.Iterations, Parameters.MemoryKiB, Parameters.Parallelism,
        Argon2Type.HybridAddressing, hashLength: 32);

    public bool Verify(string encodedHash, string password) => Verifies(encodedHash) && Argon2.Verify(encodedHash, password);

    public bool Verifies(string encodedHash) => encodedHash.StartsWith("$argon2id$", StringComparison.Ordinal);

    public bool NeedsRehash(string encodedHash) =>
        !encodedHash.StartsWith(Parameters.PhcPrefix, StringComparison.Ordinal);
}
