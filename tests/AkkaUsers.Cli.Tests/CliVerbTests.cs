using System.Text;
using System.Text.Json.Nodes;
using AkkaUsers.Accounts;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.Accounts.Tests;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

using static AkkaUsers.Cli.Tests.CliRun;

namespace AkkaUsers.Cli.Tests;

/// <summary>
/// A journal written by the service's own entities (through the tools' wiring): Alice and Bob registered, Alice
/// signed in once. Made once per test class; each test works on its own copy.
/// </summary>
public sealed class TwoUserJournal : IAsyncLifetime
{
    public string Directory { get; } = ActorHost.NewDataDirectory();
    public UserProfile Alice { get; private set; } = null!;
    public UserProfile Bob { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var host = await ActorHost.StartAsync(dataDirectory: Directory, tools: true);
        Alice = await Register(host, "Alice", "alice@example.com");
        Bob = await Register(host, "Bob", "bob@example.com");
        Assert.IsType<SignInOutcome.SignedIn>(await host.Accounts.SignInAsync(ClaimKind.Username, "alice", "password-1", new ClientInfo(null, null), CancellationToken.None));
        await host.StopAsync();
    }

    /// <summary>The journal's files (nothing writes them any more) copied into a fresh directory.</summary>
    public string Copy()
    {
        var copy = ActorHost.NewDataDirectory();
        System.IO.Directory.CreateDirectory(copy);
        foreach (var file in System.IO.Directory.GetFiles(Directory))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }

    private static async Task<UserProfile> Register(ActorHost host, string username, string email) =>
        Assert.IsType<RegistrationOutcome.Registered>(await host.Accounts.RegisterAsync(
            new NewAccount(username, email, "password-1", ["user"], "free", null, null), CancellationToken.None)).User;
}

/// <summary>Each verb of the tool, in process, on a copy of <see cref="TwoUserJournal"/>, damaged by hand where a test needs it.</summary>
public sealed class CliVerbTests(TwoUserJournal journal) : IClassFixture<TwoUserJournal>, IDisposable
{
    private readonly string _dataDirectory = journal.Copy();
    private readonly UserProfile _alice = journal.Alice;
    private readonly UserProfile _bob = journal.Bob;

    private string DatabaseFile => Path.Combine(_dataDirectory, "akka-users.db");

    public void Dispose() => Directory.Delete(_dataDirectory, recursive: true);

    [Fact]
    public async Task Export_writes_every_row_in_journal_order_as_json_lines_with_secrets_redacted()
    {
        var run = await Cli("audit", "export");

        Assert.Equal(0, run.ExitCode);
        var lines = Lines(run.Output);
        // Per user: a username claim, a username skeleton claim, an email claim, the registration; then Alice's sign-in.
        Assert.Equal(["key-claimed", "key-claimed", "key-claimed", "user-registered", "key-claimed", "key-claimed", "key-claimed", "user-registered", "user-signed-in"],
            lines.Select(l => l["type"]!.GetValue<string>()));
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), lines.Select(l => l["ordering"]!.GetValue<long>()));
        Assert.All(lines, l => Assert.Equal(["persistenceId", "sequenceNr", "ordering", "timestamp", "type", "data"], l.Select(p => p.Key)));
        Assert.Equal($"user-{_alice.Id}", lines[3]["persistenceId"]!.GetValue<string>());
        Assert.Equal("[redacted]", lines[3]["data"]!["passwordHash"]!.GetValue<string>());
        Assert.Equal("Alice", lines[3]["data"]!["username"]!.GetValue<string>());
        Assert.DoesNotContain("$argon2id$", run.Output);
        // stderr is no terminal here: no progress drawn, the summary alone.
        Assert.StartsWith("audit export: 9 events in", OneLine(run.Errors));
    }

    [Fact]
    public async Task Export_narrows_to_one_user_and_to_a_time_and_writes_to_a_file()
    {
        var user = Lines((await Cli("audit", "export", "--user", _alice.Id)).Output);
        Assert.Equal(["user-registered", "user-signed-in"], user.Select(l => l["type"]!.GetValue<string>()));
        Assert.Equal([1L, 2], user.Select(l => l["sequenceNr"]!.GetValue<long>()));

        var all = Lines((await Cli("audit", "export")).Output);
        var since = all[7]["timestamp"]!.GetValue<DateTimeOffset>();
        var recent = Lines((await Cli("audit", "export", $"--since={since:O}")).Output);
        Assert.Equal([8L, 9], recent.Select(l => l["ordering"]!.GetValue<long>()));

        var file = Path.Combine(_dataDirectory, "export.jsonl");
        var toFile = await Cli("audit", "export", "--out", file, "--user", _bob.Id);
        Assert.Equal(0, toFile.ExitCode);
        Assert.Equal("", toFile.Output);
        Assert.Contains($"to {file}", toFile.Errors);
        Assert.Single(Lines(await File.ReadAllTextAsync(file)));
    }

    [Theory]
    [InlineData("--since", "yesterday", "--since must be an ISO 8601 time")]
    [InlineData("--user", "ALICE", "--user must be a user id")]
    [InlineData("--limit", "5", "Unrecognized command or argument '--limit'")]
    [InlineData("--out", "/no/such/directory/x.jsonl", "Cannot write /no/such/directory/x.jsonl")]
    public async Task Export_with_a_bad_option_is_a_one_line_usage_error(string option, string value, string message)
    {
        var run = await Cli("audit", "export", option, value);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.StartsWith(message, OneLine(run.Errors));
        Assert.Equal("", run.Output);
    }

    [Theory]
    [InlineData("Unrecognized command or argument 'frob' (see 'akka-users audit --help')", "audit", "frob")]
    [InlineData("Required command was not provided (see 'akka-users audit --help')", "audit")]
    [InlineData("Argument 'xml' not recognized. Must be one of: 'text' 'json' (see 'akka-users audit verify --help')", "audit", "verify", "--format", "xml")]
    [InlineData("Required argument 'EMAIL' missing for command: 'grant' (see 'akka-users admin grant --help')", "admin", "grant")]
    [InlineData("Unrecognized command or argument 'extra' (see 'akka-users audit verify --help')", "audit", "verify", "extra")]
    [InlineData("--Storage:DataDirectory needs a value: --Storage:DataDirectory=VALUE", "audit", "verify", "--Storage:DataDirectory")]
    public async Task A_bad_command_line_is_one_line_saying_why_and_exit_2(string message, params string[] args)
    {
        var run = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.EndsWith(message, OneLine(run.Errors));
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task A_missing_journal_is_named_and_not_created()
    {
        var elsewhere = ActorHost.NewDataDirectory();

        var run = await RunAsync(["audit", "verify", $"--Storage:DataDirectory={elsewhere}"]);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.StartsWith($"No journal at {Path.Combine(elsewhere, "akka-users.db")}", OneLine(run.Errors));
        Assert.False(Directory.Exists(elsewhere));
    }

    [Theory]
    [InlineData("--Entities:ClaimGracePeriod=-00:00:01", "Invalid configuration: Entities:ClaimGracePeriod must be positive")]
    [InlineData("--Entities:ClaimGracePeriod=soon", "Invalid configuration: Failed to convert configuration value")]
    [InlineData("--Persistence:Provider=Oracle", "Invalid configuration: ")]
    public async Task Bad_configuration_is_named_before_anything_runs(string setting, string message)
    {
        var run = await Cli("audit", "verify", setting);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.StartsWith(message, OneLine(run.Errors));
        Assert.Equal("", run.Output);
    }

    [Fact]
    public async Task Verify_of_the_journal_the_entities_wrote_is_clean()
    {
        var run = await Cli("audit", "verify");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("audit verify: 9 events in", run.Output);
        Assert.Contains("2 user ids, 6 index entities", run.Output);
        Assert.Contains("OK: every invariant holds", run.Output);

        var json = await Cli("audit", "verify", "--format", "json");
        Assert.Equal(0, json.ExitCode);
        var report = JsonNode.Parse(json.Output)!;
        Assert.Equal(9, report["events"]!.GetValue<long>());
        Assert.Equal(2, report["users"]!.GetValue<int>());
        Assert.Equal(6, report["indexEntities"]!.GetValue<int>());
        Assert.Empty(report["problems"]!.AsArray());
    }

    [Fact]
    public async Task Verify_accepts_a_deleted_user_whose_journal_starts_at_its_tombstone_and_export_shows_nothing_of_it()
    {
        var host = await ActorHost.StartAsync(dataDirectory: _dataDirectory, tools: true);
        var carol = Assert.IsType<RegistrationOutcome.Registered>(await host.Accounts.RegisterAsync(
            new NewAccount("Carol", "carol@example.com", "password-1", ["user"], "free", null, null), CancellationToken.None)).User;
        var ticket = Assert.IsType<DeletionOutcome.Started>(await host.Accounts.DeleteAsync(carol.Id, "admin-id", CancellationToken.None)).Ticket;
        await Poll.UntilAsync(() => host.Accounts.GetDeletionStatusAsync(carol.Id, ticket, CancellationToken.None),
            s => s is DeletionLookup.Found { Progress: DeletionProgress.Completed }, "the deletion");
        await host.StopAsync();

        var verify = await Cli("audit", "verify");
        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Contains("OK: every invariant holds", verify.Output);

        var export = await Cli("audit", "export", "--user", carol.Id);
        Assert.Equal(["user-deleted", "deletion-step-done", "deletion-step-done", "deletion-step-done"],
            Lines(export.Output).Select(l => l["type"]!.GetValue<string>()));
        Assert.DoesNotContain("carol", export.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Verify_accepts_a_password_reset_with_a_code()
    {
        var bob = UserActor.PersistenceIdFor(_bob.Id);
        var at = DateTimeOffset.UtcNow;
        JournalFile.Append(DatabaseFile,
            new JournalFile.Row(bob, 2, new PasswordResetRequested(ResetCode.Hash(ResetCode.New(_bob.Id)), at, at.AddHours(1))),
            new JournalFile.Row(bob, 3, new PasswordChanged("$argon2id$x", ResetCode.ChangedBy, at.AddMinutes(5), at.AddMinutes(5).AddSeconds(1))));

        var run = await Cli("audit", "verify");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("audit verify: 11 events in", run.Output);
        Assert.Contains("OK: every invariant holds", run.Output);
    }

    [Fact]
    public async Task Verify_catches_a_duplicate_claim_written_straight_into_the_journal()
    {
        // Bob claims Alice's username behind the index's back, and a third user registers "ALICE" as well.
        var aliceUsername = ClaimIndexActor.PersistenceIdFor(ClaimKind.Username, Keys.Digest("alice"));
        var carol = UserId.New(DateTimeOffset.UtcNow).Value;
        JournalFile.Append(DatabaseFile,
            new JournalFile.Row(aliceUsername, JournalFile.NextSequenceNr(DatabaseFile, aliceUsername), new KeyClaimed(null, _bob.Id, DateTimeOffset.UtcNow) { Key = "alice" }),
            new JournalFile.Row(UserActor.PersistenceIdFor(carol), 1,
                new UserRegistered(carol, "ALICE", "carol@example.com", "$argon2id$x", ["user"], "free", null, null, DateTimeOffset.UtcNow)));

        var run = await Cli("audit", "verify");
        var json = JsonNode.Parse((await Cli("audit", "verify", "--format=json")).Output)!;

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(json["problems"]!.AsArray(), p => p!["message"]!.GetValue<string>().StartsWith("username 'alice' is held by 2 live users", StringComparison.Ordinal));
        Assert.Contains($"username 'alice' is held by 2 live users: {string.Join(", ", new[] { _alice.Id, carol }.Order())}", run.Output);
        Assert.Contains($"user {_alice.Id}: the username index of 'alice' names {_bob.Id}", run.Output);
        Assert.Contains($"user {carol}: the email index of 'carol@example.com' names nobody", run.Output);
        var offending = run.Output.Split('\n').Single(l => l.StartsWith("offending ids: ", StringComparison.Ordinal));
        Assert.Contains(_alice.Id, offending);
        Assert.Contains(_bob.Id, offending);
        Assert.Contains(carol, offending);
    }

    [Fact]
    public async Task Verify_catches_a_sequence_gap_a_row_that_does_not_deserialize_and_an_event_that_cannot_apply()
    {
        var alice = UserActor.PersistenceIdFor(_alice.Id);
        var stranger = UserActor.PersistenceIdFor(UserId.New(DateTimeOffset.UtcNow).Value);
        JournalFile.Append(DatabaseFile,
            new JournalFile.Row(alice, 5, new UserSignedIn(DateTimeOffset.UtcNow, null, null)),
            new JournalFile.Row(UserActor.PersistenceIdFor(_bob.Id), 2, null, Manifest: "user-signed-in", Message: "{not json"u8.ToArray()),
            new JournalFile.Row(stranger, 1, new ScopeGranted("admin", "intruder", DateTimeOffset.UtcNow)));

        var run = await Cli("audit", "verify");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{alice} #5 (ordering 10) follows sequence number 2: the sequence numbers are not contiguous", run.Output);
        Assert.Contains($"user-{_bob.Id} #2 (ordering 11) does not deserialize as 'user-signed-in'", run.Output);
        Assert.Contains($"{stranger} #1 (ordering 12) cannot be applied: ScopeGranted of a user that is not registered", run.Output);
    }

    [Fact]
    public async Task Verify_reports_an_orphaned_claim_only_once_it_is_older_than_the_grace_period()
    {
        var ghost = UserId.New(DateTimeOffset.UtcNow).Value;
        var key = ClaimIndexActor.PersistenceIdFor(ClaimKind.Email, Keys.Digest("ghost@example.com"));
        JournalFile.Append(DatabaseFile, new JournalFile.Row(key, 1, new KeyClaimed(null, ghost, DateTimeOffset.UtcNow.AddMinutes(-10)) { Key = "ghost@example.com" }));

        var withinGrace = await Cli("audit", "verify", "--Entities:ClaimGracePeriod=01:00:00");
        var pastGrace = await Cli("audit", "verify", "--Entities:ClaimGracePeriod=00:05:00");

        Assert.Equal(0, withinGrace.ExitCode);
        Assert.Equal(1, pastGrace.ExitCode);
        Assert.Contains($"orphaned email claim of 'ghost@example.com' by {ghost} (not a live user with that key)", pastGrace.Output);
    }

    [Fact]
    public async Task Rebuild_fills_the_users_table_from_the_journal_and_stores_the_offset()
    {
        JournalFile.Append(DatabaseFile, new JournalFile.Row(UserActor.PersistenceIdFor(_bob.Id), 2, new ScopeGranted("admin", "cli", DateTimeOffset.UtcNow)));

        var first = await Cli("projection", "rebuild");
        var second = await Cli("projection", "rebuild", "--format", "json");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("projection rebuild: 4 events in", first.Output);
        Assert.Contains("2 users listed, up to ordering 10", first.Output);
        Assert.Equal(0, second.ExitCode);
        var report = JsonNode.Parse(second.Output)!;
        Assert.Equal([4L, 2L, 10L], new[] { "events", "users", "upToOrdering" }.Select(k => report[k]!.GetValue<long>()));
        Assert.Empty(report["skipped"]!.AsArray());
        var readModel = new UsersReadModel(new Accounts.Persistence.JournalDatabase(Accounts.Hosting.PersistenceProvider.Sqlite, $"Data Source={DatabaseFile}"));
        Assert.Equal(10, await readModel.PrepareAsync(CancellationToken.None));
        var users = await readModel.ListAsync(new UserQuery(Sort: UserSort.UsernameAscending), CancellationToken.None);
        Assert.Equal([_alice.Id, _bob.Id], users.Select(u => u.Id));
        Assert.Equal(["user", "admin"], users[1].Scope);
        TestData.AssertDeepEqual(_alice, users[0]);
    }

    [Fact]
    public async Task Admin_grant_records_the_grant_once_and_fails_for_an_unknown_email()
    {
        var granted = await Grant("BOB@example.com");
        var again = await Grant("bob@example.com");
        var unknown = await Grant("nobody@example.com");
        var invalid = await Grant("not-an-email");

        Assert.Equal(0, granted.ExitCode);
        Assert.Equal($"admin grant: user {_bob.Id} (Bob) has the scopes user, admin\n", granted.Output);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(1, JournalFile.Count(DatabaseFile, "scope-granted"));
        var grant = Lines((await Cli("audit", "export", "--user", _bob.Id)).Output).Last();
        Assert.Equal("cli", grant["data"]!["grantedBy"]!.GetValue<string>());
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no registered user has the email nobody@example.com", unknown.Errors);
        Assert.Equal(2, invalid.ExitCode);
        Assert.StartsWith("\"email\" must be a valid email", OneLine(invalid.Errors));
    }

    [Fact]
    public async Task Admin_grant_beside_a_running_service_refuses_in_one_line_and_writes_nothing()
    {
        using var service = new AnsweringService();

        var run = await RunAsync(["admin", "grant", "bob@example.com", "--service-url", service.BaseUrl, $"--Storage:DataDirectory={_dataDirectory}"]);

        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        var line = OneLine(run.Errors);
        Assert.StartsWith($"admin grant: the service is running (it answers at {service.BaseUrl})", line);
        Assert.Contains($"PUT {service.BaseUrl}/users/USER-ID", line);
        Assert.Equal(["/health/live"], service.Paths);
        Assert.Equal(0, JournalFile.Count(DatabaseFile, "scope-granted"));
    }

    private Task<CliRun> Cli(params string[] args) => RunAsync([.. args, $"--Storage:DataDirectory={_dataDirectory}"]);

    /// <summary>Looks for a running service where nothing listens, so that no service running on this machine is found.</summary>
    private Task<CliRun> Grant(string email) => Cli("admin", "grant", email, "--service-url", AnsweringService.NobodyUrl());


    private static List<JsonObject> Lines(string jsonLines) =>
        jsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
}
