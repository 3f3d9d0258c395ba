using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Harness;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// The same load, one service at a time on this machine: this service (single node, on SQLite or PostgreSQL) and the
/// Identity baseline (on SQLite). Prints Markdown tables: each request at several concurrency levels, the ratios, and
/// each service's sign-in and registration rate as a share of its own raw password hashing rate.
/// </summary>
public static class HttpComparison
{
    private static readonly int[] HashingConcurrency = [1, 2, 4, 8];
    private static readonly int[] ReadConcurrency = [1, 4, 16, 64];
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RawHashingTime = TimeSpan.FromSeconds(5);
    /// <summary>How long each kind of request runs, unmeasured, before the first measured load: a fresh process spends
    /// its first seconds of load compiling its hot paths again at higher tiers, which the loads would count.</summary>
    private static readonly TimeSpan SteadyStateWarmUp = TimeSpan.FromSeconds(15);
    private const int SeededUsers = 100;

    /// <summary>A sign-in or registration load, between two runs of the bare hasher it is set against and two of the
    /// service's own engine.</summary>
    /// <param name="RawBefore">The raw rate just before the load; <paramref name="RawAfter"/> just after it. This machine's
    /// speed drifts from one minute to the next, so each load is compared with the mean of the two around it.</param>
    /// <param name="EngineBefore">The service's own engine alone, just before the load (and just after it).</param>
    private sealed record HashingLoad(LoadResult Load, RawHashRate RawBefore, RawHashRate RawAfter, RawHashRate EngineBefore, RawHashRate EngineAfter)
    {
        public double RawPerSecond => (RawBefore.PerSecond + RawAfter.PerSecond) / 2;
        public double RawCpuMs => (RawBefore.CpuMs + RawAfter.CpuMs) / 2;
        public double ShareOfRaw => Load.Throughput / RawPerSecond;
        public double EngineCpuMs => (EngineBefore.CpuMs + EngineAfter.CpuMs) / 2;
    }

    private sealed record Measured(
        string Name, ServiceUnderTest Routes, List<HashingLoad> SignIn, List<HashingLoad> Register, List<LoadResult> Read,
        LoadResult ReadAtHalfPeak, long ResidentBytes)
    {
        public static LoadResult Peak(List<LoadResult> results) => results.MaxBy(r => r.Throughput)!;

        public static HashingLoad Peak(List<HashingLoad> results) => results.MaxBy(r => r.Load.Throughput)!;
    }

    /// <param name="engine">This service's Password:Engine.</param>
    /// <param name="postgres">A PostgreSQL server's connection string: this service journals to a fresh database on it.
    /// Null for its SQLite default.</param>
    public static async Task RunAsync(TimeSpan measure, PasswordEngine engine, string? postgres)
    {
        Console.WriteLine($"machine: {Machine.Describe()}");
        Console.WriteLine($"AkkaUsers' journal: {(postgres is null ? "SQLite" : "PostgreSQL")}");
        await using var database = postgres is null ? null : await TestDatabase.CreateAsync(postgres);
        var work = Directory.CreateTempSubdirectory("akka-users-bench-");
        try
        {
            // Neither service writes a line per request: console logging would be measured instead of the service.
            var quiet = new Dictionary<string, string>
            {
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.AspNetCore.HttpLogging.HttpLoggingMiddleware"] = "Warning",
            };
            var environment = new Dictionary<string, string>(quiet)
            {
                ["Storage__DataDirectory"] = Path.Combine(work.FullName, "akka-users"),
                ["RateLimit__PermitLimit"] = "1000000", // the load driver is one client address
            };
            if (database is not null)
            {
                environment["Persistence__Provider"] = "PostgreSql";
                environment["Persistence__ConnectionString"] = database.ConnectionString;
            }
            var ours = await MeasureAsync(new AkkaUsersService(environment, Path.Combine(work.FullName, "akka-users.log"), engine), measure);
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

            HttpRequestMessage SignIn(long n) => service.SignIn(users[n % users.Length]);
            HttpRequestMessage Register(long n, string load) => service.Register($"load{run}{load}n{n}");
            HttpRequestMessage Read(long n) => service.Read(users[n % users.Length]);
            foreach (var (what, warm, status) in new (string, Func<long, HttpRequestMessage>, int)[]
                     { ("sign-in", SignIn, 200), ("register", n => Register(n, "w"), service.RegisteredStatus), ("read", Read, 200) })
                Console.WriteLine($"{service.Name} {what}, warming up (not measured): " +
                                  await LoadDriver.ClosedLoopAsync(client, warm, status, 4, TimeSpan.Zero, SteadyStateWarmUp, service.Process.CpuTime));

            var signIn = await HashingLevels(service, c => ClosedLoop(SignIn, 200, c), service.RawVerify, service.EngineVerify, "sign-in");
            var register = await HashingLevels(service, c => ClosedLoop(n => Register(n, $"c{c}"), service.RegisteredStatus, c), service.RawHash, service.EngineHash, "register");
            var read = await Levels(service, ReadConcurrency, c => ClosedLoop(Read, 200, c), "read");
            var halfPeak = await LoadDriver.FixedRateAsync(
                client, Read, 200, Measured.Peak(read).Throughput / 2, measure, service.Process.CpuTime);
            Console.WriteLine($"{service.Name} read at half peak: {halfPeak}");
            return new Measured(service.Name, service, signIn, register, read, halfPeak, service.Process.ResidentBytes());
        }
    }

    /// <summary>
    /// Each level of <see cref="HashingConcurrency"/>, with the raw rate of the same operation, and the service's own
    /// engine's, measured between levels.
    /// </summary>
    private static async Task<List<HashingLoad>> HashingLevels(
        ServiceUnderTest service, Func<int, Task<LoadResult>> run, Func<TimeSpan, RawHashRate> raw, Func<TimeSpan, RawHashRate> engine, string what)
    {
        var results = new List<HashingLoad>();
        (RawHashRate Raw, RawHashRate Engine) Bare()
        {
            var rawRate = raw(RawHashingTime);
            return (rawRate, service.EngineIsRaw ? rawRate : engine(RawHashingTime));
        }

        var before = Bare();
        foreach (var level in HashingConcurrency)
        {
            var result = await run(level);
            var after = Bare();
            Console.WriteLine($"{service.Name} {what}: {result}; raw before {before.Raw}, after {after.Raw}" +
                              (service.EngineIsRaw ? "" : $"; {service.Engine} before {before.Engine}, after {after.Engine}"));
            results.Add(new HashingLoad(result, before.Raw, after.Raw, before.Engine, after.Engine));
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
            Console.WriteLine($"{service.Name}: CPU per request ÷ its engine's own CPU per operation (bare loop, measured around each load): " +
                              $"sign-in {CpuShares(service.SignIn)}; registration {CpuShares(service.Register)}");
        Console.WriteLine();
        Console.WriteLine($"peak current-user reads: AkkaUsers {Measured.Peak(ours.Read).Throughput:0}/s, Identity {Measured.Peak(identity.Read).Throughput:0}/s; " +
                          $"resident memory after the run: AkkaUsers {ours.ResidentBytes / 1048576} MiB, Identity {identity.ResidentBytes / 1048576} MiB");
    }

    private static string CpuShares(List<HashingLoad> loads) =>
        string.Join(", ", loads.Select(l => $"{l.Load.CpuMsPerRequest / l.EngineCpuMs:0.00} (engine {l.EngineCpuMs:0.0} ms)"));

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
