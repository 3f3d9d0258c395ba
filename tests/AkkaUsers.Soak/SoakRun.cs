using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AkkaUsers.Cli;
using AkkaUsers.Domain;
using AkkaUsers.Harness;
using Npgsql;

namespace AkkaUsers.Soak;

/// <param name="ServerConnection">A PostgreSQL server whose user may create databases; the soak makes its own.</param>
/// <param name="Workers">Concurrent request loops.</param>
public sealed record SoakSettings(string ServerConnection, TimeSpan Duration, int Workers = 6);

/// <summary>
/// Mixed load (registrations, sign-ins, GET /user, races for one email) on a three-node cluster while a random
/// node is SIGKILLed and restarted at random intervals, one at a time so that a majority always stands. Then:
/// every registration that got a 201 signs in with its password and is in the journal, and no username or
/// email belongs to two users in the journal.
/// </summary>
public sealed class SoakRun
{
    private static readonly TimeSpan FinalCheckWithin = TimeSpan.FromSeconds(60);

    private readonly SoakSettings _settings;
    private readonly Action<string> _log;
    private readonly SoakReport _report;
    private readonly List<Account> _accounts = [];
    private readonly Stopwatch _clock = new();
    private Slot[] _slots = [];

    private SoakRun(SoakSettings settings, Action<string> log)
    {
        _settings = settings;
        _log = log;
        _report = new SoakReport { Duration = settings.Duration };
    }

    public static async Task<SoakReport> RunAsync(SoakSettings settings, Action<string> log)
    {
        var run = new SoakRun(settings, log);
        await using var cluster = await LocalCluster.StartAsync(settings.ServerConnection);
        run._slots = cluster.Nodes.Select(node => new Slot(node)).ToArray();
        log($"three nodes up; {settings.Workers} workers for {settings.Duration.TotalSeconds:0} s");

        run._clock.Start();
        try
        {
            using var stop = new CancellationTokenSource(settings.Duration);
            var chaos = run.KillAndRestartAsync(stop.Token);
            await Task.WhenAll(Enumerable.Range(0, settings.Workers).Select(_ => run.WorkAsync(stop.Token)));
            await chaos;

            await run.CheckEveryAcknowledgedUserSignsInAsync();
            await run.CheckTheJournalAsync(cluster.DatabaseConnection);
            await run.VerifyTheJournalAsync(cluster.DatabaseConnection);
        }
        catch
        {
            KeepLogs();
            throw;
        }
        if (!run._report.Passed) KeepLogs();
        return run._report;

        void KeepLogs()
        {
            cluster.KeepLogs = true;
            log($"the nodes' logs are kept in {cluster.WorkDirectory}");
        }
    }

    /// <summary>One node down at a time: up for 10..25 s, then SIGKILL, down for 2..10 s, then back.</summary>
    private async Task KillAndRestartAsync(CancellationToken stop)
    {
        while (await Pause(TimeSpan.FromSeconds(Random.Shared.Next(10, 26)), stop))
        {
            var slot = _slots[Random.Shared.Next(_slots.Length)];
            slot.Up = false; // no new requests go there
            Interlocked.Increment(ref slot.Incarnation);
            slot.Node.Kill();
            _report.Killed();
            _log($"{_clock.Elapsed.TotalSeconds,6:0.0} s  killed node {slot.Node.Index}");

            await Pause(TimeSpan.FromSeconds(Random.Shared.Next(2, 11)), stop);
            // Always brought back, even after the end: the checks need the whole cluster.
            var took = await slot.Node.StartAsync();
            await slot.Node.WaitUntilServingAsync();
            slot.Up = true;
            _log($"{_clock.Elapsed.TotalSeconds,6:0.0} s  node {slot.Node.Index} back (ready in {took.TotalSeconds:0.0} s)");
        }
    }

    /// <summary>False when the run ended first.</summary>
    private static async Task<bool> Pause(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task WorkAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var roll = Random.Shared.Next(100);
            if (roll < 35 || KnownCount() == 0) await RegisterAsync();
            else if (roll < 45) await RaceForOneEmailAsync();
            else if (roll < 75) await SignInAsync();
            else await GetUserAsync();
        }
    }

    private async Task RegisterAsync()
    {
        var account = Account.New();
        var (status, body) = await Call("register", LiveNode(), n => n.Register(account.Username, account.Email, account.Password), 201);
        if (status == 201) Acknowledge(account, body!);
    }

    /// <summary>Six registrations for one email (in varied case, other usernames) at once, spread over the live nodes: one winner at most.</summary>
    private async Task RaceForOneEmailAsync()
    {
        var email = $"{TestAccounts.Unique("race")}@example.com";
        var racers = Enumerable.Range(0, 6).Select(i => Account.New() with { Email = i % 2 == 0 ? email : email.ToUpperInvariant() }).ToList();
        var answers = await Task.WhenAll(racers.Select(racer =>
            Call("race", LiveNode(), n => n.Register(racer.Username, racer.Email, racer.Password), 201, 409)));
        var winners = racers.Zip(answers, (racer, answer) => (racer, answer)).Where(pair => pair.answer.Status == 201).ToList();
        foreach (var (racer, answer) in winners) Acknowledge(racer, answer.Body!);
        if (winners.Count > 1) _report.Violation($"{winners.Count} registrations won the race for {email}");
    }

    private async Task SignInAsync()
    {
        var account = RandomKnown();
        var (status, body) = await Call("sign-in", LiveNode(), n => n.SignIn(account.Username, account.Password), 200);
        if (status == 200 && body!["user"]!["id"]!.GetValue<string>() != account.Id)
            _report.Violation($"{account.Username} signed in as another user");
    }

    private async Task GetUserAsync()
    {
        var account = RandomKnown();
        await Call("get-user", LiveNode(), n => n.GetUser(account.Token), 200);
    }

    /// <summary>
    /// Sends one request and counts its outcome. No answer is allowed only from a node killed while the request
    /// was in flight; a 5xx, or any status not in <paramref name="expected"/>, is a violation.
    /// </summary>
    private async Task<(int Status, JsonObject? Body)> Call(
        string kind, Slot slot, Func<ClusterNode, Task<HttpResponseMessage>> request, params int[] expected)
    {
        var incarnation = Volatile.Read(ref slot.Incarnation);
        var sent = Stopwatch.GetTimestamp();
        var (status, body) = await TestAccounts.Send(() => request(slot.Node));
        if (status == 0)
        {
            var killed = incarnation != Volatile.Read(ref slot.Incarnation);
            _report.Count(kind, killed ? SoakReport.NodeDown : SoakReport.NoAnswer);
            if (!killed) _report.Violation($"{_clock.Elapsed.TotalSeconds:0.0} s {kind} on node {slot.Node.Index}: no answer while it was up");
            return (0, null);
        }

        _report.Count(kind, status.ToString());
        _report.Answered(kind, Stopwatch.GetElapsedTime(sent));
        if (!expected.Contains(status))
            _report.Violation($"{_clock.Elapsed.TotalSeconds:0.0} s {kind} on node {slot.Node.Index}: {status} {body?["message"]}");
        return (status, body);
    }

    /// <summary>Every 201 signs in with its password, through every node in turn, within a minute of the end.</summary>
    private async Task CheckEveryAcknowledgedUserSignsInAsync()
    {
        List<Account> pending;
        lock (_accounts) pending = [.. _accounts];
        _report.Acknowledged = pending.Count;
        _log($"checking {pending.Count} acknowledged registrations");

        var deadline = DateTime.UtcNow + FinalCheckWithin;
        do
        {
            var failed = new System.Collections.Concurrent.ConcurrentBag<Account>();
            await Parallel.ForEachAsync(pending.Select((account, i) => (account, i)), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (item, _) =>
            {
                var node = _slots[item.i % _slots.Length].Node;
                var (status, body) = await TestAccounts.Send(() => node.SignIn(item.account.Username, item.account.Password));
                _report.Count("check sign-in", status.ToString());
                if (status != 200 || body!["user"]!["id"]!.GetValue<string>() != item.account.Id) failed.Add(item.account);
            });
            pending = [.. failed];
        } while (pending.Count > 0 && DateTime.UtcNow < deadline);

        _report.Lost = pending.Count;
        foreach (var account in pending.Take(10)) _report.Violation($"acknowledged user {account.Username} ({account.Id}) does not sign in");
    }

    /// <summary>Every registration in the journal: each 201 is there, and no normalized username or email twice.</summary>
    private async Task CheckTheJournalAsync(string databaseConnection)
    {
        var registered = new List<(string Id, string Username, string Email)>();
        await using (var connection = new NpgsqlConnection(databaseConnection))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT message FROM journal WHERE manifest = 'user-registered'", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var e = JsonDocument.Parse((byte[])reader[0]).RootElement;
                registered.Add((e.GetProperty("userId").GetString()!, e.GetProperty("username").GetString()!, e.GetProperty("email").GetString()!));
            }
        }
        _report.JournalUsers = registered.Count;

        foreach (var key in registered.GroupBy(u => Keys.Username(u.Username)).Where(g => g.Count() > 1).Select(g => g.Key))
            _report.Violation($"username '{key}' is held by two users in the journal");
        foreach (var key in registered.GroupBy(u => Keys.Email(u.Email)).Where(g => g.Count() > 1).Select(g => g.Key))
            _report.Violation($"email '{key}' is held by two users in the journal");

        var inJournal = registered.Select(u => u.Id).ToHashSet();
        List<Account> acknowledged;
        lock (_accounts) acknowledged = [.. _accounts];
        var missing = acknowledged.Where(a => !inJournal.Contains(a.Id)).ToList();
        foreach (var account in missing.Take(10)) _report.Violation($"acknowledged user {account.Id} is not in the journal");
        _report.Lost = Math.Max(_report.Lost, missing.Count);
    }

    /// <summary>
    /// The operator's own check, `audit verify`, run in process over the cluster's journal. A SIGKILL between a
    /// registration's claims and its UserRegistered leaves claims that the sweep releases once they are older than
    /// the grace period: a strict run (with the profile's grace period) is repeated until it finds none or the
    /// sweep has had a minute past that period, and what is left is counted; every other invariant must hold (a run
    /// with a grace period longer than the soak).
    /// </summary>
    private async Task VerifyTheJournalAsync(string databaseConnection)
    {
        var gracePeriod = ClusterProfile.Load()["Entities__ClaimGracePeriod"];
        var deadline = DateTime.UtcNow + TimeSpan.Parse(gracePeriod) + TimeSpan.FromMinutes(1);
        while (true)
        {
            var strict = await AuditVerifyAsync(databaseConnection, gracePeriod);
            _report.OrphanedClaims = strict.Report.Split('\n').Count(line => line.TrimStart().StartsWith("orphaned ", StringComparison.Ordinal));
            if (_report.OrphanedClaims == 0 || DateTime.UtcNow > deadline) break;
            await Task.Delay(TimeSpan.FromSeconds(2)); // poll interval
        }
        var (exitCode, report) = await AuditVerifyAsync(databaseConnection, "365.00:00:00");
        _report.AuditVerify = report;
        if (exitCode != 0) _report.Violation($"audit verify exited {exitCode}: {report}");
    }

    private static async Task<(int ExitCode, string Report)> AuditVerifyAsync(string databaseConnection, string claimGracePeriod)
    {
        using var output = new MemoryStream();
        var errors = new StringWriter();
        var exitCode = await AkkaUsersCli.RunAsync(
            ["audit", "verify", "--Persistence:Provider=PostgreSql", $"--Persistence:ConnectionString={databaseConnection}",
             $"--Entities:ClaimGracePeriod={claimGracePeriod}"],
            output, errors, CancellationToken.None);
        return (exitCode, (Encoding.UTF8.GetString(output.ToArray()) + errors).Trim());
    }

    private void Acknowledge(Account account, JsonObject body)
    {
        var known = account with { Id = body["user"]!["id"]!.GetValue<string>(), Token = body["token"]!.GetValue<string>() };
        lock (_accounts) _accounts.Add(known);
    }

    private int KnownCount()
    {
        lock (_accounts) return _accounts.Count;
    }

    private Account RandomKnown()
    {
        lock (_accounts) return _accounts[Random.Shared.Next(_accounts.Count)];
    }

    private Slot LiveNode()
    {
        var live = _slots.Where(s => s.Up).ToArray();
        return live[Random.Shared.Next(live.Length)];
    }

    /// <summary>A node, whether requests may go to it, and how often it was killed (to tell a cut request from a silent node).</summary>
    private sealed class Slot(ClusterNode node)
    {
        public ClusterNode Node { get; } = node;
        public volatile bool Up = true;
        public int Incarnation;
    }

    private sealed record Account(string Username, string Email, string Password, string Id = "", string Token = "")
    {
        public static Account New()
        {
            var name = TestAccounts.Unique("soak");
            return new Account(name, $"{name}@example.com", "pw-" + Guid.NewGuid().ToString("N")[..12]);
        }
    }
}
