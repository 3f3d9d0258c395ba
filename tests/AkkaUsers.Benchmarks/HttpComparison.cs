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

    /// <param name="RawBefore">The service's own hasher alone, just before its sign-in and registration loads.</param>
    /// <param name="RawAfter">The same, just after them: the machine's speed drifts, and the two bracket the loads.</param>
    private sealed record Measured(
        string Name, ServiceUnderTest Routes, List<LoadResult> SignIn, List<LoadResult> Register, List<LoadResult> Read,
        LoadResult ReadAtHalfPeak, RawHashRates RawBefore, RawHashRates RawAfter, long ResidentBytes)
    {
        public RawHashRates Raw => RawHashRates.Mean(RawBefore, RawAfter);

        public static LoadResult Peak(List<LoadResult> results) => results.MaxBy(r => r.Throughput)!;
    }

    public static async Task RunAsync(TimeSpan measure)
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
                Path.Combine(work.FullName, "akka-users.log")), measure);
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

            var rawBefore = RawHashing(service);
            var signIn = await Levels(service, HashingConcurrency, c => ClosedLoop(n => service.SignIn(users[n % users.Length]), 200, c), "sign-in");
            var register = await Levels(service, HashingConcurrency, c => ClosedLoop(n => service.Register($"load{run}c{c}n{n}"), service.RegisteredStatus, c), "register");
            var rawAfter = RawHashing(service);
            var read = await Levels(service, ReadConcurrency, c => ClosedLoop(n => service.Read(users[n % users.Length]), 200, c), "read");
            var halfPeak = await LoadDriver.FixedRateAsync(
                client, n => service.Read(users[n % users.Length]), 200, Measured.Peak(read).Throughput / 2, measure, service.Process.CpuTime);
            Console.WriteLine($"{service.Name} read at half peak: {halfPeak}");
            return new Measured(service.Name, service, signIn, register, read, halfPeak, rawBefore, rawAfter, service.Process.ResidentBytes());
        }
    }

    private static RawHashRates RawHashing(ServiceUnderTest service)
    {
        var raw = service.MeasureRawHashing(RawHashingTime);
        Console.WriteLine($"{service.Name} raw hashing on {Environment.ProcessorCount} threads: {raw}");
        return raw;
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
        Rows($"sign-in (`POST {ours.Routes.SignInRoute}` / `POST {identity.Routes.SignInRoute}`)", ours.SignIn, identity.SignIn);
        Rows($"current user (`GET {ours.Routes.ReadRoute}` / `GET {identity.Routes.ReadRoute}`)", ours.Read, identity.Read);
        Rows($"registration (`POST {ours.Routes.RegisterRoute}` / `POST {identity.Routes.RegisterRoute}`)", ours.Register, identity.Register);
        Rows("current user at half of its peak", [ours.ReadAtHalfPeak], [identity.ReadAtHalfPeak]);

        Console.WriteLine();
        Console.WriteLine("| | AkkaUsers (Argon2id m=19456,t=2,p=1) | Identity (PBKDF2-HMAC-SHA512, 100,000 iterations) |");
        Console.WriteLine("|---|--:|--:|");
        Line($"raw verify rate, {Environment.ProcessorCount} threads, before / after the loads", m => $"{m.RawBefore.VerifyPerSecond:0.0} / {m.RawAfter.VerifyPerSecond:0.0}/s");
        Line("peak sign-in", m => $"{Measured.Peak(m.SignIn).Throughput:0.0}/s");
        Line("sign-in ÷ raw verify (the mean of before and after)", m => $"{Measured.Peak(m.SignIn).Throughput / m.Raw.VerifyPerSecond:P0}");
        Line("CPU per raw verify / per sign-in at the peak", m => $"{m.Raw.VerifyCpuMs:0.0} / {Measured.Peak(m.SignIn).CpuMsPerRequest:0.0} ms");
        Line("share of a sign-in's CPU that is the verify", m => $"{m.Raw.VerifyCpuMs / Measured.Peak(m.SignIn).CpuMsPerRequest:P0}");
        Line($"raw hash rate, {Environment.ProcessorCount} threads, before / after the loads", m => $"{m.RawBefore.HashPerSecond:0.0} / {m.RawAfter.HashPerSecond:0.0}/s");
        Line("peak registration", m => $"{Measured.Peak(m.Register).Throughput:0.0}/s");
        Line("registration ÷ raw hash (the mean of before and after)", m => $"{Measured.Peak(m.Register).Throughput / m.Raw.HashPerSecond:P0}");
        Line("CPU per raw hash / per registration at the peak", m => $"{m.Raw.HashCpuMs:0.0} / {Measured.Peak(m.Register).CpuMsPerRequest:0.0} ms");
        Line("share of a registration's CPU that is the hash", m => $"{m.Raw.HashCpuMs / Measured.Peak(m.Register).CpuMsPerRequest:P0}");
        Line("peak current-user reads", m => $"{Measured.Peak(m.Read).Throughput:0}/s");
        Line("resident memory after the run", m => $"{m.ResidentBytes / 1048576} MiB");

        void Line(string what, Func<Measured, string> value) => Console.WriteLine($"| {what} | {value(ours)} | {value(identity)} |");
    }

    private static void Rows(string request, List<LoadResult> ours, List<LoadResult> identity)
    {
        foreach (var (a, b) in ours.Zip(identity))
            Console.WriteLine($"| {request} | {a.Load} | {a.Throughput:0.0} | {a.P50Ms:0.00} | {a.P99Ms:0.00} | {a.CpuMsPerRequest:0.00} | " +
                              $"{b.Throughput:0.0} | {b.P50Ms:0.00} | {b.P99Ms:0.00} | {b.CpuMsPerRequest:0.00} | {a.Throughput / b.Throughput:0.00}× |" +
                              (a.Errors + b.Errors > 0 ? $" errors {a.Errors}/{b.Errors}" : ""));
    }
}
