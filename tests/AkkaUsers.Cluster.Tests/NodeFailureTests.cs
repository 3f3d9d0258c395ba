using System.Collections.Concurrent;
using System.Diagnostics;

namespace AkkaUsers.Cluster.Tests;

/// <summary>A node killed with SIGKILL mid-stream: nothing it (or anyone) acknowledged is lost, the survivors take over, it comes back.</summary>
public sealed class NodeFailureTests(ThreeNodeCluster cluster) : IClassFixture<ThreeNodeCluster>
{
    [SkippableFact]
    public async Task Killing_a_node_mid_stream_loses_no_acknowledged_registration_and_the_node_rejoins()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        var (victim, survivors) = (cluster.Nodes[0], cluster.Nodes[1..]);
        var registered = new ConcurrentQueue<string>();

        // Users registered through every node, so some of their entities live on the victim.
        for (var i = 0; i < 12; i++)
        {
            var name = TestAccounts.Unique("before");
            if (await TestAccounts.StatusOf(() => cluster.Nodes[i % 3].Register(name, $"{name}@example.com")) == 201) registered.Enqueue(name);
        }
        Assert.Equal(12, registered.Count);

        // A stream of registrations and sign-ins on the survivors while the victim dies.
        using var stop = new CancellationTokenSource();
        var stream = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var node = survivors[i % 2];
                var name = TestAccounts.Unique("during");
                if (await TestAccounts.StatusOf(() => node.Register(name, $"{name}@example.com")) == 201) registered.Enqueue(name);
                var someone = registered.ElementAt(i % registered.Count);
                await TestAccounts.StatusOf(() => node.SignIn(someone));
            }
        });
        await Until(() => registered.Count >= 20, TimeSpan.FromSeconds(60), "the stream never got going");
        victim.Kill();
        var killed = Stopwatch.StartNew();
        var atKill = registered.Count;
        // The stream goes on a little after the kill: until a few more registrations got through, or ten seconds.
        while (registered.Count < atKill + 5 && killed.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100); // poll interval
        await stop.CancelAsync();
        await stream;

        // Every acknowledged registration signs in on the survivors, within 30 s of the kill.
        var users = registered.ToList();
        var pending = users.ToHashSet();
        do
        {
            foreach (var name in pending.ToList())
                if (await TestAccounts.StatusOf(() => survivors[pending.Count % 2].SignIn(name)) == 200) pending.Remove(name);
        } while (pending.Count > 0 && killed.Elapsed < TimeSpan.FromSeconds(30));
        Assert.True(pending.Count == 0, $"{pending.Count} of {users.Count} acknowledged users do not sign in {killed.Elapsed} after the kill: {string.Join(", ", pending.Take(5))}");

        // The killed node restarts, rejoins and serves everyone again.
        await victim.StartAsync();
        await victim.WaitUntilServingAsync();
        foreach (var name in users)
            Assert.Equal(200, await TestAccounts.StatusOf(() => victim.SignIn(name)));
    }

    private static async Task Until(Func<bool> condition, TimeSpan within, string failure)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(failure);
            await Task.Delay(100); // poll interval
        }
    }
}
