using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using AkkaUsers.Actors.Entities;
using AkkaUsers.Actors.Passwords;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Actors;

/// <summary>What a new account is made of, as the client gave it (already validated).</summary>
public sealed record NewAccount(
    string Username, string Email, string Password,
    IReadOnlyList<string> Scope, string Plan, string? Vendor, JsonElement? Metadata);

public abstract record RegistrationOutcome
{
    public sealed record Registered(UserProfile User) : RegistrationOutcome;

    /// <summary>The username or the email (named by <paramref name="Field"/>) belongs to someone else.</summary>
    public sealed record Taken(string Field) : RegistrationOutcome;
}

public abstract record PasswordChange
{
    public sealed record Changed(SignedIn SignedIn) : PasswordChange;

    public sealed record NoSuchUser : PasswordChange;

    /// <summary>The old password did not match (or the password changed between verification and recording).</summary>
    public sealed record WrongPassword : PasswordChange;
}

public abstract record UpdateOutcome
{
    public sealed record Updated(UserProfile User) : UpdateOutcome;

    public sealed record NoSuchUser : UpdateOutcome;

    /// <summary>The new email belongs to someone else.</summary>
    public sealed record EmailTaken : UpdateOutcome;
}

/// <summary>Where the client's request came from, recorded with a sign-in.</summary>
public sealed record ClientInfo(string? Address, string? UserAgent);

/// <summary>
/// The account use cases over the three shard regions: the order of asks that makes registration
/// unique and sign-in safe. Hashing always happens here, off the actors.
/// </summary>
public sealed class UserAccounts(
    IRequiredActor<UserActor> users,
    IRequiredActor<UsernameIndex> usernames,
    IRequiredActor<EmailIndex> emails,
    PasswordHashing hashing,
    TimeSpan askTimeout)
{
    /// <summary>
    /// Hash, claim the username, claim the email, then register. A refused claim releases what was
    /// claimed before it; a crash in between leaves claims that the indexes release after their grace period.
    /// </summary>
    public async Task<RegistrationOutcome> RegisterAsync(NewAccount account, CancellationToken ct)
    {
        var passwordHash = await hashing.HashAsync(account.Password, ct);
        var id = UserId.New(DateTimeOffset.UtcNow).Value;
        var username = Keys.Username(account.Username);
        var email = Keys.Email(account.Email);

        if (await Ask<IClaimReply>(usernames.ActorRef, new ClaimKey(username, id), ct) is ClaimRefused)
            return new RegistrationOutcome.Taken("username");

        if (await Ask<IClaimReply>(emails.ActorRef, new ClaimKey(email, id), ct) is ClaimRefused)
        {
            await Ask<IClaimReply>(usernames.ActorRef, new ReleaseKey(username, id), ct);
            return new RegistrationOutcome.Taken("email");
        }

        var register = new RegisterUser(
            id, account.Username.Trim(), email, passwordHash, account.Scope, account.Plan, account.Vendor, account.Metadata);
        return await Ask<IUserReply>(users.ActorRef, register, ct) switch
        {
            UserFound found => new RegistrationOutcome.Registered(found.User),
            var other => throw new InvalidOperationException($"registration of a fresh id answered {other}"),
        };
    }

    /// <summary>
    /// The signed-in user, or null for bad credentials of any kind. An unknown login costs one dummy verification,
    /// so it takes as long as a wrong password.
    /// </summary>
    public async Task<SignedIn?> SignInAsync(ClaimKind loginKind, string login, string password, ClientInfo client, CancellationToken ct)
    {
        var (index, key) = loginKind == ClaimKind.Username
            ? (usernames.ActorRef, Keys.Username(login))
            : (emails.ActorRef, Keys.Email(login));

        var owner = await Ask<KeyOwner>(index, new LookupKey(key), ct);
        if (await VerifyAsync(owner.UserId, password, client, ct) is not { User: var user, PasswordHash: var hash }) return null;

        var rehashed = hashing.NeedsRehash(hash) ? await hashing.HashAsync(password, ct) : null;
        return await Ask<IUserReply>(users.ActorRef, new RecordSignIn(user.Id, hash, client.Address, client.UserAgent, rehashed), ct) as SignedIn;
    }

    /// <summary>
    /// The user's own change: <paramref name="oldPassword"/> must be the current password, and a wrong one counts
    /// as a failed sign-in, so that a stolen token opens no way around the lockout.
    /// </summary>
    public async Task<PasswordChange> ChangePasswordAsync(
        string userId, string oldPassword, string newPassword, ClientInfo client, CancellationToken ct) =>
        await VerifyAsync(userId, oldPassword, client, ct) is { PasswordHash: var hash }
            ? await SetPasswordAsync(userId, hash, newPassword, changedBy: userId, ct)
            : new PasswordChange.WrongPassword();

    /// <summary>An admin's reset of the password of the user who holds <paramref name="email"/>; no old password is asked for.</summary>
    public async Task<PasswordChange> ResetPasswordAsync(string email, string newPassword, string changedBy, CancellationToken ct) =>
        (await Ask<KeyOwner>(emails.ActorRef, new LookupKey(Keys.Email(email)), ct)).UserId is { } userId
            ? await SetPasswordAsync(userId, verifiedHash: null, newPassword, changedBy, ct)
            : new PasswordChange.NoSuchUser();

    /// <summary>Is a token of <paramref name="userId"/> issued at <paramref name="issuedAt"/> still good (not revoked)?</summary>
    public async Task<bool> IsTokenValidAsync(string userId, DateTimeOffset issuedAt, CancellationToken ct) =>
        await Ask<IUserReply>(users.ActorRef, new CheckToken(userId, issuedAt), ct) is TokenChecked { Valid: true };

    /// <summary>
    /// The user's secret when <paramref name="password"/> is theirs; otherwise null, with a wrong password recorded
    /// (which may lock the account). Nobody, a locked account and a wrong password cost one verification alike.
    /// </summary>
    private async Task<SignInSecret?> VerifyAsync(string? userId, string password, ClientInfo client, CancellationToken ct)
    {
        var reply = userId is null ? null : await Ask<IUserReply>(users.ActorRef, new GetSignInSecret(userId), ct);
        if (reply is not SignInSecret secret)
        {
            await hashing.VerifyNobodyAsync(password, ct);
            return null;
        }
        if (await hashing.VerifyAsync(secret.PasswordHash, password, ct)) return secret;

        await Ask<IUserReply>(users.ActorRef, new RecordSignInFailed(secret.User.Id, client.Address, client.UserAgent), ct);
        return null;
    }

    private async Task<PasswordChange> SetPasswordAsync(
        string userId, string? verifiedHash, string newPassword, string changedBy, CancellationToken ct)
    {
        var newHash = await hashing.HashAsync(newPassword, ct);
        return await Ask<IUserReply>(users.ActorRef, new ChangePassword(userId, verifiedHash, newHash, changedBy), ct) switch
        {
            SignedIn signedIn => new PasswordChange.Changed(signedIn),
            UserNotFound => new PasswordChange.NoSuchUser(),
            _ => new PasswordChange.WrongPassword(), // changed by someone else between verification and recording
        };
    }

    /// <summary>
    /// An admin's edit. A new email is claimed first, exactly as a registration claims it (racing claims meet in the
    /// email's index entity); the old email is released only once the change is persisted. A crash in between leaves
    /// a claim whose owner does not hold the email, which the index releases after its grace period.
    /// </summary>
    public async Task<UpdateOutcome> UpdateAsync(string userId, UserChanges changes, string changedBy, CancellationToken ct)
    {
        var newEmail = changes.Email is { } given ? Keys.Email(given) : null;
        if (newEmail is not null && await Ask<IClaimReply>(emails.ActorRef, new ClaimKey(newEmail, userId), ct) is ClaimRefused)
            return new UpdateOutcome.EmailTaken();

        var reply = await Ask<IUserReply>(users.ActorRef, new UpdateUser(userId, changes with { Email = newEmail }, changedBy), ct);
        if (reply is not UserUpdateDone done)
        {
            if (newEmail is not null) await Ask<IClaimReply>(emails.ActorRef, new ReleaseKey(newEmail, userId), ct);
            return new UpdateOutcome.NoSuchUser();
        }

        var oldEmail = Keys.Email(done.Before.Email);
        if (newEmail is not null && newEmail != oldEmail)
            await Ask<IClaimReply>(emails.ActorRef, new ReleaseKey(oldEmail, userId), ct);
        return new UpdateOutcome.Updated(done.After);
    }

    public async Task<UserProfile?> GetAsync(string userId, CancellationToken ct) =>
        await Ask<IUserReply>(users.ActorRef, new GetUser(userId), ct) is UserFound found ? found.User : null;

    /// <summary>Adds <paramref name="scope"/> to the user; the user as it is now, or null when there is no such user.</summary>
    public async Task<UserProfile?> GrantScopeAsync(string userId, string scope, string grantedBy, CancellationToken ct) =>
        await Ask<IUserReply>(users.ActorRef, new GrantScope(userId, scope, grantedBy), ct) is UserFound found ? found.User : null;

    /// <summary>As <see cref="GrantScopeAsync"/>, for the registered user who holds <paramref name="email"/>.</summary>
    public async Task<UserProfile?> GrantScopeByEmailAsync(string email, string scope, string grantedBy, CancellationToken ct) =>
        (await Ask<KeyOwner>(emails.ActorRef, new LookupKey(Keys.Email(email)), ct)).UserId is { } userId
            ? await GrantScopeAsync(userId, scope, grantedBy, ct)
            : null;

    private Task<T> Ask<T>(IActorRef region, object message, CancellationToken ct) =>
        region.Ask<T>(message, askTimeout, ct);
}
