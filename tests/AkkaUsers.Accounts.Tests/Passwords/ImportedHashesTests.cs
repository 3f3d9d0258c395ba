using AkkaUsers.Accounts.Passwords;

namespace AkkaUsers.Accounts.Tests.Passwords;

/// <summary>
/// Imported hashes verify with their own format's implementation. The vectors come from independent implementations:
/// pyca's bcrypt (OpenBSD's C code) and argon2-cffi (the reference C code), made with
/// <c>bcrypt.hashpw(pw, bcrypt.gensalt(rounds=5, prefix=b"2a"))</c> and
/// <c>argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=4, type=Type.ID).hash(pw)</c> and the like.
/// </summary>
public sealed class ImportedHashesTests
{
    private const string Password = "correct horse battery";

    public static TheoryData<string, string, string> Vectors => new()
    {
        { ImportedHashes.Bcrypt, "$2a$05$QS7ldm6qOMqtsHGcHvhmr.Ct1SnEEpvI19Th.e.SZlhcEzSB3gtyi", Password },
        { ImportedHashes.Bcrypt, "$2b$05$pR/jxDOKfmq6cpVBwMCDVOy2KET7OYlJV44Hfce4EAiB4d/Mi1FK.", Password },
        // PHP writes $2y$ for the same algorithm.
        { ImportedHashes.Bcrypt, "$2y$05$pR/jxDOKfmq6cpVBwMCDVOy2KET7OYlJV44Hfce4EAiB4d/Mi1FK.", Password },
        { ImportedHashes.Argon2id, "$argon2id$v=19$m=1024,t=2,p=4$8O2CfgNF5eJsEghucIfq6A$1argbUazhb7HMbzlGCf0hg", Password },
        { ImportedHashes.Argon2i, "$argon2i$v=19$m=512,t=3,p=2$6PjKg7C4wGKc1Iw1mUr6Pg$TZePkB+wCCftDT1s8ilhWQ", Password },
        { ImportedHashes.Argon2id, "$argon2id$v=19$m=256,t=1,p=1$yD1TAfyfGU5t87lPgy0kvQ$ewWNddPRpj0oWK5S7UqTGg", "pässwörd ✓" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void A_hash_from_another_implementation_verifies_its_password_and_no_other(string format, string hash, string password)
    {
        Assert.Equal(format, ImportedHashes.FormatOf(hash));
        Assert.True(ImportedHashes.Verify(hash, password));
        Assert.False(ImportedHashes.Verify(hash, password + "x"));
        Assert.False(ImportedHashes.Verify(hash, ""));
    }

    [Theory]
    [InlineData("$2b$31$pR/jxDOKfmq6cpVBwMCDVOy2KET7OYlJV44Hfce4EAiB4d/Mi1FK.")] // 2^31 rounds: days of CPU
    [InlineData("$2b$05$pR/jxDOKfmq6cpVBwMCDVOy2KET7OYlJV44Hfce4EAiB4d/Mi1F")] // cut short
    [InlineData("$argon2id$v=19$m=4194304,t=2,p=1$8O2CfgNF5eJsEghucIfq6A$1argbUazhb7HMbzlGCf0hg")] // 4 GiB
    [InlineData("$argon2id$v=19$m=1024,t=1000,p=4$8O2CfgNF5eJsEghucIfq6A$1argbUazhb7HMbzlGCf0hg")]
    [InlineData("$argon2id$v=19$m=1024,t=2,p=64$8O2CfgNF5eJsEghucIfq6A$1argbUazhb7HMbzlGCf0hg")]
    [InlineData("$argon2id$v=16$m=1024,t=2,p=4$8O2CfgNF5eJsEghucIfq6A$1argbUazhb7HMbzlGCf0hg")]
    [InlineData("$argon2d$v=19$m=1024,t=2,p=4$8O2CfgNF5eJsEghucIfq6A$1argbUazhb7HMbzlGCf0hg")]
    [InlineData("$argon2id$v=19$m=1024,t=2,p=4$c2FsdA$1argbUazhb7HMbzlGCf0hg")] // a 4-byte salt
    [InlineData("AQAAAAIAAYagAAAAEA==")] // Identity v3 header without salt or subkey
    [InlineData("AQAAAAJ/////AAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")] // 2^31 iterations
    [InlineData("plain text password")]
    [InlineData("")]
    [InlineData("$1$md5crypt$abcdefghijklmnopqrstuv")]
    public void A_hash_of_no_known_format_or_with_costs_out_of_bounds_has_no_format_and_never_verifies(string hash)
    {
        Assert.Null(ImportedHashes.FormatOf(hash));
        Assert.False(ImportedHashes.Verify(hash, Password));
    }

    [Fact]
    public async Task An_imported_hash_verifies_through_the_service_hashing_and_always_needs_a_rehash_but_its_own_never_does()
    {
        var hashing = new PasswordHashing(new LibsodiumArgon2Hasher(new Argon2Parameters(MemoryKiB: 1024, Iterations: 1)), 2, TestData.Metrics());
        foreach (var (_, hash, password) in Vectors.Select(row => ((string)row[0], (string)row[1], (string)row[2])))
        {
            Assert.True(await hashing.VerifyAsync(hash, password, CancellationToken.None), hash);
            Assert.False(await hashing.VerifyAsync(hash, password + "x", CancellationToken.None), hash);
            Assert.True(hashing.NeedsRehash(hash), hash);
        }

        var own = await hashing.HashAsync(Password, CancellationToken.None);
        Assert.False(hashing.NeedsRehash(own));
        Assert.True(await hashing.VerifyAsync(own, Password, CancellationToken.None));
    }
}
