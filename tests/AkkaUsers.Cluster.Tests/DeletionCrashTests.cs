using System.Net;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;
using AkkaUsers.ReadSide.Audit;
using Npgsql;

namespace AkkaUsers.Cluster.Tests;

/// <summary>
/// A process killed (SIGKILL) in the middle of a deletion finishes it by itself when it starts again: nobody asks.
/// The test holds the deletion at its first step after the tombstone by keeping, in an open transaction, the journal
/// row that the username index's release event needs; that write waits on it until the process is killed.
/// </summary>
public sealed class DeletionCrashTests(DeletionCrashTests.NodeWithoutClaimSweeps service) : IClassFixture<DeletionCrashTests.NodeWithoutClaimSweeps>
{
    /// <summary>
    /// The orphaned-claim sweep would also wake the deleted user, once the grace period has passed; put off for the
    /// test's length, so that only the start-up resumer can.
    /// </summary>
    public sealed class NodeWithoutClaimSweeps : SingleNodeOnPostgres
    {
        protected override IReadOnlyDictionary<string, string> Settings { get; } =
            new Dictionary<string, string> { ["Entities__ClaimGracePeriod"] = "01:00:00" };
    }

    [SkippableFact]
    public async Task A_deletion_cut_short_by_a_kill_completes_after_the_restart_without_anyone_asking()
    {
        Skip.If(ThreeNodeCluster.ServerConnection is null, ThreeNodeCluster.SkipReason);
        var id = service.Ids["alice"];
        var journal = new JournalReader(new JournalDatabase(PersistenceProvider.PostgreSql, service.Database.ConnectionString, SingleNodeOnPostgres.Schema));
        var tombstone = AkkaUsersSerializer.Manifests[typeof(UserProtocol.UserDeleted)];

        string ticket;
        await using (var holder = new NpgsqlConnection(service.Database.ConnectionString))
        {
            await holder.OpenAsync();
            await using var held = await holder.BeginTransactionAsync();
            Assert.True(await HoldNextUsernameIndexWritesAsync(holder) > 0, "no username index has written yet");

            using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/users/{id}");
            var deleted = await service.Send(delete);
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            ticket = (await deleted.Body())["ticket"]!.GetValue<string>();
            await UntilAsync(() => WriteWaitsOnALockAsync(service.Database), "the username release waiting on the held row");

            service.Node.Kill();
            await held.RollbackAsync();
        }
        Assert.Contains(UserActor.PersistenceIdFor(id), await journal.UnfinishedDeletionsAsync(tombstone, CancellationToken.None));

        await service.Node.StartAsync();
        // Only the journal is read until the deletion is done: asking the service about the user would start it.
        await UntilAsync(async () => (await journal.UnfinishedDeletionsAsync(tombstone, CancellationToken.None)).Count == 0,
            "the deletion resumed after the restart");

        var (status, body) = await service.Get($"/users/{id}/delete-status/{ticket}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("completed", body!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, (await service.Node.Register("alice", "alice-again@example.com")).StatusCode);
    }

    /// <summary>
    /// Inserts, uncommitted, the row each username index entity would write next: the journal's key on (persistence
    /// id, sequence number) makes the entity's own insert wait for this transaction. Returns how many it holds.
    /// </summary>
    private static async Task<int> HoldNextUsernameIndexWritesAsync(NpgsqlConnection holder)
    {
        var journal = $"\"{SingleNodeOnPostgres.Schema}\".journal";
        await using var command = holder.CreateCommand();
        command.CommandText =
            $"INSERT INTO {journal} (persistence_id, sequence_number, deleted, created, manifest, message, identifier) " +
            $"SELECT persistence_id, MAX(sequence_number) + 1, false, 0, 'held', ''::bytea, 0 FROM {journal} " +
            "WHERE persistence_id LIKE @prefix GROUP BY persistence_id";
        command.Parameters.AddWithValue("@prefix", ClaimIndexActor.PersistenceIdFor(ClaimKind.Username, "") + "%");
        return await command.ExecuteNonQueryAsync();
    }

    private static async Task<bool> WriteWaitsOnALockAsync(TestDatabase database) =>
        Convert.ToInt64(await database.ScalarAsync(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")) > 0;

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within 60 s: {what}");
            await Task.Delay(100); // poll interval
        }
    }
}
