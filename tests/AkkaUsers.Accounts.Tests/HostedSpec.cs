using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Xunit.Abstractions;

namespace AkkaUsers.Accounts.Tests;

/// <summary>
/// A TestKit over the actor system of a fresh <see cref="ActorHost"/> (one per test). The TestKit terminates
/// that system when the test ends; the host is stopped and its data directory deleted after it.
/// </summary>
public abstract class HostedSpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>For every Ask and ExpectMsg: the first message of a shard waits for its allocation.</summary>
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    protected HostedSpec(ITestOutputHelper output, IReadOnlyDictionary<string, string?>? settings = null)
        : this(ActorHost.Start(settings), output)
    {
    }

    private HostedSpec(ActorHost host, ITestOutputHelper output) : base(host.System, output)
    {
        Host = host;
    }

    protected ActorHost Host { get; }

    protected Task<T> AskAsync<T>(IActorRef region, object message) => region.Ask<T>(message, Timeout);

    /// <summary>The events of one persistence id as the journal holds them, read back through Akka.Persistence.Query.</summary>
    protected static async Task<IReadOnlyList<object>> JournalEventsAsync(ActorSystem system, string persistenceId)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var envelopes = await journal.CurrentEventsByPersistenceId(persistenceId, 0L, long.MaxValue)
            .RunWith(Sink.Seq<EventEnvelope>(), system.Materializer());
        return envelopes.Select(e => e.Event).ToList();
    }

    /// <summary>The persistence id of every event that carries <paramref name="tag"/>, once per event.</summary>
    protected static async Task<IReadOnlyList<string>> TaggedPersistenceIdsAsync(ActorSystem system, string tag)
    {
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var envelopes = await journal.CurrentEventsByTag(tag, Offset.NoOffset())
            .RunWith(Sink.Seq<EventEnvelope>(), system.Materializer());
        return envelopes.Select(e => e.PersistenceId).ToList();
    }

    protected override void Dispose(bool disposing)
    {
        try
        {
            base.Dispose(disposing);
        }
        finally
        {
            if (disposing) Task.Run(() => Host.DisposeAsync().AsTask()).GetAwaiter().GetResult();
        }
    }
}
