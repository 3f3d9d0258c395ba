using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.ReadSide.Journal;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.ReadSide.ReadModel;

/// <summary>
/// Follows every event tagged "user" (EventsByTag on the SQL read journal) into <see cref="UsersReadModel"/>,
/// from the offset stored with the rows. Runs once per cluster (a cluster singleton); stopping it loses nothing,
/// since the next start resumes from the stored offset, and a failed stream starts again after a back-off.
/// </summary>
public sealed class UsersProjection : ReceiveActor
{
    /// <summary>Events are written in batches of at most this many, or whatever arrived within <see cref="BatchWindow"/>.</summary>
    private const int BatchSize = 500;

    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(100);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly UsersReadModel _readModel;
    private UniqueKillSwitch? _killSwitch;

    public UsersProjection(UsersReadModel readModel)
    {
        _readModel = readModel;
    }

    public static Props Props(UsersReadModel readModel) => Akka.Actor.Props.Create(() => new UsersProjection(readModel));

    protected override void PreStart() =>
        _killSwitch = Context.FollowTag(
            JournalTagger.UserTag,
            () => _readModel.PrepareAsync(CancellationToken.None),
            events => events
                .GroupedWithin(BatchSize, BatchWindow)
                .SelectAsync(1, batch => _readModel.ApplyAsync(batch.Select(ToUserEvent).ToList(), CancellationToken.None)),
            LogProblems);

    protected override void PostStop() => _killSwitch?.Shutdown();

    private static UserEventAt ToUserEvent(EventEnvelope envelope) => new(
        UserActor.UserIdOf(envelope.PersistenceId), envelope.SequenceNr, ((Sequence)envelope.Offset).Value, (IUserEvent)envelope.Event);

    private void LogProblems(IReadOnlyList<string> problems)
    {
        foreach (var problem in problems) _log.Error("Users read model: {0}", problem);
    }
}
