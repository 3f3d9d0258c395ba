using Xunit.Abstractions;

namespace AkkaUsers.Cluster.Tests;

/// <summary>
/// SIGTERM ends a node within 10 s whatever the cluster is doing: right after a peer was killed (its shards cannot be
/// handed off, the leave cannot converge until it is downed), and as the last node left beside a dead one. How long
/// each exit took is printed.
/// </summary>
public sealed class ShutdownTests(ThreeNodeCluster cluster, ITestOutputHelper output) : IClassFixture<ThreeNodeCluster>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [SkippableFact]
    public async Task A_node_stopped_right_after_a_peer_was_killed_exits_within_ten_seconds_and_so_does_the_last_one()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        var byAge = await cluster.RunningNodesByAgeAsync();
        Assert.True(byAge.Length == 3, $"the nodes' logs name {byAge.Length} Up members, not 3");
        // Users on every node, so that every node has shards to hand off.
        for (var i = 0; i < 6; i++)
        {
            var name = TestAccounts.Unique("shutdown");
            Assert.Equal(201, await TestAccounts.StatusOf(() => cluster.Nodes[i % 3].Register(name, $"{name}@example.com")));
        }

        // The oldest dies: the coordinators and singletons go with it, and the next node is asked to stop at once.
        byAge[0].Kill();
        foreach (var node in byAge[1..])
        {
            var (exitCode, took) = await node.TerminateAsync(Limit); // throws when the process is still running then
            output.WriteLine($"{node.Name} exited with {exitCode} {took.TotalSeconds:F1} s after SIGTERM");
        }
    }
}
