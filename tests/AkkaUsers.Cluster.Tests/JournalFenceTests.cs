using Akka.Actor;
using Akka.Hosting;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Cluster.Tests;

/// <summary>
/// Why the failover settings may keep the removal margin short: a node that was downed but still runs keeps its
/// entities in memory while their replacements start elsewhere. Two actor systems on one PostgreSQL journal, each a
/// cluster of its own, are that split: the stale copy's next write reuses a sequence number its replacement already
/// wrote, the journal's key on (persistence id, sequence number) refuses it, and the stale entity answers that its
/// write failed and stops.
/// </summary>
public sealed class JournalFenceTests
{
    private static readonly TimeSpan Reply = TimeSpan.FromSeconds(20);

    [SkippableFact]
    public async Task A_downed_nodes_entity_cannot_write_after_its_replacement_started()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        await using var database = await TestDatabase.CreateAsync(ThreeNodeCluster.ServerConnection);
        var userId = AkkaUsers.Domain.UserId.New(DateTimeOffset.UtcNow).Value;

        using var stale = await StartNodeAsync(database.ConnectionString);
        var staleUsers = ActorRegistry.For(stale.Services.GetRequiredService<ActorSystem>()).Get<UserActor>();
        var register = new RegisterUser(userId, TestAccounts.Unique("fenced"), $"{TestAccounts.Unique("fenced")}@example.com",
            "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA", ["user"], "free", null, null);
        Assert.IsType<UserFound>(await staleUsers.Ask<IUserReply>(register, Reply));

        // The replacement recovers the user from the journal and writes the next event while the stale copy lives on.
        using var replacement = await StartNodeAsync(database.ConnectionString);
        var replacementUsers = ActorRegistry.For(replacement.Services.GetRequiredService<ActorSystem>()).Get<UserActor>();
        var granted = Assert.IsType<UserFound>(await replacementUsers.Ask<IUserReply>(new GrantScope(userId, "replacement", "test"), Reply));
        Assert.Contains("replacement", granted.User.Scope);

        // The stale copy decides from its old state and writes under the same sequence number: refused, never acknowledged.
        var staleWrite = staleUsers.Ask<IUserReply>(new GrantScope(userId, "stale", "test"), Reply);
        await Assert.ThrowsAsync<EntityWriteFailedException>(() => staleWrite);

        // It stopped: asked again, the stale node recovers the entity from the journal, which holds the replacement's write only.
        var reread = Assert.IsType<UserFound>(await staleUsers.Ask<IUserReply>(new GetUser(userId), Reply));
        Assert.Contains("replacement", reread.User.Scope);
        Assert.DoesNotContain("stale", reread.User.Scope);
        var persistenceId = UserActor.PersistenceIdFor(userId);
        Assert.Equal(2L, await database.ScalarAsync($"SELECT count(*) FROM journal WHERE persistence_id = '{persistenceId}'"));
        Assert.Equal(0L, await database.ScalarAsync(
            $"SELECT count(*) FROM journal WHERE persistence_id = '{persistenceId}' AND convert_from(message, 'UTF8') LIKE '%stale%'"));

        await stale.StopAsync();
        await replacement.StopAsync();
    }

    /// <summary>A node through the production wiring: a cluster of one on the shared journal.</summary>
    private static async Task<IHost> StartNodeAsync(string connectionString)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Persistence:Provider"] = "PostgreSql",
            ["Persistence:ConnectionString"] = connectionString,
            ["Storage:DataDirectory"] = Path.Combine(Path.GetTempPath(), "akka-users-fence", Guid.NewGuid().ToString("N")),
            ["Claims:Secret"] = ClusterProfile.ClaimSecret,
            ["Password:MemoryKiB"] = "8192",
            ["Password:Iterations"] = "1",
        };
        var host = new HostBuilder()
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(settings))
            .ConfigureServices((context, services) => services.AddAccounts(context.Configuration))
            .Build();
        await host.StartAsync();
        return host;
    }
}
