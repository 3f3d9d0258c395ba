using Akka.Actor;
using Akka.Cluster;
using Akka.Persistence;
using Akka.Persistence.Journal;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Domain;
using Microsoft.Extensions.Logging;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Persistence;

/// <summary>
/// The fast way in for imported users that are new in every respect: the first events of a whole batch (each user's
/// <see cref="UserImported"/> and the claims of its username, skeleton and email) go to the journal in one write,
/// without waking an entity. The events are those the entities would store, so the entities recover the same state.
/// </summary>
/// <remarks>
/// Safe because every event it writes is its entity's sequence number 1: the journal's primary key refuses the write
/// (all of it, in one transaction) if a live registration stored a first event of one of those entities meanwhile.
/// An entity of the batch that was in memory during the write (woken by a lookup) may hold the empty state it read
/// before: once the write is stored, each is told to leave memory where it runs (answering nothing more from that
/// state), and is never started for that. The batch is answered once every reachable member has those messages in
/// its entities' mailboxes, so a lookup sent after the answer, to any member, finds the imported user.
/// </remarks>
/// <param name="askTimeout">How long a batch waits for a member to confirm its unloads before it is answered anyway.</param>
public sealed class ImportWriter(ActorSystem system, JournalDatabase journal, ClaimDigests digests, TimeProvider clock,
    TimeSpan askTimeout, ILogger<ImportWriter> log)
{
    private bool _journalMade;

    /// <summary>
    /// Writes the users of <paramref name="accounts"/> whose id, username, skeleton and email no entity of the journal
    /// has ever had, and no other account of the batch shares; the profile of each written, null for the others (they
    /// must go the entities' way). Nothing is written when the journal refuses the batch.
    /// </summary>
    public async Task<UserProfile?[]> WriteNewAsync(IReadOnlyList<ImportedAccount> accounts, CancellationToken ct)
    {
        var written = new UserProfile?[accounts.Count];
        var firstEvents = accounts.Select(FirstEvents).ToArray();
        var shared = firstEvents.SelectMany(events => events.Select(e => e.PersistenceId))
            .GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var known = await KnownPersistenceIdsAsync(firstEvents.SelectMany(events => events.Select(e => e.PersistenceId)).ToList(), ct);

        var batch = Enumerable.Range(0, accounts.Count)
            .Where(i => firstEvents[i].All(e => !shared.Contains(e.PersistenceId) && !known.Contains(e.PersistenceId)
                                                && AkkaUsersSerializer.WhyNotStorable(e.Event) is null))
            .ToList();
        var events = batch.SelectMany(i => firstEvents[i]).ToList();
        if (batch.Count == 0 || !await WriteAsync(events, ct)) return written;
        await UnloadWhereRunningAsync(events, ct);

        foreach (var i in batch)
            written[i] = UserState.Empty.Apply((UserImported)firstEvents[i][^1].Event).Profile;
        return written;
    }

    /// <summary>A first event, and the entity it belongs to: its shard region, entity id, and the message that unloads it.</summary>
    private sealed record FirstEvent(string Region, string EntityId, string PersistenceId, object Event, object Unload);

    private FirstEvent[] FirstEvents(ImportedAccount account)
    {
        var now = clock.GetUtcNow();
        var username = account.Username.Trim();
        var email = Keys.Email(account.Email);
        FirstEvent Claim(ClaimKind kind, string key) => new(ClaimIndexActor.EntityName(kind), Keys.Digest(key),
            ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(key)), new KeyClaimed(digests.Of(key), account.Id, now), new UnloadKey(key));
        // The user's event last: the profile is read from it.
        return
        [
            Claim(ClaimKind.Username, Keys.Username(username)),
            Claim(ClaimKind.Username, Keys.UsernameSkeleton(username)),
            Claim(ClaimKind.Email, email),
            new(UserActor.EntityName, account.Id, UserActor.PersistenceIdFor(account.Id),
                new UserImported(account.Id, username, email, account.PasswordHash, account.Format,
                    account.Scope, account.Plan, account.Vendor, account.Metadata, account.IsActive, account.Created, now),
                new Unload(account.Id)),
        ];
    }

    /// <summary>
    /// Tells each entity to leave memory by its path on every member, where a shard keeps it (region, shard, entity):
    /// one that runs nowhere gets nothing (the message is a dead letter), unlike through the region, which would start it.
    /// Then waits for each reachable member to answer an <see cref="Identify"/> sent the same way behind them: a member
    /// takes what one node sends it in order, resolving each path as it arrives, so its answer means every unload is
    /// in its entity's mailbox, ahead of any lookup sent later.
    /// </summary>
    private async Task UnloadWhereRunningAsync(IReadOnlyList<FirstEvent> events, CancellationToken ct)
    {
        var state = Cluster.Get(system).State;
        var members = state.Members.Select(member => member.Address).ToList();
        foreach (var e in events)
        foreach (var member in members)
            system.ActorSelection($"{member}/system/sharding/{e.Region}/{Shards.ShardId(e.EntityId)}/{e.EntityId}").Tell(e.Unload);

        await Task.WhenAll(state.Members.Except(state.Unreachable).Select(reachable => reachable.Address).Select(async member =>
        {
            try
            {
                await system.ActorSelection($"{member}/system/sharding").Ask<ActorIdentity>(new Identify(null), askTimeout, ct);
            }
            catch (AskTimeoutException)
            {
                log.LogWarning("Member {Member} did not confirm an import batch's unloads within {Timeout} s; answering the batch anyway",
                    member, askTimeout.TotalSeconds);
            }
        }));
    }

    /// <summary>The regions' own shard of an entity id (every region routes alike).</summary>
    private static readonly UserMessageExtractor Shards = new();

    /// <summary>Which of <paramref name="persistenceIds"/> have any row in the journal, deleted ones included.</summary>
    private async Task<HashSet<string>> KnownPersistenceIdsAsync(IReadOnlyList<string> persistenceIds, CancellationToken ct)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        // The journal makes its table at its first write, which may be this batch's.
        if (persistenceIds.Count == 0 || !(_journalMade = _journalMade || await journal.TableExistsAsync("journal", ct))) return known;
        await using var connection = await journal.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        var names = persistenceIds.Select((id, i) =>
        {
            command.AddParameter($"@p{i}", id);
            return $"@p{i}";
        });
        command.CommandText = $"SELECT DISTINCT persistence_id FROM {journal.Table("journal")} WHERE persistence_id IN ({string.Join(", ", names)})";
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) known.Add(reader.GetString(0));
        return known;
    }

    /// <summary>
    /// Each event as its entity's first, through the journal, in one transaction; false when it refused any. The claims
    /// go untagged and first: a claim is tagged only for the orphaned-claim sweep, and these cannot be orphaned (their
    /// user's event is in the same transaction), so the journal inserts them in one statement rather than one each.
    /// </summary>
    private async Task<bool> WriteAsync(IReadOnlyList<FirstEvent> events, CancellationToken ct)
    {
        var writerGuid = Guid.NewGuid().ToString();
        var writes = events.OrderBy(e => e.Event is IUserEvent)
            .Select(e => (IPersistentEnvelope)new AtomicWrite(new Persistent(e.Event is IClaimEvent ? new Tagged(e.Event, []) : e.Event,
                sequenceNr: 1, persistenceId: e.PersistenceId, manifest: string.Empty, writerGuid: writerGuid))).ToList();
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var _ = ct.Register(() => done.TrySetCanceled(ct));
        system.ActorOf(Props.Create(() => new JournalReplies(writes, done)));
        return await done.Task;
    }

    /// <summary>Sends one batch to the journal and waits for every answer: true once each write is stored.</summary>
    private sealed class JournalReplies : ReceiveActor
    {
        public JournalReplies(IReadOnlyList<IPersistentEnvelope> writes, TaskCompletionSource<bool> done)
        {
            var stored = 0;
            Akka.Persistence.Persistence.Instance.Apply(Context.System).JournalFor(null).Tell(new WriteMessages(writes, Self, actorInstanceId: 1));
            Receive<WriteMessagesSuccessful>(_ => { });
            Receive<WriteMessageSuccess>(_ =>
            {
                if (++stored < writes.Count) return;
                done.TrySetResult(true);
                Context.Stop(Self);
            });
            ReceiveAny(_ => // WriteMessagesFailed, WriteMessageFailure, WriteMessageRejected
            {
                done.TrySetResult(false);
                Context.Stop(Self);
            });
        }
    }
}
