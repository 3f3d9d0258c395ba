using AkkaUsers.ReadSide.Audit;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Cli;

/// <summary>Something wrong in the journal, and the user ids or persistence ids it concerns.</summary>
public sealed record VerifyProblem(string Message, IReadOnlyList<string> Ids);

/// <summary>
/// Replays the journal entity by entity (each persistence id's rows together, in sequence number order) through
/// the domain's pure state types, the same <see cref="UserState.Apply"/> and <see cref="ClaimState.Apply"/> the
/// entities recover with, keeping of each entity only what the checks across entities need. Then checks what must
/// hold between users and indexes: every row deserializes, no persistence id skips a sequence number, each username
/// and email belongs to exactly one live user, every index names the user that holds its key, and no claim of a user
/// who does not hold the key outlives the grace period (a registration still in flight may).
/// </summary>
public sealed class AuditVerifier(TimeSpan claimGracePeriod, DateTimeOffset now)
{
    /// <summary>Every live user's normalized username and email.</summary>
    private readonly Dictionary<string, (string Username, string Email)> _live = new();
    private readonly Dictionary<string, string> _liveUsernameSkeletons = new();
    /// <summary>Every index entity's claim, by its entity id (the key's <see cref="Keys.Digest"/>).</summary>
    private readonly Dictionary<(ClaimKind Kind, string EntityId), ClaimSummary> _claims = new();
    private readonly List<VerifyProblem> _problems = [];
    private Entity? _entity;

    public long Users { get; private set; }

    public long IndexEntities => _claims.Count;

    /// <summary>A row and what it holds: the decoded message, or why it does not decode.</summary>
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

    /// <summary>Applies one row; rows come entity by entity, each entity's in sequence number order.</summary>
    public void Add(DecodedRow decoded)
    {
        var row = decoded.Row;
        if (_entity?.PersistenceId != row.PersistenceId)
        {
            EndEntity();
            _entity = new Entity(row.PersistenceId, KindOf(row.PersistenceId));
        }
        var entity = _entity;
        // A deleted user's journal starts at its tombstone, and an index's after its last release: the events before
        // were erased on purpose.
        var erasedBefore = entity.SequenceNr == 0 && (decoded.Message is UserDeleted || entity.Kind is EntityKind.Username or EntityKind.Email);
        if (row.SequenceNr != entity.SequenceNr + 1 && !erasedBefore)
            Problem(row, $"follows sequence number {entity.SequenceNr}: the sequence numbers are not contiguous");
        entity.SequenceNr = row.SequenceNr;
        if (decoded.Failure is { } failure)
        {
            Problem(row, failure);
            return;
        }

        try
        {
            switch (decoded.Message, entity.Kind)
            {
                case (IUserEvent e, EntityKind.User):
                    entity.User = entity.User.Apply(e);
                    break;
                case (IClaimEvent e, EntityKind.Username or EntityKind.Email):
                    ApplyClaim(row, entity, e);
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
        EndEntity();
        foreach (var kind in Enum.GetValues<ClaimKind>())
        {
            var name = kind.ToString().ToLowerInvariant();
            var holders = new Dictionary<string, List<string>>();
            foreach (var (userId, keys) in _live)
            {
                var key = KeyOf(keys, kind);
                if (holders.TryGetValue(key, out var ids)) ids.Add(userId);
                else holders[key] = [userId];

                var owner = _claims.GetValueOrDefault((kind, Keys.Digest(key)))?.OwnerId;
                if (owner != userId)
                    _problems.Add(new($"user {userId}: the {name} index of '{key}' names {owner ?? "nobody"}",
                        owner is null ? [userId] : [userId, owner]));
            }
            foreach (var (key, ids) in holders.Where(h => h.Value.Count > 1))
            {
                ids.Sort(StringComparer.Ordinal);
                _problems.Add(new($"{name} '{key}' is held by {ids.Count} live users: {string.Join(", ", ids)}", ids));
            }
        }

        foreach (var ((kind, entityId), claim) in _claims)
        {
            if (claim.OwnerId is not { } ownerId) continue;
            var ownerHoldsKey = _live.TryGetValue(ownerId, out var keys) && Keys.Digest(KeyOf(keys, kind)) == entityId
                                || kind == ClaimKind.Username && _liveUsernameSkeletons.TryGetValue(ownerId, out var skeleton) && Keys.Digest(skeleton) == entityId;
            // Events written before claims held digests name the key; later ones only the entity does.
            var what = claim.Key is { } key ? $"'{key}'" : claim.PersistenceId;
            if (!ownerHoldsKey && now - claim.ClaimedAt > claimGracePeriod)
                _problems.Add(new($"orphaned {kind.ToString().ToLowerInvariant()} claim of {what} by {ownerId} " +
                                  $"(not a live user with that key) since {claim.ClaimedAt:O}", [ownerId, claim.PersistenceId]));
        }
        return _problems;
    }

    /// <summary>Keeps what the checks across entities need of the entity just replayed.</summary>
    private void EndEntity()
    {
        switch (_entity)
        {
            case { Kind: EntityKind.User } user:
                Users++;
                if (user.User is { Status: UserState.Lifecycle.Registered, Profile: { } profile })
                {
                    _live[UserActor.UserIdOf(user.PersistenceId)] = (Keys.Of(ClaimKind.Username, profile), Keys.Of(ClaimKind.Email, profile));
                    _liveUsernameSkeletons[UserActor.UserIdOf(user.PersistenceId)] = Keys.UsernameSkeleton(profile.Username);
                }
                break;
            case { Kind: EntityKind.Username or EntityKind.Email } claim:
                var kind = claim.Kind == EntityKind.Username ? ClaimKind.Username : ClaimKind.Email;
                _claims[(kind, ClaimIndexActor.EntityIdOf(claim.PersistenceId))] =
                    new ClaimSummary(claim.PersistenceId, claim.Claim.OwnerId, claim.Claim.ClaimedAt, claim.Key);
                break;
        }
    }

    private void ApplyClaim(JournalRow row, Entity entity, IClaimEvent e)
    {
        var key = e switch
        {
            KeyClaimed c => c.Key,
            KeyReleased r => r.Key,
            ClaimErased => null,
            _ => throw new ArgumentException($"unknown claim event {e.GetType().Name}"),
        };
        // The entity of a key is named by the key's digest; an older event that names another key does not belong here.
        if (key is not null)
        {
            if (Keys.Digest(key) != ClaimIndexActor.EntityIdOf(row.PersistenceId))
            {
                Problem(row, $"claims '{key}', which is not the key of this index entity");
                return;
            }
            entity.Key = key;
        }
        entity.Claim = entity.Claim.Apply(e);
    }

    private static EntityKind KindOf(string persistenceId) =>
        persistenceId.StartsWith(UserActor.PersistenceIdPrefix, StringComparison.Ordinal) ? EntityKind.User
        : ClaimIndexActor.KindOf(persistenceId) switch
        {
            ClaimKind.Username => EntityKind.Username,
            ClaimKind.Email => EntityKind.Email,
            _ => EntityKind.Unknown,
        };

    private static string KeyOf((string Username, string Email) keys, ClaimKind kind) =>
        kind == ClaimKind.Username ? keys.Username : keys.Email;

    private void Problem(JournalRow row, string what) =>
        _problems.Add(new($"{row.PersistenceId} #{row.SequenceNr} (ordering {row.Ordering}) {what}", [IdOf(row.PersistenceId)]));

    /// <summary>The user id for a user's persistence id; the persistence id itself for the others.</summary>
    private static string IdOf(string persistenceId) =>
        KindOf(persistenceId) == EntityKind.User ? UserActor.UserIdOf(persistenceId) : persistenceId;

    private enum EntityKind { Unknown, User, Username, Email }

    /// <summary>The entity being replayed: its last sequence number and its state so far.</summary>
    private sealed class Entity(string persistenceId, EntityKind kind)
    {
        public string PersistenceId { get; } = persistenceId;
        public EntityKind Kind { get; } = kind;
        public long SequenceNr { get; set; }
        public UserState User { get; set; } = UserState.Empty;
        public ClaimState Claim { get; set; } = ClaimState.Free;

        /// <summary>An index entity's key, once an event written before claims held digests showed it.</summary>
        public string? Key { get; set; }
    }

    private sealed record ClaimSummary(string PersistenceId, string? OwnerId, DateTimeOffset? ClaimedAt, string? Key);
}
