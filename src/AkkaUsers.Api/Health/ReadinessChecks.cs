using AkkaUsers.Accounts.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AkkaUsers.Api.Health;

/// <summary>Ready only as an Up member of the cluster.</summary>
public sealed class ClusterMemberUpCheck(IReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct) =>
        Task.FromResult(Result(readiness.ClusterMember()));

    internal static HealthCheckResult Result(ReadinessAnswer answer) =>
        answer.IsReady ? HealthCheckResult.Healthy(answer.Description) : HealthCheckResult.Unhealthy(answer.Description);
}

/// <summary>Ready only when the journal's database answers within two seconds.</summary>
public sealed class JournalReachableCheck(IReadiness readiness) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct) =>
        ClusterMemberUpCheck.Result(await readiness.JournalAsync(Timeout, ct));
}
