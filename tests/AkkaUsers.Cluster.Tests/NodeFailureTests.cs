using Xunit.Abstractions;

namespace AkkaUsers.Cluster.Tests;

/// <summary>
/// A node killed with SIGKILL mid-stream (<see cref="FailoverDrill"/>), the youngest and (separately) the oldest, which
/// hosts the shard coordinators and the singletons: nothing it (or anyone) acknowledged is lost, the survivors answer
/// no 5xx, it comes back. The slowest request is printed, not asserted: timings on a shared machine say little.
/// And a restarted node rejoins the running cluster: the first seed, killed and restarted at once, and a node restarted
/// while the first seed is lost.
/// </summary>
public sealed class NodeFailureTests(ThreeNodeCluster cluster, ITestOutputHelper output) : IClassFixture<ThreeNodeCluster>
{
    [SkippableFact]
    public Task Killing_the_youngest_node_mid_stream_loses_no_acknowledged_registration_and_the_node_rejoins() =>
        KillMidStream(byAge => byAge[^1], "youngest");

    [SkippableFact]
    public Task Killing_the_oldest_node_mid_stream_loses_no_acknowledged_registration_and_the_node_rejoins() =>
        KillMidStream(byAge => byAge[0], "oldest");

    /// <summary>
    /// The first seed is the one node that may form a cluster of its own when no other seed answers it in time:
    /// restarted while its peers still hold its dead incarnation, it must join them instead, every time.
    /// </summary>
    [SkippableFact]
    public async Task The_first_seed_node_killed_and_restarted_at_once_rejoins_the_running_cluster_every_time()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        var firstSeed = cluster.Nodes[0];
        for (var round = 1; round <= 5; round++)
        {
            var linesBefore = LogLineCount(firstSeed);
            firstSeed.Kill();
            await firstSeed.StartAsync();
            AssertWelcomedByTheRunningCluster(firstSeed, linesBefore, $"round {round}");
        }
    }

    /// <summary>
    /// A node lost for good must not keep the others from restarting: with the first seed dead and removed, the
    /// second seed, restarted, joins through the third node; then the first one comes back too.
    /// </summary>
    [SkippableFact]
    public async Task A_node_restarted_while_the_first_seed_is_down_joins_through_the_other_survivor()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        var (firstSeed, secondSeed, third) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);

        var thirdLinesBefore = LogLineCount(third);
        firstSeed.Kill();
        await Poll.UntilAsync(() => File.ReadLines(third.LogFile).Skip(thirdLinesBefore)
                .Any(line => line.Contains($"Member removed [{firstSeed.AkkaAddress}]")),
            TimeSpan.FromSeconds(30), "not within 30 s: the survivors remove the killed first seed");

        var (exitCode, _) = await secondSeed.TerminateAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(0, exitCode);
        var linesBefore = LogLineCount(secondSeed);
        await secondSeed.StartAsync(TimeSpan.FromSeconds(45));
        AssertWelcomedByTheRunningCluster(secondSeed, linesBefore, "the second seed");

        linesBefore = LogLineCount(firstSeed);
        await firstSeed.StartAsync();
        AssertWelcomedByTheRunningCluster(firstSeed, linesBefore, "the first seed, back");
    }

    /// <summary>How the node's incarnation started after <paramref name="linesBefore"/> joined: welcomed by a running cluster, never on its own.</summary>
    private void AssertWelcomedByTheRunningCluster(ClusterNode node, int linesBefore, string what)
    {
        var joined = File.ReadLines(node.LogFile).Skip(linesBefore)
            .Where(line => line.Contains("is JOINING itself") || line.Contains("Welcome from")).ToList();
        output.WriteLine($"{what}: {string.Join(" | ", joined.Select(line => line[(line.IndexOf(" - ", StringComparison.Ordinal) + 3)..]))}");
        Assert.True(joined.Count == 1 && joined[0].Contains("Welcome from"),
            $"{what}: {node.Name} did not join the running cluster:\n{string.Join('\n', joined)}\n" +
            string.Join("\n---\n", cluster.Nodes.Select(n => n.LogTail(25))));
    }

    private static int LogLineCount(ClusterNode node) => File.ReadLines(node.LogFile).Count();

    private async Task KillMidStream(Func<ClusterNode[], ClusterNode> pick, string which)
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        var byAge = await cluster.RunningNodesByAgeAsync();
        Assert.True(byAge.Length == 3, $"the nodes' logs name {byAge.Length} Up members, not 3");
        var victim = pick(byAge);

        var drill = await FailoverDrill.RunAsync(cluster.Nodes, victim, lostAfter: TimeSpan.FromSeconds(30));

        var slowest = drill.Slowest;
        output.WriteLine($"killed the {which} node ({victim.Name}): {drill.Answers.Count} requests on the survivors, " +
                         $"the slowest {slowest.Took.TotalSeconds:F1} s ({slowest.Call} on node {slowest.Node}, {slowest.Status})");
        Assert.True(drill.Lost.Count == 0,
            $"{drill.Lost.Count} of {drill.Acknowledged.Count} acknowledged users do not sign in 30 s after the kill: {string.Join(", ", drill.Lost.Take(5))}");
        Assert.True(drill.Failed.Count == 0,
            $"{drill.Failed.Count} 5xx or unanswered requests on the survivors: {string.Join(", ", drill.Failed.Take(10))}\n" +
            string.Join("\n---\n", cluster.Nodes.Where(n => n != victim).Select(n => n.LogTail(15))));

        // The killed node restarts, rejoins and serves everyone again.
        await victim.StartAsync();
        await victim.WaitUntilServingAsync();
        foreach (var name in drill.Acknowledged)
            Assert.Equal(200, await TestAccounts.StatusOf(() => victim.SignIn(name)));
    }
}
