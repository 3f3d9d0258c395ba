using System.Diagnostics;
using AkkaUsers.Actors.Passwords;
using Microsoft.AspNetCore.Identity;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// How many times per second one password operation runs on all cores of this machine, with nothing else running in
/// this process, and the CPU time each one takes.
/// </summary>
public sealed record RawHashRate(double PerSecond, double CpuMs)
{
    private const string Password = "Passw0rd!";

    private static readonly LibsodiumArgon2Hasher Argon2 = new(new Argon2Parameters());
    private static readonly string Argon2Hashed = Argon2.Hash(Password);

    /// <summary>Identity's own hasher at its defaults (PBKDF2-HMAC-SHA512, 100,000 iterations).</summary>
    private static readonly PasswordHasher<IdentityUser> Pbkdf2 = new();
    private static readonly IdentityUser Someone = new("someone");
    private static readonly string Pbkdf2Hashed = Pbkdf2.HashPassword(Someone, Password);

    /// <summary>This service's default: libsodium's Argon2id at the default parameters.</summary>
    public static RawHashRate Argon2idHash(TimeSpan duration) => Measure(() => Argon2.Hash(Password), duration);

    public static RawHashRate Argon2idVerify(TimeSpan duration) => Measure(() => Argon2.Verify(Argon2Hashed, Password), duration);

    public static RawHashRate Pbkdf2Hash(TimeSpan duration) => Measure(() => Pbkdf2.HashPassword(Someone, Password), duration);

    public static RawHashRate Pbkdf2Verify(TimeSpan duration) => Measure(() => Pbkdf2.VerifyHashedPassword(Someone, Pbkdf2Hashed, Password), duration);

    public override string ToString() => $"{PerSecond:0.0}/s, {CpuMs:0.0} ms CPU each";

    /// <summary>Operations per second with one thread per core for <paramref name="duration"/>, and the process's CPU time per operation.</summary>
    private static RawHashRate Measure(Action operation, TimeSpan duration)
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
        return new RawHashRate(count / clock.Elapsed.TotalSeconds, (self.TotalProcessorTime - cpu).TotalMilliseconds / count);
    }
}
