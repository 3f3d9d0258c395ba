using Akka.Actor;
using Akka.Cluster;
using AkkaUsers.Accounts.Persistence;

namespace AkkaUsers.Accounts.Hosting;

/// <summary>One readiness answer: whether it holds, and a line that says what was seen.</summary>
public sealed record ReadinessAnswer(bool IsReady, string Description);

/// <summary>What the health checks ask of this node, without knowing Akka or SQL.</summary>
public interface IReadiness
{
    /// <summary>Ready only as an Up member of the cluster: before that, requests could not reach the shard regions.</summary>
    ReadinessAnswer ClusterMember();

    /// <summary>Ready only when the journal's database answers within <paramref name="timeout"/>; never hangs.</summary>
    Task<ReadinessAnswer> JournalAsync(TimeSpan timeout, CancellationToken ct);
}

public sealed class NodeReadiness(ActorSystem system, JournalDatabase journal) : IReadiness
{
    public ReadinessAnswer ClusterMember()
    {
        var status = Cluster.Get(system).SelfMember.Status;
        return new(status == MemberStatus.Up, $"cluster member is {status}");
    }

    public async Task<ReadinessAnswer> JournalAsync(TimeSpan timeout, CancellationToken ct) =>
        await journal.ProbeAsync(timeout, ct) is { } failure
            ? new(false, $"{journal.Provider} journal not reachable: {failure}")
            : new(true, $"{journal.Provider} journal answered");
}
