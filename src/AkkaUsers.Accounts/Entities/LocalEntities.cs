using Akka.Actor;
using Akka.Cluster.Sharding;

namespace AkkaUsers.Accounts.Entities;

/// <summary>
/// Stands in for a shard region in a tool's local actor system (no cluster): routes each message with the same
/// extractor to a child entity of that id, started on first use. The entities, and so their rules and their
/// persist-then-reply, are the service's own.
/// </summary>
public sealed class LocalEntities : ReceiveActor
{
    private readonly Dictionary<string, List<(object Message, IActorRef Sender)>> _heldForLeaving = new();

    public LocalEntities(IMessageExtractor extractor, Func<string, Props> entityProps)
    {
        // As a shard does: an entity that asks to leave is stopped, and what comes for it meanwhile goes to the next one.
        Receive<Passivate>(passivate =>
        {
            _heldForLeaving.TryAdd(Sender.Path.Name, []);
            Context.Watch(Sender);
            Sender.Tell(passivate.StopMessage);
        });
        Receive<Terminated>(stopped =>
        {
            if (!_heldForLeaving.Remove(stopped.ActorRef.Path.Name, out var held)) return;
            foreach (var (message, sender) in held) Deliver(stopped.ActorRef.Path.Name, message, sender);
        });
        ReceiveAny(message =>
        {
            if (extractor.EntityId(message) is not { } id)
            {
                Unhandled(message);
                return;
            }
            if (_heldForLeaving.TryGetValue(id, out var held)) held.Add((message, Sender));
            else Deliver(id, message, Sender);
        });

        void Deliver(string id, object message, IActorRef sender)
        {
            var entity = Context.Child(id);
            if (entity.IsNobody()) entity = Context.ActorOf(entityProps(id), id);
            entity.Tell(extractor.EntityMessage(message), sender);
        }
    }

    public static Props Props(IMessageExtractor extractor, Func<string, Props> entityProps) =>
        Akka.Actor.Props.Create(() => new LocalEntities(extractor, entityProps));
}
