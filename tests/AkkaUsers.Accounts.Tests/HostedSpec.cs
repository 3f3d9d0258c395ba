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

    /// <summary>Writes events straight through the journal (tagged as the entities' are), as sequence numbers 1, 2, ...</summary>
    protected async Task Persist(string persistenceId, params object[] events)
    {
        var journal = Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null);
        var writes = events.Select((e, i) => (Akka.Persistence.IPersistentEnvelope)new Akka.Persistence.AtomicWrite(
            new Akka.Persistence.Persistent(e, i + 1, persistenceId, writerGuid: "test"))).ToList();
        journal.Tell(new Akka.Persistence.WriteMessages(writes, TestActor, 1), TestActor);
        await ExpectMsgAsync<Akka.Persistence.WriteMessagesSuccessful>(Timeout);
        for (var i = 0; i < events.Length; i++) await ExpectMsgAsync<Akka.Persistence.WriteMessageSuccess>(Timeout);
    }

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
