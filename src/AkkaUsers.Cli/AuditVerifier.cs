using AkkaUsers.Actors.Audit;
using AkkaUsers.Actors.Entities;
using AkkaUsers.Actors.Persistence;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Cli;

/// <summary>Something wrong in the journal, and the user ids or persistence ids it concerns.</summary>
public sealed record VerifyProblem(string Message, IReadOnlyList<string> Ids);

/// <summary>
/// Replays the journal, row by row in journal order, through the domain's pure state types (the same
/// <see cref="UserState.Apply"/> and <see cref="ClaimState.Apply"/> the entities recover with), then checks what
/// must hold between users and indexes: every row deserializes, no persistence id skips a sequence number, each
/// username and email belongs to exactly one live user, every index names the user that holds its key, and no
/// claim of a user who never took the key outlives the grace period (a registration still in flight may).
/// </summary>
public sealed class AuditVerifier(TimeSpan claimGracePeriod, DateTimeOffset now)
{
    private readonly Dictionary<string, UserState> _users = new();
    private readonly Dictionary<string, Claim> _claims = new();
    private readonly Dictionary<string, long> _lastSequenceNr = new();
    private readonly List<VerifyProblem> _problems = [];

    public long Users => _users.Count;

    public long PersistenceIds => _lastSequenceNr.Count;

    public void Add(JournalRow row)
    {
        CheckSequence(row);
        if (row.SerializerId != AkkaUsersSerializer.Id || row.Manifest is null)
        {
            Problem(row, $"is not written by the service's serializer (serializer {row.SerializerId}, manifest '{row.Manifest}')");
            return;
        }

        object message;
        try
        {
            message = AkkaUsersSerializer.Decode(row.Message, row.Manifest);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or System.Runtime.Serialization.SerializationException or NotSupportedException)
        {
            Problem(row, $"does not deserialize as '{row.Manifest}': {e.Message}");
            return;
        }

        try
        {
            switch (message)
            {
                case IUserEvent e when row.PersistenceId.StartsWith(UserActor.PersistenceIdPrefix, StringComparison.Ordinal):
                    var userId = UserActor.UserIdOf(row.PersistenceId);
                    _users[userId] = _users.GetValueOrDefault(userId, UserState.Empty).Apply(e);
                    break;
                case IClaimEvent e when KindOf(row.PersistenceId) is { } kind:
                    ApplyClaim(row, kind, e);
                    break;
                default:
                    Problem(row, $"holds a '{row.Manifest}', which does not belong in this persistence id");
                    break;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            Problem(row, $"cannot be applied: {e.Message}");
        }
    }

    /// <summary>The checks across entities, once every row is in; the problems found, row problems included.</summary>
    public IReadOnlyList<VerifyProblem> Finish()
    {
        var live = _users.Where(u => u.Value.Status == UserState.Lifecycle.Registered).ToList();
        foreach (var kind in Enum.GetValues<ClaimKind>())
        {
            var name = kind.ToString().ToLowerInvariant();
            foreach (var holders in live.GroupBy(u => Keys.Of(kind, u.Value.Profile!)).Where(g => g.Count() > 1))
            {
                var ids = holders.Select(u => u.Key).Order().ToList();
                _problems.Add(new($"{name} '{holders.Key}' is held by {ids.Count} live users: {string.Join(", ", ids)}", ids));
            }

            foreach (var (userId, state) in live)
            {
                var key = Keys.Of(kind, state.Profile!);
                var owner = _claims.GetValueOrDefault(ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(key)))?.State.OwnerId;
                if (owner != userId)
                    _problems.Add(new($"user {userId}: the {name} index of '{key}' names {owner ?? "nobody"}",
                        owner is null ? [userId] : [userId, owner]));
            }
        }

        foreach (var claim in _claims.Values.Where(c => c.State.OwnerId is not null))
        {
            var ownerId = claim.State.OwnerId!;
            var owner = _users.GetValueOrDefault(ownerId);
            var ownerHoldsKey = owner is { Status: UserState.Lifecycle.Registered, Profile: { } profile } && Keys.Of(claim.Kind, profile) == claim.Key;
            if (!ownerHoldsKey && now - claim.State.ClaimedAt > claimGracePeriod)
                _problems.Add(new($"orphaned {claim.Kind.ToString().ToLowerInvariant()} claim of '{claim.Key}' by {ownerId} " +
                                  $"(not a live user with that key) since {claim.State.ClaimedAt:O}", [ownerId, claim.PersistenceId]));
        }
        return _problems;
    }

    private void CheckSequence(JournalRow row)
    {
        var last = _lastSequenceNr.GetValueOrDefault(row.PersistenceId);
        if (row.SequenceNr != last + 1)
            Problem(row, $"follows sequence number {last}: the sequence numbers are not contiguous");
        _lastSequenceNr[row.PersistenceId] = Math.Max(last, row.SequenceNr);
    }

    private void ApplyClaim(JournalRow row, ClaimKind kind, IClaimEvent e)
    {
        var key = e switch
        {
            KeyClaimed c => c.Key,
            KeyReleased r => r.Key,
            _ => throw new ArgumentException($"unknown claim event {e.GetType().Name}"),
        };
        var expected = ClaimIndexActor.PersistenceIdFor(kind, Keys.Digest(key));
        if (expected != row.PersistenceId)
        {
            Problem(row, $"claims '{key}', whose index entity is {expected}");
            return;
        }
        var claim = _claims.GetValueOrDefault(row.PersistenceId) ?? new Claim(row.PersistenceId, kind, key, ClaimState.Free);
        _claims[row.PersistenceId] = claim with { State = claim.State.Apply(e) };
    }

    private static ClaimKind? KindOf(string persistenceId) =>
        Enum.GetValues<ClaimKind>().Select(k => (ClaimKind?)k)
            .FirstOrDefault(k => persistenceId.StartsWith(ClaimIndexActor.PersistenceIdFor(k!.Value, ""), StringComparison.Ordinal));

    private void Problem(JournalRow row, string what) =>
        _problems.Add(new($"{row.PersistenceId} #{row.SequenceNr} (ordering {row.Ordering}) {what}", [IdOf(row.PersistenceId)]));

    /// <summary>The user id for a user's persistence id; the persistence id itself for the others.</summary>
    private static string IdOf(string persistenceId) =>
        persistenceId.StartsWith(UserActor.PersistenceIdPrefix, StringComparison.Ordinal) ? UserActor.UserIdOf(persistenceId) : persistenceId;

    private sealed record Claim(string PersistenceId, ClaimKind Kind, string Key, ClaimState State);
}
