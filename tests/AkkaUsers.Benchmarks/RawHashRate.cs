using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using AkkaUsers.Accounts.Passwords;
using AkkaUsers.Accounts.Telemetry;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// How many times per second one password operation runs on all cores of this machine, with nothing else running in
/// this process, and the CPU time each one takes.
/// </summary>
public sealed record RawHashRate(double PerSecond, double CpuMs)
{
    private const string Password = "Passw0rd!";

    /// <summary>This service's default cost (m=19456 KiB, t=2, p=1).</summary>
    public static readonly Argon2Parameters Argon2Cost = new();

    public static readonly LibsodiumArgon2Hasher Libsodium = new(Argon2Cost);

    /// <summary>The owned-memory engine with a slot for each thread that measures it.</summary>
    public static OwnedMemoryArgon2Hasher Owned => OwnedEngine.Value;

    private static readonly Lazy<OwnedMemoryArgon2Hasher> OwnedEngine =
        new(() => new OwnedMemoryArgon2Hasher(Argon2Cost, Math.Max(Threads, Environment.ProcessorCount)));

    /// <summary>Identity's own hasher at its defaults (PBKDF2-HMAC-SHA512, 100,000 iterations).</summary>
    private static readonly PasswordHasher<IdentityUser> Pbkdf2 = new();
    private static readonly IdentityUser Someone = new("someone");
    private static readonly string Pbkdf2Hashed = Pbkdf2.HashPassword(Someone, Password);

    /// <summary>One thread per core unless the <c>raw --threads N</c> command line says otherwise.</summary>
    public static int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>libsodium's Argon2id: the bare rate the service's sign-ins and registrations are set against.</summary>
    public static RawHashRate Argon2idHash(TimeSpan duration) => Argon2idHash(Libsodium, duration);

    public static RawHashRate Argon2idVerify(TimeSpan duration) => Argon2idVerify(Libsodium, duration);

    public static RawHashRate Argon2idHash(IPasswordHasher engine, TimeSpan duration) => Measure(() => engine.Hash(Password), duration);

    public static RawHashRate Argon2idVerify(IPasswordHasher engine, TimeSpan duration)
    {
        var hashed = engine.Hash(Password);
        return Measure(() => engine.Verify(hashed, Password), duration);
    }

    /// <summary>
    /// Verifications through the service's own <see cref="PasswordHashing"/> (one slot per core, on the thread pool)
    /// from four callers per core: the service's hashing path without HTTP, actors or a journal.
    /// </summary>
    public static RawHashRate Argon2idVerifyThroughSlots(IPasswordHasher engine, TimeSpan duration)
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        var hashing = new PasswordHashing(engine, Environment.ProcessorCount, new AkkaUsersMetrics(meters));
        var hashed = engine.Hash(Password);
        return Measure(duration, (count, clock) => Task.WaitAll(Enumerable.Range(0, 4 * Environment.ProcessorCount).Select(async _ =>
        {
            await Task.Yield();
            while (clock.Elapsed < duration)
            {
                await hashing.VerifyAsync(hashed, Password, CancellationToken.None);
                Interlocked.Increment(ref count.Value);
            }
        })));
    }

    /// <summary>The reference C library's Argon2id over memory this process owns (see <see cref="ReferenceArgon2"/>), raw tags.</summary>
    public static RawHashRate Argon2idReferenceHash(TimeSpan duration)
    {
        var password = Encoding.UTF8.GetBytes(Password);
        var salt = RandomNumberGenerator.GetBytes(16);
        return Measure(() => ReferenceArgon2.Hash(password, salt), duration);
    }

    /// <summary>Whether <see cref="ReferenceArgon2"/> computes the tag the owned-memory engine verifies.</summary>
    public static bool ReferenceAgreesWithOwned()
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var tag = ReferenceArgon2.Hash(Encoding.UTF8.GetBytes(Password), salt);
        return Owned.Verify(OwnedMemoryArgon2Hasher.Encode(Argon2Cost, salt, tag), Password);
    }

    public static RawHashRate Pbkdf2Hash(TimeSpan duration) => Measure(() => Pbkdf2.HashPassword(Someone, Password), duration);

    public static RawHashRate Pbkdf2Verify(TimeSpan duration) => Measure(() => Pbkdf2.VerifyHashedPassword(Someone, Pbkdf2Hashed, Password), duration);

    public override string ToString() => $"{PerSecond:0.0}/s, {CpuMs:0.0} ms CPU each";

    /// <summary>Operations per second on <see cref="Threads"/> threads for <paramref name="duration"/>, and the process's CPU time per operation.</summary>
    private static RawHashRate Measure(Action operation, TimeSpan duration)
    {
        operation(); // warm
        return Measure(duration, (count, clock) =>
        {
            var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
            {
                while (clock.Elapsed < duration)
                {
                    operation();
                    Interlocked.Increment(ref count.Value);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
        });
    }

    /// <summary>Runs <paramref name="load"/>, which counts its operations until the clock reaches the duration.</summary>
    private static RawHashRate Measure(TimeSpan duration, Action<StrongBox<long>, Stopwatch> load)
    {
        var count = new StrongBox<long>();
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        load(count, clock);
        self.Refresh();
        return new RawHashRate(count.Value / clock.Elapsed.TotalSeconds, (self.TotalProcessorTime - cpu).TotalMilliseconds / count.Value);
    }
}
