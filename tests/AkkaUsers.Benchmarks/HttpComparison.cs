using AkkaUsers.Accounts.Hosting;
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
    private static readonly TimeSpan RawHashingTime = TimeSpan.FromSeconds(5);
    private const int SeededUsers = 100;

    /// <summary>A sign-in or registration load, between two runs of the service's own hasher alone.</summary>
    /// <param name="RawBefore">The raw rate just before the load; <paramref name="RawAfter"/> just after it. This machine's
    /// speed drifts from one minute to the next, so each load is compared with the mean of the two around it.</param>
    private sealed record HashingLoad(LoadResult Load, RawHashRate RawBefore, RawHashRate RawAfter)
    {
        public double RawPerSecond => (RawBefore.PerSecond + RawAfter.PerSecond) / 2;
        public double RawCpuMs => (RawBefore.CpuMs + RawAfter.CpuMs) / 2;
        public double ShareOfRaw => Load.Throughput / RawPerSecond;
    }

    private sealed record Measured(
        string Name, ServiceUnderTest Routes, List<HashingLoad> SignIn, List<HashingLoad> Register, List<LoadResult> Read,
        LoadResult ReadAtHalfPeak, long ResidentBytes, RawHashRate EngineVerify, RawHashRate EngineHash)
    {
        public static LoadResult Peak(List<LoadResult> results) => results.MaxBy(r => r.Throughput)!;

        public static HashingLoad Peak(List<HashingLoad> results) => results.MaxBy(r => r.Load.Throughput)!;
    }

    /// <param name="engine">This service's Password:Engine.</param>
    public static async Task RunAsync(TimeSpan measure, PasswordEngine engine)
    {
        Console.WriteLine($"machine: {Machine.Describe()}");
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
                Path.Combine(work.FullName, "akka-users.log"), engine), measure);
            var identity = await MeasureAsync(new IdentityService(
                new Dictionary<string, string>(quiet) { ["Database"] = Path.Combine(work.FullName, "identity.db") },
                Path.Combine(work.FullName, "identity.log")), measure);
            Print(ours, identity);
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
            Task<LoadResult> ClosedLoop(Func<long, HttpRequestMessage> request, int expectedStatus, int concurrency) =>
                LoadDriver.ClosedLoopAsync(client, request, expectedStatus, concurrency, WarmUp, measure, service.Process.CpuTime);

            var signIn = await HashingLevels(service, c => ClosedLoop(n => service.SignIn(users[n % users.Length]), 200, c), service.RawVerify, "sign-in");
            var register = await HashingLevels(service, c => ClosedLoop(n => service.Register($"load{run}c{c}n{n}"), service.RegisteredStatus, c), service.RawHash, "register");
            var read = await Levels(service, ReadConcurrency, c => ClosedLoop(n => service.Read(users[n % users.Length]), 200, c), "read");
            var halfPeak = await LoadDriver.FixedRateAsync(
                client, n => service.Read(users[n % users.Length]), 200, Measured.Peak(read).Throughput / 2, measure, service.Process.CpuTime);
            Console.WriteLine($"{service.Name} read at half peak: {halfPeak}");
            var resident = service.Process.ResidentBytes();
            var engineVerify = service.EngineVerify(RawHashingTime);
            var engineHash = service.EngineHash(RawHashingTime);
            Console.WriteLine($"{service.Name}'s engine, {service.Engine}, alone: verify {engineVerify}; hash {engineHash}");
            return new Measured(service.Name, service, signIn, register, read, halfPeak, resident, engineVerify, engineHash);
        }
    }

    /// <summary>Each level of <see cref="HashingConcurrency"/>, with the raw rate of the same operation measured between levels.</summary>
    private static async Task<List<HashingLoad>> HashingLevels(
        ServiceUnderTest service, Func<int, Task<LoadResult>> run, Func<TimeSpan, RawHashRate> raw, string what)
    {
        var results = new List<HashingLoad>();
        var before = raw(RawHashingTime);
        foreach (var level in HashingConcurrency)
        {
            var result = await run(level);
            var after = raw(RawHashingTime);
            Console.WriteLine($"{service.Name} {what}: {result}; raw before {before}, after {after}");
            results.Add(new HashingLoad(result, before, after));
            before = after;
        }
        return results;
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

    private static void Print(Measured ours, Measured identity)
    {
        Console.WriteLine();
        Console.WriteLine("| request (AkkaUsers / Identity) | load | AkkaUsers req/s | p50 ms | p99 ms | CPU ms/req | Identity req/s | p50 ms | p99 ms | CPU ms/req | AkkaUsers ÷ Identity |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        Rows($"sign-in (`POST {ours.Routes.SignInRoute}` / `POST {identity.Routes.SignInRoute}`)", Loads(ours.SignIn), Loads(identity.SignIn));
        Rows($"current user (`GET {ours.Routes.ReadRoute}` / `GET {identity.Routes.ReadRoute}`)", ours.Read, identity.Read);
        Rows($"registration (`POST {ours.Routes.RegisterRoute}` / `POST {identity.Routes.RegisterRoute}`)", Loads(ours.Register), Loads(identity.Register));
        Rows("current user at half of its peak", [ours.ReadAtHalfPeak], [identity.ReadAtHalfPeak]);

        Console.WriteLine();
        Console.WriteLine($"Against each service's own raw rate on {Environment.ProcessorCount} threads (AkkaUsers: Argon2id m=19456,t=2,p=1; Identity: PBKDF2-HMAC-SHA512, 100,000 iterations), " +
                          "the mean of the raw rates measured just before and just after the load:");
        Console.WriteLine();
        Console.WriteLine("| request | load | AkkaUsers req/s | raw op/s | ÷ raw | raw CPU ms/op | CPU ms/req | Identity req/s | raw op/s | ÷ raw | raw CPU ms/op | CPU ms/req |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        HashingRows("sign-in ÷ raw verify", ours.SignIn, identity.SignIn);
        HashingRows("registration ÷ raw hash", ours.Register, identity.Register);
        Console.WriteLine();
        foreach (var service in new[] { ours, identity })
            Console.WriteLine($"{service.Name}: CPU per request ÷ its engine's own CPU per operation (bare loop, measured after the loads): " +
                              $"sign-in {CpuShares(service.SignIn, service.EngineVerify)}; registration {CpuShares(service.Register, service.EngineHash)}");
        Console.WriteLine();
        Console.WriteLine($"peak current-user reads: AkkaUsers {Measured.Peak(ours.Read).Throughput:0}/s, Identity {Measured.Peak(identity.Read).Throughput:0}/s; " +
                          $"resident memory after the run: AkkaUsers {ours.ResidentBytes / 1048576} MiB, Identity {identity.ResidentBytes / 1048576} MiB");
    }

    private static string CpuShares(List<HashingLoad> loads, RawHashRate engine) =>
        string.Join(", ", loads.Select(l => $"{l.Load.CpuMsPerRequest / engine.CpuMs:0.00}"));

    private static List<LoadResult> Loads(List<HashingLoad> loads) => loads.Select(l => l.Load).ToList();

    private static void HashingRows(string request, List<HashingLoad> ours, List<HashingLoad> identity)
    {
        foreach (var (a, b) in ours.Zip(identity))
            Console.WriteLine($"| {request} | {a.Load.Load} | {Cells(a)} | {Cells(b)} |");

        static string Cells(HashingLoad l) =>
            $"{l.Load.Throughput:0.0} | {l.RawPerSecond:0.0} | {l.ShareOfRaw:P0} | {l.RawCpuMs:0.0} | {l.Load.CpuMsPerRequest:0.0}";
    }

    private static void Rows(string request, List<LoadResult> ours, List<LoadResult> identity)
    {
        foreach (var (a, b) in ours.Zip(identity))
            Console.WriteLine($"| {request} | {a.Load} | {a.Throughput:0.0} | {a.P50Ms:0.00} | {a.P99Ms:0.00} | {a.CpuMsPerRequest:0.00} | " +
                              $"{b.Throughput:0.0} | {b.P50Ms:0.00} | {b.P99Ms:0.00} | {b.CpuMsPerRequest:0.00} | {a.Throughput / b.Throughput:0.00}× |" +
                              (a.Errors + b.Errors > 0 ? $" errors {a.Errors}/{b.Errors}" : ""));
    }
}
