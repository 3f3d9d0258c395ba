using Akka.Actor;
using Akka.Cluster.Sharding;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static AkkaUsers.Accounts.Tests.TestData;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Tests;

/// <summary>The user entity, reached through its shard region as in production.</summary>
public class UserActorSpec(ITestOutputHelper output) : HostedSpec(output)
{
    [Fact]
    public void RegisterUser_then_GetUser_returns_the_profile()
    {
        var id = NewUserId();
        var register = Register(id);

        Host.Users.Tell(register, TestActor);
        var registered = ExpectMsg<UserFound>(Timeout).User;

        Assert.Equal(id, registered.Id);
        Assert.Equal(register.Username, registered.Username);
        Assert.Equal(register.Email, registered.Email);
        Assert.Equal(register.Scope, registered.Scope);
        Assert.Equal(register.Plan, registered.Plan);
        Assert.Equal(register.Vendor, registered.Vendor?.GetString());
        AssertDeepEqual(register.Metadata, registered.Metadata);
        Assert.False(registered.IsActive);
        Assert.InRange(registered.Created, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        Host.Users.Tell(new GetUser(id), TestActor);
        AssertDeepEqual(registered, ExpectMsg<UserFound>(Timeout).User);
    }

    [Fact]
    public void GetUser_of_an_unknown_id_is_UserNotFound()
    {
        var id = NewUserId();
        Host.Users.Tell(new GetUser(id), TestActor);
        Assert.Equal(new UserNotFound(id), ExpectMsg<UserNotFound>(Timeout));
    }

    [Fact]
    public void A_duplicate_RegisterUser_with_other_data_is_refused_and_an_identical_retry_is_answered_again()
    {
        var id = NewUserId();
        var register = Register(id);
        Host.Users.Tell(register, TestActor);
        var registered = ExpectMsg<UserFound>(Timeout).User;

        Host.Users.Tell(Register(id), TestActor);
        Assert.Equal(id, ExpectMsg<RegistrationRefused>(Timeout).UserId);

        Host.Users.Tell(register with { PasswordHash = "$argon2id$other" }, TestActor);
        ExpectMsg<RegistrationRefused>(Timeout);

        // The same registration again (its reply was lost) is not a conflict.
        Host.Users.Tell(register, TestActor);
        AssertDeepEqual(registered, ExpectMsg<UserFound>(Timeout).User);

        Host.Users.Tell(new GetUser(id), TestActor);
        AssertDeepEqual(registered, ExpectMsg<UserFound>(Timeout).User);
    }

    [Fact]
    public void GetSignInSecret_returns_the_stored_hash()
    {
        var id = NewUserId();
        var register = Register(id, passwordHash: "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$the-hash");
        Host.Users.Tell(register, TestActor);
        var registered = ExpectMsg<UserFound>(Timeout).User;

        Host.Users.Tell(new GetSignInSecret(id), TestActor);
        var secret = ExpectMsg<SignInSecret>(Timeout);
        Assert.Equal(register.PasswordHash, secret.PasswordHash);
        AssertDeepEqual(registered, secret.User);

        var unknown = NewUserId();
        Host.Users.Tell(new GetSignInSecret(unknown), TestActor);
        Assert.Equal(new UserNotFound(unknown), ExpectMsg<UserNotFound>(Timeout));
    }

    [Fact]
    public async Task RecordSignIn_is_recorded_in_the_journal()
    {
        var id = NewUserId();
        var register = Register(id);
        Host.Users.Tell(register, TestActor);
        ExpectMsg<UserFound>(Timeout);

        Host.Users.Tell(new RecordSignIn(id, register.PasswordHash, "10.0.0.7", "spec-agent/1.0", null), TestActor);
        Assert.Equal(id, ExpectMsg<SignedIn>(Timeout).User.Id);

        // A hash that is no longer (or never was) the current one does not count.
        Host.Users.Tell(new RecordSignIn(id, "$argon2id$stale", "10.0.0.8", "spec-agent/1.0", null), TestActor);
        Assert.Equal(new SignInRefused(id), ExpectMsg<SignInRefused>(Timeout));

        var events = await JournalEventsAsync(Sys, UserActor.PersistenceIdFor(id));
        Assert.Collection(events,
            e =>
            {
                var registered = Assert.IsType<UserRegistered>(e);
                Assert.Equal(register.Username, registered.Username);
                Assert.Equal(register.PasswordHash, registered.PasswordHash);
            },
            e =>
            {
                var signedIn = Assert.IsType<UserSignedIn>(e);
                Assert.Equal("10.0.0.7", signedIn.ClientAddress);
                Assert.Equal("spec-agent/1.0", signedIn.UserAgent);
            });

        // The registration is tagged for read sides; the sign-in, which no read side follows, is not.
        var tagged = await TaggedPersistenceIdsAsync(Sys, JournalTagger.UserTag);
        Assert.Equal(1, tagged.Count(pid => pid == UserActor.PersistenceIdFor(id)));
    }

    [Fact]
    public async Task RecordSignIn_with_a_rehash_replaces_the_hash()
    {
        var id = NewUserId();
        var register = Register(id);
        Host.Users.Tell(register, TestActor);
        ExpectMsg<UserFound>(Timeout);

        Host.Users.Tell(new RecordSignIn(id, register.PasswordHash, null, null, "$argon2id$rehashed"), TestActor);
        ExpectMsg<SignedIn>(Timeout);

        Host.Users.Tell(new GetSignInSecret(id), TestActor);
        Assert.Equal("$argon2id$rehashed", ExpectMsg<SignInSecret>(Timeout).PasswordHash);

        Host.Users.Tell(new RecordSignIn(id, register.PasswordHash, null, null, null), TestActor);
        ExpectMsg<SignInRefused>(Timeout);

        var events = await JournalEventsAsync(Sys, UserActor.PersistenceIdFor(id));
        Assert.Equal([typeof(UserRegistered), typeof(UserSignedIn), typeof(PasswordRehashed)], events.Select(e => e.GetType()));
    }

    [Fact]
    public async Task An_entity_recovers_its_state_from_the_journal_after_the_node_restarts()
    {
        var id = NewUserId();
        var register = Register(id);
        Host.Users.Tell(register, TestActor);
        var registered = ExpectMsg<UserFound>(Timeout).User;
        Host.Users.Tell(new RecordSignIn(id, register.PasswordHash, "10.0.0.7", "before-restart", null), TestActor);
        ExpectMsg<SignedIn>(Timeout);

        // The whole host and its actor system stop; a new one starts on the same data directory.
        await using var restarted = await Host.RestartAsync();
        Assert.NotSame(Sys, restarted.System);
        Assert.True(Sys.WhenTerminated.IsCompleted);

        var found = await restarted.Users.Ask<IUserReply>(new GetUser(id), Timeout);
        AssertDeepEqual(registered, Assert.IsType<UserFound>(found).User);

        var signIn = await restarted.Users.Ask<IUserReply>(
            new RecordSignIn(id, register.PasswordHash, "10.0.0.7", "after-restart", null), Timeout);
        Assert.Equal(id, Assert.IsType<SignedIn>(signIn).User.Id);

        // The recovered entity still refuses to be registered again with other data.
        var again = await restarted.Users.Ask<IUserReply>(Register(id), Timeout);
        Assert.IsType<RegistrationRefused>(again);

        var events = await JournalEventsAsync(restarted.System, UserActor.PersistenceIdFor(id));
        Assert.Equal([typeof(UserRegistered), typeof(UserSignedIn), typeof(UserSignedIn)], events.Select(e => e.GetType()));
        Assert.Equal(["before-restart", "after-restart"], events.OfType<UserSignedIn>().Select(e => e.UserAgent));
    }

    [Fact]
    public void AbandonIfUnregistered_on_a_fresh_id_retires_it_for_good()
    {
        var id = NewUserId();
        Host.Users.Tell(new AbandonIfUnregistered(id), TestActor);
        Assert.Equal(new RegistrationStatus(id, null), ExpectMsg<RegistrationStatus>(Timeout));

        Host.Users.Tell(Register(id), TestActor);
        Assert.Equal(id, ExpectMsg<RegistrationRefused>(Timeout).UserId);

        Host.Users.Tell(new GetUser(id), TestActor);
        ExpectMsg<UserNotFound>(Timeout);
    }

    [Fact]
    public void AbandonIfUnregistered_on_a_registered_user_answers_the_live_user()
    {
        var id = NewUserId();
        Host.Users.Tell(Register(id), TestActor);
        var registered = ExpectMsg<UserFound>(Timeout).User;

        Host.Users.Tell(new AbandonIfUnregistered(id), TestActor);
        var status = ExpectMsg<RegistrationStatus>(Timeout);
        AssertDeepEqual(registered, status.User);

        Host.Users.Tell(new GetUser(id), TestActor);
        AssertDeepEqual(registered, ExpectMsg<UserFound>(Timeout).User);
    }

    [Fact]
    public void After_an_unload_the_entity_answers_nothing_and_hands_what_reaches_it_back_to_its_shard()
    {
        var id = NewUserId();
        // This test stands in for the shard: it is the entity's parent.
        var entity = ChildActorOf(UserEntity(id));
        var client = CreateTestProbe();
        Watch(entity);

        entity.Tell(new Unload(id));
        entity.Tell(new GetUser(id), client);
        entity.Tell(new Unload(id));

        var passivate = ExpectMsg<Passivate>(Timeout);
        Assert.Equal(new GetUser(id), ExpectMsg<GetUser>(Timeout));
        Assert.Equal(client.Ref, LastSender);
        entity.Tell(passivate.StopMessage);
        ExpectTerminated(entity, Timeout);
        client.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void A_tools_local_entities_start_an_unloaded_entity_again_for_what_came_after_the_unload()
    {
        var local = Sys.ActorOf(LocalEntities.Props(new UserMessageExtractor(), UserEntity));
        var id = NewUserId();
        local.Tell(Register(id), TestActor);
        var registered = ExpectMsg<UserFound>(Timeout).User;

        local.Tell(new Unload(id));
        local.Tell(new GetUser(id), TestActor);

        AssertDeepEqual(registered, ExpectMsg<UserFound>(Timeout).User);
    }

    /// <summary>The user entity as the host's shards make it, for a parent other than a shard.</summary>
    private Props UserEntity(string userId) =>
        UserActor.Props(userId, Host.Services.GetRequiredService<UserActor.Settings>(), Host.Services.GetRequiredService<AkkaUsersMetrics>());
}

/// <summary>Recovery through a snapshot: with a snapshot every two events, UserState itself goes through the store.</summary>
public class UserActorSnapshotSpec(ITestOutputHelper output)
    : HostedSpec(output, new Dictionary<string, string?> { ["Persistence:SnapshotEvery"] = "2" })
{
    [Fact]
    public async Task An_entity_recovers_from_its_snapshot_after_the_node_restarts()
    {
        var id = NewUserId();
        var register = Register(id);
        Host.Users.Tell(register, TestActor);
        var registered = ExpectMsg<UserFound>(Timeout).User;
        for (var i = 0; i < 3; i++)
        {
            Host.Users.Tell(new RecordSignIn(id, register.PasswordHash, null, $"sign-in-{i}", null), TestActor);
            ExpectMsg<SignedIn>(Timeout);
        }

        await AwaitAssertAsync(() => Assert.True(SnapshotCount(Host.DatabaseFile, UserActor.PersistenceIdFor(id)) > 0),
            Timeout, TimeSpan.FromMilliseconds(100));

        await using var restarted = await Host.RestartAsync();
        var found = await restarted.Users.Ask<IUserReply>(new GetSignInSecret(id), Timeout);
        var secret = Assert.IsType<SignInSecret>(found);
        AssertDeepEqual(registered, secret.User);
        Assert.Equal(register.PasswordHash, secret.PasswordHash);

        var signIn = await restarted.Users.Ask<IUserReply>(new RecordSignIn(id, register.PasswordHash, null, "after", null), Timeout);
        Assert.IsType<SignedIn>(signIn);
    }

    public static TheoryData<string, string> UnstorableMetadata => new()
    {
        // 64 objects inside the event's own: one level past what every reader of a stored event allows.
        { "nested too deep", string.Concat(Enumerable.Repeat("""{"a":""", 64)) + "1" + new string('}', 64) },
        { "lone surrogate", """{"k":"\udfff"}""" },
    };

    [Theory]
    [MemberData(nameof(UnstorableMetadata))]
    public void A_registration_whose_event_no_reader_could_give_back_is_refused_at_once_and_persists_nothing(string why, string metadata)
    {
        var id = NewUserId();

        Host.Users.Tell(Register(id) with { Metadata = Metadata(metadata) }, TestActor);
        var refused = ExpectMsg<Status.Failure>(Timeout);

        Assert.True(refused.Cause is System.Runtime.Serialization.SerializationException, why);
        Host.Users.Tell(new GetUser(id), TestActor);
        ExpectMsg<UserNotFound>(Timeout);
        // The entity still works: the same id registers with storable metadata.
        Host.Users.Tell(Register(id), TestActor);
        ExpectMsg<UserFound>(Timeout);
    }

    [Fact]
    public void An_update_whose_event_no_reader_could_give_back_is_refused_and_the_profile_stays()
    {
        var id = NewUserId();
        Host.Users.Tell(Register(id), TestActor);
        var registered = ExpectMsg<UserFound>(Timeout).User;

        Host.Users.Tell(new UpdateUser(id, new Domain.UserChanges(Metadata: Metadata("""{"k":"\udfff"}""")), "admin"), TestActor);
        ExpectMsg<Status.Failure>(Timeout);

        Host.Users.Tell(new GetUser(id), TestActor);
        AssertDeepEqual(registered, ExpectMsg<UserFound>(Timeout).User);
    }

    private static long SnapshotCount(string databaseFile, string persistenceId)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={databaseFile};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM snapshot WHERE persistence_id = $id";
        command.Parameters.AddWithValue("$id", persistenceId);
        return (long)command.ExecuteScalar()!;
    }
}
