using System.Diagnostics;
using System.Globalization;
using System.Net;
using AkkaUsers.Accounts.Passwords;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.Harness;
using Microsoft.Data.Sqlite;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// A node whose journal already holds many users (seeded straight into SQLite): how long it takes to be ready,
/// its memory at idle, and whether memory comes back down after many distinct users signed in and went idle.
/// </summary>
public static class MillionUsers
{
    private const string Password = "Passw0rd!";

    // The passivation run signs in thousands of users: a cheaper hash keeps it short. Entity memory does not
    // depend on the cost, and libsodium frees each hash's memory when it returns.
    private static readonly Argon2Parameters Cheap = new(MemoryKiB: 8192, Iterations: 1);

    public static async Task RunAsync(int users, int signIns, TimeSpan passivateAfter)
    {
        Console.WriteLine($"machine: {Machine.Describe()}");
        var work = Directory.CreateTempSubdirectory("akka-users-million-");
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["Storage__DataDirectory"] = work.FullName,
                ["Password__MemoryKiB"] = Cheap.MemoryKiB.ToString(CultureInfo.InvariantCulture),
                ["Password__Iterations"] = Cheap.Iterations.ToString(CultureInfo.InvariantCulture),
                ["Entities__PassivateIdleAfter"] = passivateAfter.ToString(),
                ["Metrics__Prometheus"] = "true",
                ["RateLimit__PermitLimit"] = "1000000", // the driver is one client address
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.AspNetCore.HttpLogging.HttpLoggingMiddleware"] = "Warning",
            };
            var log = Path.Combine(work.FullName, "service.log");

            // The service makes its tables itself, with one user registered through HTTP.
            await using (var first = new ServiceProcess("AkkaUsers", "AkkaUsers.Api.dll", environment, log, "/health/ready"))
            {
                await first.StartAsync();
                await first.WaitUntilServingAsync();
                await Expect(first.Register("through-http", "through-http@example.com", Password), HttpStatusCode.Created);
                await first.TerminateAsync(TimeSpan.FromSeconds(30));
            }

            var seeding = Stopwatch.StartNew();
            JournalSeeder.Seed(Path.Combine(work.FullName, "akka-users.db"), users, new LibsodiumArgon2Hasher(Cheap).Hash(Password));
            Console.WriteLine($"seeded {users:N0} users ({4 * users:N0} events) in {seeding.Elapsed.TotalSeconds:0.0} s; " +
                              $"journal file {new FileInfo(Path.Combine(work.FullName, "akka-users.db")).Length / 1048576} MiB");

            var journal = Path.Combine(work.FullName, "akka-users.db");
            await using var node = new ServiceProcess("AkkaUsers", "AkkaUsers.Api.dll", environment, log, "/health/ready");
            var clock = Stopwatch.StartNew();
            var readModelCaughtUp = ReadModelCaughtUpAsync(journal, clock);
            var ready = await node.StartAsync();
            await node.WaitUntilServingAsync();
            Console.WriteLine($"start to ready (/health/ready 200): {ready.TotalSeconds:0.00} s; to the first answered sign-in: " +
                              $"{clock.Elapsed.TotalSeconds:0.00} s; RSS then {Mib(node.ResidentBytes())} MiB");
            await Task.Delay(TimeSpan.FromSeconds(10)); // idle
            Console.WriteLine($"idle, 10 s later: {await Memory(node)}");

            await CheckSeededUsersAreServed(node, users);

            var signingIn = Stopwatch.StartNew();
            var cpu = node.CpuTime();
            var step = Math.Max(1, users / signIns);
            await Parallel.ForEachAsync(Enumerable.Range(0, signIns), new ParallelOptions { MaxDegreeOfParallelism = 4 },
                async (i, _) => await Expect(node.SignIn(JournalSeeder.Username(i * step), Password), HttpStatusCode.OK));
            Console.WriteLine($"{signIns:N0} distinct users signed in in {signingIn.Elapsed.TotalSeconds:0.0} s " +
                              $"(service CPU {(node.CpuTime() - cpu).TotalSeconds:0.0} s); entities alive {await EntitiesAlive(node)}; {await Memory(node)}");

            var waiting = Stopwatch.StartNew();
            while (await EntitiesAlive(node) > 0) await Task.Delay(TimeSpan.FromSeconds(1)); // poll until every entity passivated
            Console.WriteLine($"all entities passivated {waiting.Elapsed.TotalSeconds:0} s later; {await Memory(node)}");
            // An idle process collects nothing, so what passivation released is still counted until a full collection.
            await FullCollection.InduceAsync(node.ProcessId);
            Console.WriteLine($"after a full garbage collection: {await Memory(node)}");
            await Task.Delay(TimeSpan.FromSeconds(30));
            Console.WriteLine($"30 s later: {await Memory(node)}");
            Console.WriteLine(readModelCaughtUp.IsCompleted
                ? $"the admin read model had caught up with the seeded users {(await readModelCaughtUp).TotalSeconds:0} s after the start"
                : $"the admin read model had not caught up with the seeded users {clock.Elapsed.TotalSeconds:0} s after the start " +
                  $"(at journal ordering {await ReadModelOffsetAsync(journal):N0} of {3L * users:N0})");
            Console.WriteLine($"load average at the end: {Machine.LoadAverage()}");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>The seeded rows are read as the service's own: sign-in, the profile, and uniqueness.</summary>
    private static async Task CheckSeededUsersAreServed(ServiceProcess node, int users)
    {
        var last = JournalSeeder.Username(users - 1);
        var (status, body) = await TestAccounts.Send(() => node.SignIn(last, Password));
        if (status != 200) throw new InvalidOperationException($"seeded user {last} does not sign in: {status}");
        var token = body!["token"]!.GetValue<string>();
        var (_, profile) = await TestAccounts.Send(() => node.GetUser(token));
        if (profile?["username"]?.GetValue<string>() != last) throw new InvalidOperationException($"GET /user of {last} answered {profile}");
        await Expect(node.Register(JournalSeeder.Username(0), "someone-new@example.com", Password), HttpStatusCode.Conflict);
        await Expect(node.Register("someone-new", $"{JournalSeeder.Username(0)}@example.com", Password), HttpStatusCode.Conflict);
        await Expect(node.SignIn(JournalSeeder.Username(0), "wrong-password"), HttpStatusCode.Unauthorized);
        Console.WriteLine("seeded users sign in, read back and keep their username and email");
    }

    /// <summary>
    /// When the projection's stored offset reaches the last seeded user event: the node starts serving at once, and the
    /// admin read model follows the journal from where it stood, which for a seeded journal is its beginning.
    /// </summary>
    private static async Task<TimeSpan> ReadModelCaughtUpAsync(string journal, Stopwatch clock)
    {
        var lastUserEvent = await ScalarAsync(journal, "SELECT MAX(ordering_id) FROM tags WHERE tag = 'user'");
        while (await ReadModelOffsetAsync(journal) < lastUserEvent) await Task.Delay(TimeSpan.FromMilliseconds(500));
        return clock.Elapsed;
    }

    private static Task<long> ReadModelOffsetAsync(string journal) =>
        ScalarAsync(journal, $"SELECT ordering FROM read_model_offsets WHERE name = '{UsersReadModel.ProjectionName}'");

    /// <summary>A number from the journal's file, read beside the running node; 0 for no row.</summary>
    private static async Task<long> ScalarAsync(string journal, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={journal};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync() is long value ? value : 0;
    }

    private static async Task Expect(Task<HttpResponseMessage> call, HttpStatusCode expected)
    {
        using var response = await call;
        if (response.StatusCode != expected)
            throw new InvalidOperationException($"expected {expected}, got {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The sum of the service's entities-alive gauge over user, username and email entities.</summary>
    private static async Task<long> EntitiesAlive(ServiceProcess node)
    {
        var metrics = await node.Client.GetStringAsync("/metrics");
        return metrics.Split('\n')
            .Where(line => line.StartsWith("akka_users_entities_alive", StringComparison.Ordinal))
            .Sum(line => (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    /// <summary>RSS, and the part of it the GC holds (committed) and uses (heap after the last collection).</summary>
    private static async Task<string> Memory(ServiceProcess node)
    {
        var metrics = (await node.Client.GetStringAsync("/metrics")).Split('\n');
        long Sum(string name) => (long)metrics.Where(line => line.StartsWith(name + "{", StringComparison.Ordinal))
            .Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        return $"RSS {Mib(node.ResidentBytes())} MiB (GC committed {Mib(Sum("dotnet_gc_last_collection_memory_committed_size_bytes"))} MiB, " +
               $"GC heap {Mib(Sum("dotnet_gc_last_collection_heap_size_bytes"))} MiB, GCs {Sum("dotnet_gc_collections_total")})";
    }

    private static long Mib(long bytes) => bytes / 1048576;
}
