using Akka.Actor;
using Akka.Persistence;
using AkkaUsers.Actors.Telemetry;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Actors.Entities;

/// <summary>
/// The index entity of one normalized key. Racing claims meet in its mailbox; the first persisted
/// claim wins. A claim whose user was never registered (the registering node crashed) is challenged
/// once it is older than the grace period, by the next claimant or a review: the owner is asked, and retired if it
/// never registered.
/// </summary>
public abstract class ClaimIndexActor : EntityActor
{
    private readonly ClaimKind _kind;
    private readonly IActorRef _users;
    private readonly TimeSpan _gracePeriod;
    private readonly TimeSpan _ownerCheckTimeout;
    private ClaimState _state = ClaimState.Free;

    protected ClaimIndexActor(
        ClaimKind kind, string entityId, IActorRef users, TimeSpan gracePeriod, TimeSpan ownerCheckTimeout, AkkaUsersMetrics metrics)
        : base(EntityName(kind), metrics)
    {
        _kind = kind;
        _users = users;
        _gracePeriod = gracePeriod;
        _ownerCheckTimeout = ownerCheckTimeout;
        PersistenceId = PersistenceIdFor(kind, entityId);

        Recover<IClaimEvent>(e => _state = _state.Apply(e));
        Become(Ready);
    }

    public override string PersistenceId { get; }

    /// <summary>An index never snapshots (a key has a handful of events): recovery need not ask the snapshot store.</summary>
    public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

    /// <summary>"username" or "email": names the shard region, and the entity in spans and metrics.</summary>
    public static string EntityName(ClaimKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>An entity of index <typeparamref name="TIndex"/>, from the arguments like <see cref="UserActor.Props"/>.</summary>
    public static Props Props<TIndex>(string entityId, IActorRef users, TimeSpan gracePeriod, TimeSpan ownerCheckTimeout, AkkaUsersMetrics metrics)
        where TIndex : ClaimIndexActor =>
        Akka.Actor.Props.Create<TIndex>(entityId, users, gracePeriod, ownerCheckTimeout, metrics);

    /// <summary>"username-{digest}" or "email-{digest}": fixed length whatever the key.</summary>
    public static string PersistenceIdFor(ClaimKind kind, string entityId) => $"{EntityName(kind)}-{entityId}";

    /// <summary>Which index a persistence id of <see cref="PersistenceIdFor"/> belongs to; null for any other entity's.</summary>
    /// <remarks>Called for every row `audit verify` reads, so the prefixes are made once.</remarks>
    public static ClaimKind? KindOf(string persistenceId)
    {
        foreach (var (kind, prefix) in PersistenceIdPrefixes)
            if (persistenceId.StartsWith(prefix, StringComparison.Ordinal)) return kind;
        return null;
    }

    private static readonly (ClaimKind Kind, string Prefix)[] PersistenceIdPrefixes =
        Enum.GetValues<ClaimKind>().Select(kind => (kind, PersistenceIdFor(kind, ""))).ToArray();

    private void Ready()
    {
        Command<IClaimCommand>(command =>
        {
            switch (_state.Decide(command, DateTimeOffset.UtcNow, _gracePeriod))
            {
                case ClaimDecision.Done done:
                    PersistThenReply(done, Sender);
                    break;
                case ClaimDecision.VerifyOwner verify:
                    var replyTo = Sender;
                    _users.Ask<RegistrationStatus>(new AbandonIfUnregistered(verify.OwnerId), _ownerCheckTimeout)
                        .PipeTo(Self, success: status => new OwnerChecked(command, replyTo, status),
                            failure: cause => new OwnerCheckFailed(replyTo, cause));
                    Become(VerifyingOwner);
                    break;
            }
        });
    }

    /// <summary>While the owner is asked, everything else waits, so the state cannot move under the answer.</summary>
    private void VerifyingOwner()
    {
        Command<OwnerChecked>(checkedOwner =>
        {
            var holdsKey = checkedOwner.Status.User is { } owner && Keys.HeldBy(_kind, owner).Contains(checkedOwner.Command.Key);
            PersistThenReply(_state.DecideAfterOwnerCheck(checkedOwner.Command, holdsKey, DateTimeOffset.UtcNow), checkedOwner.ReplyTo);
            BackToReady();
        });
        Command<OwnerCheckFailed>(failed =>
        {
            failed.ReplyTo.Tell(new Status.Failure(failed.Cause));
            BackToReady();
        });
        CommandAny(_ => Stash.Stash());
    }

    private void BackToReady()
    {
        Become(Ready);
        Stash.UnstashAll();
    }

    private void PersistThenReply(ClaimDecision.Done done, IActorRef replyTo) =>
        PersistThenReply(done.Events, e => _state = _state.Apply(e), replyTo, done.Reply);

    private sealed record OwnerChecked(IClaimCommand Command, IActorRef ReplyTo, RegistrationStatus Status) : INoSerializationVerificationNeeded;

    private sealed record OwnerCheckFailed(IActorRef ReplyTo, Exception Cause) : INoSerializationVerificationNeeded;
}

/// <summary>One entity per normalized username (NFKC + case fold).</summary>
public sealed class UsernameIndex(string entityId, IActorRef users, TimeSpan gracePeriod, TimeSpan ownerCheckTimeout, AkkaUsersMetrics metrics)
    : ClaimIndexActor(ClaimKind.Username, entityId, users, gracePeriod, ownerCheckTimeout, metrics);

/// <summary>One entity per normalized email (trimmed, lower-cased).</summary>
public sealed class EmailIndex(string entityId, IActorRef users, TimeSpan gracePeriod, TimeSpan ownerCheckTimeout, AkkaUsersMetrics metrics)
    : ClaimIndexActor(ClaimKind.Email, entityId, users, gracePeriod, ownerCheckTimeout, metrics);
