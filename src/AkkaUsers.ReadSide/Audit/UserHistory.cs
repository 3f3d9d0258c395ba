using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.ReadSide.Audit;

/// <summary>Which of a user's events: a sequence number range and a time range, both inclusive, each end optional.</summary>
public sealed record EventRange(
    long FromSequenceNr = 0, long ToSequenceNr = long.MaxValue, DateTimeOffset? FromTime = null, DateTimeOffset? ToTime = null)
{
    public bool Contains(EventEnvelope e) =>
        (FromTime is not { } from || JournalRow.TimestampOf(e.Timestamp) >= from) &&
        (ToTime is not { } to || JournalRow.TimestampOf(e.Timestamp) <= to);
}

/// <summary>
/// One user's past, read from the journal through Akka.Persistence.Query (CurrentEventsByPersistenceId): the
/// audit trail, and the user as it was at a given time, rebuilt with the domain's own <see cref="UserState.Apply"/>.
/// Times are the journal's write times, the same ones the audit trail shows.
/// </summary>
public sealed class UserHistory(ActorSystem system) : IUserHistory
{
    private readonly Lazy<(SqlReadJournal Journal, IMaterializer Materializer)> _query = new(() => (
        PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier),
        system.Materializer(namePrefix: "user-history")));

    /// <summary>At most <paramref name="limit"/> events of the user within <paramref name="range"/>, oldest first.</summary>
    public Task<IImmutableList<AuditEvent>> EventsAsync(string userId, EventRange range, int limit, CancellationToken ct)
    {
        var (journal, materializer) = _query.Value;
        return journal.CurrentEventsByPersistenceId(UserActor.PersistenceIdFor(userId), range.FromSequenceNr, range.ToSequenceNr)
            .Where(range.Contains)
            .Take(limit)
            .Select(AuditEvent.From)
            .RunWith(Sink.Seq<AuditEvent>(), materializer)
            .WaitAsync(ct);
    }

    /// <summary>True when the journal holds any event of the user.</summary>
    public async Task<bool> ExistsAsync(string userId, CancellationToken ct) =>
        (await EventsAsync(userId, new EventRange(), 1, ct)).Count > 0;

    /// <summary>The user's state from every event written up to <paramref name="asOf"/> (Empty when none was).</summary>
    public Task<UserState> StateAsOfAsync(string userId, DateTimeOffset asOf, CancellationToken ct)
    {
        var (journal, materializer) = _query.Value;
        return journal.CurrentEventsByPersistenceId(UserActor.PersistenceIdFor(userId), 0, long.MaxValue)
            .Where(new EventRange(ToTime: asOf).Contains)
            .RunAggregate(UserState.Empty, (state, e) => state.Apply((IUserEvent)e.Event), materializer)
            .WaitAsync(ct);
    }
}
