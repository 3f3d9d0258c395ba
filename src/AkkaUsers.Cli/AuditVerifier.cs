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
    private static readonly (ClaimKind Kind, string Prefix)[] ClaimPrefixes =
        Enum.GetValues<ClaimKind>().Select(k => (k, ClaimIndexActor.PersistenceIdFor(k, ""))).ToArray();

    private readonly Dictionary<string, UserState> _users = new();
    private readonly Dictionary<(ClaimKind Kind, string Key), Claim> _claims = new();
    private readonly List<VerifyProblem> _problems = [];

    public long Users => _users.Count;

    public long IndexEntities => _claims.Count;

    /// <summary>A row and what it holds: the decoded message, or why it does not decode. Needs no state, so it can run ahead on another thread.</summary>
    public sealed record DecodedRow(JournalRow Row, object? Message, string? Failure);

    public static DecodedRow Decode(JournalRow row)
    {
        if (row.SerializerId != AkkaUsersSerializer.Id || row.Manifest is null)
            return new(row, null, $"is not written by the service's serializer (serializer {row.SerializerId}, manifest '{row.Manifest}')");
        try
        {
            return new(row, AkkaUsersSerializer.Decode(row.Message, row.Manifest), null);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or System.Runtime.Serialization.SerializationException or NotSupportedException)
        {
            return new(row, null, $"does not deserialize as '{row.Manifest}': {e.Message}");
        }
    }

    /// <summary>Applies one row, in journal order.</summary>
    public void Add(DecodedRow decoded)
    {
        var row = decoded.Row;
        if (decoded.Failure is { } failure)
        {
            Problem(row, failure);
            return;
        }

        try
        {
            switch (decoded.Message)
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
        // Each live user's normalized keys, computed once.
        var live = _users.Where(u => u.Value.Status == UserState.Lifecycle.Registered)
            .ToDictionary(u => u.Key, u => new Dictionary<ClaimKind, string>
            {
                [ClaimKind.Username] = Keys.Of(ClaimKind.Username, u.Value.Profile!),
                [ClaimKind.Email] = Keys.Of(ClaimKind.Email, u.Value.Profile!),
            });

        foreach (var kind in Enum.GetValues<ClaimKind>())
        {
            var name = kind.ToString().ToLowerInvariant();
            foreach (var holders in live.GroupBy(u => u.Value[kind]).Where(g => g.Count() > 1))
            {
                var ids = holders.Select(u => u.Key).Order().ToList();
                _problems.Add(new($"{name} '{holders.Key}' is held by {ids.Count} live users: {string.Join(", ", ids)}", ids));
            }

            foreach (var (userId, keys) in live)
            {
                var owner = _claims.GetValueOrDefault((kind, keys[kind]))?.State.OwnerId;
                if (owner != userId)
                    _problems.Add(new($"user {userId}: the {name} index of '{keys[kind]}' names {owner ?? "nobody"}",
                        owner is null ? [userId] : [userId, owner]));
            }
        }

        foreach (var claim in _claims.Values.Where(c => c.State.OwnerId is not null))
        {
            var ownerId = claim.State.OwnerId!;
            var ownerHoldsKey = live.TryGetValue(ownerId, out var keys) && keys[claim.Kind] == claim.Key;
            if (!ownerHoldsKey && now - claim.State.ClaimedAt > claimGracePeriod)
                _problems.Add(new($"orphaned {claim.Kind.ToString().ToLowerInvariant()} claim of '{claim.Key}' by {ownerId} " +
                                  $"(not a live user with that key) since {claim.State.ClaimedAt:O}", [ownerId, claim.PersistenceId]));
        }
        return _problems;
    }

    /// <summary>A persistence id that skips sequence numbers (found by a query, not by the replay: see <see cref="JournalReader.SequenceGapsAsync"/>).</summary>
    public void Add(SequenceGap gap) =>
        _problems.Add(new($"{gap.PersistenceId} has {gap.Count} events numbered {gap.First}..{gap.Last}: the sequence numbers are not contiguous",
            [IdOf(gap.PersistenceId)]));

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
        var state = _claims.TryGetValue((kind, key), out var claim) ? claim.State.Apply(e) : ClaimState.Free.Apply(e);
        if (claim is null) _claims[(kind, key)] = claim = new Claim(row.PersistenceId, kind, key);
        claim.State = state;
    }

    private static ClaimKind? KindOf(string persistenceId)
    {
        foreach (var (kind, prefix) in ClaimPrefixes)
            if (persistenceId.StartsWith(prefix, StringComparison.Ordinal)) return kind;
        return null;
    }

    private void Problem(JournalRow row, string what) =>
        _problems.Add(new($"{row.PersistenceId} #{row.SequenceNr} (ordering {row.Ordering}) {what}", [IdOf(row.PersistenceId)]));

    /// <summary>The user id for a user's persistence id; the persistence id itself for the others.</summary>
    private static string IdOf(string persistenceId) =>
        persistenceId.StartsWith(UserActor.PersistenceIdPrefix, StringComparison.Ordinal) ? UserActor.UserIdOf(persistenceId) : persistenceId;

    /// <summary>One index entity's replayed state (mutable: it is replaced on every event of that entity).</summary>
    private sealed class Claim(string persistenceId, ClaimKind kind, string key)
    {
        public string PersistenceId { get; } = persistenceId;
        public ClaimKind Kind { get; } = kind;
        public string Key { get; } = key;
        public ClaimState State { get; set; } = ClaimState.Free;
    }
}
