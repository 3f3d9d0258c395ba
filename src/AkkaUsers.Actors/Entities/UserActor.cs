using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using AkkaUsers.Actors.Telemetry;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Actors.Entities;

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
    private UserState _state = UserState.Empty;

    /// <summary>What every user entity of a node shares: when to snapshot, when failed sign-ins lock, and its clock.</summary>
    public sealed record Settings(int SnapshotEvery, SignInPolicy SignIn, TimeProvider Clock);

    public UserActor(string userId, Settings settings, AkkaUsersMetrics metrics) : base(EntityName, metrics)
    {
        PersistenceId = PersistenceIdFor(userId);
        _settings = settings;

        Recover<SnapshotOffer>(offer => _state = (UserState)offer.Snapshot);
        Recover<IUserEvent>(e => _state = _state.Apply(e));

        Command<IUserCommand>(Handle);
        Command<SaveSnapshotSuccess>(ok => DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failed => _log.Warning(failed.Cause, "Snapshot of {PersistenceId} failed", PersistenceId));
        Command<DeleteSnapshotsSuccess>(_ => { });
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

    public static Props Props(string userId, Settings settings, AkkaUsersMetrics metrics) =>
        Akka.Actor.Props.Create(() => new UserActor(userId, settings, metrics));

    private void Handle(IUserCommand command)
    {
        var decision = _state.Decide(command, _settings.Clock.GetUtcNow(), _settings.SignIn);
        PersistThenReply(decision.Events, e => _state = _state.Apply(e), Sender, decision.Reply, afterStored: () =>
        {
            if (LastSequenceNr % _settings.SnapshotEvery < decision.Events.Count) SaveSnapshot(_state);
        });
    }
}
