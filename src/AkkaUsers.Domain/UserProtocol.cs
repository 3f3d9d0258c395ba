using System.Text.Json;

namespace AkkaUsers.Domain;

/// <summary>Every message of the user entity: what it is asked, what it records, what it answers.</summary>
public static class UserProtocol
{
    public interface IUserMessage;

    /// <summary>Addressed to one user entity; sharding routes on <see cref="UserId"/>.</summary>
    public interface IUserCommand : IUserMessage
    {
        string UserId { get; }
    }

    public interface IUserEvent : IUserMessage;

    public interface IUserReply : IUserMessage;

    // Commands

    /// <summary>Create the account. Sent only after both the username and the email are claimed for this id.</summary>
    public sealed record RegisterUser(
        string UserId, string Username, string Email, string PasswordHash,
        IReadOnlyList<string> Scope, string Plan, string? Vendor, JsonElement? Metadata) : IUserCommand;

    /// <summary>
    /// Create the account of a user moved over from another system, with its id, its password hash in
    /// <paramref name="Format"/> (see <c>ImportedHashes</c>) and its creation time. Sent only after both the username
    /// and the email are claimed for this id; the same user imported again is answered <see cref="AlreadyImported"/>.
    /// </summary>
    public sealed record ImportUser(
        string UserId, string Username, string Email, string PasswordHash, string Format,
        IReadOnlyList<string> Scope, string Plan, JsonElement? Vendor, JsonElement? Metadata, bool IsActive,
        DateTimeOffset Created) : IUserCommand;

    public sealed record GetUser(string UserId) : IUserCommand;

    /// <summary>
    /// Leave memory now rather than after the idle time-out (the journal keeps everything; the next command starts the
    /// entity again): sent once a bulk import is done with the user, so that memory stays flat however many it moves.
    /// </summary>
    public sealed record Unload(string UserId) : IUserCommand;

    /// <summary>
    /// Hand back the stored hash so that the caller verifies the password off the actor, unless the account is locked
    /// out for <paramref name="ClientAddress"/> (see <see cref="SignInPolicy"/>).
    /// </summary>
    public sealed record GetSignInSecret(string UserId, string? ClientAddress = null) : IUserCommand;

    /// <summary>
    /// A password was verified against <paramref name="VerifiedHash"/>. Recorded only while that hash
    /// is still the current one; <paramref name="Rehashed"/> replaces it when the hashing parameters changed.
    /// </summary>
    public sealed record RecordSignIn(
        string UserId, string VerifiedHash, string? ClientAddress, string? UserAgent, string? Rehashed) : IUserCommand;

    /// <summary>A password did not match this user's: recorded, and the account locks after too many (see <see cref="SignInPolicy"/>).</summary>
    public sealed record RecordSignInFailed(string UserId, string? ClientAddress, string? UserAgent) : IUserCommand;

    /// <summary>
    /// From an index whose claim for this id has outlived its grace period: if the user never got
    /// registered, the id is retired for good so the claim can be released safely.
    /// </summary>
    public sealed record AbandonIfUnregistered(string UserId) : IUserCommand;

    /// <summary>
    /// Add <paramref name="Scope"/> (e.g. "admin") to the user's scopes; <paramref name="GrantedBy"/> names who
    /// asked (an admin's id, "bootstrap", "cli") and is kept in the event for the audit trail.
    /// </summary>
    public sealed record GrantScope(string UserId, string Scope, string GrantedBy) : IUserCommand;

    /// <summary>
    /// Replace the password hash and revoke every token issued so far. <paramref name="VerifiedHash"/> is the hash
    /// the old password was verified against (the change counts only while it is still current); null when no old
    /// password is asked for (an admin's reset). <paramref name="ChangedBy"/> names who changed it, for the audit trail.
    /// </summary>
    public sealed record ChangePassword(string UserId, string? VerifiedHash, string NewPasswordHash, string ChangedBy) : IUserCommand;

    /// <summary>
    /// An admin's edit. A new email must already be claimed for this user; the old one is released by the caller
    /// only after the change is persisted.
    /// </summary>
    public sealed record UpdateUser(string UserId, UserChanges Changes, string ChangedBy) : IUserCommand;

    /// <summary>Is a token of this user issued at <paramref name="IssuedAt"/> still good? Asked on every authenticated request.</summary>
    public sealed record CheckToken(string UserId, DateTimeOffset IssuedAt) : IUserCommand;

    /// <summary>
    /// An admin's deletion, tracked under <paramref name="Ticket"/>: persists the tombstone. Asked again while the
    /// deletion is unfinished, it answers the same ticket, so that the steps left are run again.
    /// </summary>
    public sealed record DeleteUser(string UserId, string Ticket, string DeletedBy) : IUserCommand;

    /// <summary>A step of the deletion <paramref name="Ticket"/> is done (see <see cref="DeletionSteps"/>); recorded once.</summary>
    public sealed record RecordDeletionStep(string UserId, string Ticket, string Step) : IUserCommand;

    /// <summary>
    /// The last step of a deletion: the entity deletes every event before its tombstone, and its snapshots, from the
    /// journal, then records <see cref="DeletionSteps.HistoryErased"/>.
    /// </summary>
    public sealed record EraseHistory(string UserId, string Ticket) : IUserCommand;

    public sealed record RecordDeletionFailed(string UserId, string Ticket, string Step, string Reason) : IUserCommand;

    public sealed record GetDeletionStatus(string UserId, string Ticket) : IUserCommand;

    /// <summary>
    /// A forgotten password: remember <paramref name="CodeHash"/> (see <see cref="ResetCode.Hash"/>) as the one code
    /// that resets the password, for <see cref="ResetCode.Lifetime"/>; it replaces any earlier code. The code itself
    /// never reaches the entity.
    /// </summary>
    public sealed record RequestPasswordReset(string UserId, string CodeHash) : IUserCommand;

    /// <summary>Set the password to <paramref name="NewPasswordHash"/> if <paramref name="CodeHash"/> is the hash of the pending, unexpired code.</summary>
    public sealed record ResetPasswordWithCode(string UserId, string CodeHash, string NewPasswordHash) : IUserCommand;

    // Events (the journal: never rename a manifest, only add)

    public sealed record UserRegistered(
        string UserId, string Username, string Email, string PasswordHash,
        IReadOnlyList<string> Scope, string Plan, string? Vendor, JsonElement? Metadata,
        DateTimeOffset At) : IUserEvent;

    /// <summary>
    /// The user's first event when it was moved over from another system: its profile as it was there (its
    /// <paramref name="Created"/> time included) and its password hash, in <paramref name="Format"/>, until the first
    /// sign-in replaces it with the service's own (<see cref="PasswordRehashed"/>).
    /// </summary>
    public sealed record UserImported(
        string UserId, string Username, string Email, string PasswordHash, string Format,
        IReadOnlyList<string> Scope, string Plan, JsonElement? Vendor, JsonElement? Metadata, bool IsActive,
        DateTimeOffset Created, DateTimeOffset At) : IUserEvent;

    public sealed record UserSignedIn(DateTimeOffset At, string? ClientAddress, string? UserAgent) : IUserEvent;

    public sealed record UserUpdated(UserChanges Changes, string ChangedBy, DateTimeOffset At) : IUserEvent;

    public sealed record SignInFailed(DateTimeOffset At, string? ClientAddress, string? UserAgent) : IUserEvent;

    /// <summary>
    /// <paramref name="Failures"/> failed sign-ins from every address within the policy's window (the account-wide
    /// backstop): sign-in is refused from every address, without looking at the password, until <paramref name="Until"/>.
    /// </summary>
    public sealed record SignInLockedOut(DateTimeOffset At, DateTimeOffset Until, int Failures) : IUserEvent;

    /// <summary>
    /// <paramref name="Failures"/> failed sign-ins from <paramref name="Address"/> (a <see cref="SignInPolicy.AddressKey"/>)
    /// within the policy's window: sign-in from that address is refused, without looking at the password, until
    /// <paramref name="Until"/>; other addresses are not affected.
    /// </summary>
    public sealed record SignInAddressLockedOut(DateTimeOffset At, DateTimeOffset Until, int Failures, string Address) : IUserEvent;

    public sealed record PasswordRehashed(string PasswordHash, DateTimeOffset At) : IUserEvent;

    public sealed record RegistrationAbandoned(DateTimeOffset At) : IUserEvent;

    public sealed record ScopeGranted(string Scope, string GrantedBy, DateTimeOffset At) : IUserEvent;

    /// <summary>
    /// Tokens issued before <paramref name="TokensValidFrom"/> stop working: the whole second after <paramref name="At"/>,
    /// or a second past the previous change's, whichever is later.
    /// </summary>
    public sealed record PasswordChanged(string PasswordHash, string ChangedBy, DateTimeOffset At, DateTimeOffset TokensValidFrom) : IUserEvent;

    /// <summary>
    /// The tombstone: the user is gone (404, every token 401, the username and email free again). It holds no personal
    /// data, and every event before it is deleted from the journal as the deletion's last step.
    /// </summary>
    public sealed record UserDeleted(string Ticket, string DeletedBy, DateTimeOffset At) : IUserEvent;

    /// <summary>
    /// Written with the tombstone, just before it, and erased with the history: the journal keeps the newest erased
    /// row (marked deleted, never replayed) to remember the highest sequence number, so that row must be this one,
    /// which holds nothing about the user.
    /// </summary>
    public sealed record ErasureBoundary(DateTimeOffset At) : IUserEvent;

    public sealed record DeletionStepDone(string Ticket, string Step, DateTimeOffset At) : IUserEvent;

    /// <summary>A step failed; the deletion reports "failed" until it is asked for again (DELETE resumes it).</summary>
    public sealed record DeletionFailed(string Ticket, string Step, string Reason, DateTimeOffset At) : IUserEvent;

    /// <summary>A one-time code was issued: the SHA-256 of it resets the password until <paramref name="ExpiresAt"/>, once.</summary>
    public sealed record PasswordResetRequested(string CodeHash, DateTimeOffset At, DateTimeOffset ExpiresAt) : IUserEvent;

    // Replies

    public sealed record UserFound(UserProfile User) : IUserReply;

    /// <summary>The user before and after an update, so that the caller releases the email the user no longer holds.</summary>
    public sealed record UserUpdateDone(UserProfile Before, UserProfile After) : IUserReply;

    public sealed record UserNotFound(string UserId) : IUserReply;

    public sealed record SignInSecret(UserProfile User, string PasswordHash) : IUserReply;

    /// <summary>Instead of <see cref="SignInSecret"/> while the account is locked out: there is nothing to verify against.</summary>
    public sealed record SignInLocked(string UserId) : IUserReply;

    public sealed record SignInFailureRecorded(string UserId) : IUserReply;

    /// <summary>
    /// The user is signed in (after a sign-in or a password change): a token minted for it must carry an issue time
    /// no earlier than <paramref name="TokensValidFrom"/>, or it would be born revoked.
    /// </summary>
    public sealed record SignedIn(UserProfile User, DateTimeOffset? TokensValidFrom) : IUserReply;

    /// <summary>
    /// The scope a token is authorised with: the user's current scope, never the token's own. Null when the token is
    /// revoked, or names nobody or a deleted user.
    /// </summary>
    public sealed record TokenChecked(string UserId, IReadOnlyList<string>? Scope) : IUserReply;

    /// <summary>The registration cannot happen: the id is taken by other data, or was abandoned.</summary>
    public sealed record RegistrationRefused(string UserId, string Reason) : IUserReply;

    /// <summary>The same user (id, username and email) was imported before: nothing is recorded again.</summary>
    public sealed record AlreadyImported(UserProfile User) : IUserReply;

    /// <summary>
    /// The import cannot happen: the id is another user's (<paramref name="Holder"/>, whose username and email stay
    /// theirs), or was deleted or abandoned (no holder).
    /// </summary>
    public sealed record ImportRefused(string UserId, string Reason, UserProfile? Holder) : IUserReply;

    /// <summary>The password changed between verification and recording: the sign-in (or the change) does not count.</summary>
    public sealed record SignInRefused(string UserId) : IUserReply;

    /// <summary>
    /// The deletion <paramref name="Ticket"/> runs: <paramref name="User"/> is the deleted profile (null once the history
    /// is erased), so that its username and email can be released; <paramref name="StepsDone"/> are the steps already done.
    /// </summary>
    public sealed record DeletionStarted(string UserId, string Ticket, UserProfile? User, IReadOnlyList<string> StepsDone) : IUserReply;

    public sealed record DeletionStatus(string UserId, string Ticket, DeletionProgress Progress, int StepsDone, int StepsTotal) : IUserReply;

    /// <summary>The code of <see cref="RequestPasswordReset"/> is the user's pending one from <paramref name="At"/> until <paramref name="ExpiresAt"/>.</summary>
    public sealed record PasswordResetIssued(UserProfile User, DateTimeOffset At, DateTimeOffset ExpiresAt) : IUserReply;

    /// <summary>No new code: the pending one was issued less than <see cref="ResetCode.MinInterval"/> ago, and stays.</summary>
    public sealed record PasswordResetThrottled(string UserId) : IUserReply;

    /// <summary>
    /// <see cref="ResetPasswordWithCode"/> changed nothing: the code is unknown, used, replaced or expired, or the user does
    /// not exist. One answer for all, so that it tells nothing.
    /// </summary>
    public sealed record PasswordResetRefused(string UserId) : IUserReply;

    /// <summary>Answer to <see cref="AbandonIfUnregistered"/>: the live user, or null if the id is (now) abandoned.</summary>
    public sealed record RegistrationStatus(string UserId, UserProfile? User) : IUserReply;
}

public enum DeletionProgress { InProgress, Completed, Failed }

/// <summary>The steps of a deletion after its tombstone, in the order they run; the tombstone is the first step of the count.</summary>
public static class DeletionSteps
{
    public const string UsernameReleased = "username-released";
    public const string EmailReleased = "email-released";
    public const string HistoryErased = "history-erased";

    public static readonly IReadOnlyList<string> AfterTombstone = [UsernameReleased, EmailReleased, HistoryErased];

    public static int Total => AfterTombstone.Count + 1;
}

/// <summary>The user object of the HTTP contract. <paramref name="Vendor"/> is a string or an array of strings, as the client gave it.</summary>
public sealed record UserProfile(
    string Id, string Username, bool IsActive, string Email,
    IReadOnlyList<string> Scope, string Plan, JsonElement? Vendor, JsonElement? Metadata, DateTimeOffset Created)
{
    /// <summary>Each field that is set replaces the profile's; the others stay as they are.</summary>
    public UserProfile With(UserChanges changes) => this with
    {
        Scope = changes.Scope ?? Scope,
        Vendor = changes.Vendor ?? Vendor,
        Metadata = changes.Metadata ?? Metadata,
        Email = changes.Email ?? Email,
        IsActive = changes.IsActive ?? IsActive,
        Plan = changes.Plan ?? Plan,
    };
}

/// <summary>An admin's edit of a user: only the fields that are set change (the email already normalized).</summary>
public sealed record UserChanges(
    IReadOnlyList<string>? Scope = null, JsonElement? Vendor = null, JsonElement? Metadata = null,
    string? Email = null, bool? IsActive = null, string? Plan = null);
