using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using AkkaUsers.Actors.Persistence;
using AkkaUsers.Actors.ReadModel;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Actors.Entities;

/// <summary>
/// The migration that gives users registered before registrations claimed a username skeleton (see
/// <see cref="Keys.UsernameSkeleton"/>) their skeleton claim, so that a look-alike of their username is refused as a
/// look-alike of a newer one is. One per cluster; at each start it reads the registrations after its stored offset (all
/// of them the first time) up to the journal's end, claims each one's skeleton, and then idles. Claiming again what a user
/// holds changes nothing, so the registrations it meets that claimed their own cost one answer each. A user whose
/// skeleton someone else holds already (two look-alike usernames, both registered before) is logged; both keep signing in.
/// </summary>
public sealed class UsernameSkeletonClaims : ReceiveActor
{
    /// <summary>Its name in the read model's offsets table.</summary>
    public const string OffsetName = "username-skeleton-claims";

    private const int BatchSize = 200;

    private static readonly TimeSpan BatchWindow = TimeSpan.FromSeconds(1);

    private static readonly RestartSettings Restarts = RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly UsersReadModel _readModel;
    private readonly IActorRef _usernames;
    private readonly TimeSpan _askTimeout;
    private UniqueKillSwitch? _killSwitch;
    private int _claimed;

    public UsernameSkeletonClaims(UsersReadModel readModel, IActorRef usernames, TimeSpan askTimeout)
    {
        _readModel = readModel;
        _usernames = usernames;
        _askTimeout = askTimeout;
        // It stays, idle, rather than stop: the singleton manager would take a stopped singleton for a failed one.
        Receive<Done>(_ => _log.Info("Username skeleton claims are up to date ({0} claimed)", Volatile.Read(ref _claimed)));
    }

    public static Props Props(UsersReadModel readModel, IActorRef usernames, TimeSpan askTimeout) =>
        Akka.Actor.Props.Create<UsernameSkeletonClaims>(readModel, usernames, askTimeout);

    protected override void PreStart()
    {
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var self = Self;
        var (killSwitch, done) = RestartSource.OnFailuresWithBackoff(() => Source
                    .FromTask(StartingOffsetAsync())
                    .ConcatMany(offset => journal.CurrentEventsByTag(JournalTagger.UserTag, Offset.Sequence(offset)))
                    .Where(envelope => envelope.Event is UserRegistered)
                    .GroupedWithin(BatchSize, BatchWindow)
                    .SelectAsync(1, batch => ClaimAsync(batch.ToList())),
                Restarts)
            .ViaMaterialized(KillSwitches.Single<int>(), Keep.Right)
            .ToMaterialized(Sink.Ignore<int>(), Keep.Both)
            .Run(Context.Materializer());
        _killSwitch = killSwitch;
        done.ContinueWith(_ => self.Tell(Done.Instance), TaskContinuationOptions.ExecuteSynchronously);
    }

    protected override void PostStop() => _killSwitch?.Shutdown();

    private async Task<long> StartingOffsetAsync() => await _readModel.PrepareToFollowAsync(OffsetName, CancellationToken.None) ?? 0;

    /// <summary>Claims the skeleton of each registration of the batch for its user, then stores the offset.</summary>
    private async Task<int> ClaimAsync(IReadOnlyList<EventEnvelope> batch)
    {
        foreach (var registered in batch.Select(envelope => (UserRegistered)envelope.Event))
        {
            var skeleton = Keys.UsernameSkeleton(registered.Username);
            if (await _usernames.Ask<IClaimReply>(new ClaimKey(skeleton, registered.UserId), _askTimeout) is ClaimRefused refused)
                _log.Warning("Users {0} and {1} have look-alike usernames; the username skeleton stays with {1}", registered.UserId, refused.OwnerId);
            else
                Interlocked.Increment(ref _claimed);
        }
        await _readModel.SaveOffsetAsync(OffsetName, ((Sequence)batch[^1].Offset).Value, CancellationToken.None);
        return batch.Count;
    }
}
