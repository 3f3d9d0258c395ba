using System.Text.Json;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Domain;

/// <summary>What a command decides: the events to persist and the reply to send once they are persisted.</summary>
public sealed record UserDecision(IReadOnlyList<IUserEvent> Events, IUserReply Reply);

/// <summary>The state of one user entity, rebuilt only from its events. Every rule of the entity lives here.</summary>
public sealed record UserState
{
    public enum Lifecycle { New, Registered, Abandoned, Deleted }

    public static readonly UserState Empty = new();

    public Lifecycle Status { get; init; } = Lifecycle.New;
    public UserProfile? Profile { get; init; }
    public string? PasswordHash { get; init; }
    public DateTimeOffset? LastSignInAt { get; init; }
    public int SignInCount { get; init; }

    /// <summary>Tokens issued earlier than this are revoked; null while the password never changed.</summary>
    public DateTimeOffset? TokensValidFrom { get; init; }

    /// <summary>Times of the failed sign-ins since the last successful one (the latest <see cref="SignInPolicy.MaxRememberedFailures"/>).</summary>
    public IReadOnlyList<DateTimeOffset> RecentFailures { get; init; } = [];

    /// <summary>Lockouts since the last successful sign-in: each one lasts twice as long as the one before.</summary>
    public int Lockouts { get; init; }

    public DateTimeOffset? LockedUntil { get; init; }

    /// <summary>Set once the user is deleted: the tombstone and the steps done since.</summary>
    public UserDeletion? Deletion { get; init; }

    /// <summary>The SHA-256 (hex) of the one-time code that resets the password; null when there is none.</summary>
    public string? ResetCodeHash { get; init; }

    /// <summary>When <see cref="ResetCodeHash"/> stops working.</summary>
    public DateTimeOffset? ResetCodeExpiresAt { get; init; }

    public UserState Apply(IUserEvent @event) => @event switch
    {
        UserRegistered e => this with
        {
            Status = Lifecycle.Registered,
            PasswordHash = e.PasswordHash,
            Profile = new UserProfile(e.UserId, e.Username, IsActive: false, e.Email, e.Scope, e.Plan,
                e.Vendor is { } vendor ? JsonSerializer.SerializeToElement(vendor) : null, e.Metadata, e.At),
        },
        UserSignedIn e => this with { LastSignInAt = e.At, SignInCount = SignInCount + 1, RecentFailures = [], Lockouts = 0, LockedUntil = null },
        SignInFailed e => this with { RecentFailures = [.. RecentFailures.TakeLast(SignInPolicy.MaxRememberedFailures - 1), e.At] },
        SignInLockedOut e => this with { Lockouts = Lockouts + 1, LockedUntil = e.Until },
        PasswordRehashed e => this with { PasswordHash = e.PasswordHash },
        RegistrationAbandoned => this with { Status = Lifecycle.Abandoned },
        ScopeGranted e => Granted(e),
        UserUpdated e => this with { Profile = RegisteredProfile(e).With(e.Changes) },
        // Any new password voids a pending code: it works once, and a change or an admin's reset ends it too.
        PasswordChanged e => this with
        {
            PasswordHash = e.PasswordHash, TokensValidFrom = e.TokensValidFrom, ResetCodeHash = null, ResetCodeExpiresAt = null,
        },
        PasswordResetRequested e => this with { Profile = RegisteredProfile(e), ResetCodeHash = e.CodeHash, ResetCodeExpiresAt = e.ExpiresAt },
        // Nothing of the user survives the tombstone but the profile the deletion still has to release and erase.
        UserDeleted e => new UserState { Status = Lifecycle.Deleted, Deletion = new(e.Ticket, e.DeletedBy, e.At, [], Profile, null) },
        ErasureBoundary => this,
        DeletionStepDone e => this with { Deletion = DeletionOf(e).Done(e.Step) },
        DeletionFailed e => this with { Deletion = DeletionOf(e) with { FailedStep = e.Step } },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "unknown user event"),
    };

    private UserState Granted(ScopeGranted e)
    {
        var profile = RegisteredProfile(e);
        return this with { Profile = profile with { Scope = [.. profile.Scope, e.Scope] } };
    }

    private UserDeletion DeletionOf(IUserEvent e) =>
        Deletion ?? throw new InvalidOperationException($"{e.GetType().Name} of a user that is not deleted");

    /// <summary>A journal holds such an event only after the registration; replaying any other journal is an error.</summary>
    private UserProfile RegisteredProfile(IUserEvent e) =>
        Profile ?? throw new InvalidOperationException($"{e.GetType().Name} of a user that is not registered");

    /// <param name="signIn">When failed sign-ins lock the account; <see cref="SignInPolicy.Default"/> when null.</param>
    public UserDecision Decide(IUserCommand command, DateTimeOffset now, SignInPolicy? signIn = null) => command switch
    {
        RegisterUser c => DecideRegister(c, now),
        GetUser c => Reply(Profile is { } p ? new UserFound(p) : new UserNotFound(c.UserId)),
        GetSignInSecret c => Reply(Profile switch
        {
            null => new UserNotFound(c.UserId),
            _ when now < LockedUntil => new SignInLocked(c.UserId),
            var p => new SignInSecret(p, PasswordHash!),
        }),
        RecordSignIn c => DecideSignIn(c, now),
        RecordSignInFailed c => DecideSignInFailed(c, now, signIn ?? SignInPolicy.Default),
        AbandonIfUnregistered c => Status == Lifecycle.New
            ? Persist(new RegistrationStatus(c.UserId, null), new RegistrationAbandoned(now))
            : Reply(new RegistrationStatus(c.UserId, Profile)),
        GrantScope c => DecideGrant(c, now),
        ChangePassword c => DecideChangePassword(c, now),
        UpdateUser c when Profile is { } before => Persist(
            new UserUpdateDone(before, before.With(c.Changes)), new UserUpdated(c.Changes, c.ChangedBy, now)),
        UpdateUser c => Reply(new UserNotFound(c.UserId)),
        CheckToken c => Reply(new TokenChecked(c.UserId,
            Profile is { } user && Status != Lifecycle.Deleted && (TokensValidFrom is not { } from || c.IssuedAt >= from) ? user.Scope : null)),
        DeleteUser c => DecideDelete(c, now),
        RecordDeletionStep c when Deletion is { } d && d.Ticket == c.Ticket => d.StepsDone.Contains(c.Step)
            ? Reply(d.StatusOf(c.UserId))
            : Persist(d.Done(c.Step).StatusOf(c.UserId), new DeletionStepDone(c.Ticket, c.Step, now)),
        RecordDeletionFailed c when Deletion is { } d && d.Ticket == c.Ticket =>
            Persist((d with { FailedStep = c.Step }).StatusOf(c.UserId), new DeletionFailed(c.Ticket, c.Step, c.Reason, now)),
        GetDeletionStatus c when Deletion is { } d && d.Ticket == c.Ticket => Reply(d.StatusOf(c.UserId)),
        RecordDeletionStep or RecordDeletionFailed or GetDeletionStatus => Reply(new UserNotFound(command.UserId)),
        RequestPasswordReset c => DecideRequestPasswordReset(c, now),
        ResetPasswordWithCode c => DecideResetPasswordWithCode(c, now),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown user command"),
    };

    private UserDecision DecideRegister(RegisterUser c, DateTimeOffset now)
    {
        switch (Status)
        {
            case Lifecycle.New:
                var registered = new UserRegistered(
                    c.UserId, c.Username, c.Email, c.PasswordHash, c.Scope, c.Plan, c.Vendor, c.Metadata, now);
                return Persist(new UserFound(Apply(registered).Profile!), registered);
            // A retry of the same registration (its reply was lost) is answered again, not refused.
            case Lifecycle.Registered when PasswordHash == c.PasswordHash && Profile!.Email == c.Email && Profile.Username == c.Username:
                return Reply(new UserFound(Profile));
            case Lifecycle.Registered:
                return Reply(new RegistrationRefused(c.UserId, "the user id is already registered"));
            case Lifecycle.Deleted:
                return Reply(new RegistrationRefused(c.UserId, "the user was deleted"));
            default:
                return Reply(new RegistrationRefused(c.UserId, "the registration was abandoned"));
        }
    }

    private UserDecision DecideSignIn(RecordSignIn c, DateTimeOffset now)
    {
        if (Profile is null) return Reply(new UserNotFound(c.UserId));
        if (PasswordHash != c.VerifiedHash) return Reply(new SignInRefused(c.UserId));

        var signedIn = new UserSignedIn(now, c.ClientAddress, c.UserAgent);
        var reply = new SignedIn(Profile, TokensValidFrom);
        return c.Rehashed is { } rehashed
            ? Persist(reply, signedIn, new PasswordRehashed(rehashed, now))
            : Persist(reply, signedIn);
    }

    /// <summary>
    /// Tokens carry their issue time in whole seconds, so "issued before the change" is decided at that grain: every
    /// token of the change's second or earlier is revoked, and tokens minted afterwards carry the next whole second
    /// (at most one second ahead of the clock) as their issue time.
    /// </summary>
    private UserDecision DecideChangePassword(ChangePassword c, DateTimeOffset now)
    {
        if (Profile is null) return Reply(new UserNotFound(c.UserId));
        if (c.VerifiedHash is { } verified && verified != PasswordHash) return Reply(new SignInRefused(c.UserId));

        var validFrom = WholeSecondAfter(now);
        return Persist(new SignedIn(Profile, validFrom), new PasswordChanged(c.NewPasswordHash, c.ChangedBy, now, validFrom));
    }

    /// <summary>
    /// A request issues a new code that replaces the pending one, valid for <see cref="ResetCode.Lifetime"/>; but not
    /// within <see cref="ResetCode.MinInterval"/> of the pending one's issue.
    /// </summary>
    private UserDecision DecideRequestPasswordReset(RequestPasswordReset c, DateTimeOffset now)
    {
        if (Profile is null) return Reply(new UserNotFound(c.UserId));
        if (ResetCodeHash is not null && ResetCodeExpiresAt - ResetCode.Lifetime + ResetCode.MinInterval > now)
            return Reply(new PasswordResetThrottled(c.UserId));

        var requested = new PasswordResetRequested(c.CodeHash, now, now + ResetCode.Lifetime);
        return Persist(new PasswordResetIssued(Profile, requested.At, requested.ExpiresAt), requested);
    }

    /// <summary>
    /// The pending code, before it expires, sets the password exactly as a change does (tokens issued until now are
    /// revoked); applying the <see cref="PasswordChanged"/> voids the code, so it works once.
    /// </summary>
    private UserDecision DecideResetPasswordWithCode(ResetPasswordWithCode c, DateTimeOffset now)
    {
        // A repeat of the reset that set this very hash (its answer was lost) is answered again; salted hashes never repeat.
        if (Profile is not null && ResetCodeHash is null && PasswordHash == c.NewPasswordHash)
            return Reply(new SignedIn(Profile, TokensValidFrom));
        if (Profile is null || ResetCodeHash is not { } pending || !(now < ResetCodeExpiresAt) || !ResetCode.HashesEqual(pending, c.CodeHash))
            return Reply(new PasswordResetRefused(c.UserId));

        var validFrom = WholeSecondAfter(now);
        return Persist(new SignedIn(Profile, validFrom), new PasswordChanged(c.NewPasswordHash, ResetCode.ChangedBy, now, validFrom));
    }

    private static DateTimeOffset WholeSecondAfter(DateTimeOffset time) =>
        DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds() + 1);

    /// <summary>
    /// The failure is recorded; when it makes <see cref="SignInPolicy.MaxFailures"/> within the window, the account locks
    /// (unless it is locked already: failures of attempts verified before the lockout do not lengthen it).
    /// </summary>
    private UserDecision DecideSignInFailed(RecordSignInFailed c, DateTimeOffset now, SignInPolicy policy)
    {
        if (Profile is null) return Reply(new UserNotFound(c.UserId));

        var failed = new SignInFailed(now, c.ClientAddress, c.UserAgent);
        var failures = RecentFailures.Count(at => at > now - policy.Window) + 1;
        if (failures < policy.MaxFailures || now < LockedUntil) return Persist(new SignInFailureRecorded(c.UserId), failed);

        var lockedOut = new SignInLockedOut(now, now + policy.LockoutAfter(Lockouts), failures);
        return Persist(new SignInFailureRecorded(c.UserId), failed, lockedOut);
    }

    /// <summary>
    /// A registered user gets its tombstone. An unfinished deletion asked for again answers its own ticket and the steps
    /// done, so that the caller runs the rest (every step is safe to repeat); a finished one is a user not found.
    /// </summary>
    private UserDecision DecideDelete(DeleteUser c, DateTimeOffset now)
    {
        if (Profile is { } profile)
            return Persist(new DeletionStarted(c.UserId, c.Ticket, profile, []), new ErasureBoundary(now), new UserDeleted(c.Ticket, c.DeletedBy, now));
        return Deletion is { Completed: false } d
            ? Reply(new DeletionStarted(c.UserId, d.Ticket, d.Erasing, d.StepsDone))
            : Reply(new UserNotFound(c.UserId));
    }

    /// <summary>Granting a scope the user already has changes nothing, so a repeated grant records nothing.</summary>
    private UserDecision DecideGrant(GrantScope c, DateTimeOffset now)
    {
        if (Profile is null) return Reply(new UserNotFound(c.UserId));
        if (Profile.Scope.Contains(c.Scope, StringComparer.Ordinal)) return Reply(new UserFound(Profile));

        var granted = new ScopeGranted(c.Scope, c.GrantedBy, now);
        return Persist(new UserFound(Apply(granted).Profile!), granted);
    }

    private static UserDecision Reply(IUserReply reply) => new([], reply);

    private static UserDecision Persist(IUserReply reply, params IUserEvent[] events) => new(events, reply);
}

/// <summary>
/// A deleted user's deletion: its ticket, the steps done after the tombstone, and the profile it still has to release and
/// erase (<paramref name="Erasing"/>, null once the history is erased, or when the journal starts at the tombstone).
/// </summary>
public sealed record UserDeletion(
    string Ticket, string DeletedBy, DateTimeOffset At, IReadOnlyList<string> StepsDone, UserProfile? Erasing, string? FailedStep)
{
    public bool Completed => StepsDone.Contains(DeletionSteps.HistoryErased);

    public UserDeletion Done(string step) => this with
    {
        StepsDone = [.. StepsDone, step],
        Erasing = step == DeletionSteps.HistoryErased ? null : Erasing,
        FailedStep = null,
    };

    public UserProtocol.DeletionStatus StatusOf(string userId) => new(
        userId, Ticket,
        Completed ? DeletionProgress.Completed : FailedStep is null ? DeletionProgress.InProgress : DeletionProgress.Failed,
        StepsDone.Count + 1, DeletionSteps.Total);
}
