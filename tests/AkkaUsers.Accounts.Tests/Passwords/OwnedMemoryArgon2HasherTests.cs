using System.Runtime.Intrinsics.X86;
using System.Text;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Passwords;
using Isopoh.Cryptography.Argon2;

namespace AkkaUsers.Accounts.Tests.Passwords;

/// <summary>
/// The owned-memory engine against RFC 9106's test vector and against libsodium and Isopoh as independent oracles,
/// on each of its code paths this CPU can run (AVX-512, AVX2 and scalar).
/// </summary>
public sealed class OwnedMemoryArgon2HasherTests
{
    private static readonly Argon2Instructions[] VectorPaths =
        [.. new[] { Argon2Instructions.Avx512, Argon2Instructions.Avx2 }.Where(Argon2idCore.IsSupported)];

    /// <summary>The vector paths this CPU has; the scalar path always.</summary>
    public static TheoryData<Argon2Instructions> Paths() => [.. VectorPaths, Argon2Instructions.Scalar];

    [Theory]
    [MemberData(nameof(Paths))]
    public void Computes_the_rfc_9106_argon2id_test_vector_with_secret_and_associated_data(Argon2Instructions instructions)
    {
        Assert.True(OwnedMemoryArgon2Hasher.PassesSelfCheck(instructions));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Libsodium_and_the_engine_verify_each_others_hashes_on_random_passwords_and_costs(Argon2Instructions instructions)
    {
        var random = new Random(19);
        // The scalar path is several times slower: fewer cases keep the set fast.
        for (var i = 0; i < (instructions != Argon2Instructions.Scalar ? 1500 : 150); i++)
        {
            var parameters = new Argon2Parameters(random.Next(8, 257), random.Next(1, 4), 1);
            var password = RandomPassword(random);
            using var owned = new OwnedMemoryArgon2Hasher(parameters, 1, instructions);

            var bySodium = Libsodium(parameters).Hash(password);
            var byOwned = owned.Hash(password);

            Assert.True(owned.Verify(bySodium, password), $"{bySodium} for {password}");
            Assert.True(Libsodium(parameters).Verify(byOwned, password), $"{byOwned} for {password}");
            if (i % 10 == 0)
            {
                Assert.False(owned.Verify(bySodium, password + "x"));
                Assert.False(Libsodium(parameters).Verify(byOwned, password + "x"));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Isopoh_and_the_engine_verify_each_others_hashes_with_up_to_four_lanes(Argon2Instructions instructions)
    {
        var random = new Random(9106);
        for (var i = 0; i < (instructions != Argon2Instructions.Scalar ? 600 : 60); i++)
        {
            var lanes = random.Next(1, 5);
            var parameters = new Argon2Parameters(random.Next(8 * lanes, 257), random.Next(1, 4), lanes);
            var password = RandomPassword(random);
            using var owned = new OwnedMemoryArgon2Hasher(parameters, 1, instructions);

            var byIsopoh = Argon2.Hash(password, parameters.Iterations, parameters.MemoryKiB, lanes, Argon2Type.HybridAddressing, 32);
            var byOwned = owned.Hash(password);

            Assert.True(owned.Verify(byIsopoh, password), $"{byIsopoh} for {password}");
            Assert.True(Argon2.Verify(byOwned, password), $"{byOwned} for {password}");
        }
    }

    [SkippableFact]
    public void The_code_paths_compute_the_same_hash()
    {
        Skip.If(VectorPaths.Length == 0, "this CPU has neither AVX2 nor AVX-512: the scalar path is the only one");
        var random = new Random(2);
        for (var i = 0; i < 50; i++)
        {
            var lanes = random.Next(1, 5);
            var parameters = new Argon2Parameters(random.Next(8 * lanes, 257), random.Next(1, 4), lanes);
            var password = RandomPassword(random);
            using var scalar = new OwnedMemoryArgon2Hasher(parameters, 1, Argon2Instructions.Scalar);
            foreach (var path in VectorPaths)
            {
                using var vector = new OwnedMemoryArgon2Hasher(parameters, 1, path);
                Assert.True(scalar.Verify(vector.Hash(password), password), $"{path}, {parameters}");
            }
        }
    }

    [Fact]
    public async Task Thirty_two_hashes_at_once_across_four_slots_each_give_the_right_result()
    {
        var parameters = new Argon2Parameters(MemoryKiB: 256, Iterations: 2, Parallelism: 2);
        using var owned = new OwnedMemoryArgon2Hasher(parameters, slots: 4);
        var passwords = Enumerable.Range(0, 32).Select(i => $"password {i}").ToArray();
        using var start = new Barrier(passwords.Length);

        var threads = passwords.Select(password => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            var hash = owned.Hash(password);
            return (password, hash, verified: owned.Verify(hash, password));
        }, TaskCreationOptions.LongRunning)).ToArray();
        var results = await Task.WhenAll(threads);

        Assert.All(results, result =>
        {
            Assert.True(result.verified);
            Assert.True(Argon2.Verify(result.hash, result.password), $"{result.hash} for {result.password}");
        });
    }

    [Fact]
    public void A_hash_made_with_more_memory_than_a_slot_holds_is_verified_in_memory_of_its_own()
    {
        var larger = new Argon2Parameters(MemoryKiB: 4096, Iterations: 1, Parallelism: 1);
        using var owned = new OwnedMemoryArgon2Hasher(new Argon2Parameters(MemoryKiB: 64, Iterations: 1), 1);

        var hash = Libsodium(larger).Hash("abc321");

        Assert.True(owned.Verify(hash, "abc321"));
        Assert.False(owned.Verify(hash, "abc322"));
        Assert.True(owned.NeedsRehash(hash));
    }

    [Fact]
    public void Hashes_are_standard_strings_with_a_fresh_salt_that_need_no_rehash()
    {
        using var owned = new OwnedMemoryArgon2Hasher(new Argon2Parameters(), 1);

        var first = owned.Hash("abc321");
        var second = owned.Hash("abc321");

        Assert.Matches(@"^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$", first);
        Assert.NotEqual(first, second);
        Assert.False(owned.NeedsRehash(first));
        Assert.True(Libsodium(owned.Parameters).Verify(first, "abc321"));
    }

    [Theory]
    [InlineData("plain text")]
    [InlineData("$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")]
    [InlineData("$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")]
    [InlineData("$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")]
    [InlineData("$argon2id$v=19$m=7,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")]
    [InlineData("$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")]
    [InlineData("$argon2id$v=19$m=+64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")]
    [InlineData("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA")]
    [InlineData("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a!")]
    [InlineData("$argon2id$v=19$m=1048576,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")]
    public void What_is_not_an_argon2id_hash_within_bounds_is_not_verified(string encoded)
    {
        using var owned = new OwnedMemoryArgon2Hasher(new Argon2Parameters(MemoryKiB: 64, Iterations: 1), 1);

        Assert.False(owned.Verifies(encoded));
        Assert.False(owned.Verify(encoded, "abc321"));
    }

    [Fact]
    public void A_disposed_engine_refuses_to_hash()
    {
        var owned = new OwnedMemoryArgon2Hasher(new Argon2Parameters(MemoryKiB: 64, Iterations: 1), 2);
        owned.Dispose();
        owned.Dispose();

        Assert.Throws<ObjectDisposedException>(() => owned.Hash("abc321"));
    }

    private static LibsodiumArgon2Hasher Libsodium(Argon2Parameters parameters) => new(parameters);

    /// <summary>0 to 80 characters, ASCII and beyond, so that passwords span BLAKE2b block boundaries and UTF-8.</summary>
    private static string RandomPassword(Random random)
    {
        var text = new StringBuilder();
        for (var n = random.Next(0, 81); n > 0; n--)
            text.Append(random.Next(4) == 0 ? (char)random.Next(0xA0, 0x2000) : (char)random.Next(0x20, 0x7F));
        return text.ToString();
    }
}

/// <summary>Which engine the configuration gives: by default the fastest that computes the RFC vector right here.</summary>
public sealed class PasswordEngineChoiceTests
{
    [Fact]
    public void By_default_the_owned_engine_is_chosen_with_the_widest_vectors_the_cpu_has_and_libsodium_without_avx2()
    {
        var (hasher, why) = new PasswordOptions { MemoryKiB = 64 }.CreateHasher();
        using var _ = hasher as IDisposable;

        if (Avx2.IsSupported)
            Assert.Equal(Avx512F.IsSupported ? Argon2Instructions.Avx512 : Argon2Instructions.Avx2,
                Assert.IsType<OwnedMemoryArgon2Hasher>(hasher).Instructions);
        else
            Assert.IsType<LibsodiumArgon2Hasher>(hasher);
        Assert.Contains("fastest", why);
    }

    [Theory]
    [InlineData(PasswordEngine.Libsodium, typeof(LibsodiumArgon2Hasher))]
    [InlineData(PasswordEngine.Managed, typeof(ManagedArgon2Hasher))]
    [InlineData(PasswordEngine.Owned, typeof(OwnedMemoryArgon2Hasher))]
    public void A_configured_engine_is_the_one_used(PasswordEngine engine, Type expected)
    {
        var (hasher, why) = new PasswordOptions { Engine = engine, MemoryKiB = 64 }.CreateHasher();
        using var _ = hasher as IDisposable;

        Assert.IsType(expected, hasher);
        Assert.Equal("configured", why);
    }
}
