using System.Collections.Concurrent;
using System.Diagnostics;
using AkkaUsers.Harness;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// A rolling restart of the three-node cluster of the multi-node tests (<see cref="LocalCluster"/>, the cluster
/// profile, loopback) over the PostgreSQL server in AKKAUSERS_TEST_POSTGRES, <c>rounds</c> times: each node in turn is
/// taken out of rotation (as a load balancer drains it), sent SIGTERM, started again and put back once ready, while a
/// stream of registrations, sign-ins and profile reads runs on the nodes in rotation. Prints every restart's exit and
/// start time, and the slowest request, the requests over 2 s (with when each was sent) and the 5xx or unanswered ones.
/// </summary>
public static class RollingRestart
{
    private static readonly TimeSpan Slow = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Youngest first is a StatefulSet's order (highest ordinal first): the oldest node, which hosts the shard
    /// coordinators and singletons, goes last, so they move once a round. By index, every restart is of the oldest.
    /// </summary>
    public enum Order { YoungestFirst, ByIndex }

    /// <param name="service">A published service for the nodes to run, instead of the benchmarks' own build.</param>
    public static async Task<int> RunAsync(int rounds, Order order, string? service)
    {
        if (PostgresServer.FromEnvironment() is not { } server) return 2;
        Console.WriteLine($"machine: {Machine.Describe()}");
        Console.WriteLine($"service: {service ?? "the benchmarks' own build"}");
        await using var cluster = await LocalCluster.StartAsync(server, service);
        cluster.KeepLogs = true;
        Console.WriteLine($"node logs: {cluster.WorkDirectory}");

        var inRotation = new ConcurrentDictionary<ClusterNode, bool>(cluster.Nodes.Select(n => KeyValuePair.Create(n, true)));
        var answers = new ConcurrentQueue<(DrillAnswer Answer, TimeSpan SentAt)>();
        var run = Stopwatch.StartNew();
        var registered = new ConcurrentQueue<(string Name, string Token)>();
        using var stop = new CancellationTokenSource();

        async Task<(int Status, System.Text.Json.Nodes.JsonObject? Body)> Timed(string call, ClusterNode node, Func<Task<HttpResponseMessage>> send)
        {
            var sentAt = run.Elapsed;
            var answer = await TestAccounts.Send(send);
            answers.Enqueue((new DrillAnswer(call, node.Index, answer.Status, run.Elapsed - sentAt), sentAt));
            return answer;
        }

        // As a load balancer does: each request goes to the next node in rotation, and a node taken out of rotation is
        // stopped only once the requests already sent to it are answered.
        var inFlight = new ConcurrentDictionary<ClusterNode, int>(cluster.Nodes.Select(n => KeyValuePair.Create(n, 0)));
        async Task<(int Status, System.Text.Json.Nodes.JsonObject? Body)> Send(string call, int turn, Func<ClusterNode, Task<HttpResponseMessage>> send)
        {
            ClusterNode node;
            lock (inFlight)
            {
                var nodes = inRotation.Keys.OrderBy(n => n.Index).ToArray();
                node = nodes[turn % nodes.Length];
                inFlight[node]++;
            }
            try
            {
                return await Timed(call, node, () => send(node));
            }
            finally
            {
                lock (inFlight) inFlight[node]--;
            }
        }

        // Two streams, so that the load is not one request at a time.
        var streams = Enumerable.Range(0, 2).Select(stream => Task.Run(async () =>
        {
            for (var i = stream; !stop.IsCancellationRequested; i += 2)
            {
                var name = TestAccounts.Unique("rolling");
                var (status, body) = await Send("register", i, node => node.Register(name, $"{name}@example.com"));
                if (status == 201) registered.Enqueue((name, body!["token"]!.GetValue<string>()));
                if (registered.IsEmpty) continue;
                var (someone, token) = registered.ElementAt(i % registered.Count);
                await Send("sign-in", i + 1, node => node.SignIn(someone));
                await Send("get-user", i + 2, node => node.GetUser(token));
            }
        })).ToArray();

        async Task DrainAsync(ClusterNode node)
        {
            lock (inFlight) inRotation.TryRemove(node, out _);
            while (true)
            {
                lock (inFlight)
                    if (inFlight[node] == 0) return;
                await Task.Delay(10); // poll interval
            }
        }

        var failures = 0;
        Console.WriteLine($"order: {order}");
        for (var round = 1; round <= rounds; round++)
            foreach (var node in order == Order.ByIndex ? cluster.Nodes : (await cluster.RunningNodesByAgeAsync()).Reverse().ToArray())
            {
                await DrainAsync(node);
                var stopping = run.Elapsed;
                var (exitCode, exited) = await node.TerminateAsync(TimeSpan.FromSeconds(30));
                var started = await node.StartAsync();
                await node.WaitUntilServingAsync();
                inRotation[node] = true;
                if (exitCode != 0) failures++;
                Console.WriteLine($"round {round}, {node.Name}: SIGTERM at {stopping.TotalSeconds:F1} s, exit code {exitCode} {exited.TotalSeconds:F1} s after it, " +
                                  $"ready {started.TotalSeconds:F1} s after its start; load average {Machine.LoadAverage()}");
            }
        await stop.CancelAsync();
        await Task.WhenAll(streams);

        var all = answers.Select(a => a.Answer).ToList();
        var failed = all.Where(a => a.Status is 0 or >= 500).ToList();
        var slow = answers.Where(a => a.Answer.Took > Slow).OrderByDescending(a => a.Answer.Took).ToList();
        var slowest = all.MaxBy(a => a.Took)!;
        Console.WriteLine($"{all.Count} requests: slowest {slowest.Took.TotalSeconds:F2} s ({slowest.Call} on node {slowest.Node}), " +
                          $"{slow.Count} over {Slow.TotalSeconds:F0} s, {failed.Count} 5xx or unanswered");
        foreach (var (answer, sentAt) in slow.Take(10))
            Console.WriteLine($"  slow: {answer.Call} on node {answer.Node}, sent at {sentAt.TotalSeconds:F1} s, {answer.Status}, {answer.Took.TotalSeconds:F2} s");
        foreach (var answer in failed.Take(10)) Console.WriteLine($"  failed: {answer.Call} on node {answer.Node}, {answer.Status}, {answer.Took.TotalSeconds:F2} s");
        return failures + failed.Count + slow.Count == 0 ? 0 : 1;
    }
}
