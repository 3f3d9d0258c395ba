using static AkkaUsers.Domain.ClaimProtocol;

namespace AkkaUsers.Domain;

/// <summary>What a claim command decides; <see cref="VerifyOwner"/> asks the caller to check a stale owner first.</summary>
public abstract record ClaimDecision
{
    public sealed record Done(IReadOnlyList<IClaimEvent> Events, IClaimReply Reply) : ClaimDecision;

    /// <summary>The key is held by a claim older than the grace period: ask its owner whether it is really registered.</summary>
    public sealed record VerifyOwner(string OwnerId) : ClaimDecision;
}

/// <summary>The state of one key's index entity and its rules.</summary>
public sealed record ClaimState(string? OwnerId = null, DateTimeOffset? ClaimedAt = null)
{
    public static readonly ClaimState Free = new();

    public ClaimState Apply(IClaimEvent @event) => @event switch
    {
        KeyClaimed e => new ClaimState(e.UserId, e.At),
        KeyReleased e when e.UserId == OwnerId => Free,
        KeyReleased => this,
        ClaimErased => this,
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "unknown claim event"),
    };

    /// <param name="keyDigest">The keyed digest of this entity's key, which its events hold instead of the key.</param>
    /// <param name="gracePeriod">How long a claim may wait for its user to be registered before it can be challenged.</param>
    public ClaimDecision Decide(IClaimCommand command, string keyDigest, DateTimeOffset now, TimeSpan gracePeriod) => command switch
    {
        ClaimKey c when OwnerId is null => Done(new ClaimGranted(c.Key, c.UserId), new KeyClaimed(keyDigest, c.UserId, now)),
        ClaimKey c when OwnerId == c.UserId => Done(new ClaimGranted(c.Key, c.UserId)),
        ClaimKey c when now - ClaimedAt < gracePeriod => Done(new ClaimRefused(c.Key, OwnerId)),
        ClaimKey => new ClaimDecision.VerifyOwner(OwnerId),
        ReviewClaim c when OwnerId != c.UserId || now - ClaimedAt < gracePeriod => Done(new ClaimReviewed(c.EntityId, OwnerId)),
        ReviewClaim => new ClaimDecision.VerifyOwner(OwnerId),
        ReleaseKey c when OwnerId == c.UserId => Done(new KeyReleaseDone(c.Key), new KeyReleased(keyDigest, c.UserId, now)),
        ReleaseKey c => Done(new KeyReleaseDone(c.Key)),
        LookupKey c => Done(new KeyOwner(c.Key, OwnerId)),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown claim command"),
    };

    /// <summary>
    /// After <see cref="ClaimDecision.VerifyOwner"/>: <paramref name="ownerHoldsKey"/> is true when the owner is a
    /// registered user whose own username or email is this key. Otherwise its claim is an orphan: it moves over to
    /// the claimant, or is released by a review.
    /// </summary>
    public ClaimDecision.Done DecideAfterOwnerCheck(IClaimCommand command, string keyDigest, bool ownerHoldsKey, DateTimeOffset now) =>
        (command, ownerHoldsKey || OwnerId is null) switch
        {
            (_, true) => (ClaimDecision.Done)Decide(command, keyDigest, now, TimeSpan.MaxValue),
            (ClaimKey claim, false) => Done(new ClaimGranted(claim.Key, claim.UserId),
                new KeyReleased(keyDigest, OwnerId!, now), new KeyClaimed(keyDigest, claim.UserId, now)),
            (ReviewClaim review, false) => Done(new ClaimReviewed(review.EntityId, null, Released: true), new KeyReleased(keyDigest, OwnerId!, now)),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "no owner check for this command"),
        };

    private static ClaimDecision.Done Done(IClaimReply reply, params IClaimEvent[] events) => new(events, reply);
}
