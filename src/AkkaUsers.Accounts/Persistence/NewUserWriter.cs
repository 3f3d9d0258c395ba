using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Persistence;
using Akka.Persistence.Journal;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.Domain;
using Microsoft.Extensions.Logging;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Persistence;

/// <summary>
/// The fast way in for users that are new in every respect, registered or imported: each user's first events (the
/// claims of its username, skeleton and email, and its <see cref="UserRegistered"/> or <see cref="UserImported"/>) go to
/// the journal in one write, without waking an entity. The events are those the entities would store, so the entities
/// recover the same state.
/// </summary>
/// <remarks>
/// Safe because every event it writes is its entity's sequence number 1: the journal's primary key refuses the write
/// (all of it, in one transaction) if a registration stored a first event of one of those entities meanwhile. The
/// writes go through a journal plugin of their own (<see cref="JournalPluginId"/>), whose transactions hold nothing
/// but such writes: a refused one fails only its neighbours of this kind, which then go the entities' way, and never
/// an entity's write. An entity of the user that was in memory during the write (woken by a lookup) may hold the empty
/// state it read before: once the write is stored, each is told to leave memory where it runs (answering nothing more
/// from that state), and is never started for that. The write is answered once every reachable member has those
/// messages in its entities' mailboxes (or has become unreachable meanwhile), so a lookup sent after the answer, to any
/// member, finds the new user.
/// </remarks>
/// <param name="askTimeout">How long a write waits for a member to confirm its unloads before it is answered anyway.</param>
public sealed class NewUserWriter(ActorSystem system, JournalDatabase journal, ClaimDigests digests, TimeProvider clock,
    TimeSpan askTimeout, AkkaUsersMetrics metrics, ILogger<NewUserWriter> log)
{
    /// <summary>The journal plugin of these writes: the same tables as the entities' journal, its own write queue.</summary>
    public const string JournalPluginId = "akka.persistence.journal." + JournalPluginName;

    public const string JournalPluginName = "sql-new-users";

    private bool _journalMade;

    /// <summary>Whether writes are possible here: only a cluster node can tell the entities of every member to leave memory.</summary>
    public bool IsAvailable => ((ExtendedActorSystem)system).Provider is ClusterActorRefProvider;

    /// <summary>
    /// Writes the users of <paramref name="accounts"/> whose id, username, skeleton and email no entity of the journal
    /// has ever had, and no other account of the batch shares; the profile of each written, null for the others (they
    /// must go the entities' way). Nothing is written when the journal refuses the batch.
    /// </summary>
    public async Task<UserProfile?[]> WriteNewAsync(IReadOnlyList<ImportedAccount> accounts, CancellationToken ct)
    {
        var written = new UserProfile?[accounts.Count];
        var now = clock.GetUtcNow();
        var firstEvents = accounts.Select(account =>
        {
            var (username, email) = (account.Username.Trim(), Keys.Email(account.Email));
            return FirstEvents(account.Id, username, email, new UserImported(account.Id, username, email, account.PasswordHash,
                account.Format, account.Scope, account.Plan, account.Vendor, account.Metadata, account.IsActive, account.Created, now), now);
        }).ToArray();
        var shared = firstEvents.SelectMany(events => events.Select(e => e.PersistenceId))
            .GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var known = await KnownPersistenceIdsAsync(firstEvents.SelectMany(events => events.Select(e => e.PersistenceId)).ToList(), ct);

        var batch = Enumerable.Range(0, accounts.Count)
            .Where(i => firstEvents[i].All(e => !shared.Contains(e.PersistenceId) && !known.Contains(e.PersistenceId)
                                                && AkkaUsersSerializer.WhyNotStorable(e.Event) is null))
            .ToList();
        if (batch.Count == 0 || !await WriteAsync(batch.SelectMany(i => firstEvents[i]).ToList())) return written;

        foreach (var i in batch)
            written[i] = UserState.Empty.Apply((UserImported)firstEvents[i][^1].Event).Profile;
        return written;
    }

    /// <summary>Whether the journal has never seen the user id, the username, its skeleton or the email.</summary>
    public async Task<bool> IsNewAsync(string userId, string username, string email, CancellationToken ct)
    {
        var persistenceIds = EntitiesOf(userId, username, email).Select(e => e.PersistenceId).ToList();
        return persistenceIds.Distinct().Count() == persistenceIds.Count && (await KnownPersistenceIdsAsync(persistenceIds, ct)).Count == 0;
    }

    /// <summary>
    /// Stores the registration as its entities would, all in one write; the new user's profile, or null when the journal
    /// refused the write (one of the entities has events now) or an event cannot be stored: it must go the entities' way.
    /// </summary>
    public async Task<UserProfile?> WriteRegisteredAsync(RegisterUser register)
    {
        var now = clock.GetUtcNow();
        if (UserState.Empty.Decide(register, now) is not { Reply: UserFound registered, Events: [var userEvent] }) return null;
        var events = FirstEvents(register.UserId, register.Username, register.Email, userEvent, now);
        return events.All(e => AkkaUsersSerializer.WhyNotStorable(e.Event) is null) && await WriteAsync(events) ? registered.User : null;
    }

    /// <summary>An entity of a new user: its shard region, entity id, persistence id, the message that unloads it, and the key it indexes (if one).</summary>
    private sealed record NewEntity(string Region, string EntityId, string PersistenceId, object Unload, string? Key);

    /// <summary>The index entries of the user's username, skeleton and email, then the user itself.</summary>
    private static NewEntity[] EntitiesOf(string userId, string username, string email)
    {
        static NewEntity Index(ClaimKind kind, string key) => new(ClaimIndexActor.EntityName(kind), Keys.Digest(key),
            ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(key)), new UnloadKey(key), key);
        return
        [
            Index(ClaimKind.Username, Keys.Username(username)),
            Index(ClaimKind.Username, Keys.UsernameSkeleton(username)),
            Index(ClaimKind.Email, email),
            new(UserActor.EntityName, userId, UserActor.PersistenceIdFor(userId), new Unload(userId), null),
        ];
    }

    /// <summary>A first event, and the entity it is for.</summary>
    private sealed record FirstEvent(NewEntity Entity, object Event)
    {
        public string PersistenceId => Entity.PersistenceId;
    }

    /// <summary>Each entity's first event: the claims of its keys, then <paramref name="userEvent"/> (last: the profile is read from it).</summary>
    private FirstEvent[] FirstEvents(string userId, string username, string email, IUserEvent userEvent, DateTimeOffset now) =>
        EntitiesOf(userId, username, email)
            .Select(entity => new FirstEvent(entity, entity.Key is { } key ? new KeyClaimed(digests.Of(key), userId, now) : userEvent))
            .ToArray();

    /// <summary>
    /// Writes <paramref name="events"/> (<see cref="AppendAsync"/>) and, once stored, unloads their entities where they
    /// run; false when the journal refused the write. Never cancelled: a write the caller stopped waiting for may still
    /// be stored, and its entities must then leave memory all the same.
    /// </summary>
    private async Task<bool> WriteAsync(IReadOnlyList<FirstEvent> events)
    {
        var started = Stopwatch.GetTimestamp();
        if (!await AppendAsync(events)) return false;
        var took = Stopwatch.GetElapsedTime(started);
        foreach (var e in events) metrics.JournalWritten(e.Entity.Region, took);
        await UnloadWhereRunningAsync(events);
        return true;
    }

    /// <summary>
    /// Tells each entity to leave memory by its path on every member, where a shard keeps it (region, shard, entity):
    /// one that runs nowhere gets nothing (the message is a dead letter), unlike through the region, which would start it.
    /// Then waits for each reachable member to answer an <see cref="Identify"/> sent the same way behind them: a member
    /// takes what one node sends it in order, resolving each path as it arrives, so its answer means every unload is
    /// in its entity's mailbox, ahead of any lookup sent later. A member stops being waited for once the cluster sees it
    /// unreachable: one that died meanwhile never answers, and its entities are gone with it.
    /// </summary>
    private async Task UnloadWhereRunningAsync(IReadOnlyList<FirstEvent> events)
    {
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        var members = state.Members.Select(member => member.Address).ToList();
        foreach (var e in events)
        foreach (var member in members)
            system.ActorSelection($"{member}/system/sharding/{e.Entity.Region}/{Shards.ShardId(e.Entity.EntityId)}/{e.Entity.EntityId}").Tell(e.Entity.Unload);

        await Task.WhenAll(state.Members.Except(state.Unreachable).Select(reachable => reachable.Address).Select(async member =>
        {
            var confirmed = system.ActorSelection($"{member}/system/sharding").Ask<ActorIdentity>(new Identify(null), askTimeout);
            while (await Task.WhenAny(confirmed, Task.Delay(ReachabilityCheck)) != confirmed)
                if (!cluster.State.Members.Except(cluster.State.Unreachable).Any(m => m.Address == member)) return;
            try
            {
                await confirmed;
            }
            catch (AskTimeoutException)
            {
                log.LogWarning("Member {Member} did not confirm the unloads of a new user write within {Timeout} s; answering it anyway",
                    member, askTimeout.TotalSeconds);
            }
        }));
    }

    /// <summary>How often a write waiting for a member's confirmation looks whether the cluster still sees the member.</summary>
    private static readonly TimeSpan ReachabilityCheck = TimeSpan.FromMilliseconds(100);

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
    /// Each event as its entity's first, through <see cref="JournalPluginId"/>, in one transaction; false when it refused
    /// any. The claims go untagged and first: a claim is tagged only for the orphaned-claim sweep, and these cannot be
    /// orphaned (their user's event is in the same transaction), so the journal inserts them in one statement, not one each.
    /// </summary>
    private Task<bool> AppendAsync(IReadOnlyList<FirstEvent> events)
    {
        var writerGuid = Guid.NewGuid().ToString();
        var writes = events.OrderBy(e => e.Event is IUserEvent)
            .Select(e => (IPersistentEnvelope)new AtomicWrite(new Persistent(e.Event is IClaimEvent ? new Tagged(e.Event, []) : e.Event,
                sequenceNr: 1, persistenceId: e.PersistenceId, manifest: string.Empty, writerGuid: writerGuid))).ToList();
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(Props.Create(() => new JournalReplies(writes, done)));
        return done.Task;
    }

    /// <summary>Sends one batch to the journal and waits for every answer: true once each write is stored.</summary>
    private sealed class JournalReplies : ReceiveActor
    {
        public JournalReplies(IReadOnlyList<IPersistentEnvelope> writes, TaskCompletionSource<bool> done)
        {
            var stored = 0;
            Akka.Persistence.Persistence.Instance.Apply(Context.System).JournalFor(JournalPluginId).Tell(new WriteMessages(writes, Self, actorInstanceId: 1));
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
