using System.Collections.Immutable;
using AkkaUsers.Domain;
using AkkaUsers.ReadSide.Audit;

namespace AkkaUsers.ReadSide;

/// <summary>A user's audit trail and past states, read from the journal.</summary>
public interface IUserHistory
{
    /// <summary>At most <paramref name="limit"/> events within <paramref name="range"/>, oldest first.</summary>
    Task<IImmutableList<AuditEvent>> EventsAsync(string userId, EventRange range, int limit, CancellationToken ct);

    /// <summary>Whether the journal holds any event of the user.</summary>
    Task<bool> ExistsAsync(string userId, CancellationToken ct);

    /// <summary>The user as the events written until <paramref name="asOf"/> make it.</summary>
    Task<UserState> StateAsOfAsync(string userId, DateTimeOffset asOf, CancellationToken ct);
}
