using Akka.Actor;
using AkkaUsers.Accounts.Persistence;

namespace AkkaUsers.Accounts.Hosting;

/// <summary>
/// Requests wait here until this node can serve them: the journal's database has answered and the node is an
/// Up member of the cluster (before that, its shard regions have no coordinator to ask). A node that is
/// restarting into a cluster therefore answers late rather than with a time-out.
/// </summary>
public sealed class ServingGate(JournalAvailability journal, ActorSystem system)
{
    private readonly Lazy<Task> _memberUp = new(() =>
    {
        // The command-line tools run the entities in a plain local actor system: nothing to join there.
        if (((ExtendedActorSystem)system).Provider is not Akka.Cluster.ClusterActorRefProvider) return Task.CompletedTask;
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        return up.Task;
    });

    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (journal.Reachable.IsCompletedSuccessfully && _memberUp.Value.IsCompletedSuccessfully) return;
        try
        {
            await Task.WhenAll(journal.Reachable, _memberUp.Value).WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            throw new NodeNotReadyException(journal.Reachable.IsCompleted
                ? "this node is not an Up cluster member yet"
                : "the journal database is not reachable yet");
        }
    }
}

/// <summary>The node cannot serve yet (starting, joining, or waiting for its database); a retry may succeed.</summary>
public sealed class NodeNotReadyException(string reason) : Exception(reason);

/// <summary>An entity did not answer in time (the node is overloaded or a shard is moving); a retry may succeed.</summary>
public sealed class ServiceBusyException(string entity, Exception inner) : Exception($"the {entity} entity did not answer in time", inner);
