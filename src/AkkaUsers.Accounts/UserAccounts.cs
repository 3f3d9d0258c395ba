using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Passwords;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Accounts.Persistence;
using AkkaUsers.Accounts.Telemetry;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Accounts;

/// <summary>What a new account is made of, as the client gave it (already validated).</summary>
public sealed record NewAccount(
    string Username, string Email, string Password,
    IReadOnlyList<string> Scope, string Plan, string? Vendor, JsonElement? Metadata);

/// <summary>
/// A user moved over from another system, as it was there (already validated): its id, its password hash in a
/// <see cref="Passwords.ImportedHashes"/> format, and when it was created.
/// </summary>
public sealed record ImportedAccount(
    string Id, string Username, string Email, string PasswordHash, string Format,
    IReadOnlyList<string> Scope, string Plan, JsonElement? Vendor, JsonElement? Metadata, bool IsActive, DateTimeOffset Created);

/// <summary>
/// A one-time code just issued to <paramref name="User"/>: the code itself, for the user only (it exists nowhere
/// else), and when it was issued and stops working.
/// </summary>
public sealed record IssuedResetCode(string Code, UserProfile User, DateTimeOffset Created, DateTimeOffset ExpiresAt);

/// <summary>Where the client's request came from, recorded with a sign-in.</summary>
public sealed record ClientInfo(string? Address, string? UserAgent);

/// <summary>
/// The account use cases over the three shard regions: the order of asks that makes registration
/// unique and sign-in safe. Hashing always happens here, off the actors.
/// </summary>
/// <param name="resendAfter">
/// An ask still unanswered after this long is sent again, until <paramref name="askTimeout"/> has passed: a message
/// sent to a node that died on the way is lost, and only a new one reaches the entity once it lives elsewhere.
/// Every command is safe to repeat (a repeated registration or claim is answered again, a repeated sign-in is
/// recorded twice). Null takes <see cref="DefaultResendAfter"/>.
/// </param>
public sealed class UserAccounts(
    IRequiredActor<UserActor> users,
    IRequiredActor<UsernameIndex> usernames,
    IRequiredActor<EmailIndex> emails,
    PasswordHashing hashing,
    NewUserWriter newUsers,
    ServingGate gate,
    AkkaUsersMetrics metrics,
    TimeSpan askTimeout,
    TimeSpan? resendAfter = null)
{
    /// <summary>Far longer than any answer takes when nothing fails; short against a failover.</summary>
    public static readonly TimeSpan DefaultResendAfter = TimeSpan.FromSeconds(3);

    private readonly TimeSpan _resendAfter = resendAfter ?? DefaultResendAfter;

    private readonly Region _users = new(() => users.ActorRef, UserActor.EntityName);
    private readonly Region _usernames = new(() => usernames.ActorRef, ClaimIndexActor.EntityName(ClaimKind.Username));
    private readonly Region _emails = new(() => emails.ActorRef, ClaimIndexActor.EntityName(ClaimKind.Email));

    /// <summary>
    /// A user new in every respect (the journal has seen none of its id, username, skeleton and email) is written whole
    /// once the password is hashed (<see cref="NewUserWriter"/>). Any other, or one whose write the journal refused
    /// (a racing registration stored one of its keys first), goes the entities' way: claim the username, its skeleton
    /// (so that no look-alike of a taken username registers) and the email while the password is hashed, then
    /// register. A refused claim releases what was claimed before it; a hash that fails (or is cancelled) releases
    /// every claim; a crash in between leaves claims that the indexes release after their grace period.
    /// </summary>
    /// <param name="ct">Cancels the hash only: the writes and asks, bounded by the ask time-out, finish, so that a client
    /// that leaves strands no claim.</param>
    public async Task<RegistrationOutcome> RegisterAsync(NewAccount account, CancellationToken ct)
    {
        // Before any claim: metadata the entity would refuse to store must not leave claims behind.
        CheckMetadata(account.Metadata);
        var id = UserId.New(DateTimeOffset.UtcNow).Value;
        var email = Keys.Email(account.Email);
        RegisterUser Register(string passwordHash) => new(
            id, account.Username.Trim(), email, passwordHash, account.Scope, account.Plan, account.Vendor, account.Metadata);
        var hashed = hashing.HashAsync(account.Password, ct);
        if (await WriteIfNewAsync(id, account.Username.Trim(), email, async () => Register(await hashed), ct) is { } written)
        {
            metrics.Registered();
            return new RegistrationOutcome.Registered(written);
        }

        // Neither waits for the other: a registration takes the longer of the two, not their sum.
        var claimed = ClaimKeysAsync(id, account.Username, email, CancellationToken.None);
        try
        {
            await Task.WhenAll((Task)hashed, claimed);
        }
        catch when (claimed.IsCompletedSuccessfully && claimed.Result is null)
        {
            // The keys are this id's, and it will never register: free them now, not after the grace period.
            await ReleaseKeysNotHeldByAsync(id, account.Username, email, holder: null, CancellationToken.None);
            throw;
        }
        if (await claimed is { } taken) return Taken(taken);

        var user = await Ask<IUserReply>(_users, Register(await hashed), CancellationToken.None) switch
        {
            UserFound found => found.User,
            var other => throw new InvalidOperationException($"registration of a fresh id answered {other}"),
        };
        metrics.Registered();
        return new RegistrationOutcome.Registered(user);
    }

    /// <summary>
    /// Writes the registration <paramref name="register"/> makes once the hash is done, when the journal has seen none
    /// of its entities; null when it must go the entities' way. The check takes at most the ask time-out, as an ask
    /// would (then: busy); the write is always waited for, as what it stored is the user's.
    /// </summary>
    private async Task<UserProfile?> WriteIfNewAsync(
        string id, string username, string email, Func<Task<RegisterUser>> register, CancellationToken ct)
    {
        if (!newUsers.IsAvailable) return null;
        await gate.WaitAsync(askTimeout, ct);
        try
        {
            using (AkkaUsersTracing.Source.StartActivity("new user check"))
                if (!await newUsers.IsNewAsync(id, username, email, CancellationToken.None).WaitAsync(askTimeout, ct)) return null;
            var registration = await register();
            using var writing = AkkaUsersTracing.Source.StartActivity("new user write");
            return await newUsers.WriteRegisteredAsync(registration);
        }
        catch (DbException)
        {
            return null; // the check could not read the journal: the entities answer for it
        }
        catch (TimeoutException timedOut)
        {
            metrics.AskTimedOut(_users.Entity);
            throw new ServiceBusyException(_users.Entity, timedOut);
        }
    }

    /// <summary>
    /// Claims the username, its skeleton (so that no look-alike of a taken username registers) and the email for
    /// <paramref name="id"/>. Null when all three are its; otherwise the entity whose key someone else holds, with the
    /// keys claimed before it released.
    /// </summary>
    private async Task<string?> ClaimKeysAsync(string id, string givenUsername, string email, CancellationToken ct)
    {
        var username = Keys.Username(givenUsername);
        var skeleton = Keys.UsernameSkeleton(givenUsername);
        if (await Ask<IClaimReply>(_usernames, new ClaimKey(username, id), ct) is ClaimRefused)
            return _usernames.Entity;

        if (await Ask<IClaimReply>(_usernames, new ClaimKey(skeleton, id), ct) is ClaimRefused)
        {
            await Ask<IClaimReply>(_usernames, new ReleaseKey(username, id), ct);
            return _usernames.Entity;
        }

        if (await Ask<IClaimReply>(_emails, new ClaimKey(email, id), ct) is ClaimRefused)
        {
            await Ask<IClaimReply>(_usernames, new ReleaseKey(skeleton, id), ct);
            await Ask<IClaimReply>(_usernames, new ReleaseKey(username, id), ct);
            return _emails.Entity;
        }
        return null;
    }

    /// <summary>
    /// Moves users over with their own ids, each as <see cref="ImportAsync(ImportedAccount, CancellationToken)"/> does:
    /// the users new in every respect all in one journal write (<see cref="NewUserWriter"/>), the others (and all of
    /// them if the journal refused that write) one by one through their entities. Each account's outcome, in order.
    /// </summary>
    public IReadOnlyList<Task<ImportOutcome>> ImportAll(IReadOnlyList<ImportedAccount> accounts, CancellationToken ct)
    {
        var written = WriteNewAsync(accounts, ct);
        return accounts.Select(async (account, i) =>
        {
            CheckMetadata(account.Metadata);
            return (await written)[i] is { } user ? new ImportOutcome.Imported(user) : await ImportAsync(account, ct);
        }).ToList();
    }

    private async Task<UserProfile?[]> WriteNewAsync(IReadOnlyList<ImportedAccount> accounts, CancellationToken ct)
    {
        if (accounts.Count == 0) return [];
        await gate.WaitAsync(askTimeout, ct);
        return await newUsers.WriteNewAsync(accounts, ct);
    }

    /// <summary>
    /// Moves a user over with its own id: claims its keys exactly as a registration does (so that a live registration
    /// racing it for the same username or email meets it in the index), then records it. The same user again is
    /// <see cref="ImportOutcome.Exists"/>; a refused import releases the keys it claimed and nobody else holds.
    /// The entities it woke leave memory at the end: an import touches each once, and a large one would otherwise hold
    /// every user it moved until they idle out.
    /// </summary>
    public async Task<ImportOutcome> ImportAsync(ImportedAccount account, CancellationToken ct)
    {
        CheckMetadata(account.Metadata);
        var username = account.Username.Trim();
        var email = Keys.Email(account.Email);
        try
        {
            return await ImportAsync(account, username, email, ct);
        }
        finally
        {
            _users.Ref().Tell(new Unload(account.Id));
            _usernames.Ref().Tell(new UnloadKey(Keys.Username(username)));
            _usernames.Ref().Tell(new UnloadKey(Keys.UsernameSkeleton(username)));
            _emails.Ref().Tell(new UnloadKey(email));
        }
    }

    private async Task<ImportOutcome> ImportAsync(ImportedAccount account, string username, string email, CancellationToken ct)
    {
        if (await GetAsync(account.Id, ct) is { } existing)
            return existing.Username == username && existing.Email == email
                ? new ImportOutcome.Exists(existing)
                : new ImportOutcome.Rejected("the id belongs to a user with another username or email");

        if (await ClaimKeysAsync(account.Id, username, email, ct) is { } taken)
            return new ImportOutcome.Rejected($"the {taken} belongs to another user");

        var import = new ImportUser(account.Id, username, email, account.PasswordHash, account.Format,
            account.Scope, account.Plan, account.Vendor, account.Metadata, account.IsActive, account.Created);
        switch (await Ask<IUserReply>(_users, import, ct))
        {
            case UserFound found:
                return new ImportOutcome.Imported(found.User);
            case AlreadyImported again:
                return new ImportOutcome.Exists(again.User);
            case ImportRefused refused:
                await ReleaseKeysNotHeldByAsync(account.Id, username, email, refused.Holder, ct);
                return new ImportOutcome.Rejected(refused.Reason);
            case var other:
                throw new InvalidOperationException($"an import answered {other}");
        }
    }

    /// <summary>Releases the keys claimed for <paramref name="id"/> that its <paramref name="holder"/> (if any) does not hold itself.</summary>
    private async Task ReleaseKeysNotHeldByAsync(string id, string username, string email, UserProfile? holder, CancellationToken ct)
    {
        string[] held = holder is null ? [] : [Keys.Username(holder.Username), Keys.UsernameSkeleton(holder.Username)];
        foreach (var key in new[] { Keys.UsernameSkeleton(username), Keys.Username(username) }.Except(held))
            await Ask<IClaimReply>(_usernames, new ReleaseKey(key, id), ct);
        if (email != holder?.Email) await Ask<IClaimReply>(_emails, new ReleaseKey(email, id), ct);
    }

    /// <summary>An unknown login costs one dummy verification, so it takes as long as a wrong password.</summary>
    public async Task<SignInOutcome> SignInAsync(ClaimKind loginKind, string login, string password, ClientInfo client, CancellationToken ct)
    {
        var user = await VerifiedSignInAsync(loginKind, login, password, client, ct);
        metrics.SignedIn(succeeded: user is not null);
        return user is null ? new SignInOutcome.Refused() : new SignInOutcome.SignedIn(new Session(user.User, user.TokensValidFrom));
    }

    private async Task<SignedIn?> VerifiedSignInAsync(ClaimKind loginKind, string login, string password, ClientInfo client, CancellationToken ct)
    {
        var (index, key) = loginKind == ClaimKind.Username
            ? (_usernames, Keys.Username(login))
            : (_emails, Keys.Email(login));

        var owner = await Ask<KeyOwner>(index, new LookupKey(key), ct);
        var userId = owner.UserId ?? UserId.StandIn(key).Value; // nobody: asked like anybody, so no timing or metric tells
        if (await VerifyAsync(userId, password, client, ct) is not { User: var user, PasswordHash: var hash }) return null;

        var rehashed = hashing.NeedsRehash(hash) ? await hashing.HashAsync(password, ct) : null;
        return await Ask<IUserReply>(_users, new RecordSignIn(user.Id, hash, client.Address, client.UserAgent, rehashed), ct) as SignedIn;
    }

    /// <summary>
    /// The user's own change: <paramref name="oldPassword"/> must be the current password, and a wrong one counts
    /// as a failed sign-in, so that a stolen token opens no way around the lockout.
    /// </summary>
    public async Task<ChangePasswordOutcome> ChangePasswordAsync(
        string userId, string oldPassword, string newPassword, ClientInfo client, CancellationToken ct)
    {
        if (await VerifyAsync(userId, oldPassword, client, ct) is not { PasswordHash: var hash }) return new ChangePasswordOutcome.WrongPassword();
        return await SetPasswordAsync(userId, hash, newPassword, changedBy: userId, ct) switch
        {
            SignedIn signedIn => new ChangePasswordOutcome.Changed(new Session(signedIn.User, signedIn.TokensValidFrom)),
            UserNotFound => new ChangePasswordOutcome.NoSuchUser(),
            _ => new ChangePasswordOutcome.WrongPassword(), // changed by someone else between verification and recording
        };
    }

    /// <summary>An admin's reset of the password of the user who holds <paramref name="email"/>; no old password is asked for.</summary>
    public async Task<ResetPasswordOutcome> ResetPasswordAsync(string email, string newPassword, string changedBy, CancellationToken ct) =>
        await EmailOwnerAsync(email, ct) is { } userId
        && await SetPasswordAsync(userId, verifiedHash: null, newPassword, changedBy, ct) is SignedIn
            ? new ResetPasswordOutcome.Reset()
            : new ResetPasswordOutcome.NoSuchUser();

    /// <summary>
    /// A forgotten password: a new one-time code for the user who holds <paramref name="email"/>, whose entity keeps
    /// only its hash (replacing any earlier code).
    /// </summary>
    public async Task<ResetCodeOutcome> RequestPasswordResetAsync(string email, CancellationToken ct)
    {
        if (await EmailOwnerAsync(email, ct) is not { } userId) return new ResetCodeOutcome.NotIssued();

        var code = ResetCode.New(userId);
        return await Ask<IUserReply>(_users, new RequestPasswordReset(userId, ResetCode.Hash(code)), ct) is PasswordResetIssued issued
            ? new ResetCodeOutcome.Issued(new IssuedResetCode(code, issued.User, issued.At, issued.ExpiresAt))
            : new ResetCodeOutcome.NotIssued();
    }

    /// <summary>
    /// Sets the password of the code's user when <paramref name="code"/> is that user's pending, unexpired code; tokens
    /// issued before stop working. The new password is hashed in every case, so that a malformed code is refused in the
    /// time a wrong one is.
    /// </summary>
    public async Task<CodeResetOutcome> ResetPasswordWithCodeAsync(string code, string newPassword, CancellationToken ct)
    {
        var newHash = await hashing.HashAsync(newPassword, ct);
        return ResetCode.TryGetUserId(code, out var userId)
               && await Ask<IUserReply>(_users, new ResetPasswordWithCode(userId, ResetCode.Hash(code), newHash), ct) is SignedIn
            ? new CodeResetOutcome.PasswordSet()
            : new CodeResetOutcome.CodeRefused();
    }

    /// <summary>The id of the user whose claim holds <paramref name="email"/> (in any case), or null.</summary>
    private async Task<string?> EmailOwnerAsync(string email, CancellationToken ct) =>
        (await Ask<KeyOwner>(_emails, new LookupKey(Keys.Email(email)), ct)).UserId;

    /// <summary>Whether a token of <paramref name="userId"/> issued at <paramref name="issuedAt"/> stands, and with which scope.</summary>
    public async Task<TokenCheck> CheckTokenAsync(string userId, DateTimeOffset issuedAt, CancellationToken ct) =>
        await Ask<IUserReply>(_users, new CheckToken(userId, issuedAt), ct) is TokenChecked { Scope: { } scope }
            ? new TokenCheck.Valid(scope)
            : new TokenCheck.Revoked();

    /// <summary>
    /// The user's secret when <paramref name="password"/> is theirs; otherwise null, with a wrong password recorded
    /// (which may lock the client's address, or the whole account, out). Nobody, a locked-out account and a wrong
    /// password cost one verification alike.
    /// </summary>
    private async Task<SignInSecret?> VerifyAsync(string userId, string password, ClientInfo client, CancellationToken ct)
    {
        if (await Ask<IUserReply>(_users, new GetSignInSecret(userId, client.Address), ct) is not SignInSecret secret)
        {
            await hashing.VerifyNobodyAsync(password, ct);
            return null;
        }
        if (await hashing.VerifyAsync(secret.PasswordHash, password, ct)) return secret;

        await Ask<IUserReply>(_users, new RecordSignInFailed(secret.User.Id, client.Address, client.UserAgent), ct);
        return null;
    }

    private async Task<IUserReply> SetPasswordAsync(
        string userId, string? verifiedHash, string newPassword, string changedBy, CancellationToken ct)
    {
        var newHash = await hashing.HashAsync(newPassword, ct);
        return await Ask<IUserReply>(_users, new ChangePassword(userId, verifiedHash, newHash, changedBy), ct);
    }

    /// <summary>
    /// An admin's edit. A new email is claimed first, exactly as a registration claims it (racing claims meet in the
    /// email's index entity); the old email is released only once the change is persisted. A crash in between leaves
    /// a claim whose owner does not hold the email, which the index releases after its grace period.
    /// </summary>
    public async Task<UpdateOutcome> UpdateAsync(string userId, UserChanges changes, string changedBy, CancellationToken ct)
    {
        CheckMetadata(changes.Metadata);
        var newEmail = changes.Email is { } given ? Keys.Email(given) : null;
        if (newEmail is not null && await Ask<IClaimReply>(_emails, new ClaimKey(newEmail, userId), ct) is ClaimRefused)
            return new UpdateOutcome.EmailTaken();

        var reply = await Ask<IUserReply>(_users, new UpdateUser(userId, changes with { Email = newEmail }, changedBy), ct);
        if (reply is not UserUpdateDone done)
        {
            if (newEmail is not null) await Ask<IClaimReply>(_emails, new ReleaseKey(newEmail, userId), ct);
            return new UpdateOutcome.NoSuchUser();
        }

        var oldEmail = Keys.Email(done.Before.Email);
        if (newEmail is not null && newEmail != oldEmail)
            await Ask<IClaimReply>(_emails, new ReleaseKey(oldEmail, userId), ct);
        return new UpdateOutcome.Updated(done.After);
    }

    /// <summary>The registered user who holds <paramref name="email"/> (in any case), or null.</summary>
    public async Task<UserProfile?> FindByEmailAsync(string email, CancellationToken ct) =>
        await EmailOwnerAsync(email, ct) is { } userId ? await GetAsync(userId, ct) : null;

    public async Task<UserProfile?> GetAsync(string userId, CancellationToken ct) =>
        await Ask<IUserReply>(_users, new GetUser(userId), ct) is UserFound found ? found.User : null;

    /// <summary>Adds <paramref name="scope"/> to the user.</summary>
    public async Task<GrantOutcome> GrantScopeAsync(string userId, string scope, string grantedBy, CancellationToken ct) =>
        await Ask<IUserReply>(_users, new GrantScope(userId, scope, grantedBy), ct) is UserFound found
            ? new GrantOutcome.Granted(found.User)
            : new GrantOutcome.NoSuchUser();

    /// <summary>As <see cref="GrantScopeAsync"/>, for the registered user who holds <paramref name="email"/>.</summary>
    public async Task<GrantOutcome> GrantScopeByEmailAsync(string email, string scope, string grantedBy, CancellationToken ct) =>
        await EmailOwnerAsync(email, ct) is { } userId
            ? await GrantScopeAsync(userId, scope, grantedBy, ct)
            : new GrantOutcome.NoSuchUser();

    /// <summary>
    /// Starts deleting the user (see <see cref="DeletionSteps"/>) and returns its ticket once the tombstone is persisted:
    /// from then on the user is 404 and its tokens 401. The entity runs the other steps (<see cref="DeletionWorker"/>)
    /// and resumes them whenever it starts again; asking again answers the first ticket and retries a failed step.
    /// </summary>
    public async Task<DeletionOutcome> DeleteAsync(string userId, string deletedBy, CancellationToken ct)
    {
        if (await Ask<IUserReply>(_users, new DeleteUser(userId, Guid.NewGuid().ToString(), deletedBy), ct) is not DeletionStarted started)
            return new DeletionOutcome.NoSuchUser();
        return new DeletionOutcome.Started(started.Ticket);
    }

    public async Task<DeletionLookup> GetDeletionStatusAsync(string userId, string ticket, CancellationToken ct) =>
        await Ask<IUserReply>(_users, new GetDeletionStatus(userId, ticket), ct) is DeletionStatus status
            ? new DeletionLookup.Found(status.Progress, status.StepsDone, status.StepsTotal)
            : new DeletionLookup.NotFound();

    /// <summary>The callers validate input; this keeps a caller that did not from storing metadata no reader could give back.</summary>
    private static void CheckMetadata(JsonElement? metadata)
    {
        if (metadata is { } m && Validation.Metadata(m) is { } invalid) throw new ArgumentException(invalid, nameof(metadata));
    }

    private RegistrationOutcome Taken(string field)
    {
        metrics.Conflict(field);
        return new RegistrationOutcome.Taken(field);
    }

    /// <summary>
    /// One span per ask, named after the entity and the message (never its content, which may hold a hash).
    /// The message is sent again every <c>resendAfter</c> without an answer, and soon after an entity answers that its
    /// write failed (it has stopped; the next message starts it again from the journal), until the ask time-out.
    /// </summary>
    private async Task<T> Ask<T>(Region region, object message, CancellationToken ct)
    {
        await gate.WaitAsync(askTimeout, ct);
        using var activity = AkkaUsersTracing.Source.StartActivity($"ask {region.Entity} {message.GetType().Name}");
        var started = Stopwatch.GetTimestamp();
        Exception? failed = null;
        // Akka waits forever on a time-out that is not positive, so a spent budget must end the loop, not reach Ask.
        for (var remaining = askTimeout; remaining > TimeSpan.Zero; remaining = askTimeout - Stopwatch.GetElapsedTime(started))
        {
            if (failed is not null) activity?.AddEvent(new ActivityEvent("resent"));
            try
            {
                return await region.Ref().Ask<T>(message, remaining > _resendAfter ? _resendAfter : remaining, ct);
            }
            catch (AskTimeoutException timedOut)
            {
                failed = timedOut;
            }
            catch (EntityWriteFailedException writeFailed)
            {
                failed = writeFailed;
                // Sent at once, the message could reach the stopped entity before its shard knows it stopped, and be lost.
                await Task.Delay(remaining > AfterWriteFailure ? AfterWriteFailure : remaining, ct);
            }
        }
        metrics.AskTimedOut(region.Entity);
        activity?.SetStatus(ActivityStatusCode.Error, "ask timed out");
        throw new ServiceBusyException(region.Entity, failed!);
    }

    /// <summary>How long an ask waits to send its message again after the entity's write failed.</summary>
    private static readonly TimeSpan AfterWriteFailure = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// A shard region and the entity name its spans and metrics carry. The region is looked up at the first ask:
    /// services built at start (the admin bootstrap) exist before the actor system has registered it.
    /// </summary>
    private sealed record Region(Func<IActorRef> Ref, string Entity);
}
