using AkkaUsers.Domain;

namespace AkkaUsers.Accounts;

// One outcome type per use case of UserAccounts. Match takes one function per case, so that a caller that forgets a
// case does not compile.

/// <summary>A user who proved who they are, and the time from which their tokens count (null: all of them).</summary>
public sealed record Session(UserProfile User, DateTimeOffset? TokensValidFrom);

public abstract record RegistrationOutcome
{
    private RegistrationOutcome() { }

    public sealed record Registered(UserProfile User) : RegistrationOutcome;

    /// <summary>The username or the email (named by <paramref name="Field"/>) belongs to someone else.</summary>
    public sealed record Taken(string Field) : RegistrationOutcome;

    public T Match<T>(Func<Registered, T> registered, Func<Taken, T> taken) => this switch
    {
        Registered r => registered(r),
        _ => taken((Taken)this),
    };
}

public abstract record ImportOutcome
{
    private ImportOutcome() { }

    public sealed record Imported(UserProfile User) : ImportOutcome;

    /// <summary>The same user (id, username and email) was imported before; nothing changed.</summary>
    public sealed record Exists(UserProfile User) : ImportOutcome;

    /// <summary>Nothing of it was kept, for <paramref name="Reason"/>.</summary>
    public sealed record Rejected(string Reason) : ImportOutcome;

    public T Match<T>(Func<Imported, T> imported, Func<Exists, T> exists, Func<Rejected, T> rejected) => this switch
    {
        Imported i => imported(i),
        Exists e => exists(e),
        _ => rejected((Rejected)this),
    };
}

public abstract record SignInOutcome
{
    private SignInOutcome() { }

    public sealed record SignedIn(Session Session) : SignInOutcome;

    /// <summary>Bad credentials of any kind (unknown login, wrong password, locked out): the caller cannot tell which.</summary>
    public sealed record Refused : SignInOutcome;

    public T Match<T>(Func<SignedIn, T> signedIn, Func<Refused, T> refused) => this switch
    {
        SignedIn s => signedIn(s),
        _ => refused((Refused)this),
    };
}

public abstract record ChangePasswordOutcome
{
    private ChangePasswordOutcome() { }

    public sealed record Changed(Session Session) : ChangePasswordOutcome;

    /// <summary>The old password did not match (or the password changed between verification and recording).</summary>
    public sealed record WrongPassword : ChangePasswordOutcome;

    public sealed record NoSuchUser : ChangePasswordOutcome;

    public T Match<T>(Func<Changed, T> changed, Func<WrongPassword, T> wrongPassword, Func<NoSuchUser, T> noSuchUser) => this switch
    {
        Changed c => changed(c),
        WrongPassword w => wrongPassword(w),
        _ => noSuchUser((NoSuchUser)this),
    };
}

public abstract record ResetPasswordOutcome
{
    private ResetPasswordOutcome() { }

    public sealed record Reset : ResetPasswordOutcome;

    public sealed record NoSuchUser : ResetPasswordOutcome;

    public T Match<T>(Func<Reset, T> reset, Func<NoSuchUser, T> noSuchUser) => this switch
    {
        Reset r => reset(r),
        _ => noSuchUser((NoSuchUser)this),
    };
}

public abstract record ResetCodeOutcome
{
    private ResetCodeOutcome() { }

    public sealed record Issued(IssuedResetCode Code) : ResetCodeOutcome;

    /// <summary>Nobody holds the email, or the pending code is too recent to be replaced.</summary>
    public sealed record NotIssued : ResetCodeOutcome;

    public T Match<T>(Func<Issued, T> issued, Func<NotIssued, T> notIssued) => this switch
    {
        Issued i => issued(i),
        _ => notIssued((NotIssued)this),
    };
}

public abstract record CodeResetOutcome
{
    private CodeResetOutcome() { }

    public sealed record PasswordSet : CodeResetOutcome;

    /// <summary>A malformed, unknown, used, replaced or expired code alike.</summary>
    public sealed record CodeRefused : CodeResetOutcome;

    public T Match<T>(Func<PasswordSet, T> passwordSet, Func<CodeRefused, T> codeRefused) => this switch
    {
        PasswordSet p => passwordSet(p),
        _ => codeRefused((CodeRefused)this),
    };
}

public abstract record TokenCheck
{
    private TokenCheck() { }

    /// <summary>The token stands, authorised with the user's scope now (never the token's own).</summary>
    public sealed record Valid(IReadOnlyList<string> Scope) : TokenCheck;

    /// <summary>The token was revoked, or its user does not exist (or no longer does).</summary>
    public sealed record Revoked : TokenCheck;

    public T Match<T>(Func<Valid, T> valid, Func<Revoked, T> revoked) => this switch
    {
        Valid v => valid(v),
        _ => revoked((Revoked)this),
    };
}

public abstract record UpdateOutcome
{
    private UpdateOutcome() { }

    public sealed record Updated(UserProfile User) : UpdateOutcome;

    public sealed record NoSuchUser : UpdateOutcome;

    /// <summary>The new email belongs to someone else.</summary>
    public sealed record EmailTaken : UpdateOutcome;

    public T Match<T>(Func<Updated, T> updated, Func<EmailTaken, T> emailTaken, Func<NoSuchUser, T> noSuchUser) => this switch
    {
        Updated u => updated(u),
        EmailTaken e => emailTaken(e),
        _ => noSuchUser((NoSuchUser)this),
    };
}

public abstract record GrantOutcome
{
    private GrantOutcome() { }

    public sealed record Granted(UserProfile User) : GrantOutcome;

    public sealed record NoSuchUser : GrantOutcome;

    public T Match<T>(Func<Granted, T> granted, Func<NoSuchUser, T> noSuchUser) => this switch
    {
        Granted g => granted(g),
        _ => noSuchUser((NoSuchUser)this),
    };
}

public abstract record DeletionOutcome
{
    private DeletionOutcome() { }

    /// <summary>The tombstone is stored; the rest of the deletion runs on under <paramref name="Ticket"/>.</summary>
    public sealed record Started(string Ticket) : DeletionOutcome;

    public sealed record NoSuchUser : DeletionOutcome;

    public T Match<T>(Func<Started, T> started, Func<NoSuchUser, T> noSuchUser) => this switch
    {
        Started s => started(s),
        _ => noSuchUser((NoSuchUser)this),
    };
}

public abstract record DeletionLookup
{
    private DeletionLookup() { }

    public sealed record Found(DeletionProgress Progress, int StepsDone, int StepsTotal) : DeletionLookup;

    /// <summary>No deletion of that user has that ticket.</summary>
    public sealed record NotFound : DeletionLookup;

    public T Match<T>(Func<Found, T> found, Func<NotFound, T> notFound) => this switch
    {
        Found f => found(f),
        _ => notFound((NotFound)this),
    };
}
