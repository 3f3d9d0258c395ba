using System.Diagnostics;
using AkkaUsers.Actors.Passwords;
using Microsoft.AspNetCore.Identity;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// How many hashes and verifications per second one password algorithm does on all cores of this machine, with
/// nothing else running in this process, and how much CPU time each one takes.
/// </summary>
public sealed record RawHashRates(double HashPerSecond, double VerifyPerSecond, double HashCpuMs, double VerifyCpuMs)
{
    private const string Password = "Passw0rd!";

    /// <summary>This service's default: libsodium's Argon2id at the default parameters.</summary>
    public static RawHashRates Argon2id(TimeSpan each)
    {
        var argon2 = new LibsodiumArgon2Hasher(new Argon2Parameters());
        var hash = argon2.Hash(Password);
        return Measure(() => argon2.Hash(Password), () => argon2.Verify(hash, Password), each);
    }

    /// <summary>Identity's own hasher at its defaults (PBKDF2-HMAC-SHA512, 100,000 iterations).</summary>
    public static RawHashRates Pbkdf2(TimeSpan each)
    {
        var pbkdf2 = new PasswordHasher<IdentityUser>();
        var user = new IdentityUser("someone");
        var hash = pbkdf2.HashPassword(user, Password);
        return Measure(() => pbkdf2.HashPassword(user, Password), () => pbkdf2.VerifyHashedPassword(user, hash, Password), each);
    }

    /// <summary>The mean of two measurements, one taken before and one after what they bracket.</summary>
    public static RawHashRates Mean(RawHashRates a, RawHashRates b) => new(
        (a.HashPerSecond + b.HashPerSecond) / 2, (a.VerifyPerSecond + b.VerifyPerSecond) / 2,
        (a.HashCpuMs + b.HashCpuMs) / 2, (a.VerifyCpuMs + b.VerifyCpuMs) / 2);

    public override string ToString() =>
        $"hash {HashPerSecond:0.0}/s ({HashCpuMs:0.0} ms CPU each), verify {VerifyPerSecond:0.0}/s ({VerifyCpuMs:0.0} ms CPU each)";

    private static RawHashRates Measure(Action hash, Action verify, TimeSpan each)
    {
        var (hashRate, hashCpu) = Rate(hash, each);
        var (verifyRate, verifyCpu) = Rate(verify, each);
        return new RawHashRates(hashRate, verifyRate, hashCpu, verifyCpu);
    }

    /// <summary>Operations per second with one thread per core for <paramref name="duration"/>, and the process's CPU time per operation.</summary>
    private static (double PerSecond, double CpuMs) Rate(Action operation, TimeSpan duration)
    {
        operation(); // warm
        long count = 0;
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => new Thread(() =>
        {
            while (clock.Elapsed < duration)
            {
                operation();
                Interlocked.Increment(ref count);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return (count / clock.Elapsed.TotalSeconds, (self.TotalProcessorTime - cpu).TotalMilliseconds / count);
    }
}
