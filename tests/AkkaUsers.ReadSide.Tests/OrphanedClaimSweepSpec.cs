using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Tests;
using AkkaUsers.Domain;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.ReadSide.Sweeps;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static AkkaUsers.Accounts.Tests.TestData;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.ReadSide.Tests;

/// <summary>The sweep that releases claims whose user never got registered, with a short grace period.</summary>
public class OrphanedClaimSweepSpec(ITestOutputHelper output)
    : HostedSpec(output, new Dictionary<string, string?> { ["Entities:ClaimGracePeriod"] = "00:00:00.5" })
{
    [Theory]
    [InlineData(ClaimKind.Username)]
    [InlineData(ClaimKind.Email)]
    public async Task The_sweep_releases_an_orphaned_claim_nobody_else_wants_and_leaves_a_registered_users_claim(ClaimKind kind)
    {
        var region = kind == ClaimKind.Username ? Host.Usernames : Host.Emails;
        var readModel = Host.Services.GetRequiredService<UsersReadModel>();
        // The sweep's first start begins at the journal's end: claims made before it are not its business.
        await Poll.UntilAsync(() => readModel.OffsetAsync(OrphanedClaimSweep.OffsetName, CancellationToken.None),
            offset => offset is not null, "the sweep's first offset");

        var (ownerKey, username, email) = NewAccountKeys(kind);
        var owner = NewUserId();
        Assert.Equal(new ClaimGranted(ownerKey, owner), await AskAsync<IClaimReply>(region, new ClaimKey(ownerKey, owner)));
        Assert.IsType<UserFound>(await AskAsync<IUserReply>(Host.Users, Register(owner, username, email)));
        var (orphanKey, _, _) = NewAccountKeys(kind);
        var orphan = NewUserId();
        Assert.Equal(new ClaimGranted(orphanKey, orphan), await AskAsync<IClaimReply>(region, new ClaimKey(orphanKey, orphan)));
        // The orphan's RegisterUser is never sent, and nobody else ever claims its key.

        await Poll.UntilAsync(() => AskAsync<KeyOwner>(region, new LookupKey(orphanKey)), reply => reply.UserId is null,
            "the owner of the orphaned claim's key");

        // Released by the review, the orphan's claim left no event behind.
        Assert.Empty(await JournalEventsAsync(Sys, ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(orphanKey))));
        Assert.IsType<RegistrationAbandoned>(Assert.Single(await JournalEventsAsync(Sys, UserActor.PersistenceIdFor(orphan))));
        // The sweep reviews claims in journal order, so it has been past the owner's earlier claim: that one stays.
        Assert.Equal(new KeyOwner(ownerKey, owner), await AskAsync<KeyOwner>(region, new LookupKey(ownerKey)));
        Assert.IsType<KeyClaimed>(Assert.Single(await JournalEventsAsync(Sys, ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(ownerKey)))));
    }

    [Fact]
    public async Task The_sweep_logs_the_releases_it_made_and_not_a_claim_its_user_released_itself()
    {
        var readModel = Host.Services.GetRequiredService<UsersReadModel>();
        await Poll.UntilAsync(() => readModel.OffsetAsync(OrphanedClaimSweep.OffsetName, CancellationToken.None),
            offset => offset is not null, "the sweep's first offset");
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(Akka.Event.Info));

        // The loser of a registration race released the claim it got; the sweep reads the claim and finds its key free.
        var (loserKey, _, _) = NewAccountKeys(ClaimKind.Email);
        var loser = NewUserId();
        var at = DateTimeOffset.UtcNow;
        await Persist(ClaimIndexActor.PersistenceIdFor(ClaimKind.Email, Keys.Digest(loserKey)),
            new KeyClaimed(null, loser, at) { Key = loserKey }, new KeyReleased(null, loser, at) { Key = loserKey });
        var (orphanKey, _, _) = NewAccountKeys(ClaimKind.Email);
        var orphan = NewUserId();
        Assert.Equal(new ClaimGranted(orphanKey, orphan), await AskAsync<IClaimReply>(Host.Emails, new ClaimKey(orphanKey, orphan)));

        // Claims are reviewed in journal order: a line about the loser would come before the orphan's.
        var released = new List<string>();
        logs.FishForMessage<Akka.Event.Info>(info =>
        {
            var message = info.Message.ToString()!;
            if (message.StartsWith("Released the", StringComparison.Ordinal)) released.Add(message);
            return message.Contains(orphan);
        }, Timeout);
        Assert.Equal([$"Released the email claim of user {orphan}, who never registered with it"], released);
    }
}
