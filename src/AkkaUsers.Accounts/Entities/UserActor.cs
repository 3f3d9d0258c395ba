using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Event;
using Akka.Persistence;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Entities;

/// <summary>
/// One user: its journal is the only source of truth. Decisions come from <see cref="UserState"/>;
/// this actor only persists them and answers after the events are stored, never before.
/// </summary>
public sealed class UserActor : EntityActor
{
    /// <summary>Names the shard region, and the entity in spans and metrics.</summary>
    public const string EntityName = "user";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Settings _settings;
    private readonly AkkaUsersMetrics _metrics;
    private UserState _state = UserState.Empty;

    /// <summary>The sequence number of the tombstone, once the user is deleted: every event before it is erased.</summary>
    private long _tombstoneSequenceNr;

    /// <summary>
    /// What every user entity of a node shares: when to snapshot, when failed sign-ins lock, its clock, how long a
    /// deletion's worker waits for each answer, and the journal it checkpoints once a deletion is done.
    /// </summary>
    public sealed record Settings(
        int SnapshotEvery, SignInPolicy SignIn, TimeProvider Clock, TimeSpan DeletionAskTimeout, JournalDatabase? Journal = null);

    public UserActor(string userId, Settings settings, AkkaUsersMetrics metrics) : base(EntityName, metrics)
    {
        PersistenceId = PersistenceIdFor(userId);
        _settings = settings;
        _metrics = metrics;

        Recover<SnapshotOffer>(offer => _state = (UserState)offer.Snapshot);
        Recover<IUserEvent>(ApplyEvent);
        // Nobody else resumes a deletion that a crash or a failed step cut short.
        Recover<RecoveryCompleted>(_ =>
        {
            if (_state.Deletion is { Completed: false } d) RunDeletion(new DeletionStarted(userId, d.Ticket, d.Erasing, d.StepsDone));
        });

        Command<EraseHistory>(Erase);
        CommandUnload<Unload, IUserCommand>();
        Command<IUserCommand>(command => Handle(command, Sender));
        Command<SaveSnapshotSuccess>(ok => DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failed => _log.Warning(failed.Cause, "Snapshot of {PersistenceId} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteMessagesSuccess>(_ => { }); // the other half of an erasure that failed
        Command<DeleteSnapshotsFailure>(failed => _log.Warning(failed.Cause, "Deleting old snapshots of {PersistenceId} failed", PersistenceId));
    }

    public override string PersistenceId { get; }

    public const string PersistenceIdPrefix = EntityName + "-";

    public static string PersistenceIdFor(string userId) => PersistenceIdPrefix + userId;

    /// <summary>The user id inside a persistence id made by <see cref="PersistenceIdFor"/>.</summary>
    public static string UserIdOf(string persistenceId) =>
        persistenceId.StartsWith(PersistenceIdPrefix, StringComparison.Ordinal)
            ? persistenceId[PersistenceIdPrefix.Length..]
            : throw new ArgumentException($"'{persistenceId}' is not a user's persistence id", nameof(persistenceId));

    /// <summary>
    /// Made for every entity that starts, so from the arguments: Akka would compile an expression
    /// (<c>() => new UserActor(...)</c>) afresh each time, and the JIT with it.
    /// </summary>
    public static Props Props(string userId, Settings settings, AkkaUsersMetrics metrics) =>
        Akka.Actor.Props.Create<UserActor>(userId, settings, metrics);

    private void Handle(IUserCommand command, IActorRef replyTo)
    {
        var decision = _state.Decide(command, _settings.Clock.GetUtcNow(), _settings.SignIn);
        PersistThenReply(decision.Events, ApplyStoredEvent, replyTo, decision.Reply, afterStored: () =>
        {
            // A deleted user's state still holds the profile until it is erased: it never goes into a snapshot.
            if (_state.Status != UserState.Lifecycle.Deleted && LastSequenceNr % _settings.SnapshotEvery < decision.Events.Count)
                SaveSnapshot(_state);
            if (decision.Reply is DeletionStarted started) RunDeletion(started);
        }, timed: command is not RecordSignInFailed); // an unknown login writes nothing: its count would tell the two apart
        // Asked again, an unfinished deletion goes on (a failed step is tried again) unless its worker still runs.
        if (decision.Events.Count == 0 && decision.Reply is DeletionStarted again) RunDeletion(again);
    }

    private void RunDeletion(DeletionStarted deletion)
    {
        if (!Context.Child(DeletionWorker.Name).IsNobody()) return;
        Context.ActorOf(DeletionWorker.Props(deletion, _settings.DeletionAskTimeout, _settings.Journal), DeletionWorker.Name);
    }

    /// <summary>A new event (not one replayed): lockouts are counted here, before the reply, not on every recovery.</summary>
    private void ApplyStoredEvent(IUserEvent e)
    {
        ApplyEvent(e);
        if (e is SignInLockedOut) _metrics.LockedOut("account");
        else if (e is SignInAddressLockedOut) _metrics.LockedOut("address");
    }

    private void ApplyEvent(IUserEvent e)
    {
        _state = _state.Apply(e);
        if (e is UserDeleted) _tombstoneSequenceNr = LastSequenceNr;
    }

    /// <summary>
    /// Deletes every event before the tombstone and every snapshot, then records the step. Everything else waits
    /// meanwhile; a failed delete is answered as a failure, and the step can be asked for again (deleting is idempotent).
    /// </summary>
    private void Erase(EraseHistory command)
    {
        if (_state.Deletion is not { } deletion || deletion.Ticket != command.Ticket)
        {
            Sender.Tell(new UserNotFound(command.UserId));
            return;
        }

        var replyTo = Sender;
        var pending = 2;
        DeleteMessages(_tombstoneSequenceNr - 1);
        DeleteSnapshots(new SnapshotSelectionCriteria(long.MaxValue));
        BecomeStacked(() =>
        {
            Command<DeleteMessagesSuccess>(_ => Erased());
            Command<DeleteSnapshotsSuccess>(_ => Erased());
            Command<DeleteMessagesFailure>(failed => Failed(failed.Cause));
            Command<DeleteSnapshotsFailure>(failed => Failed(failed.Cause));
            CommandAny(_ => Stash.Stash());
        });

        void Erased()
        {
            if (--pending > 0) return;
            UnbecomeStacked();
            Stash.UnstashAll();
            Handle(new RecordDeletionStep(command.UserId, command.Ticket, DeletionSteps.HistoryErased), replyTo);
        }

        void Failed(Exception cause)
        {
            _log.Warning(cause, "Erasing the history of {PersistenceId} failed", PersistenceId);
            UnbecomeStacked();
            Stash.UnstashAll();
            replyTo.Tell(new Status.Failure(cause));
        }
    }
}

public static class UserActorRegistration
{
    /// <summary>The shard region of the user entities.</summary>
    public static AkkaConfigurationBuilder WithUserRegion(
        this AkkaConfigurationBuilder builder, UserActor.Settings settings, AkkaUsersMetrics metrics, ShardOptions shardOptions) =>
        builder.WithShardRegion<UserActor>(
            UserActor.EntityName, userId => UserActor.Props(userId, settings, metrics), new UserMessageExtractor(), shardOptions);
}
