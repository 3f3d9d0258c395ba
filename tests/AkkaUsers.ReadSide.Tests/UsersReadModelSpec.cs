using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static AkkaUsers.Accounts.Tests.TestData;
using static AkkaUsers.Domain.UserProtocol;

using AkkaUsers.Accounts;
using AkkaUsers.Accounts.Tests;

namespace AkkaUsers.ReadSide.Tests;

/// <summary>
/// The admin read model as the service runs it: the projection follows the tagged user events into the users
/// table; queries filter, sort and page it; a stopped projection resumes without losing or repeating anything.
/// </summary>
public sealed class UsersReadModelSpec : IAsyncLifetime
{
    private ActorHost _host = null!;

    private UsersReadModel ReadModel => _host.Services.GetRequiredService<UsersReadModel>();

    public async Task InitializeAsync() => _host = await ActorHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Users_are_listed_filtered_sorted_paged_and_counted()
    {
        // Registered one after the other, so their creation times are in this order.
        var alice = await Register("Alice");
        var bob = await Register("bob");
        var carol = await Register("Carol_x");
        var dave = await Register("DAVE%");
        Assert.IsType<GrantOutcome.Granted>(await _host.Accounts.GrantScopeAsync(bob.Id, "admin", "spec", CancellationToken.None));

        await Poll.UntilAsync(() => ReadModel.ListAsync(new UserQuery(Scope: "admin"), CancellationToken.None),
            admins => admins.Count == 1, "the granted scope in the read model");
        var all = await ReadModel.ListAsync(new UserQuery(), CancellationToken.None);

        Assert.Equal([dave.Id, carol.Id, bob.Id, alice.Id], all.Select(u => u.Id)); // created:-1 by default
        Assert.Equal(["user", "admin"], all.Single(u => u.Id == bob.Id).Scope);
        AssertDeepEqual(alice, all.Single(u => u.Id == alice.Id));

        Assert.Equal([alice.Id, bob.Id, carol.Id, dave.Id], await Ids(new UserQuery(Sort: UserSort.CreatedAscending)));
        Assert.Equal([alice.Id, bob.Id, carol.Id, dave.Id], await Ids(new UserQuery(Sort: UserSort.UsernameAscending)));
        Assert.Equal([bob.Id, carol.Id], await Ids(new UserQuery(Sort: UserSort.CreatedAscending, Limit: 2, Offset: 1)));
        Assert.Empty(await Ids(new UserQuery(Offset: 4)));

        // The pattern is a case-insensitive substring; LIKE's wildcards in it are plain characters.
        Assert.Equal([carol.Id], await Ids(new UserQuery(Pattern: "AR")));
        Assert.Equal([carol.Id], await Ids(new UserQuery(Pattern: "_")));
        Assert.Equal([dave.Id], await Ids(new UserQuery(Pattern: "e%")));
        Assert.Empty(await Ids(new UserQuery(Pattern: "zz")));

        // A scope matches whole, never a part of another.
        Assert.Equal([bob.Id], await Ids(new UserQuery(Scope: "admin")));
        Assert.Empty(await Ids(new UserQuery(Scope: "adm")));
        Assert.Equal(4, await ReadModel.CountAsync(new UserQuery(Scope: "user"), CancellationToken.None));
        Assert.Equal(1, await ReadModel.CountAsync(new UserQuery(Scope: "admin", Pattern: "O"), CancellationToken.None));
        Assert.Equal(0, await ReadModel.CountAsync(new UserQuery(Scope: "admin", Pattern: "alice"), CancellationToken.None));
        Assert.Equal(4, await ReadModel.CountAsync(new UserQuery(Limit: 1, Offset: 3), CancellationToken.None));
    }

    [Fact]
    public async Task A_projection_stopped_and_restarted_neither_loses_nor_duplicates_rows()
    {
        var first = new List<UserProfile>();
        for (var i = 0; i < 3; i++) first.Add(await Register($"first{i}"));
        await _host.Accounts.GrantScopeAsync(first[0].Id, "admin", "spec", CancellationToken.None);
        await WaitUntilCaughtUp();

        // Written while no projection runs: the tools' wiring has the entities but not the projection.
        await _host.StopAsync();
        var tools = await ActorHost.StartAsync(dataDirectory: _host.DataDirectory, tools: true);
        var second = new List<UserProfile>();
        for (var i = 0; i < 3; i++) second.Add(Registered(await tools.Accounts.RegisterAsync(Account($"second{i}"), CancellationToken.None)));
        await tools.Accounts.GrantScopeAsync(second[0].Id, "admin", "spec", CancellationToken.None);
        await tools.StopAsync();

        _host = await _host.RestartAsync();
        var resumed = await WaitUntilCaughtUp();
        var expected = first.Concat(second).Select(u => u.Id).Order().ToList();
        Assert.Equal(expected, resumed.Select(u => u.Id).Order());
        Assert.Equal(2, resumed.Count(u => u.Scope.SequenceEqual(["user", "admin"])));

        // Delivered again (a crash after the rows were written, before the offset was): the last grant is not
        // applied twice, nor is anything else.
        var lastGrant = await OrderingOfLast("scope-granted");
        await _host.StopAsync();
        SetStoredOffset(_host.DatabaseFile, lastGrant - 1);
        _host = await _host.RestartAsync();
        var replayed = await WaitUntilCaughtUp();
        Assert.Equal(expected, replayed.Select(u => u.Id).Order());
        foreach (var user in resumed) AssertDeepEqual(user, replayed.Single(u => u.Id == user.Id));
    }

    [Fact]
    public async Task An_event_that_cannot_be_applied_is_reported_and_the_rest_of_its_batch_is_applied()
    {
        var user = await Register("survivor");
        await WaitUntilCaughtUp();

        var stranger = NewUserId();
        IReadOnlyList<UserEventAt> batch =
        [
            new(stranger, 1, 1_000_001, new ScopeGranted("admin", "spec", DateTimeOffset.UtcNow)),
            new(user.Id, 2, 1_000_002, new ScopeGranted("auditor", "spec", DateTimeOffset.UtcNow)),
        ];
        var problems = await ReadModel.ApplyAsync(batch, CancellationToken.None);

        Assert.Contains(stranger, Assert.Single(problems));
        Assert.Equal(["user", "auditor"], (await ReadModel.ListAsync(new UserQuery(Scope: "auditor"), CancellationToken.None)).Single().Scope);
        Assert.Equal(1, await ReadModel.CountAsync(new UserQuery(), CancellationToken.None));
        Assert.Equal(1_000_002, await ReadModel.PrepareAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Password_reset_events_are_applied_without_a_problem_and_change_no_listed_field()
    {
        var user = await Register("forgetful");
        var issued = Assert.IsType<ResetCodeOutcome.Issued>(await _host.Accounts.RequestPasswordResetAsync(user.Email, CancellationToken.None));
        Assert.IsType<CodeResetOutcome.PasswordSet>(await _host.Accounts.ResetPasswordWithCodeAsync(issued.Code.Code, "password-2", CancellationToken.None));

        AssertDeepEqual(user, Assert.Single(await WaitUntilCaughtUp()));

        var at = DateTimeOffset.UtcNow;
        IReadOnlyList<UserEventAt> batch =
        [
            new(user.Id, 4, 2_000_001, new PasswordResetRequested(ResetCode.Hash(ResetCode.New(user.Id)), at, at.AddHours(1))),
            new(user.Id, 5, 2_000_002, new PasswordChanged("$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA", ResetCode.ChangedBy, at, at.AddSeconds(1))),
        ];
        Assert.Empty(await ReadModel.ApplyAsync(batch, CancellationToken.None));
        AssertDeepEqual(user, Assert.Single(await ReadModel.ListAsync(new UserQuery(), CancellationToken.None)));
    }

    /// <summary>Waits until the stored offset reaches the newest user event; returns every listed user.</summary>
    [Fact]
    public async Task Deletion_steps_after_the_row_is_gone_are_no_problem()
    {
        var user = await Register("leaving");
        await WaitUntilCaughtUp();
        var at = DateTimeOffset.UtcNow;
        var erased = NewUserId();

        // The tombstone drops the row; its steps come in a later batch. The erased user's journal starts at its tombstone.
        Assert.Empty(await ReadModel.ApplyAsync([new(user.Id, 2, 3_000_001, new UserDeleted("ticket", "admin", at))], CancellationToken.None));
        IReadOnlyList<UserEventAt> steps =
        [
            new(user.Id, 3, 3_000_002, new DeletionStepDone("ticket", DeletionSteps.UsernameReleased, at)),
            new(user.Id, 4, 3_000_003, new DeletionFailed("ticket", DeletionSteps.EmailReleased, "ask timed out", at)),
            new(erased, 5, 3_000_004, new UserDeleted("ticket-2", "admin", at)),
            new(erased, 6, 3_000_005, new DeletionStepDone("ticket-2", DeletionSteps.UsernameReleased, at)),
        ];

        Assert.Empty(await ReadModel.ApplyAsync(steps, CancellationToken.None));
        Assert.Equal(0, await ReadModel.CountAsync(new UserQuery(), CancellationToken.None));
    }

    [Fact]
    public async Task Profiles_are_found_by_id_for_listed_users_only_and_other_followers_keep_their_own_offsets()
    {
        var alice = await Register("Alice");
        await WaitUntilCaughtUp();

        var profiles = await ReadModel.ProfilesAsync([alice.Id, NewUserId()], CancellationToken.None);

        AssertDeepEqual(alice, Assert.Single(profiles).Value);
        Assert.Empty(await ReadModel.ProfilesAsync([], CancellationToken.None));

        Assert.Null(await ReadModel.OffsetAsync("a-follower", CancellationToken.None));
        await ReadModel.SaveOffsetAsync("a-follower", 42, CancellationToken.None);
        await ReadModel.SaveOffsetAsync("a-follower", 43, CancellationToken.None);
        Assert.Equal(43, await ReadModel.OffsetAsync("a-follower", CancellationToken.None));
        Assert.Equal(await NewestUserEventOrdering(), await ReadModel.OffsetAsync(UsersReadModel.ProjectionName, CancellationToken.None));
    }

    [Fact]
    public async Task A_tags_new_events_are_found_without_reading_its_old_ones()
    {
        await Register("Alice");
        await WaitUntilCaughtUp();

        // Akka.Persistence.Sql's EventsByTag query: one tag's events past the follower's offset.
        await using var connection = await _host.Services.GetRequiredService<JournalDatabase>().OpenConnectionAsync(CancellationToken.None);
        await using var explain = connection.CreateCommand();
        explain.CommandText = """
            EXPLAIN QUERY PLAN SELECT r.ordering FROM journal r LEFT JOIN tags lp ON lp.ordering_id = r.ordering
            WHERE lp.ordering_id > 10 AND lp.ordering_id <= 20 AND r.deleted = 0 AND lp.tag = 'user' ORDER BY r.ordering
            """;
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync()) plan.Add(reader.GetString(3));

        Assert.Contains($"SEARCH lp USING COVERING INDEX {JournalDatabase.TagOrderingIndex} (tag=? AND ordering_id>? AND ordering_id<?)", plan);
    }

    private async Task<IReadOnlyList<UserProfile>> WaitUntilCaughtUp()
    {
        var newest = await NewestUserEventOrdering();
        await Poll.UntilAsync(() => ReadModel.PrepareAsync(CancellationToken.None), offset => offset >= newest, "the projection's offset");
        return await ReadModel.ListAsync(new UserQuery(Limit: 1000), CancellationToken.None);
    }

    private Task<long> NewestUserEventOrdering() => OrderingOfLast(manifest: null);

    private async Task<long> OrderingOfLast(string? manifest)
    {
        var reader = _host.Services.GetRequiredService<JournalReader>();
        var last = 0L;
        await foreach (var row in reader.ReadAsync(new JournalFilter(PersistenceIdPrefix: "user-"), CancellationToken.None))
            if (manifest is null || row.Manifest == manifest) last = row.Ordering;
        return last;
    }

    private async Task<IReadOnlyList<string>> Ids(UserQuery query) =>
        (await ReadModel.ListAsync(query, CancellationToken.None)).Select(u => u.Id).ToList();

    private async Task<UserProfile> Register(string username) =>
        Registered(await _host.Accounts.RegisterAsync(Account(username), CancellationToken.None));

    private static NewAccount Account(string username) =>
        new(username, $"{UniqueName("mail")}@example.com", "password-1", ["user"], "free", null, Metadata());

    private static UserProfile Registered(RegistrationOutcome outcome) => Assert.IsType<RegistrationOutcome.Registered>(outcome).User;

    private static void SetStoredOffset(string databaseFile, long ordering)
    {
        using var connection = new SqliteConnection($"Data Source={databaseFile};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE read_model_offsets SET ordering = $ordering WHERE name = 'users'";
        command.Parameters.AddWithValue("$ordering", ordering);
        Assert.Equal(1, command.ExecuteNonQuery());
    }
}
