using AkkaUsers.Accounts.Passwords;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace AkkaUsers.Benchmarks;

/// <summary>The three Argon2id engines at the service's default cost (m=19456 KiB, t=2, p=1), one hash or verification at a time.</summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class PasswordHashingBenchmarks
{
    private const string Password = "correct horse battery staple";

    private readonly IPasswordHasher _libsodium = new LibsodiumArgon2Hasher(new Argon2Parameters());
    private readonly IPasswordHasher _managed = new ManagedArgon2Hasher(new Argon2Parameters());
    private readonly OwnedMemoryArgon2Hasher _owned = new(new Argon2Parameters(), slots: 1);
    private string _hash = "";

    [GlobalSetup]
    public void Setup() => _hash = _libsodium.Hash(Password);

    [Benchmark]
    public string LibsodiumHash() => _libsodium.Hash(Password);

    [Benchmark]
    public bool LibsodiumVerify() => _libsodium.Verify(_hash, Password);

    [Benchmark]
    public string OwnedHash() => _owned.Hash(Password);

    [Benchmark]
    public bool OwnedVerify() => _owned.Verify(_hash, Password);

    [Benchmark]
    public string ManagedHash() => _managed.Hash(Password);

    [Benchmark]
    public bool ManagedVerify() => _managed.Verify(_hash, Password);

    [GlobalCleanup]
    public void Cleanup() => _owned.Dispose();

    /// <summary>In process (no generated project to restore and build) and short: each call takes tens of milliseconds.</summary>
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
    }
}
