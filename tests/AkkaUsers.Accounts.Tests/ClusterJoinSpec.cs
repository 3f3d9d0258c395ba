using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using AkkaUsers.Accounts.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Accounts.Tests;

/// <summary>A node warms up before it joins its cluster, so that no shard is allocated to it cold.</summary>
public sealed class ClusterJoinSpec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_node_joins_only_once_its_warm_ups_are_done()
    {
        var warmUp = new HeldWarmUp();
        var starting = ActorHost.StartAsync(services: s => s.AddSingleton<INodeWarmUp>(warmUp));
        try
        {
            await warmUp.Entered.WaitAsync(Timeout);
            // A node that joined without waiting would be Up long before this: a cluster of one is Up within a second.
            var first = await Task.WhenAny(starting, Task.Delay(TimeSpan.FromSeconds(3)));
            Assert.NotSame(starting, first);
        }
        finally
        {
            warmUp.Release();
            await using var host = await starting.WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task A_warm_up_that_fails_does_not_keep_the_node_out()
    {
        await using var host = await ActorHost.StartAsync(services: s => s.AddSingleton<INodeWarmUp>(new FailingWarmUp()))
            .WaitAsync(Timeout);

        Assert.Equal(Akka.Cluster.MemberStatus.Up, Akka.Cluster.Cluster.Get(host.System).SelfMember.Status);
    }

    [Fact]
    public async Task Warming_up_writes_nothing_to_the_journal()
    {
        await using var host = await ActorHost.StartAsync().WaitAsync(Timeout);

        var journal = PersistenceQuery.Get(host.System).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        var written = await journal.CurrentPersistenceIds().RunWith(Sink.Seq<string>(), host.System.Materializer());
        Assert.Empty(written);
    }

    private sealed class HeldWarmUp : INodeWarmUp
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public void Release() => _released.TrySetResult();

        public Task WarmUpAsync(CancellationToken ct)
        {
            _entered.TrySetResult();
            return _released.Task.WaitAsync(ct);
        }
    }

    private sealed class FailingWarmUp : INodeWarmUp
    {
        public Task WarmUpAsync(CancellationToken ct) => throw new InvalidOperationException("warm-up failed on purpose");
    }
}
