using Akka.Actor;
using Akka.Cluster;
using AkkaUsers.Actors.Persistence;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AkkaUsers.Api.Health;

/// <summary>Ready only as an Up member of the cluster: before that, requests could not reach the shard regions.</summary>
public sealed class ClusterMemberUpCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        var status = Cluster.Get(system).SelfMember.Status;
        return Task.FromResult(status == MemberStatus.Up
            ? HealthCheckResult.Healthy("cluster member is Up")
            : HealthCheckResult.Unhealthy($"cluster member is {status}"));
    }
}

/// <summary>Ready only when the journal's database answers within two seconds; the check itself never hangs.</summary>
public sealed class JournalReachableCheck(JournalDatabase journal) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct) =>
        await journal.ProbeAsync(Timeout, ct) is { } failure
            ? HealthCheckResult.Unhealthy($"{journal.Provider} journal not reachable: {failure}")
            : HealthCheckResult.Healthy($"{journal.Provider} journal answered");
}
