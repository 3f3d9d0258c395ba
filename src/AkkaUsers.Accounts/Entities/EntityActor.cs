using System.Diagnostics;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Telemetry;

namespace AkkaUsers.Accounts.Entities;

/// <summary>
/// What every entity does alike: it counts itself alive while it runs, and it answers a command only
/// after the command's events are stored, timing the journal write.
/// </summary>
public abstract class EntityActor : ReceivePersistentActor
{
    private readonly string _entityName;
    private readonly AkkaUsersMetrics _metrics;

    /// <summary>Who waits for the write in progress (a persisting entity takes no other command until it is stored).</summary>
    private IActorRef? _awaitingWrite;

    protected EntityActor(string entityName, AkkaUsersMetrics metrics)
    {
        _entityName = entityName;
        _metrics = metrics;
    }

    /// <summary>
    /// In the current behaviour: <typeparamref name="TUnload"/> makes the entity leave memory. It asks its shard to
    /// hold back new messages for it, hands back the commands (<typeparamref name="TCommand"/>) that reach it meanwhile,
    /// and stops; the shard starts it again, from the journal, for the commands it held.
    /// </summary>
    protected void CommandUnload<TUnload, TCommand>()
    {
        Command<TUnload>(_ =>
        {
            Context.Parent.Tell(new Passivate(StopEntity.Instance));
            Become(() => Leaving<TUnload, TCommand>());
        });
    }

    /// <summary>
    /// Answers nothing: an unload may follow a write to the journal behind this entity's back, so its state may be
    /// older than the journal. The commands that still reach it (sent on before its shard had the request, or straight
    /// by its path) go back to the shard, which holds them with the later ones for the next incarnation.
    /// </summary>
    private void Leaving<TUnload, TCommand>()
    {
        Command<StopEntity>(_ => Context.Stop(Self));
        Command<TUnload>(_ => { });
        Command<TCommand>(command => Context.Parent.Forward(command));
        // The journal's own answers (a snapshot stored) concern the state this entity is leaving behind.
        CommandAny(_ => { });
    }

    /// <summary>What the shard sends back once it holds this entity's messages: a command, so it waits for a write in progress.</summary>
    private sealed class StopEntity : INoSerializationVerificationNeeded
    {
        public static readonly StopEntity Instance = new();

        private StopEntity()
        {
        }
    }

    protected override void PreStart()
    {
        base.PreStart();
        _metrics.EntityStarted(_entityName);
    }

    protected override void PostStop()
    {
        _metrics.EntityStopped(_entityName);
        base.PostStop();
    }

    /// <summary>
    /// Persists <paramref name="events"/>, applying each as it is stored, then answers <paramref name="replyTo"/>
    /// once the last is stored (at once when there is nothing to store) and runs <paramref name="afterStored"/>.
    /// </summary>
    /// <param name="timed">False for a write whose count alone would tell something (a failed sign-in of a known user).</param>
    protected void PersistThenReply<TEvent>(
        IReadOnlyList<TEvent> events, Action<TEvent> apply, IActorRef replyTo, object reply, Action? afterStored = null, bool timed = true)
        where TEvent : class
    {
        if (events.Count == 0)
        {
            replyTo.Tell(reply);
            return;
        }

        foreach (var e in events)
        {
            if (AkkaUsersSerializer.WhyNotStorable(e) is not { } why) continue;
            // Persisted, it would fail every later read of this entity: refuse the command instead, changing nothing.
            Context.GetLogger().Error("{0} refused to persist {1}: {2}", PersistenceId, e.GetType().Name, why);
            replyTo.Tell(new Status.Failure(new SerializationException($"{e.GetType().Name} cannot be stored: {why}")));
            return;
        }

        var last = events[^1];
        var writeStarted = Stopwatch.GetTimestamp();
        _awaitingWrite = replyTo;
        PersistAll(events, e =>
        {
            apply(e);
            if (!ReferenceEquals(e, last)) return;
            _awaitingWrite = null;
            // Recorded before the reply, so whoever reads the metrics after the answer sees this write.
            if (timed) _metrics.JournalWritten(_entityName, Stopwatch.GetElapsedTime(writeStarted));
            replyTo.Tell(reply);
            afterStored?.Invoke();
        });
    }

    /// <summary>
    /// Akka stops an entity whose write failed (the journal refused a sequence number another writer took, or the
    /// database failed the write's batch). Its caller is told at once, so that it sends the command again, to the
    /// entity's next incarnation, instead of waiting for a resend.
    /// </summary>
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistFailure(cause, @event, sequenceNr);
        _awaitingWrite?.Tell(new Status.Failure(new EntityWriteFailedException(_entityName)));
        _awaitingWrite = null;
    }
}

/// <summary>An entity's write failed and nothing of the command was stored: the entity has stopped, and sending it again is safe.</summary>
public sealed class EntityWriteFailedException : Exception
{
    public EntityWriteFailedException(string entity) : base($"the {entity} entity's write failed")
    {
    }

    /// <summary>Akka.Remote rebuilds an exception sent to another node through this constructor; without it the caller gets none.</summary>
#pragma warning disable SYSLIB0051
    private EntityWriteFailedException(SerializationInfo info, StreamingContext context) : base(info, context)
    {
    }
#pragma warning restore SYSLIB0051
}
