using Akka.Actor;
using Akka.Persistence;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.Domain;
using Microsoft.Extensions.Options;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Entities;

/// <summary>
/// The entities' first use on a node: the journal plugins' start, the JSON metadata of every message, event and
/// snapshot, and one recovery and one read-only command of each kind of entity, under ids no user can have, so that
/// the journal's queries run and nothing is written. The entities run outside the shard regions and stop before the
/// node joins.
/// </summary>
public sealed class EntityWarmUp(
    ActorSystem system, JournalDatabase journal, UserActor.Settings userSettings, ClaimDigests digests, IOptions<EntityOptions> entities,
    AkkaUsersMetrics metrics)
    : INodeWarmUp
{
    public async Task WarmUpAsync(CancellationToken ct)
    {
        var timeout = entities.Value.AskTimeout;
        // Control characters: no username or email key can hold them.
        var key = $"\u001Fwarm-up\u001F{Guid.NewGuid():N}";
        // Each plugin makes the journal's tables as it starts, and nodes starting at once would race to.
        await journal.WithSchemaLockAsync(() => StartPersistencePluginsAsync(system, key, timeout, ct), ct);
        AkkaUsersSerializer.PrepareMetadata();

        var userId = $"warm-up-{Guid.NewGuid():N}";
        var grace = entities.Value.ClaimGracePeriod;
        var lookup = new LookupKey(key);
        await Task.WhenAll(
            AskThenStop(UserActor.Props(userId, userSettings, metrics), new GetUser(userId)),
            AskThenStop(ClaimIndexActor.Props<UsernameIndex>(Keys.Digest(key), digests, ActorRefs.Nobody, grace, timeout, metrics), lookup),
            AskThenStop(ClaimIndexActor.Props<EmailIndex>(Keys.Digest(key), digests, ActorRefs.Nobody, grace, timeout, metrics), lookup));

        async Task AskThenStop(Props props, object command)
        {
            var entity = system.ActorOf(props);
            try
            {
                await entity.Ask<object>(command, timeout, ct);
            }
            finally
            {
                await entity.GracefulStop(timeout);
            }
        }
    }

    /// <summary>
    /// Starts both journal plugins and the snapshot store, and waits until each has made its tables and answered a
    /// query (a recovery of <paramref name="persistenceId"/>, which no entity has): each stashes what it is sent until
    /// its tables are made.
    /// </summary>
    private static async Task StartPersistencePluginsAsync(ActorSystem system, string persistenceId, TimeSpan timeout, CancellationToken ct)
    {
        var persistence = Akka.Persistence.Persistence.Instance.Apply(system);
        foreach (var journalPluginId in new[] { "", NewUserWriter.JournalPluginId })
        {
            var replayed = await persistence.JournalFor(journalPluginId)
                .Ask<object>(replyTo => new ReplayMessages(0, 0, 0, persistenceId, replyTo), timeout, ct);
            if (replayed is ReplayMessagesFailure failure) throw failure.Cause;
        }
        var loaded = await persistence.SnapshotStoreFor("")
            .Ask<object>(new LoadSnapshot(persistenceId, SnapshotSelectionCriteria.Latest, long.MaxValue), timeout, ct);
        if (loaded is LoadSnapshotFailed failed) throw failed.Cause;
    }
}
