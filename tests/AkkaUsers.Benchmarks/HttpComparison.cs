using AkkaUsers.Harness;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// The same load, one service at a time on this machine: this service (single node, SQLite) and the Identity
/// baseline. Prints Markdown tables: each request at several concurrency levels, the ratios, and each service's
/// sign-in and registration rate as a share of its own raw password hashing rate.
/// </summary>
public static class HttpComparison
{
    private static readonly int[] HashingConcurrency = [1, 2, 4, 8];
    private static readonly int[] ReadConcurrency = [1, 4, 16, 64];
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);
    private const int SeededUsers = 100;

    private sealed record Measured(
        string Name, ServiceUnderTest Routes, List<LoadResult> SignIn, List<LoadResult> Read, List<LoadResult> Register, LoadResult ReadAtHalfPeak, long ResidentBytes)
    {
        public double Peak(List<LoadResult> results) => results.Max(r => r.Throughput);
    }

    public static async Task RunAsync(TimeSpan measure)
    {
        Console.WriteLine($"machine: {Machine.Describe()}");
        var raw = RawHashRates.Measure(TimeSpan.FromSeconds(5));
        Console.WriteLine($"raw rates on {Environment.ProcessorCount} threads: Argon2id hash {raw.Argon2Hash:0.0}/s, verify {raw.Argon2Verify:0.0}/s; " +
                          $"PBKDF2 hash {raw.Pbkdf2Hash:0.0}/s, verify {raw.Pbkdf2Verify:0.0}/s");

        var work = Directory.CreateTempSubdirectory("akka-users-bench-");
        try
        {
            // Neither service writes a line per request: console logging would be measured instead of the service.
            var quiet = new Dictionary<string, string>
            {
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.AspNetCore.HttpLogging.HttpLoggingMiddleware"] = "Warning",
            };
            var ours = await MeasureAsync(new AkkaUsersService(
                new Dictionary<string, string>(quiet)
                {
                    ["Storage__DataDirectory"] = Path.Combine(work.FullName, "akka-users"),
                    ["RateLimit__PermitLimit"] = "1000000", // the load driver is one client address
                },
                Path.Combine(work.FullName, "akka-users.log")), measure);
            var identity = await MeasureAsync(new IdentityService(
                new Dictionary<string, string>(quiet) { ["Database"] = Path.Combine(work.FullName, "identity.db") },
                Path.Combine(work.FullName, "identity.log")), measure);
            Print(ours, identity, raw);
            Console.WriteLine($"\nload average at the end: {Machine.LoadAverage()}");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<Measured> MeasureAsync(ServiceUnderTest service, TimeSpan measure)
    {
        await using (service)
        {
            await service.Process.StartAsync();
            var run = Guid.NewGuid().ToString("N")[..6];
            var users = new SeededUser[SeededUsers];
            await Parallel.ForEachAsync(Enumerable.Range(0, SeededUsers), new ParallelOptions { MaxDegreeOfParallelism = 4 },
                async (i, _) => users[i] = await service.SeedAsync($"seed{run}{i}"));
            Console.WriteLine($"{service.Name}: {SeededUsers} users seeded");

            // At most as many connections as the busiest closed loop: the open loop then queues in the client (and its
            // latency counts the wait) instead of flooding the server's accept queue with new connections.
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = ReadConcurrency.Max() })
            {
                BaseAddress = service.Process.Client.BaseAddress,
                Timeout = TimeSpan.FromSeconds(60),
            };
            var signIn = await Levels(service, HashingConcurrency, c => LoadDriver.ClosedLoopAsync(
                client, n => service.SignIn(users[n % users.Length]), 200, c, WarmUp, measure), "sign-in");
            var read = await Levels(service, ReadConcurrency, c => LoadDriver.ClosedLoopAsync(
                client, n => service.Read(users[n % users.Length]), 200, c, WarmUp, measure), "read");
            var register = await Levels(service, HashingConcurrency, c => LoadDriver.ClosedLoopAsync(
                client, n => service.Register($"load{run}c{c}n{n}"), service.RegisteredStatus, c, WarmUp, measure), "register");
            var halfPeak = await LoadDriver.FixedRateAsync(
                client, n => service.Read(users[n % users.Length]), 200, read.Max(r => r.Throughput) / 2, measure);
            Console.WriteLine($"{service.Name} read at half peak: {halfPeak}");
            return new Measured(service.Name, service, signIn, read, register, halfPeak, service.Process.ResidentBytes());
        }
    }

    private static async Task<List<LoadResult>> Levels(ServiceUnderTest service, int[] levels, Func<int, Task<LoadResult>> run, string what)
    {
        var results = new List<LoadResult>();
        foreach (var level in levels)
        {
            var result = await run(level);
            Console.WriteLine($"{service.Name} {what}: {result}");
            results.Add(result);
        }
        return results;
    }

    private static void Print(Measured ours, Measured identity, RawHashRates raw)
    {
        Console.WriteLine();
        Console.WriteLine($"| request (AkkaUsers / Identity) | load | AkkaUsers req/s | p50 ms | p99 ms | Identity req/s | p50 ms | p99 ms | AkkaUsers ÷ Identity |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|--:|--:|");
        Rows($"sign-in (`POST {ours.Routes.SignInRoute}` / `POST {identity.Routes.SignInRoute}`)", ours.SignIn, identity.SignIn);
        Rows($"current user (`GET {ours.Routes.ReadRoute}` / `GET {identity.Routes.ReadRoute}`)", ours.Read, identity.Read);
        Rows($"registration (`POST {ours.Routes.RegisterRoute}` / `POST {identity.Routes.RegisterRoute}`)", ours.Register, identity.Register);
        Rows("current user at half of its peak", [ours.ReadAtHalfPeak], [identity.ReadAtHalfPeak]);

        Console.WriteLine();
        Console.WriteLine("| | AkkaUsers (Argon2id m=19456,t=2,p=1) | Identity (PBKDF2-HMAC-SHA512, 100,000 iterations) |");
        Console.WriteLine("|---|--:|--:|");
        Console.WriteLine($"| raw verify rate, {Environment.ProcessorCount} threads | {raw.Argon2Verify:0.0}/s | {raw.Pbkdf2Verify:0.0}/s |");
        Console.WriteLine($"| peak sign-in | {ours.Peak(ours.SignIn):0.0}/s | {identity.Peak(identity.SignIn):0.0}/s |");
        Console.WriteLine($"| sign-in ÷ raw verify | {ours.Peak(ours.SignIn) / raw.Argon2Verify:P0} | {identity.Peak(identity.SignIn) / raw.Pbkdf2Verify:P0} |");
        Console.WriteLine($"| raw hash rate, {Environment.ProcessorCount} threads | {raw.Argon2Hash:0.0}/s | {raw.Pbkdf2Hash:0.0}/s |");
        Console.WriteLine($"| peak registration | {ours.Peak(ours.Register):0.0}/s | {identity.Peak(identity.Register):0.0}/s |");
        Console.WriteLine($"| registration ÷ raw hash | {ours.Peak(ours.Register) / raw.Argon2Hash:P0} | {identity.Peak(identity.Register) / raw.Pbkdf2Hash:P0} |");
        Console.WriteLine($"| peak current-user reads | {ours.Peak(ours.Read):0}/s | {identity.Peak(identity.Read):0}/s |");
        Console.WriteLine($"| resident memory after the run | {ours.ResidentBytes / 1048576} MiB | {identity.ResidentBytes / 1048576} MiB |");
    }

    private static void Rows(string request, List<LoadResult> ours, List<LoadResult> identity)
    {
        foreach (var (a, b) in ours.Zip(identity))
            Console.WriteLine($"| {request} | {a.Load} | {a.Throughput:0.0} | {a.P50Ms:0.00} | {a.P99Ms:0.00} | " +
                              $"{b.Throughput:0.0} | {b.P50Ms:0.00} | {b.P99Ms:0.00} | {a.Throughput / b.Throughput:0.00}× |" +
                              (a.Errors + b.Errors > 0 ? $" errors {a.Errors}/{b.Errors}" : ""));
    }
}
