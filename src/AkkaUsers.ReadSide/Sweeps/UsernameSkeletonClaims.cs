using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.ReadSide.Journal;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.ReadSide.Sweeps;

/// <summary>
/// The migration that gives users registered before registrations claimed a username skeleton (see
/// <see cref="Keys.UsernameSkeleton"/>) their skeleton claim, so that a look-alike of their username is refused as a
/// look-alike of a newer one is. One per cluster. Its very first start stores the journal's end: every registration up
/// to there may lack its skeleton claim, every later one claimed it itself. It claims the skeleton of each of those
/// registrations, storing its progress, resumes after a restart, and once it has reached that end it is done for good
/// (it idles). Claiming again what a user holds changes nothing. A user whose skeleton someone else holds already (two
/// look-alike usernames, both registered before) is logged; both keep signing in.
/// </summary>
public sealed class UsernameSkeletonClaims : ReceiveActor
{
    /// <summary>Its progress in the read model's offsets table.</summary>
    public const string OffsetName = "username-skeleton-claims";

    /// <summary>The journal's end at its first start, in the read model's offsets table: the last registration it migrates.</summary>
    public const string UntilName = "username-skeleton-claims-until";

    private const int BatchSize = 200;

    private static readonly TimeSpan BatchWindow = TimeSpan.FromSeconds(1);

    private static readonly RestartSettings Restarts = RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly UsersReadModel _readModel;
    private readonly JournalReader _journalReader;
    private readonly IActorRef _usernames;
    private readonly TimeSpan _askTimeout;
    private UniqueKillSwitch? _killSwitch;
    private int _claimed;

    public UsernameSkeletonClaims(UsersReadModel readModel, JournalReader journalReader, IActorRef usernames, TimeSpan askTimeout)
    {
        _readModel = readModel;
        _journalReader = journalReader;
        _usernames = usernames;
        _askTimeout = askTimeout;
        // It stays, idle, rather than stop: the singleton manager would take a stopped singleton for a failed one.
        Receive<Done>(_ => _log.Info("Username skeleton claims are up to date ({0} claimed)", Volatile.Read(ref _claimed)));
    }

    public static Props Props(UsersReadModel readModel, JournalReader journalReader, IActorRef usernames, TimeSpan askTimeout) =>
        Akka.Actor.Props.Create<UsernameSkeletonClaims>(readModel, journalReader, usernames, askTimeout);

    protected override void PreStart()
    {
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var self = Self;
        var (killSwitch, done) = RestartSource.OnFailuresWithBackoff(() => Source
                    .FromTask(RangeAsync())
                    .ConcatMany(range => range.From >= range.Until
                        ? Source.Empty<(EventEnvelope?, long)>()
                        : journal.CurrentEventsByTag(JournalTagger.UserTag, Offset.Sequence(range.From))
                            .TakeWhile(envelope => ((Sequence)envelope.Offset).Value <= range.Until)
                            .Select(envelope => ((EventEnvelope?)envelope, range.Until))
                            .Concat(Source.Single<(EventEnvelope?, long)>((null, range.Until))))
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

    /// <summary>Where it got to, and the journal's end at its first start (stored then, so that a restart keeps it).</summary>
    private async Task<(long From, long Until)> RangeAsync()
    {
        var from = await _readModel.PrepareToFollowAsync(OffsetName, CancellationToken.None) ?? 0;
        if (await _readModel.OffsetAsync(UntilName, CancellationToken.None) is { } until) return (from, until);
        var end = await _journalReader.LastOrderingAsync(CancellationToken.None);
        await _readModel.SaveOffsetAsync(UntilName, end, CancellationToken.None);
        return (from, end);
    }

    /// <summary>
    /// Claims the skeleton of each registration of the batch for its user, then stores the offset: that of the batch's
    /// last event, or the end itself after the last batch (marked by an element without an event).
    /// </summary>
    private async Task<int> ClaimAsync(IReadOnlyList<(EventEnvelope? Envelope, long Until)> batch)
    {
        foreach (var registered in batch.Select(item => item.Envelope?.Event).OfType<UserRegistered>())
        {
            var skeleton = Keys.UsernameSkeleton(registered.Username);
            if (await _usernames.Ask<IClaimReply>(new ClaimKey(skeleton, registered.UserId), _askTimeout) is ClaimRefused refused)
                _log.Warning("Users {0} and {1} have look-alike usernames; the username skeleton stays with {1}", registered.UserId, refused.OwnerId);
            else
                Interlocked.Increment(ref _claimed);
        }
        var (last, until) = batch[^1];
        await _readModel.SaveOffsetAsync(OffsetName, last is null ? until : ((Sequence)last.Offset).Value, CancellationToken.None);
        return batch.Count;
    }
}
