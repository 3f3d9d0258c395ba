using System.Text.Json.Serialization;

namespace AkkaUsers.Domain;

/// <summary>
/// Every message of the index entities (one per normalized username, one per normalized email):
/// a claim ties one key to one user id.
/// </summary>
public static class ClaimProtocol
{
    public interface IClaimMessage;

    /// <summary>Addressed to the index entity of one normalized key; sharding routes on <see cref="EntityId"/>.</summary>
    public interface IClaimCommand : IClaimMessage
    {
        /// <summary>The key's <see cref="Keys.Digest"/>.</summary>
        string EntityId { get; }
    }

    /// <summary>A command that names its normalized key.</summary>
    public interface IKeyCommand : IClaimCommand
    {
        string Key { get; }

        string IClaimCommand.EntityId => Keys.Digest(Key);
    }

    public interface IClaimEvent : IClaimMessage;

    public interface IClaimReply : IClaimMessage;

    // Commands

    public sealed record ClaimKey(string Key, string UserId) : IKeyCommand;

    /// <summary>Undo a claim whose registration did not go ahead; only the owner can release.</summary>
    public sealed record ReleaseKey(string Key, string UserId) : IKeyCommand;

    public sealed record LookupKey(string Key) : IKeyCommand;

    /// <summary>Leave memory now, as <see cref="UserProtocol.Unload"/> does for a user.</summary>
    public sealed record UnloadKey(string Key) : IKeyCommand;

    /// <summary>
    /// Release the key if <paramref name="UserId"/> still holds it past the grace period without being registered with
    /// it (a crash between a registration's claims and its UserRegistered); replies with <see cref="ClaimReviewed"/>.
    /// Addressed by entity id: whoever reviews a claim knows it from the journal, where the key is not.
    /// </summary>
    public sealed record ReviewClaim(string EntityId, string UserId) : IClaimCommand;

    // Events

    // A claim's events name the key only by its keyed digest (Keys.KeyedDigest), so that they hold no username or email.
    // Events written before that hold the key itself in Key, and KeyDigest null; they recover all the same.

    public sealed record KeyClaimed(string? KeyDigest, string UserId, DateTimeOffset At) : IClaimEvent
    {
        /// <summary>The normalized key in clear: only in events written before claims held a digest.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Key { get; init; }
    }

    public sealed record KeyReleased(string? KeyDigest, string UserId, DateTimeOffset At) : IClaimEvent
    {
        /// <summary>The normalized key in clear: only in events written before claims held a digest.</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Key { get; init; }
    }

    /// <summary>
    /// Written when a claim is released, just before every event of the entity is deleted. The journal keeps the newest
    /// deleted row (marked deleted, never replayed) to remember the highest sequence number, so that row must be this
    /// one, which names neither the key nor a user.
    /// </summary>
    public sealed record ClaimErased(DateTimeOffset At) : IClaimEvent;

    // Replies

    public sealed record ClaimGranted(string Key, string UserId) : IClaimReply;

    public sealed record ClaimRefused(string Key, string OwnerId) : IClaimReply;

    public sealed record KeyReleaseDone(string Key) : IClaimReply;

    /// <summary>The current owner of a key, or null when nobody holds it.</summary>
    public sealed record KeyOwner(string Key, string? UserId) : IClaimReply;

    /// <summary>
    /// The owner of the reviewed claim's key after the review, or null when nobody holds it; <paramref name="Released"/>
    /// when this review released it (a key found free was released by someone else, such as the loser of a race).
    /// </summary>
    public sealed record ClaimReviewed(string EntityId, string? UserId, bool Released = false) : IClaimReply;
}

public enum ClaimKind { Username, Email }
