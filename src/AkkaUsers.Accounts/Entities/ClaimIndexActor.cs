using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Event;
using Akka.Persistence;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Entities;

/// <summary>
/// The index entity of one normalized key. Racing claims meet in its mailbox; the first persisted
/// claim wins. A claim whose user was never registered (the registering node crashed) is challenged
/// once it is older than the grace period, by the next claimant or a review: the owner is asked, and retired if it
/// never registered. Its events name the key by its keyed digest only, and a released claim keeps no history: once the
/// key is free, every event of the entity is deleted (older events that held the key in clear with them).
/// </summary>
public abstract class ClaimIndexActor : EntityActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ClaimKind _kind;
    private readonly string _entityId;
    private readonly ClaimDigests _digests;
    private readonly IActorRef _users;
    private readonly TimeSpan _gracePeriod;
    private readonly TimeSpan _ownerCheckTimeout;
    private ClaimState _state = ClaimState.Free;

    /// <summary>The keyed digest of this entity's key, once a command or an event showed it.</summary>
    private string? _keyDigest;

    /// <summary>Whether the journal holds events of this entity that are not deleted yet.</summary>
    private bool _hasHistory;

    protected ClaimIndexActor(
        ClaimKind kind, string entityId, ClaimDigests digests, IActorRef users, TimeSpan gracePeriod, TimeSpan ownerCheckTimeout,
        AkkaUsersMetrics metrics)
        : base(EntityName(kind), metrics)
    {
        _kind = kind;
        _entityId = entityId;
        _digests = digests;
        _users = users;
        _gracePeriod = gracePeriod;
        _ownerCheckTimeout = ownerCheckTimeout;
        PersistenceId = PersistenceIdFor(kind, entityId);

        Recover<IClaimEvent>(Apply);
        Become(Ready);
    }

    public override string PersistenceId { get; }

    /// <summary>An index never snapshots (a key has a handful of events): recovery need not ask the snapshot store.</summary>
    public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

    /// <summary>"username" or "email": names the shard region, and the entity in spans and metrics.</summary>
    public static string EntityName(ClaimKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>An entity of index <typeparamref name="TIndex"/>, from the arguments like <see cref="UserActor.Props"/>.</summary>
    public static Props Props<TIndex>(
        string entityId, ClaimDigests digests, IActorRef users, TimeSpan gracePeriod, TimeSpan ownerCheckTimeout, AkkaUsersMetrics metrics)
        where TIndex : ClaimIndexActor =>
        Akka.Actor.Props.Create<TIndex>(entityId, digests, users, gracePeriod, ownerCheckTimeout, metrics);

    /// <summary>"username-{digest}" or "email-{digest}": fixed length whatever the key.</summary>
    public static string PersistenceIdFor(ClaimKind kind, string entityId) => $"{EntityName(kind)}-{entityId}";

    /// <summary>The entity id (the key's <see cref="Keys.Digest"/>) inside a persistence id of <see cref="PersistenceIdFor"/>.</summary>
    public static string EntityIdOf(string persistenceId) =>
        KindOf(persistenceId) is { } kind
            ? persistenceId[PersistenceIdFor(kind, "").Length..]
            : throw new ArgumentException($"'{persistenceId}' is not an index's persistence id", nameof(persistenceId));

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
        CommandUnload<UnloadKey, IClaimCommand>();
        Command<IClaimCommand>(command =>
        {
            switch (_state.Decide(command, KeyDigestFor(command), DateTimeOffset.UtcNow, _gracePeriod))
            {
                case ClaimDecision.Done done:
                    PersistThenReply(command, done, Sender);
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
            var holdsKey = checkedOwner.Status.User is { } owner && Keys.HeldBy(_kind, owner).Any(key => Keys.Digest(key) == _entityId);
            var command = checkedOwner.Command;
            PersistThenReply(command, _state.DecideAfterOwnerCheck(command, KeyDigestFor(command), holdsKey, DateTimeOffset.UtcNow),
                checkedOwner.ReplyTo);
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

    /// <summary>
    /// A command that leaves the key free (a release, or a review that retires an orphan) also erases the entity's
    /// history: <see cref="ClaimErased"/> is stored last, then every event up to it is deleted, and only then is the
    /// command answered, so that a finished release leaves nothing of its user behind.
    /// </summary>
    private void PersistThenReply(IClaimCommand command, ClaimDecision.Done done, IActorRef replyTo)
    {
        var after = done.Events.Aggregate(_state, (state, e) => state.Apply(e));
        var erase = command is ReleaseKey or ReviewClaim && after.OwnerId is null && (_hasHistory || done.Events.Count > 0);
        if (!erase)
        {
            PersistThenReply(done.Events, Apply, replyTo, done.Reply);
            return;
        }
        PersistThenReply([.. done.Events, new ClaimErased(DateTimeOffset.UtcNow)], Apply, ActorRefs.Nobody, done.Reply,
            afterStored: () => DeleteHistory(replyTo, done.Reply));
    }

    /// <summary>Deletes every event so far; everything else waits meanwhile. A failed delete is answered as a failure, and
    /// the next release or review of the free key deletes again.</summary>
    private void DeleteHistory(IActorRef replyTo, object reply)
    {
        DeleteMessages(LastSequenceNr);
        BecomeStacked(() =>
        {
            Command<DeleteMessagesSuccess>(_ =>
            {
                _hasHistory = false;
                Answer(reply);
            });
            Command<DeleteMessagesFailure>(failed =>
            {
                _log.Warning(failed.Cause, "Erasing the history of {0} failed", PersistenceId);
                Answer(new Status.Failure(failed.Cause));
            });
            CommandAny(_ => Stash.Stash());
        });

        void Answer(object answer)
        {
            UnbecomeStacked();
            Stash.UnstashAll();
            replyTo.Tell(answer);
        }
    }

    private void Apply(IClaimEvent e)
    {
        _state = _state.Apply(e);
        _hasHistory = true;
        _keyDigest ??= e switch
        {
            KeyClaimed c => c.KeyDigest ?? (c.Key is { } key ? _digests.Of(key) : null),
            KeyReleased r => r.KeyDigest ?? (r.Key is { } key ? _digests.Of(key) : null),
            _ => null,
        };
    }

    /// <summary>
    /// The digest the command's events would hold. A review names no key; it only stores an event when the key is held,
    /// so by a claim this entity has recovered or stored, which showed the digest.
    /// </summary>
    private string KeyDigestFor(IClaimCommand command) =>
        command is IKeyCommand keyed ? _keyDigest = _digests.Of(keyed.Key) : _keyDigest ?? "";

    private sealed record OwnerChecked(IClaimCommand Command, IActorRef ReplyTo, RegistrationStatus Status) : INoSerializationVerificationNeeded;

    private sealed record OwnerCheckFailed(IActorRef ReplyTo, Exception Cause) : INoSerializationVerificationNeeded;
}

/// <summary>One entity per normalized username (NFKC + case fold).</summary>
public sealed class UsernameIndex(
    string entityId, ClaimDigests digests, IActorRef users, TimeSpan gracePeriod, TimeSpan ownerCheckTimeout, AkkaUsersMetrics metrics)
    : ClaimIndexActor(ClaimKind.Username, entityId, digests, users, gracePeriod, ownerCheckTimeout, metrics);

/// <summary>One entity per normalized email (trimmed, lower-cased).</summary>
public sealed class EmailIndex(
    string entityId, ClaimDigests digests, IActorRef users, TimeSpan gracePeriod, TimeSpan ownerCheckTimeout, AkkaUsersMetrics metrics)
    : ClaimIndexActor(ClaimKind.Email, entityId, digests, users, gracePeriod, ownerCheckTimeout, metrics);

public static class ClaimIndexRegistration
{
    /// <summary>The shard region of index <typeparamref name="TIndex"/>; its entities ask the user region about owners.</summary>
    public static AkkaConfigurationBuilder WithClaimRegion<TIndex>(
        this AkkaConfigurationBuilder builder, ClaimKind kind, ClaimDigests digests, EntityOptions entities,
        AkkaUsersMetrics metrics, ShardOptions shardOptions) where TIndex : ClaimIndexActor =>
        builder.WithShardRegion<TIndex>(
            ClaimIndexActor.EntityName(kind),
            (_, registry, _) => entityId => ClaimIndexActor.Props<TIndex>(
                entityId, digests, registry.Get<UserActor>(), entities.ClaimGracePeriod, entities.AskTimeout, metrics),
            new ClaimMessageExtractor(), shardOptions);
}
