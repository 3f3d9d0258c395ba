using AkkaUsers.Harness;

namespace AkkaUsers.Benchmarks;

/// <summary>
/// The three-node cluster of the multi-node tests (<see cref="LocalCluster"/>, the cluster profile, loopback) over the
/// PostgreSQL server in AKKAUSERS_TEST_POSTGRES: kills the youngest node, then the oldest, <c>kills</c> times each,
/// each under a stream of registrations and sign-ins (<see cref="FailoverDrill"/>), restarting the victim in between;
/// prints the slowest request of every kill and their min, median and max per kind.
/// </summary>
public static class Failover
{
    /// <param name="service">A published service for the nodes to run, instead of the benchmarks' own build.</param>
    public static async Task<int> RunAsync(int kills, string? service)
    {
        if (PostgresServer.FromEnvironment() is not { } server) return 2;
        Console.WriteLine($"machine: {Machine.Describe()}");
        Console.WriteLine("settings (config/cluster.env): " + string.Join(", ", ClusterProfile.Load()
            .Where(s => s.Key.StartsWith("Cluster__", StringComparison.Ordinal) && !s.Key.StartsWith("Cluster__Tls", StringComparison.Ordinal)
                        || s.Key is "Entities__AskTimeout" or "Entities__ResendAfter")
            .Select(s => $"{s.Key}={s.Value}")));

        Console.WriteLine($"service: {service ?? "the benchmarks' own build"}");
        await using var cluster = await LocalCluster.StartAsync(server, service);
        cluster.KeepLogs = true;
        Console.WriteLine($"node logs: {cluster.WorkDirectory}");
        var slowest = new Dictionary<string, List<double>> { ["youngest"] = [], ["oldest"] = [] };
        var (lost, failed) = (0, 0);
        for (var round = 1; round <= kills; round++)
            foreach (var which in slowest.Keys)
            {
                var byAge = await cluster.RunningNodesByAgeAsync();
                var victim = which == "oldest" ? byAge[0] : byAge[^1];
                var drill = await FailoverDrill.RunAsync(cluster.Nodes, victim, lostAfter: TimeSpan.FromSeconds(60));
                slowest[which].Add(drill.Slowest.Took.TotalSeconds);
                (lost, failed) = (lost + drill.Lost.Count, failed + drill.Failed.Count);
                Console.WriteLine($"round {round}, killed the {which} ({victim.Name}): slowest {drill.Slowest.Took.TotalSeconds:F1} s " +
                                  $"({drill.Slowest.Call}), {drill.Answers.Count} requests, {drill.Failed.Count} 5xx/unanswered, " +
                                  $"{drill.Lost.Count} of {drill.Acknowledged.Count} acknowledged lost; load average {Machine.LoadAverage()}");
                Console.WriteLine("  after the kill: " + Timeline(cluster.Nodes.Where(n => n != victim), drill.KilledAt));
                await victim.StartAsync();
                await victim.WaitUntilServingAsync();
            }

        foreach (var (which, seconds) in slowest)
        {
            seconds.Sort();
            Console.WriteLine($"kill -9 of the {which}: slowest request min {seconds[0]:F1} s, median {seconds[seconds.Count / 2]:F1} s, " +
                              $"max {seconds[^1]:F1} s over {seconds.Count} kills");
        }
        Console.WriteLine($"{lost} acknowledged registrations lost, {failed} 5xx or unanswered requests on the survivors");
        return lost + failed == 0 ? 0 : 1;
    }

    /// <summary>When the survivors' logs first say each step of the failover, in seconds after the kill.</summary>
    private static string Timeline(IEnumerable<ClusterNode> survivors, DateTime killedAt)
    {
        (string Step, string Says)[] steps =
        [
            ("unreachable", "Marking node(s) as UNREACHABLE"), ("downed", "is downing ["), ("removed", "Leader is removing"),
            ("singletons", "Singleton manager started singleton actor"), ("coordinator", "ShardCoordinator was moved to the active state"),
        ];
        var lines = survivors.SelectMany(n => File.ReadLines(n.LogFile))
            .Select(line => (At: line.Length > 24 && DateTime.TryParse(line[..24], null, System.Globalization.DateTimeStyles.AdjustToUniversal, out var at) ? at : DateTime.MinValue, Line: line))
            .Where(l => l.At >= killedAt).ToList();
        return string.Join(", ", steps.Select(step =>
            lines.Where(l => l.Line.Contains(step.Says, StringComparison.Ordinal)).Select(l => (l.At - killedAt).TotalSeconds).DefaultIfEmpty(double.NaN).Min() is var s && !double.IsNaN(s)
                ? $"{step.Step} +{s:F1} s" : null).Where(s => s is not null));
    }
}
