using AkkaUsers.Accounts.Passwords;

namespace AkkaUsers.Accounts.Tests.Passwords;

/// <summary>libsodium and Isopoh are independent implementations: each must verify the other's hashes.</summary>
public sealed class PasswordHashersTests
{
    private static readonly Argon2Parameters Owasp = new();
    private static readonly IPasswordHasher Libsodium = new LibsodiumArgon2Hasher(Owasp);
    private static readonly IPasswordHasher Managed = new ManagedArgon2Hasher(Owasp);

    [Theory]
    [InlineData("abc321")]
    [InlineData("pässwörd with ünïcode ✓")]
    [InlineData("")]
    public void Each_engine_verifies_the_others_hashes(string password)
    {
        var bySodium = Libsodium.Hash(password);
        var byManaged = Managed.Hash(password);

        Assert.True(Managed.Verify(bySodium, password));
        Assert.True(Libsodium.Verify(byManaged, password));
        Assert.False(Managed.Verify(bySodium, password + "x"));
        Assert.False(Libsodium.Verify(byManaged, password + "x"));
    }

    [Fact]
    public void Hashes_are_standard_argon2id_strings_with_owasp_parameters_and_a_fresh_salt()
    {
        foreach (var hasher in new[] { Libsodium, Managed })
        {
            var first = hasher.Hash("abc321");
            var second = hasher.Hash("abc321");

            Assert.Matches(@"^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$", first);
            Assert.NotEqual(first, second);
            Assert.False(hasher.NeedsRehash(first));
        }
    }

    [Fact]
    public void A_hash_made_with_other_parameters_needs_a_rehash()
    {
        var cheaper = new LibsodiumArgon2Hasher(new Argon2Parameters(MemoryKiB: 8192, Iterations: 1)).Hash("abc321");

        Assert.True(Libsodium.NeedsRehash(cheaper));
        Assert.True(Managed.NeedsRehash(cheaper));
        Assert.True(Libsodium.Verify(cheaper, "abc321"));
    }

    [Fact]
    public void Something_that_is_not_an_argon2id_hash_never_verifies()
    {
        Assert.False(Libsodium.Verify("$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA", "abc321"));
        Assert.False(Managed.Verify("plain text", "plain text"));
        Assert.True(Libsodium.NeedsRehash("plain text"));
    }

    [Fact]
    public void Libsodium_refuses_more_than_one_lane()
    {
        Assert.Throws<ArgumentException>(() => new LibsodiumArgon2Hasher(new Argon2Parameters(Parallelism: 2)));
    }
}
