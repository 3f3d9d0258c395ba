using System.Diagnostics;
using Akka.Actor;
using AkkaUsers.Accounts.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Accounts.Hosting;

/// <summary>A first use that would otherwise fall on a request: done once per node, before it joins the cluster.</summary>
public interface INodeWarmUp
{
    Task WarmUpAsync(CancellationToken ct);
}

/// <summary>
/// Joins the cluster (the seed nodes, or itself when there are none) once the journal's database answers and every
/// <see cref="INodeWarmUp"/> is done; from then on a node with seed nodes keeps its <see cref="LastAliveMark"/>. Until
/// it joins, no shard is allocated here, so no request waits for this node's first recovery or first token; and it is
/// not ready, so no client is sent here either.
/// </summary>
public sealed class ClusterJoin(IServiceProvider services, IOptions<ClusterNodeOptions> node, IOptions<EntityOptions> entities,
    LastAliveMark lastAlive, ILogger<ClusterJoin> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Resolved here, not in the constructor: the actor system exists once the Akka host has started.
        var system = services.GetRequiredService<ActorSystem>();
        await services.GetRequiredService<JournalAvailability>().Reachable.WaitAsync(stoppingToken);

        var started = Stopwatch.StartNew();
        var took = new List<string>();
        foreach (var warmUp in services.GetServices<INodeWarmUp>())
        {
            var elapsed = started.ElapsedMilliseconds;
            try
            {
                await warmUp.WarmUpAsync(stoppingToken).WaitAsync(entities.Value.AskTimeout, stoppingToken);
            }
            catch (Exception failure) when (failure is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A cold node is slower, not wrong: join anyway.
                log.LogWarning(failure, "Warming up {WarmUp} failed; joining without it", warmUp.GetType().Name);
            }
            took.Add($"{warmUp.GetType().Name} {started.ElapsedMilliseconds - elapsed} ms");
        }

        var cluster = Akka.Cluster.Cluster.Get(system);
        var seeds = node.Value.SeedNodeList.Select(Address.Parse).ToList();
        if (seeds.Count == 0)
        {
            cluster.Join(cluster.SelfAddress);
        }
        else
        {
            cluster.JoinSeedNodes(seeds);
            lastAlive.KeepUntilLeft(cluster);
        }
        log.LogInformation("Warmed up in {ElapsedMs} ms ({WarmUps}); joining {Cluster}", started.ElapsedMilliseconds,
            string.Join(", ", took), seeds.Count == 0 ? "itself" : string.Join(", ", seeds));
    }
}
