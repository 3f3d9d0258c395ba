using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.TestKit.TestActors;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Passwords;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.Accounts.Tests.Passwords;
using AkkaUsers.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static AkkaUsers.Accounts.Tests.TestData;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Tests;

/// <summary>The account use cases over the three regions, as the API calls them.</summary>
public class UserAccountsSpec(ITestOutputHelper output) : HostedSpec(output)
{
    private const string Password = "abc321-correct";
    private static readonly ClientInfo Client = new("192.0.2.10", "spec-agent/2.0");

    private UserAccounts Accounts => Host.Accounts;

    [Fact]
    public async Task RegisterAsync_registers_and_returns_the_profile()
    {
        var account = NewAccount();
        var outcome = await Accounts.RegisterAsync(account, CancellationToken.None);

        var user = Assert.IsType<RegistrationOutcome.Registered>(outcome).User;
        Assert.True(UserId.TryParse(user.Id, out _), user.Id);
        Assert.Equal(account.Username.Trim(), user.Username);
        Assert.Equal(Keys.Email(account.Email), user.Email);
        Assert.Equal(["user", "admin"], user.Scope);
        Assert.Equal("pro", user.Plan);
        Assert.Equal("acme", user.Vendor?.GetString());
        AssertDeepEqual(account.Metadata, user.Metadata);
        Assert.False(user.IsActive);

        AssertDeepEqual(user, await Accounts.GetAsync(user.Id, CancellationToken.None));
        Assert.Null(await Accounts.GetAsync(NewUserId(), CancellationToken.None));

        // Both keys are held by the new user, and the stored hash is an Argon2id hash of the password, not the password.
        Assert.Equal(user.Id, (await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.Username(account.Username)))).UserId);
        Assert.Equal(user.Id, (await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(account.Email)))).UserId);
        var secret = Assert.IsType<SignInSecret>(await AskAsync<IUserReply>(Host.Users, new GetSignInSecret(user.Id)));
        Assert.StartsWith("$argon2id$v=19$m=8192,t=1,p=1$", secret.PasswordHash);
        Assert.DoesNotContain(Password, secret.PasswordHash);
    }

    [Fact]
    public async Task The_same_username_in_another_case_is_Taken_username()
    {
        var first = NewAccount();
        Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(first, CancellationToken.None));

        var second = NewAccount() with { Username = $" {first.Username.ToUpperInvariant()} " };
        Assert.Equal(new RegistrationOutcome.Taken("username"), await Accounts.RegisterAsync(second, CancellationToken.None));

        // The second email was never claimed, so it is still free.
        Assert.Null((await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(second.Email)))).UserId);
    }

    [Fact]
    public async Task The_same_email_in_another_case_is_Taken_email_and_releases_the_second_username()
    {
        var first = NewAccount();
        Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(first, CancellationToken.None));

        var second = NewAccount() with { Email = first.Email.ToUpperInvariant() };
        Assert.Equal(new RegistrationOutcome.Taken("email"), await Accounts.RegisterAsync(second, CancellationToken.None));
        Assert.Null((await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.Username(second.Username)))).UserId);

        var third = NewAccount() with { Username = second.Username };
        var registered = Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(third, CancellationToken.None));
        Assert.Equal(second.Username, registered.User.Username);
    }

    [Fact]
    public async Task SignInAsync_by_username_or_email_with_the_right_password_returns_the_user()
    {
        var account = NewAccount();
        var user = Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(account, CancellationToken.None)).User;

        var byUsername = await Accounts.SignInAsync(ClaimKind.Username, account.Username.ToUpperInvariant(), Password, Client, CancellationToken.None);
        AssertDeepEqual(user, Assert.IsType<SignInOutcome.SignedIn>(byUsername).Session.User);

        var byEmail = await Accounts.SignInAsync(ClaimKind.Email, $" {account.Email.ToUpperInvariant()} ", Password, Client, CancellationToken.None);
        AssertDeepEqual(user, Assert.IsType<SignInOutcome.SignedIn>(byEmail).Session.User);

        var events = await JournalEventsAsync(Sys, UserActor.PersistenceIdFor(user.Id));
        var signIns = events.OfType<UserSignedIn>().ToList();
        Assert.Equal(2, signIns.Count);
        Assert.All(signIns, e => Assert.Equal((Client.Address, Client.UserAgent), (e.ClientAddress, e.UserAgent)));
    }

    [Fact]
    public async Task SignInAsync_with_a_wrong_password_or_an_unknown_login_returns_null()
    {
        var account = NewAccount();
        var user = Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(account, CancellationToken.None)).User;

        Assert.IsType<SignInOutcome.Refused>(await Accounts.SignInAsync(ClaimKind.Username, account.Username, "wrong-password", Client, CancellationToken.None));
        Assert.IsType<SignInOutcome.Refused>(await Accounts.SignInAsync(ClaimKind.Email, account.Email, "wrong-password", Client, CancellationToken.None));
        Assert.IsType<SignInOutcome.Refused>(await Accounts.SignInAsync(ClaimKind.Username, UniqueName("nobody"), Password, Client, CancellationToken.None));
        Assert.IsType<SignInOutcome.Refused>(await Accounts.SignInAsync(ClaimKind.Email, $"{UniqueName("nobody")}@example.com", Password, Client, CancellationToken.None));
        // The username as an email login (and the other way round) matches nobody.
        Assert.IsType<SignInOutcome.Refused>(await Accounts.SignInAsync(ClaimKind.Email, account.Username, Password, Client, CancellationToken.None));

        var events = await JournalEventsAsync(Sys, UserActor.PersistenceIdFor(user.Id));
        Assert.Empty(events.OfType<UserSignedIn>());
    }

    [Fact]
    public async Task Twenty_concurrent_registrations_for_one_email_register_exactly_one()
    {
        var email = $"{UniqueName("Race")}@Example.com";
        var accounts = Enumerable.Range(0, 20)
            .Select(i => NewAccount() with { Email = i % 2 == 0 ? email : email.ToUpperInvariant() })
            .ToList();

        var outcomes = await Task.WhenAll(accounts.Select(a => Accounts.RegisterAsync(a, CancellationToken.None)));

        var winner = Assert.Single(outcomes.OfType<RegistrationOutcome.Registered>()).User;
        Assert.Equal(19, outcomes.Count(o => o == new RegistrationOutcome.Taken("email")));
        Assert.Equal(Keys.Email(email), winner.Email);
        Assert.Equal(winner.Id, (await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(email)))).UserId);

        // Every loser's username was released again.
        foreach (var loser in accounts.Where(a => a.Username != winner.Username))
            Assert.Null((await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.Username(loser.Username)))).UserId);
    }

    [Fact]
    public async Task RegisterAsync_refuses_metadata_no_reader_could_give_back_before_claiming_anything()
    {
        var account = NewAccount() with { Metadata = Metadata("""{"k":"\udfff"}""") };

        await Assert.ThrowsAsync<ArgumentException>(() => Accounts.RegisterAsync(account, CancellationToken.None));

        Assert.Null((await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.Username(account.Username)))).UserId);
        Assert.Null((await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(account.Email)))).UserId);
    }

    [Fact]
    public async Task Two_imports_racing_for_one_new_user_store_it_once_and_a_batch_the_journal_refuses_stores_none_of_its_users()
    {
        var writer = Host.Services.GetRequiredService<NewUserWriter>();
        for (var round = 0; round < 10; round++)
        {
            var (shared, onlyFirst, onlySecond) = (NewImport(), NewImport(), NewImport());
            var written = await Task.WhenAll(
                writer.WriteNewAsync([shared, onlyFirst], CancellationToken.None),
                writer.WriteNewAsync([shared, onlySecond], CancellationToken.None));

            // Either the second batch saw the first's user and left it out, or the journal refused one batch whole.
            Assert.Equal(1, written.Count(batch => batch[0] is not null));
            Assert.Equal(1, await StoredEventsAsync(UserActor.PersistenceIdFor(shared.Id)));
            Assert.Equal(written[0][1] is null ? 0 : 1, await StoredEventsAsync(UserActor.PersistenceIdFor(onlyFirst.Id)));
            Assert.Equal(written[1][1] is null ? 0 : 1, await StoredEventsAsync(UserActor.PersistenceIdFor(onlySecond.Id)));
            Assert.Equal(shared.Id, (await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(shared.Email)))).UserId);
            Assert.Equal(shared.Id, (await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.UsernameSkeleton(shared.Username)))).UserId);
            Assert.Equal(shared.Username, (await Accounts.GetAsync(shared.Id, CancellationToken.None))?.Username);
        }
    }

    [Fact]
    public async Task An_import_is_seen_by_the_entities_a_lookup_woke_just_before_it()
    {
        var account = NewImport();
        Assert.Null(await Accounts.GetAsync(account.Id, CancellationToken.None));
        Assert.Null((await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(account.Email)))).UserId);

        Assert.IsType<ImportOutcome.Imported>(await Assert.Single(Accounts.ImportAll([account], CancellationToken.None)));

        Assert.Equal(account.Username, (await Accounts.GetAsync(account.Id, CancellationToken.None))?.Username);
        Assert.Equal(account.Id, (await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(account.Email)))).UserId);
    }

    [Fact]
    public async Task An_import_on_one_member_is_seen_at_once_by_the_entities_a_lookup_woke_on_another()
    {
        // Two members of one cluster over one journal; the unloads for the entities on the second travel over remoting.
        var dataDirectory = ActorHost.NewDataDirectory();
        var claimsSecret = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var settings = new Dictionary<string, string?> { ["Claims:Secret"] = claimsSecret };
        await using var importing = await ActorHost.StartAsync(settings, dataDirectory);
        await using var other = await ActorHost.StartAsync(new Dictionary<string, string?>(settings)
        {
            ["Cluster:SeedNodes"] = Akka.Cluster.Cluster.Get(importing.System).SelfAddress.ToString(),
            ["Cluster:Port"] = AkkaUsers.Harness.ServiceProcess.FreePort().ToString(),
            ["Cluster:Tls:Disabled"] = "true", // loopback only
        }, dataDirectory);
        // Both regions known to their coordinators, so that shards are given to both members.
        foreach (var region in new[] { other.Users, other.Emails })
            await AwaitAssertAsync(async () =>
                Assert.Equal(2, (await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, Timeout)).Regions.Count), Timeout);
        var accounts = Enumerable.Range(0, 40).Select(_ => NewImport()).ToList();
        foreach (var account in accounts)
        {
            Assert.Null(await other.Accounts.GetAsync(account.Id, CancellationToken.None));
            Assert.Null((await AskAsync<KeyOwner>(other.Emails, new LookupKey(Keys.Email(account.Email)))).UserId);
        }
        var runningOnOther = await other.Users.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Timeout);
        Assert.Contains(runningOnOther.Shards.SelectMany(shard => shard.EntityIds), id => accounts.Any(a => a.Id == id));

        Assert.All(await Task.WhenAll(importing.Accounts.ImportAll(accounts, CancellationToken.None)), outcome => Assert.IsType<ImportOutcome.Imported>(outcome));

        var seen = await Task.WhenAll(accounts.Select(async account => (
            account,
            Profile: await other.Accounts.GetAsync(account.Id, CancellationToken.None),
            EmailOwner: (await AskAsync<KeyOwner>(other.Emails, new LookupKey(Keys.Email(account.Email)))).UserId)));
        Assert.All(seen, s =>
        {
            Assert.Equal(s.account.Username, s.Profile?.Username);
            Assert.Equal(s.account.Id, s.EmailOwner);
        });
    }

    private static ImportedAccount NewImport() => new(
        NewUserId(), UniqueName("Imported"), $"{UniqueName("imported")}@example.com",
        BCrypt.Net.BCrypt.HashPassword(Password, workFactor: 4), "bcrypt", ["user"], "free", null, null, true, DateTimeOffset.UtcNow);

    private async Task<long> StoredEventsAsync(string persistenceId)
    {
        var journal = Host.Services.GetRequiredService<JournalDatabase>();
        await using var connection = await journal.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {journal.Table("journal")} WHERE persistence_id = @id";
        command.AddParameter("@id", persistenceId);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private static NewAccount NewAccount() => new(
        UniqueName("Account"),
        $"{UniqueName("Account")}@Example.com",
        Password,
        ["user", "admin"],
        "pro",
        "acme",
        Metadata());

    [Fact]
    public async Task An_ask_whose_message_is_lost_on_the_way_is_sent_again()
    {
        var user = Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(NewAccount(), CancellationToken.None)).User;

        // The first message to the user region vanishes, as one sent to a node that dies before it arrives.
        var lossy = Sys.ActorOf(Props.Create(() => new DropsTheFirstMessage(Host.Users)));
        var accounts = AccountsWith(users: lossy, resendAfter: TimeSpan.FromMilliseconds(200));

        AssertDeepEqual(user, await accounts.GetAsync(user.Id, CancellationToken.None));
    }

    [Fact]
    public async Task An_ask_nobody_answers_ends_busy_at_its_time_out_even_when_the_last_resend_finds_it_spent()
    {
        // The first send gets one tick of two, so the resend after it finds the time-out already spent.
        var silent = Sys.ActorOf(BlackHoleActor.Props);
        var accounts = AccountsWith(users: silent, resendAfter: TimeSpan.FromTicks(1), askTimeout: TimeSpan.FromTicks(2));

        var busy = await Assert.ThrowsAsync<ServiceBusyException>(
            () => accounts.GetAsync(UserId.New(DateTimeOffset.UtcNow).Value, CancellationToken.None).WaitAsync(Timeout));
        Assert.IsType<AskTimeoutException>(busy.InnerException);
    }

    [Fact]
    public async Task A_registration_claims_its_keys_while_the_password_is_hashed()
    {
        var hasher = new GatedHasher();
        var accounts = AccountsWith(hashing: new PasswordHashing(hasher, maxConcurrency: 1, Metrics()));
        var account = NewAccount();
        await EmailKnownToTheJournalAsync(account);

        var registering = accounts.RegisterAsync(account, CancellationToken.None);
        // The email is claimed last: once it is this registration's, all three keys are, and the hash has not finished.
        var owner = await EmailClaimedAsync(account);
        Assert.Equal(owner, (await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.Username(account.Username)))).UserId);
        Assert.False(registering.IsCompleted);

        hasher.Gate.Release();
        var user = Assert.IsType<RegistrationOutcome.Registered>(await registering).User;
        Assert.Equal(owner, user.Id);
        var secret = Assert.IsType<SignInSecret>(await AskAsync<IUserReply>(Host.Users, new GetSignInSecret(user.Id)));
        Assert.Equal("$argon2id$" + account.Password, secret.PasswordHash);
    }

    [Fact]
    public async Task A_registration_whose_hash_is_cancelled_releases_every_key_it_claimed()
    {
        var hasher = new GatedHasher();
        var hashing = new PasswordHashing(hasher, maxConcurrency: 1, Metrics());
        var accounts = AccountsWith(hashing: hashing);
        var holdsTheOnlySlot = hashing.HashAsync("someone else's", CancellationToken.None);
        var account = NewAccount();
        await EmailKnownToTheJournalAsync(account);
        using var clientLeaves = new CancellationTokenSource();

        var registering = accounts.RegisterAsync(account, clientLeaves.Token);
        await EmailClaimedAsync(account);
        await clientLeaves.CancelAsync(); // while the hash still waits for the slot

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => registering);
        Assert.Null((await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.Username(account.Username)))).UserId);
        Assert.Null((await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.UsernameSkeleton(account.Username)))).UserId);
        Assert.Null((await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(account.Email)))).UserId);
        hasher.Gate.Release();
        await holdsTheOnlySlot;
        Assert.Equal(1, hasher.Started);

        // Free at once, not after the grace period: another user registers them.
        Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(NewAccount() with
        {
            Username = account.Username, Email = account.Email,
        }, CancellationToken.None));
    }

    [Fact]
    public async Task A_user_new_in_every_respect_is_stored_whole_after_its_hash_and_seen_by_the_entities_a_lookup_woke()
    {
        var hasher = new GatedHasher();
        var accounts = AccountsWith(hashing: new PasswordHashing(hasher, maxConcurrency: 1, Metrics()));
        var account = NewAccount();
        var (username, skeleton, email) = (Keys.Username(account.Username), Keys.UsernameSkeleton(account.Username), Keys.Email(account.Email));
        Assert.Null((await AskAsync<KeyOwner>(Host.Emails, new LookupKey(email))).UserId);

        var registering = accounts.RegisterAsync(account, CancellationToken.None);
        await Poll.UntilAsync(() => Task.FromResult(hasher.Started), started => started == 1, "the hash");
        // Nothing is claimed while the password is hashed: the keys are stored with the user, in one write.
        Assert.Null((await AskAsync<KeyOwner>(Host.Emails, new LookupKey(email))).UserId);
        Assert.False(registering.IsCompleted);
        hasher.Gate.Release();
        var user = Assert.IsType<RegistrationOutcome.Registered>(await registering).User;

        foreach (var persistenceId in new[]
                 {
                     UserActor.PersistenceIdFor(user.Id), ClaimIndexActor.PersistenceIdFor(ClaimKind.Username, Keys.Digest(username)),
                     ClaimIndexActor.PersistenceIdFor(ClaimKind.Username, Keys.Digest(skeleton)),
                     ClaimIndexActor.PersistenceIdFor(ClaimKind.Email, Keys.Digest(email)),
                 })
            Assert.Equal(1, await StoredEventsAsync(persistenceId));
        // The email's entity ran before the write; it answers from the journal, not from the empty state it had read.
        Assert.Equal(user.Id, (await AskAsync<KeyOwner>(Host.Emails, new LookupKey(email))).UserId);
        Assert.Equal(user.Id, (await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(username))).UserId);
        Assert.Equal(user.Id, (await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(skeleton))).UserId);
        AssertDeepEqual(user, await Accounts.GetAsync(user.Id, CancellationToken.None));
        Assert.Equal("$argon2id$" + account.Password,
            Assert.IsType<SignInSecret>(await AskAsync<IUserReply>(Host.Users, new GetSignInSecret(user.Id))).PasswordHash);
        // The read side follows the user; its claims, stored with it, can never be orphaned, so the sweep is not told of them.
        Assert.Contains(UserActor.PersistenceIdFor(user.Id), await TaggedPersistenceIdsAsync(Sys, JournalTagger.UserTag));
        Assert.DoesNotContain(ClaimIndexActor.PersistenceIdFor(ClaimKind.Email, Keys.Digest(email)),
            await TaggedPersistenceIdsAsync(Sys, JournalTagger.ClaimTag));
    }

    [Fact]
    public async Task A_new_user_whose_hash_is_cancelled_stores_nothing()
    {
        var hasher = new GatedHasher();
        var hashing = new PasswordHashing(hasher, maxConcurrency: 1, Metrics());
        var accounts = AccountsWith(hashing: hashing);
        var holdsTheOnlySlot = hashing.HashAsync("someone else's", CancellationToken.None);
        var account = NewAccount();
        using var clientLeaves = new CancellationTokenSource();

        var registering = accounts.RegisterAsync(account, clientLeaves.Token);
        await clientLeaves.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => registering);
        hasher.Gate.Release();
        await holdsTheOnlySlot;
        Assert.Equal(0, await StoredEventsAsync(ClaimIndexActor.PersistenceIdFor(ClaimKind.Email, Keys.Digest(Keys.Email(account.Email)))));
        Assert.Equal(0, await StoredEventsAsync(ClaimIndexActor.PersistenceIdFor(ClaimKind.Username, Keys.Digest(Keys.Username(account.Username)))));
        Assert.Equal(1, hasher.Started);
    }

    [Fact]
    public async Task An_entity_whose_write_the_journal_refuses_answers_at_once_and_the_command_reaches_its_next_incarnation()
    {
        var account = NewAccount();
        var email = Keys.Email(account.Email);
        var emailEntity = ClaimIndexActor.PersistenceIdFor(ClaimKind.Email, Keys.Digest(email));
        // The email's entity reads an empty journal; then another writer stores the email's claim behind its back.
        Assert.Null((await AskAsync<KeyOwner>(Host.Emails, new LookupKey(email))).UserId);
        var owner = NewUserId();
        await Persist(emailEntity, new KeyClaimed(Host.Services.GetRequiredService<ClaimDigests>().Of(email), owner, DateTimeOffset.UtcNow));
        // No resend before the ask time-out: only the entity's own answer can bring the claim to its next incarnation in time.
        var accounts = AccountsWith(resendAfter: TimeSpan.FromHours(1));

        var outcome = await accounts.RegisterAsync(account, CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(new RegistrationOutcome.Taken("email"), outcome);
        Assert.Equal(owner, (await AskAsync<KeyOwner>(Host.Emails, new LookupKey(email))).UserId);
        Assert.Null((await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.Username(account.Username)))).UserId);
        Assert.Equal(1, await StoredEventsAsync(emailEntity));
    }

    /// <summary>Makes the journal know the account's email (claimed and released by another id), so that its registration goes the entities' way.</summary>
    private async Task EmailKnownToTheJournalAsync(NewAccount account)
    {
        var (email, other) = (Keys.Email(account.Email), NewUserId());
        Assert.IsType<ClaimGranted>(await AskAsync<IClaimReply>(Host.Emails, new ClaimKey(email, other)));
        Assert.IsType<KeyReleaseDone>(await AskAsync<IClaimReply>(Host.Emails, new ReleaseKey(email, other)));
    }

    /// <summary>The id that claimed the account's email, once one has.</summary>
    private Task<string?> EmailClaimedAsync(NewAccount account) =>
        Poll.UntilAsync(async () => (await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(account.Email)))).UserId,
            owner => owner is not null, "the owner of the email");

    /// <summary>The host's account service with its own user region, hashing, resending or time-out.</summary>
    private UserAccounts AccountsWith(
        IActorRef? users = null, PasswordHashing? hashing = null, TimeSpan? resendAfter = null, TimeSpan? askTimeout = null)
    {
        var services = Host.Services;
        return new UserAccounts(
            new Region<UserActor>(users ?? Host.Users), new Region<UsernameIndex>(Host.Usernames), new Region<EmailIndex>(Host.Emails),
            hashing ?? services.GetRequiredService<PasswordHashing>(), services.GetRequiredService<NewUserWriter>(),
            services.GetRequiredService<ServingGate>(), services.GetRequiredService<AkkaUsersMetrics>(), askTimeout: askTimeout ?? Timeout,
            resendAfter);
    }

    [Fact]
    public async Task A_user_recovers_from_SQLite_while_another_connection_holds_the_write_lock()
    {
        var user = Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(NewAccount(), CancellationToken.None)).User;
        await using var restarted = await Host.RestartAsync();
        // The journal creates its tables (if missing) at its first use, which writes: done here, before the lock is taken.
        Assert.Null(await restarted.Accounts.GetAsync(UserId.New(DateTimeOffset.UtcNow).Value, CancellationToken.None));

        // In WAL mode readers go on while someone writes, and so must an entity's recovery (its reads must not
        // ask for the write lock, as a writer's busy wait would then hold every recovery up).
        await using var writer = new SqliteConnection($"Data Source={restarted.DatabaseFile};Pooling=False");
        await writer.OpenAsync();
        await using var transaction = (SqliteTransaction)await writer.BeginTransactionAsync(); // BEGIN IMMEDIATE

        AssertDeepEqual(user, await restarted.Accounts.GetAsync(user.Id, CancellationToken.None));
        await transaction.RollbackAsync();
    }

    [Fact]
    public async Task A_completed_deletion_frees_both_keys_and_survives_a_restart_on_the_tombstone_alone()
    {
        var account = NewAccount();
        var user = Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(account, CancellationToken.None)).User;
        Assert.IsType<SignInOutcome.SignedIn>(await Accounts.SignInAsync(ClaimKind.Username, account.Username, account.Password, Client, CancellationToken.None));

        var ticket = Assert.IsType<DeletionOutcome.Started>(await Accounts.DeleteAsync(user.Id, "admin-id", CancellationToken.None)).Ticket;
        Assert.Null(await Accounts.GetAsync(user.Id, CancellationToken.None));
        await Poll.UntilAsync(() => Accounts.GetDeletionStatusAsync(user.Id, ticket, CancellationToken.None),
            s => s is DeletionLookup.Found { Progress: DeletionProgress.Completed }, "the deletion");
        Assert.Null((await AskAsync<KeyOwner>(Host.Usernames, new LookupKey(Keys.Username(account.Username)))).UserId);
        Assert.Null((await AskAsync<KeyOwner>(Host.Emails, new LookupKey(Keys.Email(account.Email)))).UserId);
        Assert.IsType<DeletionOutcome.NoSuchUser>(await Accounts.DeleteAsync(user.Id, "admin-id", CancellationToken.None));

        await using var restarted = await Host.RestartAsync();
        Assert.Null(await restarted.Accounts.GetAsync(user.Id, CancellationToken.None));
        Assert.Equal(new DeletionLookup.Found(DeletionProgress.Completed, 4, 4),
            await restarted.Accounts.GetDeletionStatusAsync(user.Id, ticket, CancellationToken.None));
        Assert.IsType<SignInOutcome.Refused>(await restarted.Accounts.SignInAsync(ClaimKind.Email, account.Email, account.Password, Client, CancellationToken.None));
        Assert.IsType<RegistrationOutcome.Registered>(await restarted.Accounts.RegisterAsync(account, CancellationToken.None));
    }

    [Fact]
    public async Task A_reset_code_is_stored_only_as_its_hash_survives_a_restart_and_works_once()
    {
        var account = NewAccount();
        var user = Assert.IsType<RegistrationOutcome.Registered>(await Accounts.RegisterAsync(account, CancellationToken.None)).User;
        Assert.IsType<ResetCodeOutcome.NotIssued>(await Accounts.RequestPasswordResetAsync("nobody-" + account.Email, CancellationToken.None));

        var issued = Assert.IsType<ResetCodeOutcome.Issued>(await Accounts.RequestPasswordResetAsync(account.Email.ToUpperInvariant(), CancellationToken.None)).Code;

        Assert.StartsWith(user.Id + ".", issued.Code);
        Assert.Equal(user.Id, issued.User.Id);
        Assert.Equal(issued.Created.AddHours(1), issued.ExpiresAt);
        await using var restarted = await Host.RestartAsync();
        var stored = Journal(restarted.DatabaseFile);
        Assert.Contains(ResetCode.Hash(issued.Code), stored);
        Assert.DoesNotContain(issued.Code[(UserId.Length + 1)..], stored);

        var accounts = restarted.Accounts;
        Assert.IsType<CodeResetOutcome.CodeRefused>(await accounts.ResetPasswordWithCodeAsync(ResetCode.New(user.Id), "new-password-1", CancellationToken.None));
        Assert.IsType<CodeResetOutcome.CodeRefused>(await accounts.ResetPasswordWithCodeAsync("garbled", "new-password-1", CancellationToken.None));
        Assert.IsType<CodeResetOutcome.PasswordSet>(await accounts.ResetPasswordWithCodeAsync(issued.Code, "new-password-1", CancellationToken.None));
        Assert.IsType<CodeResetOutcome.CodeRefused>(await accounts.ResetPasswordWithCodeAsync(issued.Code, "new-password-2", CancellationToken.None));

        Assert.IsType<SignInOutcome.Refused>(await accounts.SignInAsync(ClaimKind.Email, account.Email, Password, Client, CancellationToken.None));
        Assert.IsType<SignInOutcome.SignedIn>(await accounts.SignInAsync(ClaimKind.Email, account.Email, "new-password-1", Client, CancellationToken.None));
    }

    /// <summary>Everything the journal's files hold, as text (SQLite in WAL mode keeps recent writes in the -wal file).</summary>
    private static string Journal(string databaseFile) => string.Concat(
        new[] { databaseFile, databaseFile + "-wal" }.Where(File.Exists).Select(file =>
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
            return reader.ReadToEnd();
        }));

    private sealed class DropsTheFirstMessage : ReceiveActor
    {
        public DropsTheFirstMessage(IActorRef target)
        {
            var dropped = false;
            ReceiveAny(message =>
            {
                if (dropped) target.Forward(message);
                dropped = true;
            });
        }
    }

    private sealed record Region<T>(IActorRef ActorRef) : IRequiredActor<T>
    {
        public Task<IActorRef> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(ActorRef);
    }
}
