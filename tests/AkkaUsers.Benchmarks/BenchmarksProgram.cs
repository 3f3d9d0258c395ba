using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Passwords;
using BenchmarkDotNet.Running;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// dotnet run -c Release --project tests/AkkaUsers.Benchmarks -- COMMAND
///   hashing                         BenchmarkDotNet: the owned-memory engine, libsodium and Isopoh Argon2id, hash and verify
///   raw [--seconds 5] [--wakers 0] [--threads N]
///                                   Argon2id (libsodium and the owned-memory engine, in alternation) and PBKDF2 on
///                                   every core (or N threads): operations per second and CPU time per operation, and
///                                   Argon2id verify through the service's hashing slots; the reference C library's
///                                   hash over owned memory where libargon2 is installed (see ReferenceArgon2);
///                                   optionally next to threads that wake every millisecond (see Wakers)
///   http [--seconds 8] [--engine Fastest] [--journal sqlite]
///                                   the HTTP load driver: this service (with that Password:Engine, on its SQLite
///                                   journal or, with --journal postgresql, on a fresh database of the PostgreSQL server
///                                   in AKKAUSERS_TEST_POSTGRES) and the Identity baseline, same load, same run
///   million [--users 1000000] [--sign-ins 10000] [--passivate-after 00:00:20]
///   failover [--kills 3] [--service DIR]
///                                   kill -9 of the youngest and of the oldest of three nodes under load, each --kills
///                                   times: the slowest request's min, median and max (needs AKKAUSERS_TEST_POSTGRES)
///   import [--users 100000]         POST /users/import of generated users into a fresh node, on SQLite and (with
///                                   AKKAUSERS_TEST_POSTGRES) on PostgreSQL: users/s, CPU per user, memory
///   rolling [--rounds 1] [--order by-index] [--service DIR]
///                                   SIGTERM and restart of each of three nodes in turn under load: the slowest request,
///                                   those over 2 s, and 5xx (needs AKKAUSERS_TEST_POSTGRES); the order is by-index or
///                                   youngest-first (the oldest node, with the coordinators, last)
///   --service DIR                   the cluster's nodes run the service published in DIR (as the Dockerfile publishes
///                                   it, compiled ahead of time) instead of the benchmarks' own build
/// </summary>
public static class BenchmarksProgram
{
    public static async Task<int> Main(string[] args)
    {
        var options = args.Skip(1).Chunk(2).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
        string Option(string name, string fallback) => options.GetValueOrDefault(name, fallback);
        var service = options.TryGetValue("--service", out var published) ? Path.GetFullPath(published) : null;
        if (service is not null && !File.Exists(Path.Combine(service, "AkkaUsers.Api.dll")))
        {
            Console.Error.WriteLine($"--service: no AkkaUsers.Api.dll in {service}");
            return 2;
        }

        switch (args.FirstOrDefault())
        {
            case "hashing":
                BenchmarkRunner.Run<PasswordHashingBenchmarks>();
                return 0;
            case "raw":
                RawHashRate.Threads = int.Parse(Option("--threads", Environment.ProcessorCount.ToString()));
                PrintRawRates(TimeSpan.FromSeconds(int.Parse(Option("--seconds", "5"))), int.Parse(Option("--wakers", "0")));
                return 0;
            case "http":
                string? postgres = null;
                switch (Option("--journal", "sqlite"))
                {
                    case "sqlite":
                        break;
                    case "postgresql":
                        if ((postgres = PostgresServer.FromEnvironment("--journal postgresql")) is null) return 2;
                        break;
                    default:
                        Console.Error.WriteLine("--journal is sqlite or postgresql");
                        return 2;
                }
                await HttpComparison.RunAsync(TimeSpan.FromSeconds(int.Parse(Option("--seconds", "8"))),
                    Enum.Parse<PasswordEngine>(Option("--engine", "Fastest"), ignoreCase: true), postgres);
                return 0;
            case "million":
                await MillionUsers.RunAsync(
                    int.Parse(Option("--users", "1000000")), int.Parse(Option("--sign-ins", "10000")),
                    TimeSpan.Parse(Option("--passivate-after", "00:00:20")));
                return 0;
            case "failover":
                return await Failover.RunAsync(int.Parse(Option("--kills", "3")), service);
            case "import":
                await ImportRate.RunAsync(int.Parse(Option("--users", "100000")));
                return 0;
            case "rolling":
                RollingRestart.Order? order = Option("--order", "by-index") switch
                {
                    "by-index" => RollingRestart.Order.ByIndex,
                    "youngest-first" => RollingRestart.Order.YoungestFirst,
                    _ => null,
                };
                if (order is null)
                {
                    Console.Error.WriteLine("--order is by-index or youngest-first");
                    return 2;
                }
                return await RollingRestart.RunAsync(int.Parse(Option("--rounds", "1")), order.Value, service);
            default:
                Console.Error.WriteLine("usage: AkkaUsers.Benchmarks hashing | raw [--seconds N] [--wakers N] [--threads N] | http [--seconds 8] [--engine Fastest] [--journal sqlite|postgresql] | million [--users N] [--sign-ins N] [--passivate-after T] | failover [--kills N] [--service DIR] | rolling [--rounds N] [--order youngest-first|by-index] [--service DIR] | import [--users N]");
                return 2;
        }
    }

    private static void PrintRawRates(TimeSpan each, int wakers)
    {
        using var _ = new Wakers(wakers);
        Console.WriteLine($"machine: {Machine.Describe()}");
        Console.WriteLine($"on {RawHashRate.Threads} threads, next to {wakers} wakers:");
        var owned = RawHashRate.Owned;
        Console.WriteLine($"Argon2id m=19456, t=2, p=1; the owned-memory engine computes with {owned.Instructions}, huge pages advised: {owned.HugePagesAdvised}");
        // Each of libsodium's figures is measured right before the owned engine's, as the rate drifts on a shared machine.
        var rates = new[] { ("hash", (Func<IPasswordHasher, TimeSpan, RawHashRate>)RawHashRate.Argon2idHash), ("verify", RawHashRate.Argon2idVerify),
            ("verify through the service's hashing slots", RawHashRate.Argon2idVerifyThroughSlots) };
        foreach (var (what, measure) in rates)
        {
            var bySodium = measure(RawHashRate.Libsodium, each);
            var byOwned = measure(owned, each);
            Console.WriteLine($"Argon2id {what}: libsodium {bySodium}; owned memory {byOwned}; owned ÷ libsodium {byOwned.PerSecond / bySodium.PerSecond:0.00}×");
        }
        if (!ReferenceArgon2.IsInstalled)
            Console.WriteLine("Argon2id hash by the reference C library: not measured, libargon2.so.1 is not installed (Debian: libargon2-1)");
        else if (!RawHashRate.ReferenceAgreesWithOwned())
            Console.WriteLine("Argon2id hash by the reference C library: not measured, its tag differs from the owned engine's");
        else
        {
            var byReference = RawHashRate.Argon2idReferenceHash(each);
            var byOwned = RawHashRate.Argon2idHash(owned, each);
            Console.WriteLine($"Argon2id hash (raw tag) by the reference C library over owned memory {byReference}; owned memory {byOwned}; owned ÷ reference {byOwned.PerSecond / byReference.PerSecond:0.00}×");
        }
        Console.WriteLine($"this process's anonymous memory in huge pages: {Machine.AnonymousHugePagesKiB() / 1024} MiB");
        Console.WriteLine($"PBKDF2 (Identity's defaults) hash {RawHashRate.Pbkdf2Hash(each)}; verify {RawHashRate.Pbkdf2Verify(each)}");
    }
}
