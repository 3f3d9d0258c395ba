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
    public LocalEntities(IMessageExtractor extractor, Func<string, Props> entityProps)
    {
        // A tool's entities live as long as the tool: there is no memory worth freeing, and no message is held back.
        Receive<Passivate>(_ => { });
        ReceiveAny(message =>
        {
            if (extractor.EntityId(message) is not { } id)
            {
                Unhandled(message);
                return;
            }
            var entity = Context.Child(id);
            if (entity.IsNobody()) entity = Context.ActorOf(entityProps(id), id);
            entity.Forward(extractor.EntityMessage(message));
        });
    }

    public static Props Props(IMessageExtractor extractor, Func<string, Props> entityProps) =>
        Akka.Actor.Props.Create(() => new LocalEntities(extractor, entityProps));
}
