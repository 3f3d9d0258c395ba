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
}
