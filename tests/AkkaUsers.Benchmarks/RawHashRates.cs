using System.Diagnostics;
using AkkaUsers.Actors.Passwords;
using Microsoft.AspNetCore.Identity;

namespace AkkaUsers.Benchmarks;

/// <summary>How many hashes and verifications per second this machine does on all its cores, with nothing else running.</summary>
public sealed record RawHashRates(double Argon2Hash, double Argon2Verify, double Pbkdf2Hash, double Pbkdf2Verify)
{
    private const string Password = "Passw0rd!";

    public static RawHashRates Measure(TimeSpan each)
    {
        var argon2 = new LibsodiumArgon2Hasher(new Argon2Parameters());
        var argon2Hash = argon2.Hash(Password);
        // Identity's own hasher at its defaults (PBKDF2-HMAC-SHA512, 100,000 iterations).
        var pbkdf2 = new PasswordHasher<IdentityUser>();
        var user = new IdentityUser("someone");
        var pbkdf2Hash = pbkdf2.HashPassword(user, Password);

        return new RawHashRates(
            Rate(() => argon2.Hash(Password), each),
            Rate(() => argon2.Verify(argon2Hash, Password), each),
            Rate(() => pbkdf2.HashPassword(user, Password), each),
            Rate(() => pbkdf2.VerifyHashedPassword(user, pbkdf2Hash, Password), each));
    }

    /// <summary>Operations per second with one thread per core, for <paramref name="duration"/>.</summary>
    private static double Rate(Action operation, TimeSpan duration)
    {
        operation(); // warm
        long count = 0;
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
        return count / clock.Elapsed.TotalSeconds;
    }
}
