using Akka.Actor;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.Domain;
using Microsoft.Extensions.Options;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts.Entities;

/// <summary>
/// The entities' first use on a node: the JSON metadata of every message, event and snapshot, and one recovery and
/// one read-only command of each kind of entity, under ids no user can have, so that the journal's queries run and
/// nothing is written. The entities run outside the shard regions and stop before the node joins.
/// </summary>
public sealed class EntityWarmUp(
    ActorSystem system, UserActor.Settings userSettings, ClaimDigests digests, IOptions<EntityOptions> entities, AkkaUsersMetrics metrics)
    : INodeWarmUp
{
    public async Task WarmUpAsync(CancellationToken ct)
    {
        AkkaUsersSerializer.PrepareMetadata();

        // Control characters: no username or email key can hold them.
        var key = $"\u001Fwarm-up\u001F{Guid.NewGuid():N}";
        var userId = $"warm-up-{Guid.NewGuid():N}";
        var timeout = entities.Value.AskTimeout;
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
}
