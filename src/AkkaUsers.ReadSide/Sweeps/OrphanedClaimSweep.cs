using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.ReadSide.Journal;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;

namespace AkkaUsers.ReadSide.Sweeps;

/// <summary>
/// Releases the claims a crash left behind (a registration that claimed its keys but never got its UserRegistered)
/// without waiting for the next claimant of those keys. Follows every event tagged "claim"; once a claim is older
/// than the grace period and the users read model does not show its user holding the key, it asks the key's index
/// entity to review the claim, and the index asks the user entity and releases the key if that user never
/// registered. One per cluster (a singleton); it resumes from its stored offset, and its very first start begins at
/// the journal's end, so that a large journal is not swept at once (older orphans still go to their next claimant).
/// </summary>
public sealed class OrphanedClaimSweep : ReceiveActor
{
    /// <summary>Its name in the read model's offsets table.</summary>
    public const string OffsetName = "orphaned-claim-sweep";

    private const int BatchSize = 500;

    private static readonly TimeSpan BatchWindow = TimeSpan.FromSeconds(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly UsersReadModel _readModel;
    private readonly JournalReader _journalReader;
    private readonly IActorRef _usernames;
    private readonly IActorRef _emails;
    private readonly TimeSpan _gracePeriod;
    private readonly TimeSpan _askTimeout;
    private UniqueKillSwitch? _killSwitch;

    public OrphanedClaimSweep(
        UsersReadModel readModel, JournalReader journalReader, IActorRef usernames, IActorRef emails, TimeSpan gracePeriod, TimeSpan askTimeout)
    {
        _readModel = readModel;
        _journalReader = journalReader;
        _usernames = usernames;
        _emails = emails;
        _gracePeriod = gracePeriod;
        _askTimeout = askTimeout;
    }

    public static Props Props(
        UsersReadModel readModel, JournalReader journalReader, IActorRef usernames, IActorRef emails, TimeSpan gracePeriod, TimeSpan askTimeout) =>
        Akka.Actor.Props.Create<OrphanedClaimSweep>(readModel, journalReader, usernames, emails, gracePeriod, askTimeout);

    protected override void PreStart() =>
        _killSwitch = Context.FollowTag(
            JournalTagger.ClaimTag,
            StartingOffsetAsync,
            events => events
                .Where(envelope => envelope.Event is KeyClaimed)
                .GroupedWithin(BatchSize, BatchWindow)
                .SelectAsync(1, batch => SweepAsync(batch.ToList())),
            _ => { });

    protected override void PostStop() => _killSwitch?.Shutdown();

    /// <summary>The stored offset; on the first start the journal's end, stored at once so that a restart keeps it.</summary>
    private async Task<long> StartingOffsetAsync()
    {
        if (await _readModel.PrepareToFollowAsync(OffsetName, CancellationToken.None) is { } stored) return stored;
        var end = await _journalReader.LastOrderingAsync(CancellationToken.None);
        await _readModel.SaveOffsetAsync(OffsetName, end, CancellationToken.None);
        return end;
    }

    /// <summary>Waits until every claim of the batch is past the grace period, reviews the suspect ones, then stores the offset; returns how many it released.</summary>
    private async Task<int> SweepAsync(IReadOnlyList<EventEnvelope> batch)
    {
        var claims = batch.Select(envelope => (
            Kind: ClaimIndexActor.KindOf(envelope.PersistenceId)!.Value,
            EntityId: ClaimIndexActor.EntityIdOf(envelope.PersistenceId),
            Claim: (KeyClaimed)envelope.Event)).ToList();
        var wait = claims.Max(c => c.Claim.At) + _gracePeriod - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);

        var profiles = await _readModel.ProfilesAsync(claims.Select(c => c.Claim.UserId).Distinct().ToList(), CancellationToken.None);
        var suspects = claims
            .Where(c => !(profiles.TryGetValue(c.Claim.UserId, out var user) && Keys.HeldBy(c.Kind, user).Any(key => Keys.Digest(key) == c.EntityId)))
            .ToList();
        var released = 0;
        foreach (var (kind, entityId, claim) in suspects)
        {
            var index = kind == ClaimKind.Username ? _usernames : _emails;
            try
            {
                var after = await index.Ask<ClaimReviewed>(new ReviewClaim(entityId, claim.UserId), _askTimeout);
                if (!after.Released) continue;
                released++;
                _log.Info("Released the {0} claim of user {1}, who never registered with it", ClaimIndexActor.EntityName(kind), claim.UserId);
            }
            catch (Exception failure) when (failure is AskTimeoutException or TaskCanceledException or EntityWriteFailedException)
            {
                // Not retried: the claim is still challenged by the next claimant of its key.
                _log.Warning("Could not review the {0} claim of user {1}: {2}", ClaimIndexActor.EntityName(kind), claim.UserId, failure.Message);
            }
        }

        await _readModel.SaveOffsetAsync(OffsetName, ((Sequence)batch[^1].Offset).Value, CancellationToken.None);
        return released;
    }
}
