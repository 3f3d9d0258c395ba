using System.Collections.Concurrent;
using System.Diagnostics;

namespace AkkaUsers.Harness;

/// <summary>One request the drill made on a survivor: what, where, its status (0: unanswered) and how long it took.</summary>
public sealed record DrillAnswer(string Call, int Node, int Status, TimeSpan Took);

/// <summary>What a <see cref="FailoverDrill"/> saw: every answer on the survivors, and the acknowledged users that do not sign in.</summary>
public sealed record DrillResult(ClusterNode Victim, DateTime KilledAt, IReadOnlyList<DrillAnswer> Answers, IReadOnlyList<string> Acknowledged, IReadOnlyList<string> Lost)
{
    public DrillAnswer Slowest => Answers.MaxBy(a => a.Took)!;

    public IReadOnlyList<DrillAnswer> Failed => Answers.Where(a => a.Status is 0 or >= 500).ToList();
}

/// <summary>
/// SIGKILL of one node of a <see cref="LocalCluster"/> in the middle of a stream of registrations and sign-ins on the
/// others, then a check that every acknowledged registration signs in on the survivors. The victim stays down.
/// </summary>
public static class FailoverDrill
{
    public static async Task<DrillResult> RunAsync(ClusterNode[] nodes, ClusterNode victim, TimeSpan lostAfter)
    {
        var survivors = nodes.Where(node => node != victim).ToArray();
        var registered = new ConcurrentQueue<string>();
        var answers = new ConcurrentQueue<DrillAnswer>();

        // Users registered through every node, so some of their entities live on the victim.
        for (var i = 0; i < 12; i++)
        {
            var name = TestAccounts.Unique("before");
            if (await TestAccounts.StatusOf(() => nodes[i % nodes.Length].Register(name, $"{name}@example.com")) == 201) registered.Enqueue(name);
        }
        if (registered.Count < 12) throw new InvalidOperationException($"only {registered.Count} of 12 registrations before the kill succeeded");

        async Task<int> Timed(string call, ClusterNode node, Func<Task<HttpResponseMessage>> send)
        {
            var clock = Stopwatch.StartNew();
            var status = await TestAccounts.StatusOf(send);
            answers.Enqueue(new DrillAnswer(call, node.Index, status, clock.Elapsed));
            return status;
        }

        // A stream of registrations and sign-ins on the survivors while the victim dies.
        using var stop = new CancellationTokenSource();
        var stream = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var node = survivors[i % survivors.Length];
                var name = TestAccounts.Unique("during");
                if (await Timed("register", node, () => node.Register(name, $"{name}@example.com")) == 201) registered.Enqueue(name);
                var someone = registered.ElementAt(i % registered.Count);
                await Timed("sign-in", node, () => node.SignIn(someone));
            }
        });
        await Poll.UntilAsync(() => registered.Count >= 20, TimeSpan.FromSeconds(60), "the stream never got going");
        var killedAt = DateTime.UtcNow;
        victim.Kill();
        var killed = Stopwatch.StartNew();
        var atKill = registered.Count;
        // The stream goes on a little after the kill: until a few more registrations got through, or ten seconds.
        while (registered.Count < atKill + 5 && killed.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100); // poll interval
        await stop.CancelAsync();
        await stream;

        // Every acknowledged registration signs in on the survivors, given until lostAfter from the kill.
        var users = registered.ToList();
        var pending = users.ToHashSet();
        do
        {
            foreach (var name in pending.ToList())
            {
                var node = survivors[pending.Count % survivors.Length];
                if (await Timed("sign-in after", node, () => node.SignIn(name)) == 200) pending.Remove(name);
            }
        } while (pending.Count > 0 && killed.Elapsed < lostAfter);
        return new DrillResult(victim, killedAt, [.. answers], users, [.. pending]);
    }
}
