using Akka.Cluster.Sharding;
using AkkaUsers.Domain;

namespace AkkaUsers.Accounts.Entities;

/// <summary>Routes user commands on the user id.</summary>
public sealed class UserMessageExtractor() : HashCodeMessageExtractor(ShardCount)
{
    /// <summary>Fixed for the life of a cluster: changing it moves every entity to another shard.</summary>
    public const int ShardCount = 100;

    public override string? EntityId(object message) =>
        message is UserProtocol.IUserCommand command ? command.UserId : null;
}

/// <summary>Routes index commands on the digest of the normalized key, so odd or long keys make tidy ids.</summary>
public sealed class ClaimMessageExtractor() : HashCodeMessageExtractor(UserMessageExtractor.ShardCount)
{
    public override string? EntityId(object message) =>
        message is ClaimProtocol.IClaimCommand command ? command.EntityId : null;
}
