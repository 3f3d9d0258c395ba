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

    /// <summary>
    /// Times of the failed sign-ins from every address since the last successful one (the latest
    /// <see cref="SignInPolicy.MaxRememberedFailures"/>): the account-wide count behind <see cref="SignInPolicy.AccountMaxFailures"/>.
    /// </summary>
    public IReadOnlyList<DateTimeOffset> RecentFailures { get; init; } = [];

    /// <summary>Account-wide lockouts since the last successful sign-in: each one lasts twice as long as the one before.</summary>
    public int Lockouts { get; init; }

    /// <summary>Until when sign-in is refused from every address (the account-wide backstop).</summary>
    public DateTimeOffset? LockedUntil { get; init; }

    /// <summary>
    /// The failures and lockouts of each client address (see <see cref="SignInPolicy.AddressKey"/>), the least recently
    /// failing first; at most <see cref="SignInPolicy.MaxTrackedAddresses"/>, so a stranger's many addresses cannot grow it.
    /// </summary>
    public IReadOnlyList<AddressFailures> FailingAddresses { get; init; } = [];

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
        UserImported e => this with
        {
            Status = Lifecycle.Registered,
            PasswordHash = e.PasswordHash,
            Profile = new UserProfile(e.UserId, e.Username, e.IsActive, e.Email, e.Scope, e.Plan, e.Vendor, e.Metadata, e.Created),
        },
        // A success resets its own address and the account-wide schedule; other addresses stay locked out.
        UserSignedIn e => this with
        {
            LastSignInAt = e.At, SignInCount = SignInCount + 1, RecentFailures = [], Lockouts = 0, LockedUntil = null,
            FailingAddresses = [.. FailingAddresses.Where(a => a.Address != SignInPolicy.AddressKey(e.ClientAddress))],
        },
        SignInFailed e => this with
        {
            RecentFailures = [.. RecentFailures.TakeLast(SignInPolicy.MaxRememberedFailures - 1), e.At],
            FailingAddresses = WithAddress(SignInPolicy.AddressKey(e.ClientAddress), a => a.Failed(e.At)),
        },
        SignInLockedOut e => this with { Lockouts = Lockouts + 1, LockedUntil = e.Until },
        SignInAddressLockedOut e => this with { FailingAddresses = WithAddress(e.Address, a => a.LockedOut(e.Until)) },
        PasswordRehashed e => this with { PasswordHash = e.PasswordHash },
        RegistrationAbandoned => this with { Status = Lifecycle.Abandoned },
        ScopeGranted e => Granted(e),
        UserUpdated e => this with { Profile = RegisteredProfile(e).With(e.Changes) },
        // Any new password voids a pending code: it works once, and a change or an admin's reset ends it too. It also
        // ends every lockout: the guesses were against the old password.
        PasswordChanged e => this with
        {
            PasswordHash = e.PasswordHash, TokensValidFrom = e.TokensValidFrom, ResetCodeHash = null, ResetCodeExpiresAt = null,
            RecentFailures = [], Lockouts = 0, LockedUntil = null, FailingAddresses = [],
        },
        PasswordResetRequested e => this with { Profile = RegisteredProfile(e), ResetCodeHash = e.CodeHash, ResetCodeExpiresAt = e.ExpiresAt },
        // Nothing of the user survives the tombstone but the profile the deletion still has to release and erase.
        UserDeleted e => new UserState { Status = Lifecycle.Deleted, Deletion = new(e.Ticket, e.DeletedBy, e.At, [], Profile, null) },
        ErasureBoundary => this,
        DeletionStepDone e => this with { Deletion = DeletionOf(e).Done(e.Step) },
        DeletionFailed e => this with { Deletion = DeletionOf(e) with { FailedStep = e.Step } },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name, "unknown user event"),
    };

    /// <summary>
    /// <see cref="FailingAddresses"/> with <paramref name="address"/>'s entry changed and moved last (the most recent);
    /// past the cap, the entry whose last failure or lockout ended longest ago is forgotten.
    /// </summary>
    private IReadOnlyList<AddressFailures> WithAddress(string address, Func<AddressFailures, AddressFailures> change)
    {
        var entry = change(FailingAddresses.FirstOrDefault(a => a.Address == address) ?? new AddressFailures(address, [], 0, null));
        List<AddressFailures> addresses = [.. FailingAddresses.Where(a => a.Address != address), entry];
        if (addresses.Count > SignInPolicy.MaxTrackedAddresses) addresses.Remove(addresses.MinBy(a => a.LastRelevant())!);
        return addresses;
    }

    /// <summary>The failures and lockout of <paramref name="address"/>, or null when it has none.</summary>
    private AddressFailures? FailuresOf(string address) => FailingAddresses.FirstOrDefault(a => a.Address == address);

    private bool IsLockedOut(string? clientAddress, DateTimeOffset now) =>
        now < LockedUntil || now < FailuresOf(SignInPolicy.AddressKey(clientAddress))?.LockedUntil;

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
        ImportUser c => DecideImport(c, now),
        GetUser c => Reply(Profile is { } p ? new UserFound(p) : new UserNotFound(c.UserId)),
        GetSignInSecret c => Reply(Profile switch
        {
            null => new UserNotFound(c.UserId),
            _ when IsLockedOut(c.ClientAddress, now) => new SignInLocked(c.UserId),
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

    /// <summary>
    /// An import creates a new user as it was elsewhere. The same user again (a file imported twice) changes nothing;
    /// the id of a user with another username or email, or of a deleted or abandoned one, is refused.
    /// </summary>
    private UserDecision DecideImport(ImportUser c, DateTimeOffset now)
    {
        switch (Status)
        {
            case Lifecycle.New:
                var imported = new UserImported(c.UserId, c.Username, c.Email, c.PasswordHash, c.Format,
                    c.Scope, c.Plan, c.Vendor, c.Metadata, c.IsActive, c.Created, now);
                return Persist(new UserFound(Apply(imported).Profile!), imported);
            case Lifecycle.Registered when Profile!.Username == c.Username && Profile.Email == c.Email:
                return Reply(new AlreadyImported(Profile));
            case Lifecycle.Registered:
                return Reply(new ImportRefused(c.UserId, "the id belongs to a user with another username or email", Profile));
            case Lifecycle.Deleted:
                return Reply(new ImportRefused(c.UserId, "the user with this id was deleted", null));
            default:
                return Reply(new ImportRefused(c.UserId, "the id was abandoned by a registration", null));
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
    /// token of the change's second or earlier is revoked, and tokens minted afterwards carry the new "valid from" as
    /// their issue time (see <see cref="NextTokensValidFrom"/>).
    /// </summary>
    private UserDecision DecideChangePassword(ChangePassword c, DateTimeOffset now)
    {
        if (Profile is null) return Reply(new UserNotFound(c.UserId));
        if (c.VerifiedHash is { } verified && verified != PasswordHash) return Reply(new SignInRefused(c.UserId));

        var validFrom = NextTokensValidFrom(now);
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

        var validFrom = NextTokensValidFrom(now);
        return Persist(new SignedIn(Profile, validFrom), new PasswordChanged(c.NewPasswordHash, ResetCode.ChangedBy, now, validFrom));
    }

    /// <summary>
    /// The whole second after <paramref name="now"/>, and at least a second past the previous "valid from": a token
    /// minted since the previous revocation carries that previous value (or a later second of the clock) as its issue
    /// time, so a second revocation within the same second must still move past it.
    /// </summary>
    private DateTimeOffset NextTokensValidFrom(DateTimeOffset now)
    {
        var next = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() + 1);
        return TokensValidFrom is { } previous && previous.AddSeconds(1) > next ? previous.AddSeconds(1) : next;
    }

    /// <summary>
    /// The failure is recorded. When it makes <see cref="SignInPolicy.MaxFailures"/> from its address within the window,
    /// that address is locked out of the account; when it makes <see cref="SignInPolicy.AccountMaxFailures"/> from all
    /// addresses, every address is. A lockout already running is not lengthened by failures of attempts verified before it.
    /// </summary>
    private UserDecision DecideSignInFailed(RecordSignInFailed c, DateTimeOffset now, SignInPolicy policy)
    {
        if (Profile is null) return Reply(new UserNotFound(c.UserId));

        List<IUserEvent> events = [new SignInFailed(now, c.ClientAddress, c.UserAgent)];
        var address = SignInPolicy.AddressKey(c.ClientAddress);
        var own = FailuresOf(address);
        var fromAddress = (own?.Failures.Count(at => at > now - policy.Window) ?? 0) + 1;
        if (fromAddress >= policy.MaxFailures && !(now < own?.LockedUntil) && !(now < LockedUntil))
            events.Add(new SignInAddressLockedOut(now, now + policy.LockoutAfter(own?.Lockouts ?? 0), fromAddress, address));

        var fromAll = RecentFailures.Count(at => at > now - policy.Window) + 1;
        if (fromAll >= policy.AccountMaxFailures && !(now < LockedUntil))
            events.Add(new SignInLockedOut(now, now + policy.LockoutAfter(Lockouts), fromAll));

        return new UserDecision(events, new SignInFailureRecorded(c.UserId));
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

/// <summary>
/// The failed sign-ins from one client address (see <see cref="SignInPolicy.AddressKey"/>) since its last success: their
/// times (the latest <see cref="SignInPolicy.MaxRememberedFailures"/>), its lockouts (each twice as long as the one
/// before) and until when the current one lasts.
/// </summary>
public sealed record AddressFailures(string Address, IReadOnlyList<DateTimeOffset> Failures, int Lockouts, DateTimeOffset? LockedUntil)
{
    public AddressFailures Failed(DateTimeOffset at) =>
        this with { Failures = [.. Failures.TakeLast(SignInPolicy.MaxRememberedFailures - 1), at] };

    public AddressFailures LockedOut(DateTimeOffset until) => this with { Lockouts = Lockouts + 1, LockedUntil = until };

    /// <summary>When this address last mattered: its last failure, or the end of its lockout if that is later.</summary>
    public DateTimeOffset LastRelevant() =>
        LockedUntil is { } until && (Failures.Count == 0 || until > Failures[^1]) ? until : Failures.Count > 0 ? Failures[^1] : DateTimeOffset.MinValue;
}
