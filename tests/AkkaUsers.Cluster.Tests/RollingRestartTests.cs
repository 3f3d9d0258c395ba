using System.Collections.Concurrent;
using System.Net;

namespace AkkaUsers.Cluster.Tests;

/// <summary>SIGTERM each node in turn under light load: every answer is 2xx/4xx, each node exits 0 within 15 s.</summary>
public sealed class RollingRestartTests(ThreeNodeCluster cluster) : IClassFixture<ThreeNodeCluster>
{
    [SkippableFact]
    public async Task A_graceful_rolling_restart_answers_no_5xx()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        var statuses = new ConcurrentBag<(string Call, int Node, int Status)>();
        var registered = new ConcurrentQueue<(string Name, string Token)>();

        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var node = cluster.Nodes[i % 3];
                var name = TestAccounts.Unique("rolling");
                var (status, body) = await TestAccounts.Send(() => node.Register(name, $"{name}@example.com"));
                statuses.Add(("register", node.Index, status));
                if (status == 201) registered.Enqueue((name, body!["token"]!.GetValue<string>()));
                if (registered.IsEmpty) continue;

                var (someone, token) = registered.ElementAt(i % registered.Count);
                statuses.Add(("sign-in", node.Index, await TestAccounts.StatusOf(() => node.SignIn(someone))));
                statuses.Add(("get-user", node.Index, await TestAccounts.StatusOf(() => node.GetUser(token))));
            }
        });

        foreach (var node in cluster.Nodes)
        {
            var (exitCode, took) = await node.TerminateAsync(TimeSpan.FromSeconds(20));
            Assert.True(exitCode == 0, $"node {node.Index} exited with {exitCode}:\n{node.LogTail()}");
            Assert.True(took < TimeSpan.FromSeconds(15), $"node {node.Index} took {took} to exit");
            await node.StartAsync();
            await node.WaitUntilServingAsync();
        }
        await stop.CancelAsync();
        await load;

        var serverErrors = statuses.Where(s => s.Status >= 500).ToList();
        Assert.True(serverErrors.Count == 0,
            $"{serverErrors.Count} 5xx answers: {string.Join(", ", serverErrors.Take(10))}\n{string.Join("\n---\n", cluster.Nodes.Select(n => n.LogTail(15)))}");
        Assert.True(statuses.Count(s => s.Status is >= 200 and < 300) > 30, "the load barely ran");
        Assert.All(statuses.Where(s => s.Status is > 0 and < 500), s => Assert.True(s.Status < 400 || s.Status == 409 && s.Call == "register", $"{s}"));

        foreach (var (name, token) in registered)
        {
            Assert.Equal(200, await TestAccounts.StatusOf(() => cluster.Nodes[0].SignIn(name)));
            Assert.Equal(HttpStatusCode.OK, (await cluster.Nodes[2].GetUser(token)).StatusCode);
        }
    }
}
