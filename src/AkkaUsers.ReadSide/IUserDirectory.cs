using AkkaUsers.Domain;
using AkkaUsers.ReadSide.ReadModel;

namespace AkkaUsers.ReadSide;

/// <summary>The admin's list of users, from the read model (it runs a little behind the entities).</summary>
public interface IUserDirectory
{
    Task<IReadOnlyList<UserProfile>> ListAsync(UserQuery query, CancellationToken ct);

    Task<long> CountAsync(UserQuery query, CancellationToken ct);
}
