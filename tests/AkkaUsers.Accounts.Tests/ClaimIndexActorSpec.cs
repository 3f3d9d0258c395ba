using System.Diagnostics;
using Akka.Actor;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Domain;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static AkkaUsers.Accounts.Tests.TestData;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Tests;

/// <summary>The index entities, reached through the UsernameIndex and EmailIndex regions, with the default grace period.</summary>
public class ClaimIndexActorSpec(ITestOutputHelper output) : HostedSpec(output)
{
    [Theory]
    [InlineData(ClaimKind.Username)]
    [InlineData(ClaimKind.Email)]
    public void A_claim_on_a_free_key_is_granted(ClaimKind kind)
    {
        var key = NewKey(kind);
        var owner = NewUserId();

        Region(kind).Tell(new LookupKey(key), TestActor);
        Assert.Equal(new KeyOwner(key, null), ExpectMsg<KeyOwner>(Timeout));

        Region(kind).Tell(new ClaimKey(key, owner), TestActor);
        Assert.Equal(new ClaimGranted(key, owner), ExpectMsg<IClaimReply>(Timeout));

        Region(kind).Tell(new LookupKey(key), TestActor);
        Assert.Equal(new KeyOwner(key, owner), ExpectMsg<KeyOwner>(Timeout));
    }

    [Theory]
    [InlineData(ClaimKind.Username)]
    [InlineData(ClaimKind.Email)]
    public void A_second_users_claim_is_refused_naming_the_owner_and_the_owners_repeated_claim_is_granted(ClaimKind kind)
    {
        var key = NewKey(kind);
        var first = NewUserId();
        var second = NewUserId();

        Region(kind).Tell(new ClaimKey(key, first), TestActor);
        Assert.Equal(new ClaimGranted(key, first), ExpectMsg<IClaimReply>(Timeout));

        Region(kind).Tell(new ClaimKey(key, second), TestActor);
        Assert.Equal(new ClaimRefused(key, first), ExpectMsg<IClaimReply>(Timeout));

        Region(kind).Tell(new ClaimKey(key, first), TestActor);
        Assert.Equal(new ClaimGranted(key, first), ExpectMsg<IClaimReply>(Timeout));

        Region(kind).Tell(new LookupKey(key), TestActor);
        Assert.Equal(new KeyOwner(key, first), ExpectMsg<KeyOwner>(Timeout));
    }

    [Theory]
    [InlineData(ClaimKind.Username)]
    [InlineData(ClaimKind.Email)]
    public async Task ReleaseKey_by_the_owner_frees_the_key_and_by_anyone_else_does_nothing(ClaimKind kind)
    {
        var key = NewKey(kind);
        var owner = NewUserId();
        var other = NewUserId();

        Region(kind).Tell(new ClaimKey(key, owner), TestActor);
        ExpectMsg<ClaimGranted>(Timeout);

        Region(kind).Tell(new ReleaseKey(key, other), TestActor);
        Assert.Equal(new KeyReleaseDone(key), ExpectMsg<IClaimReply>(Timeout));
        Region(kind).Tell(new LookupKey(key), TestActor);
        Assert.Equal(new KeyOwner(key, owner), ExpectMsg<KeyOwner>(Timeout));

        Region(kind).Tell(new ReleaseKey(key, owner), TestActor);
        Assert.Equal(new KeyReleaseDone(key), ExpectMsg<IClaimReply>(Timeout));
        Region(kind).Tell(new LookupKey(key), TestActor);
        Assert.Equal(new KeyOwner(key, null), ExpectMsg<KeyOwner>(Timeout));

        Region(kind).Tell(new ClaimKey(key, other), TestActor);
        Assert.Equal(new ClaimGranted(key, other), ExpectMsg<IClaimReply>(Timeout));

        // The release erased the owner's claim: only the new one is left.
        var events = await JournalEventsAsync(Sys, ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(key)));
        Assert.Equal(other, Assert.IsType<KeyClaimed>(Assert.Single(events)).UserId);
    }

    [Theory]
    [InlineData(ClaimKind.Username)]
    [InlineData(ClaimKind.Email)]
    public async Task A_released_claim_leaves_one_deleted_row_that_names_neither_the_key_nor_the_user(ClaimKind kind)
    {
        var key = NewKey(kind);
        var owner = NewUserId();
        Assert.IsType<ClaimGranted>(await AskAsync<IClaimReply>(Region(kind), new ClaimKey(key, owner)));
        var persistenceId = ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(key));
        Assert.DoesNotContain(key, Assert.Single(JournalRows(persistenceId)).Payload);

        Assert.Equal(new KeyReleaseDone(key), await AskAsync<IClaimReply>(Region(kind), new ReleaseKey(key, owner)));

        Assert.Empty(await JournalEventsAsync(Sys, persistenceId));
        var row = Assert.Single(JournalRows(persistenceId));
        Assert.Equal(("claim-erased", true), (row.Manifest, row.Deleted));
        Assert.DoesNotContain(owner, row.Payload);
        Assert.Equal(new KeyOwner(key, null), await AskAsync<KeyOwner>(Region(kind), new LookupKey(key)));
    }

    [Theory]
    [InlineData(ClaimKind.Username)]
    [InlineData(ClaimKind.Email)]
    public async Task A_claim_whose_events_name_the_key_in_clear_still_holds_and_its_release_erases_them(ClaimKind kind)
    {
        var key = NewKey(kind);
        var (earlier, owner, newcomer) = (NewUserId(), NewUserId(), NewUserId());
        var persistenceId = ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(key));
        var at = DateTimeOffset.UtcNow;
        // As an index wrote them before claims held digests: an earlier owner's claim and release, then the owner's claim.
        await Persist(persistenceId,
            new KeyClaimed(null, earlier, at) { Key = key }, new KeyReleased(null, earlier, at) { Key = key }, new KeyClaimed(null, owner, at) { Key = key });

        Assert.Equal(new KeyOwner(key, owner), await AskAsync<KeyOwner>(Region(kind), new LookupKey(key)));
        Assert.Equal(new ClaimRefused(key, owner), await AskAsync<IClaimReply>(Region(kind), new ClaimKey(key, newcomer)));

        Assert.Equal(new KeyReleaseDone(key), await AskAsync<IClaimReply>(Region(kind), new ReleaseKey(key, owner)));

        var row = Assert.Single(JournalRows(persistenceId));
        Assert.Equal(("claim-erased", true), (row.Manifest, row.Deleted));
        Assert.Equal(new ClaimGranted(key, newcomer), await AskAsync<IClaimReply>(Region(kind), new ClaimKey(key, newcomer)));
        Assert.All(JournalRows(persistenceId), r => Assert.DoesNotContain(key, r.Payload));
    }

    /// <summary>Writes events under <paramref name="persistenceId"/> through the journal, as an entity would, and waits for the write.</summary>
    /// <summary>Every row of the persistence id as the journal's table holds it, deleted ones included.</summary>
    private List<(string Manifest, string Payload, bool Deleted)> JournalRows(string persistenceId)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Host.DatabaseFile};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT manifest, message, deleted FROM journal WHERE persistence_id = $id ORDER BY sequence_number";
        command.Parameters.AddWithValue("$id", persistenceId);
        using var reader = command.ExecuteReader();
        var rows = new List<(string, string, bool)>();
        while (reader.Read()) rows.Add((reader.GetString(0), System.Text.Encoding.UTF8.GetString((byte[])reader[1]), reader.GetBoolean(2)));
        return rows;
    }

    [Theory]
    [InlineData(ClaimKind.Username)]
    [InlineData(ClaimKind.Email)]
    public async Task Fifty_concurrent_claims_for_one_key_have_exactly_one_winner(ClaimKind kind)
    {
        var key = NewKey(kind);
        var claimants = Enumerable.Range(0, 50).Select(_ => NewUserId()).ToList();
        Assert.Equal(50, claimants.Distinct().Count());

        var replies = await Task.WhenAll(claimants.Select(id =>
            AskAsync<IClaimReply>(Region(kind), new ClaimKey(key, id))));

        var granted = Assert.Single(replies.OfType<ClaimGranted>());
        Assert.Contains(granted.UserId, claimants);
        Assert.Equal(key, granted.Key);
        var refused = replies.OfType<ClaimRefused>().ToList();
        Assert.Equal(49, refused.Count);
        Assert.All(refused, r => Assert.Equal(new ClaimRefused(key, granted.UserId), r));

        Assert.Equal(new KeyOwner(key, granted.UserId), await AskAsync<KeyOwner>(Region(kind), new LookupKey(key)));
        var events = await JournalEventsAsync(Sys, ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(key)));
        Assert.Equal(granted.UserId, Assert.IsType<KeyClaimed>(Assert.Single(events)).UserId);
    }

    [Fact]
    public void Usernames_that_differ_only_by_case_or_NFKC_form_hit_the_same_entity()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var halfWidthUpper = $"ABC{suffix.ToUpperInvariant()}";
        var fullWidth = string.Concat($"ａｂｃ{suffix}".Select(ToFullWidth));
        var key = Keys.Username(halfWidthUpper);
        Assert.Equal(key, Keys.Username(fullWidth));
        Assert.Equal(key, Keys.Username($"  abc{suffix}  "));

        var first = NewUserId();
        var second = NewUserId();
        Host.Usernames.Tell(new ClaimKey(Keys.Username(halfWidthUpper), first), TestActor);
        ExpectMsg<ClaimGranted>(Timeout);

        Host.Usernames.Tell(new ClaimKey(Keys.Username(fullWidth), second), TestActor);
        Assert.Equal(new ClaimRefused(key, first), ExpectMsg<IClaimReply>(Timeout));

        Host.Usernames.Tell(new LookupKey(Keys.Username($"abc{suffix}")), TestActor);
        Assert.Equal(new KeyOwner(key, first), ExpectMsg<KeyOwner>(Timeout));
    }

    [Fact]
    public void Emails_that_differ_only_by_case_hit_the_same_entity()
    {
        var local = UniqueName("Mixed");
        var first = NewUserId();
        var second = NewUserId();
        Host.Emails.Tell(new ClaimKey(Keys.Email($"{local}@Example.COM"), first), TestActor);
        ExpectMsg<ClaimGranted>(Timeout);

        Host.Emails.Tell(new ClaimKey(Keys.Email($" {local.ToLowerInvariant()}@example.com "), second), TestActor);
        Assert.Equal(new ClaimRefused(Keys.Email($"{local}@example.com"), first), ExpectMsg<IClaimReply>(Timeout));
    }

    [Fact]
    public void The_username_and_the_email_index_are_separate()
    {
        var key = $"{UniqueName("both")}@example.com";
        var first = NewUserId();
        var second = NewUserId();
        Host.Usernames.Tell(new ClaimKey(key, first), TestActor);
        ExpectMsg<ClaimGranted>(Timeout);
        Host.Emails.Tell(new ClaimKey(key, second), TestActor);
        Assert.Equal(new ClaimGranted(key, second), ExpectMsg<IClaimReply>(Timeout));
    }

    [Fact]
    public async Task Claims_survive_a_restart_of_the_node()
    {
        var username = Keys.Username(UniqueName("Durable"));
        var email = Keys.Email($"{UniqueName("Durable")}@example.com");
        var owner = NewUserId();
        Assert.IsType<ClaimGranted>(await AskAsync<IClaimReply>(Host.Usernames, new ClaimKey(username, owner)));
        Assert.IsType<ClaimGranted>(await AskAsync<IClaimReply>(Host.Emails, new ClaimKey(email, owner)));

        await using var restarted = await Host.RestartAsync();

        Assert.Equal(new KeyOwner(username, owner), await restarted.Usernames.Ask<KeyOwner>(new LookupKey(username), Timeout));
        Assert.Equal(new KeyOwner(email, owner), await restarted.Emails.Ask<KeyOwner>(new LookupKey(email), Timeout));
        var other = NewUserId();
        Assert.Equal(new ClaimRefused(username, owner), await restarted.Usernames.Ask<IClaimReply>(new ClaimKey(username, other), Timeout));
        Assert.Equal(new ClaimRefused(email, owner), await restarted.Emails.Ask<IClaimReply>(new ClaimKey(email, other), Timeout));
    }

    private IActorRef Region(ClaimKind kind) => kind == ClaimKind.Username ? Host.Usernames : Host.Emails;

    private static string NewKey(ClaimKind kind) => kind == ClaimKind.Username
        ? Keys.Username(UniqueName("Name"))
        : Keys.Email($"{UniqueName("Mail")}@Example.com");

    /// <summary>The fullwidth form (U+FF01..U+FF5E) of a printable ASCII character; NFKC maps it back.</summary>
    private static char ToFullWidth(char c) => c is >= '!' and <= '~' ? (char)(c - '!' + '！') : c;
}

/// <summary>Claims whose user never got registered (a crash between claim and UserRegistered), with a short grace period.</summary>
public class ClaimIndexActorGracePeriodSpec(ITestOutputHelper output)
    : HostedSpec(output, new Dictionary<string, string?> { ["Entities:ClaimGracePeriod"] = GracePeriod.ToString("c") })
{
    private static readonly TimeSpan GracePeriod = TimeSpan.FromMilliseconds(500);

    [Theory]
    [InlineData(ClaimKind.Username)]
    [InlineData(ClaimKind.Email)]
    public async Task An_orphaned_claim_moves_to_a_newcomer_after_the_grace_period_and_its_owner_is_retired(ClaimKind kind)
    {
        var region = kind == ClaimKind.Username ? Host.Usernames : Host.Emails;
        var (key, username, email) = NewAccountKeys(kind);
        var orphan = NewUserId();
        var newcomer = NewUserId();

        Assert.Equal(new ClaimGranted(key, orphan), await AskAsync<IClaimReply>(region, new ClaimKey(key, orphan)));
        // The orphan's RegisterUser is never sent: its node "crashed" right after the claim.
        Assert.Equal(new ClaimRefused(key, orphan), await AskAsync<IClaimReply>(region, new ClaimKey(key, newcomer)));

        await AwaitAssertAsync(async () =>
            Assert.Equal(new ClaimGranted(key, newcomer), await AskAsync<IClaimReply>(region, new ClaimKey(key, newcomer))),
            TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100));

        Assert.Equal(new KeyOwner(key, newcomer), await AskAsync<KeyOwner>(region, new LookupKey(key)));

        // The orphan was retired for good: if its registration arrives late, it cannot collide with the newcomer.
        var late = await AskAsync<IUserReply>(Host.Users, Register(orphan, username, email));
        Assert.Equal(orphan, Assert.IsType<RegistrationRefused>(late).UserId);
        Assert.IsType<UserNotFound>(await AskAsync<IUserReply>(Host.Users, new GetUser(orphan)));

        var events = await JournalEventsAsync(Sys, ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(key)));
        Assert.Collection(events,
            e => Assert.Equal(orphan, Assert.IsType<KeyClaimed>(e).UserId),
            e => Assert.Equal(orphan, Assert.IsType<KeyReleased>(e).UserId),
            e => Assert.Equal(newcomer, Assert.IsType<KeyClaimed>(e).UserId));
        var userEvents = await JournalEventsAsync(Sys, UserActor.PersistenceIdFor(orphan));
        Assert.IsType<RegistrationAbandoned>(Assert.Single(userEvents));
    }

    [Theory]
    [InlineData(ClaimKind.Username)]
    [InlineData(ClaimKind.Email)]
    public async Task A_claim_of_a_registered_user_stays_refused_after_the_grace_period(ClaimKind kind)
    {
        var region = kind == ClaimKind.Username ? Host.Usernames : Host.Emails;
        var (key, username, email) = NewAccountKeys(kind);
        var owner = NewUserId();
        var newcomer = NewUserId();

        Assert.Equal(new ClaimGranted(key, owner), await AskAsync<IClaimReply>(region, new ClaimKey(key, owner)));
        // Started once the claim is granted, so the claim is at least this old.
        var sinceClaim = Stopwatch.StartNew();
        var registered = await AskAsync<IUserReply>(Host.Users, Register(owner, username, email));
        Assert.Equal(owner, Assert.IsType<UserFound>(registered).User.Id);
        Assert.Equal(new ClaimRefused(key, owner), await AskAsync<IClaimReply>(region, new ClaimKey(key, newcomer)));

        await AwaitConditionAsync(() => Task.FromResult(sinceClaim.Elapsed > GracePeriod + TimeSpan.FromMilliseconds(100)),
            TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(50));

        // Past the grace period the index asks the owner, which is registered and holds this key.
        Assert.Equal(new ClaimRefused(key, owner), await AskAsync<IClaimReply>(region, new ClaimKey(key, newcomer)));
        Assert.Equal(new ClaimRefused(key, owner), await AskAsync<IClaimReply>(region, new ClaimKey(key, newcomer)));
        Assert.Equal(new KeyOwner(key, owner), await AskAsync<KeyOwner>(region, new LookupKey(key)));

        var user = await AskAsync<IUserReply>(Host.Users, new GetUser(owner));
        Assert.Equal(owner, Assert.IsType<UserFound>(user).User.Id);
        var userEvents = await JournalEventsAsync(Sys, UserActor.PersistenceIdFor(owner));
        Assert.IsType<UserRegistered>(Assert.Single(userEvents));
    }
}
