namespace AkkaUsers.Domain;

/// <summary>
/// Every message of the index entities (one per normalized username, one per normalized email):
/// a claim ties one key to one user id.
/// </summary>
public static class ClaimProtocol
{
    public interface IClaimMessage;

    /// <summary>Addressed to the index entity of one normalized key; sharding routes on its digest.</summary>
    public interface IClaimCommand : IClaimMessage
    {
        string Key { get; }
    }

    public interface IClaimEvent : IClaimMessage;

    public interface IClaimReply : IClaimMessage;

    // Commands

    public sealed record ClaimKey(string Key, string UserId) : IClaimCommand;

    /// <summary>Undo a claim whose registration did not go ahead; only the owner can release.</summary>
    public sealed record ReleaseKey(string Key, string UserId) : IClaimCommand;

    public sealed record LookupKey(string Key) : IClaimCommand;

    /// <summary>
    /// Release the key if <paramref name="UserId"/> still holds it past the grace period without being registered with
    /// it (a crash between a registration's claims and its UserRegistered); replies with the <see cref="KeyOwner"/> after.
    /// </summary>
    public sealed record ReviewClaim(string Key, string UserId) : IClaimCommand;

    // Events

    public sealed record KeyClaimed(string Key, string UserId, DateTimeOffset At) : IClaimEvent;

    public sealed record KeyReleased(string Key, string UserId, DateTimeOffset At) : IClaimEvent;

    // Replies

    public sealed record ClaimGranted(string Key, string UserId) : IClaimReply;

    public sealed record ClaimRefused(string Key, string OwnerId) : IClaimReply;

    public sealed record KeyReleaseDone(string Key) : IClaimReply;

    /// <summary>The current owner of a key, or null when nobody holds it.</summary>
    public sealed record KeyOwner(string Key, string? UserId) : IClaimReply;
}

public enum ClaimKind { Username, Email }
