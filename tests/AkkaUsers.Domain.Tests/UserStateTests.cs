using System.Text.Json;
using AkkaUsers.Domain;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Domain.Tests;

public class UserStateTests
{
    private const string Id = "507f1f77bcf86cd799439011";
    private const string Hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA";
    private const string NewHash = "$argon2id$v=19$m=131072,t=4,p=1$c2FsdA$bmV3";

    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private static readonly DateTimeOffset T1 = T0.AddMinutes(5);
    private static readonly DateTimeOffset T2 = T0.AddHours(1);

    private static readonly IReadOnlyList<string> Scope = ["user", "tester"];
    private static readonly JsonElement Metadata = JsonSerializer.Deserialize<JsonElement>("{\"team\":\"blue\",\"seats\":3}");

    private static RegisterUser Register(
        string username = "jsmith", string email = "john@example.com", string passwordHash = Hash) =>
        new(Id, username, email, passwordHash, Scope, "pro", "acme", Metadata);

    private static UserState Fold(UserState state, IEnumerable<IUserEvent> events) =>
        events.Aggregate(state, (s, e) => s.Apply(e));

    /// <summary>Decide, then apply the decided events, as the entity does.</summary>
    private static (UserState State, UserDecision Decision) Run(UserState state, IUserCommand command, DateTimeOffset now)
    {
        var decision = state.Decide(command, now);
        return (Fold(state, decision.Events), decision);
    }

    private static UserState Registered() => Run(UserState.Empty, Register(), T0).State;

    [Fact]
    public void Empty_is_new_with_nothing()
    {
        var state = UserState.Empty;

        Assert.Equal(UserState.Lifecycle.New, state.Status);
        Assert.Null(state.Profile);
        Assert.Null(state.PasswordHash);
        Assert.Null(state.LastSignInAt);
        Assert.Equal(0, state.SignInCount);
    }

    // RegisterUser

    [Fact]
    public void RegisterUser_on_Empty_yields_one_UserRegistered_carrying_the_command()
    {
        var decision = UserState.Empty.Decide(Register(), T0);

        var registered = Assert.IsType<UserRegistered>(Assert.Single(decision.Events));
        Assert.Equal(
            new UserRegistered(Id, "jsmith", "john@example.com", Hash, Scope, "pro", "acme", Metadata, T0),
            registered);
    }

    [Fact]
    public void RegisterUser_on_Empty_replies_UserFound_with_an_inactive_profile()
    {
        var decision = UserState.Empty.Decide(Register(), T0);

        var profile = Assert.IsType<UserFound>(decision.Reply).User;
        Assert.Equal(Id, profile.Id);
        Assert.Equal("jsmith", profile.Username);
        Assert.Equal("john@example.com", profile.Email);
        Assert.False(profile.IsActive);
        Assert.Equal(new[] { "user", "tester" }, profile.Scope);
        Assert.Equal("pro", profile.Plan);
        Assert.Equal("acme", profile.Vendor?.GetString());
        Assert.NotNull(profile.Metadata);
        Assert.Equal(Metadata.GetRawText(), profile.Metadata.Value.GetRawText());
        Assert.Equal(T0, profile.Created);
    }

    [Fact]
    public void RegisterUser_without_vendor_or_metadata_keeps_them_null()
    {
        var command = new RegisterUser(Id, "jsmith", "john@example.com", Hash, [], "free", null, null);

        var profile = Assert.IsType<UserFound>(UserState.Empty.Decide(command, T0).Reply).User;

        Assert.Null(profile.Vendor);
        Assert.Null(profile.Metadata);
        Assert.Empty(profile.Scope);
    }

    [Fact]
    public void Applying_UserRegistered_gives_a_registered_state()
    {
        var (state, decision) = Run(UserState.Empty, Register(), T0);

        Assert.Equal(UserState.Lifecycle.Registered, state.Status);
        Assert.Equal(Hash, state.PasswordHash);
        // Records compare JSON values by reference: compare the profiles' JSON.
        Assert.Equal(JsonSerializer.Serialize(Assert.IsType<UserFound>(decision.Reply).User), JsonSerializer.Serialize(state.Profile));
        Assert.Null(state.LastSignInAt);
        Assert.Equal(0, state.SignInCount);
    }

    [Fact]
    public void Repeating_the_identical_RegisterUser_yields_no_events_and_UserFound()
    {
        var state = Registered();

        var decision = state.Decide(Register(), T1);

        Assert.Empty(decision.Events);
        Assert.Equal(state.Profile, Assert.IsType<UserFound>(decision.Reply).User);
        Assert.Equal(T0, state.Profile!.Created);
    }

    [Theory]
    [InlineData("someone", "john@example.com", Hash)]
    [InlineData("jsmith", "other@example.com", Hash)]
    [InlineData("jsmith", "john@example.com", NewHash)]
    public void A_different_RegisterUser_on_a_registered_user_is_refused(string username, string email, string hash)
    {
        var decision = Registered().Decide(Register(username, email, hash), T1);

        Assert.Empty(decision.Events);
        var refused = Assert.IsType<RegistrationRefused>(decision.Reply);
        Assert.Equal(Id, refused.UserId);
        Assert.False(string.IsNullOrWhiteSpace(refused.Reason));
    }

    // GetUser / GetSignInSecret

    [Fact]
    public void GetUser_on_Empty_replies_UserNotFound_with_no_events()
    {
        var decision = UserState.Empty.Decide(new GetUser(Id), T0);

        Assert.Empty(decision.Events);
        Assert.Equal(new UserNotFound(Id), decision.Reply);
    }

    [Fact]
    public void GetUser_on_a_registered_user_replies_the_profile()
    {
        var state = Registered();

        var decision = state.Decide(new GetUser(Id), T1);

        Assert.Empty(decision.Events);
        Assert.Equal(new UserFound(state.Profile!), decision.Reply);
    }

    [Fact]
    public void GetSignInSecret_on_Empty_replies_UserNotFound_with_no_events()
    {
        var decision = UserState.Empty.Decide(new GetSignInSecret(Id), T0);

        Assert.Empty(decision.Events);
        Assert.Equal(new UserNotFound(Id), decision.Reply);
    }

    [Fact]
    public void GetSignInSecret_on_a_registered_user_replies_the_hash()
    {
        var state = Registered();

        var decision = state.Decide(new GetSignInSecret(Id), T1);

        Assert.Empty(decision.Events);
        var secret = Assert.IsType<SignInSecret>(decision.Reply);
        Assert.Equal(Hash, secret.PasswordHash);
        Assert.Equal(state.Profile, secret.User);
    }

    // RecordSignIn

    [Fact]
    public void RecordSignIn_with_the_current_hash_yields_UserSignedIn()
    {
        var state = Registered();

        var decision = state.Decide(new RecordSignIn(Id, Hash, "203.0.113.7", "curl/8.0", null), T1);

        var signedIn = Assert.IsType<UserSignedIn>(Assert.Single(decision.Events));
        Assert.Equal(new UserSignedIn(T1, "203.0.113.7", "curl/8.0"), signedIn);
        Assert.Equal(new SignedIn(state.Profile!, null), decision.Reply);
    }

    [Fact]
    public void Applying_UserSignedIn_counts_the_sign_in_and_keeps_the_hash()
    {
        var (once, _) = Run(Registered(), new RecordSignIn(Id, Hash, null, null, null), T1);
        var (twice, _) = Run(once, new RecordSignIn(Id, Hash, null, null, null), T2);

        Assert.Equal(1, once.SignInCount);
        Assert.Equal(T1, once.LastSignInAt);
        Assert.Equal(2, twice.SignInCount);
        Assert.Equal(T2, twice.LastSignInAt);
        Assert.Equal(Hash, twice.PasswordHash);
        Assert.Equal(UserState.Lifecycle.Registered, twice.Status);
    }

    [Fact]
    public void RecordSignIn_with_Rehashed_yields_UserSignedIn_then_PasswordRehashed()
    {
        var decision = Registered().Decide(new RecordSignIn(Id, Hash, null, null, NewHash), T1);

        Assert.Collection(decision.Events,
            e => Assert.Equal(new UserSignedIn(T1, null, null), e),
            e => Assert.Equal(new PasswordRehashed(NewHash, T1), e));
        Assert.IsType<SignedIn>(decision.Reply);
    }

    [Fact]
    public void After_a_rehash_the_new_hash_is_current_and_the_old_one_stale()
    {
        var (state, _) = Run(Registered(), new RecordSignIn(Id, Hash, null, null, NewHash), T1);

        Assert.Equal(NewHash, state.PasswordHash);
        Assert.Equal(NewHash, Assert.IsType<SignInSecret>(state.Decide(new GetSignInSecret(Id), T2).Reply).PasswordHash);
        Assert.IsType<SignInRefused>(state.Decide(new RecordSignIn(Id, Hash, null, null, null), T2).Reply);
        Assert.Single(state.Decide(new RecordSignIn(Id, NewHash, null, null, null), T2).Events);
    }

    [Fact]
    public void RecordSignIn_with_a_stale_hash_is_refused_with_no_events()
    {
        var decision = Registered().Decide(new RecordSignIn(Id, NewHash, null, null, "$argon2id$whatever"), T1);

        Assert.Empty(decision.Events);
        Assert.Equal(new SignInRefused(Id), decision.Reply);
    }

    [Fact]
    public void RecordSignIn_on_Empty_replies_UserNotFound_with_no_events()
    {
        var decision = UserState.Empty.Decide(new RecordSignIn(Id, Hash, null, null, null), T0);

        Assert.Empty(decision.Events);
        Assert.Equal(new UserNotFound(Id), decision.Reply);
    }

    // AbandonIfUnregistered

    [Fact]
    public void AbandonIfUnregistered_on_Empty_yields_RegistrationAbandoned_and_a_null_status()
    {
        var decision = UserState.Empty.Decide(new AbandonIfUnregistered(Id), T0);

        Assert.Equal(new RegistrationAbandoned(T0), Assert.Single(decision.Events));
        Assert.Equal(new RegistrationStatus(Id, null), decision.Reply);
    }

    [Fact]
    public void An_abandoned_id_refuses_RegisterUser_for_good()
    {
        var (abandoned, _) = Run(UserState.Empty, new AbandonIfUnregistered(Id), T0);

        Assert.Equal(UserState.Lifecycle.Abandoned, abandoned.Status);
        var decision = abandoned.Decide(Register(), T1);
        Assert.Empty(decision.Events);
        Assert.Equal(Id, Assert.IsType<RegistrationRefused>(decision.Reply).UserId);
        Assert.Equal(UserState.Lifecycle.Abandoned, Fold(abandoned, decision.Events).Status);
    }

    [Fact]
    public void An_abandoned_id_has_no_user()
    {
        var (abandoned, _) = Run(UserState.Empty, new AbandonIfUnregistered(Id), T0);

        Assert.Equal(new UserNotFound(Id), abandoned.Decide(new GetUser(Id), T1).Reply);
        Assert.Equal(new UserNotFound(Id), abandoned.Decide(new GetSignInSecret(Id), T1).Reply);
    }

    [Fact]
    public void AbandonIfUnregistered_again_on_an_abandoned_id_yields_no_events()
    {
        var (abandoned, _) = Run(UserState.Empty, new AbandonIfUnregistered(Id), T0);

        var decision = abandoned.Decide(new AbandonIfUnregistered(Id), T1);

        Assert.Empty(decision.Events);
        Assert.Equal(new RegistrationStatus(Id, null), decision.Reply);
    }

    [Fact]
    public void AbandonIfUnregistered_on_a_registered_user_yields_no_events_and_returns_the_profile()
    {
        var state = Registered();

        var decision = state.Decide(new AbandonIfUnregistered(Id), T1);

        Assert.Empty(decision.Events);
        var status = Assert.IsType<RegistrationStatus>(decision.Reply);
        Assert.Equal(Id, status.UserId);
        Assert.NotNull(status.User);
        Assert.Equal(state.Profile, status.User);
    }

    // GrantScope

    [Fact]
    public void GrantScope_on_a_registered_user_yields_ScopeGranted_and_replies_the_profile_with_the_scope()
    {
        var state = Registered();

        var (granted, decision) = Run(state, new GrantScope(Id, "admin", "bootstrap"), T1);

        Assert.Equal(new ScopeGranted("admin", "bootstrap", T1), Assert.Single(decision.Events));
        var found = Assert.IsType<UserFound>(decision.Reply);
        Assert.Equal(["user", "tester", "admin"], found.User.Scope);
        // Everything but the scope is as it was (records compare lists by reference, hence the same list on both sides).
        Assert.Equal(found.User.Scope, granted.Profile!.Scope);
        Assert.Equal(state.Profile! with { Scope = granted.Profile.Scope }, granted.Profile);
        Assert.Equal(state.PasswordHash, granted.PasswordHash);
    }

    [Fact]
    public void GrantScope_of_a_scope_the_user_has_yields_no_events()
    {
        var (admin, _) = Run(Registered(), new GrantScope(Id, "admin", "cli"), T1);

        var again = admin.Decide(new GrantScope(Id, "admin", "bootstrap"), T2);
        var alreadyHeld = Registered().Decide(new GrantScope(Id, "tester", "cli"), T2);

        Assert.Empty(again.Events);
        Assert.Equal(new UserFound(admin.Profile!), again.Reply);
        Assert.Empty(alreadyHeld.Events);
        Assert.IsType<UserFound>(alreadyHeld.Reply);
    }

    [Fact]
    public void GrantScope_on_Empty_or_an_abandoned_id_replies_UserNotFound_with_no_events()
    {
        var abandoned = Run(UserState.Empty, new AbandonIfUnregistered(Id), T0).State;

        foreach (var state in new[] { UserState.Empty, abandoned })
        {
            var decision = state.Decide(new GrantScope(Id, "admin", "cli"), T1);
            Assert.Empty(decision.Events);
            Assert.Equal(new UserNotFound(Id), decision.Reply);
        }
    }

    [Fact]
    public void Applying_ScopeGranted_before_the_registration_throws()
    {
        var error = Assert.Throws<InvalidOperationException>(() => UserState.Empty.Apply(new ScopeGranted("admin", "cli", T0)));
        Assert.Contains("not registered", error.Message);
    }

    // ChangePassword and CheckToken

    [Fact]
    public void ChangePassword_with_the_current_hash_yields_PasswordChanged_valid_from_the_next_whole_second()
    {
        var at = T1.AddMilliseconds(250);
        var registered = Registered();
        var decision = registered.Decide(new ChangePassword(Id, Hash, NewHash, Id), at);

        var changed = Assert.IsType<PasswordChanged>(Assert.Single(decision.Events));
        Assert.Equal(new PasswordChanged(NewHash, Id, at, T1.AddSeconds(1)), changed);
        Assert.Equal(new SignedIn(registered.Profile!, T1.AddSeconds(1)), decision.Reply);
    }

    [Fact]
    public void After_a_change_the_new_hash_is_current_and_tokens_of_that_second_or_earlier_are_revoked()
    {
        var at = T1.AddMilliseconds(999);
        var (state, _) = Run(Registered(), new ChangePassword(Id, Hash, NewHash, Id), at);

        Assert.Equal(NewHash, Assert.IsType<SignInSecret>(state.Decide(new GetSignInSecret(Id), T2).Reply).PasswordHash);
        Assert.Null(ScopeOfToken(state, T0, T2));
        Assert.Null(ScopeOfToken(state, T1, T2));
        Assert.Equal(["user", "tester"], ScopeOfToken(state, T1.AddSeconds(1), T2));
        Assert.Empty(state.Decide(new CheckToken(Id, T1), T2).Events);
        // A later sign-in tells the caller not to mint a token older than that.
        Assert.Equal(T1.AddSeconds(1), Assert.IsType<SignedIn>(state.Decide(new RecordSignIn(Id, NewHash, null, null, null), at).Reply).TokensValidFrom);
    }

    [Fact]
    public void A_second_revocation_within_the_same_second_revokes_the_tokens_minted_after_the_first()
    {
        var at = T1.AddMilliseconds(100);
        var (changed, change) = Run(Registered(), new ChangePassword(Id, Hash, NewHash, Id), at);
        var mintedAfterChange = Assert.IsType<SignedIn>(change.Reply).TokensValidFrom!.Value;
        Assert.NotNull(ScopeOfToken(changed, mintedAfterChange, at));

        var (reset, resetDecision) = Run(changed, new ChangePassword(Id, null, "$argon2id$reset", "admin-id"), at.AddMilliseconds(300));
        var (again, _) = Run(reset, new ChangePassword(Id, null, "$argon2id$again", "admin-id"), at.AddMilliseconds(600));

        Assert.Equal(T1.AddSeconds(2), Assert.IsType<SignedIn>(resetDecision.Reply).TokensValidFrom);
        Assert.Null(ScopeOfToken(reset, mintedAfterChange, at));
        Assert.NotNull(ScopeOfToken(reset, T1.AddSeconds(2), at));
        Assert.Equal(T1.AddSeconds(3), again.TokensValidFrom);
        Assert.Null(ScopeOfToken(again, T1.AddSeconds(2), at));
        // Once the clock has passed them, revocations go back to the whole second after the clock.
        Assert.Equal(T2.AddSeconds(1), Run(again, new ChangePassword(Id, null, NewHash, "admin-id"), T2).State.TokensValidFrom);
    }

    [Fact]
    public void Every_token_of_a_user_is_good_while_the_password_never_changed()
    {
        Assert.Equal(["user", "tester"], ScopeOfToken(Registered(), DateTimeOffset.MinValue, T1));
    }

    [Fact]
    public void A_token_that_names_nobody_is_refused()
    {
        Assert.Null(ScopeOfToken(UserState.Empty, T0, T1));
    }

    [Fact]
    public void A_token_is_authorised_with_the_users_scope_now_not_the_scope_it_was_minted_with()
    {
        var (admin, _) = Run(Registered(), new GrantScope(Id, "admin", "bootstrap"), T1);
        Assert.Equal(["user", "tester", "admin"], ScopeOfToken(admin, T0, T2));

        var (demoted, _) = Run(admin, new UpdateUser(Id, new UserChanges(Scope: ["user"]), "root"), T2);
        Assert.Equal(["user"], ScopeOfToken(demoted, T0, T2));
    }

    private static IReadOnlyList<string>? ScopeOfToken(UserState state, DateTimeOffset issuedAt, DateTimeOffset now) =>
        Assert.IsType<TokenChecked>(state.Decide(new CheckToken(Id, issuedAt), now).Reply).Scope;

    [Fact]
    public void ChangePassword_with_a_stale_hash_is_refused_and_without_one_is_a_reset()
    {
        var (rehashed, _) = Run(Registered(), new RecordSignIn(Id, Hash, null, null, NewHash), T1);

        var stale = rehashed.Decide(new ChangePassword(Id, Hash, "$argon2id$other", Id), T2);
        Assert.Empty(stale.Events);
        Assert.Equal(new SignInRefused(Id), stale.Reply);

        var reset = rehashed.Decide(new ChangePassword(Id, null, "$argon2id$other", "admin-id"), T2);
        Assert.Equal("admin-id", Assert.IsType<PasswordChanged>(Assert.Single(reset.Events)).ChangedBy);
    }

    [Fact]
    public void ChangePassword_of_nobody_replies_UserNotFound()
    {
        var decision = UserState.Empty.Decide(new ChangePassword(Id, null, NewHash, "admin-id"), T0);

        Assert.Empty(decision.Events);
        Assert.Equal(new UserNotFound(Id), decision.Reply);
    }

    // Failed sign-ins and the lockout schedule

    private const string Address = "203.0.113.9";
    private const string Other = "198.51.100.7";

    private static readonly SignInPolicy Lockout = new(3, TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), AccountMaxFailures: 6);

    private static UserState Fail(UserState state, DateTimeOffset at, string? address = Address) =>
        Run(state, new RecordSignInFailed(Id, address, "ua"), at, Lockout).State;

    private static (UserState State, UserDecision Decision) Run(UserState state, IUserCommand command, DateTimeOffset now, SignInPolicy policy)
    {
        var decision = state.Decide(command, now, policy);
        return (Fold(state, decision.Events), decision);
    }

    private static bool Locked(UserState state, DateTimeOffset now, string? address = Address) =>
        state.Decide(new GetSignInSecret(Id, address), now, Lockout).Reply is SignInLocked;

    private static DateTimeOffset? LockedUntil(UserState state, string address = Address) =>
        state.FailingAddresses.SingleOrDefault(a => a.Address == SignInPolicy.AddressKey(address))?.LockedUntil;

    [Fact]
    public void A_failed_sign_in_is_recorded_with_its_time_and_client()
    {
        var decision = Registered().Decide(new RecordSignInFailed(Id, Address, "ua"), T1, Lockout);

        Assert.Equal(new SignInFailed(T1, Address, "ua"), Assert.Single(decision.Events));
        Assert.Equal(new SignInFailureRecorded(Id), decision.Reply);
    }

    [Fact]
    public void The_last_of_MaxFailures_from_an_address_locks_that_address_out_for_the_first_delay_and_no_other()
    {
        var twice = Fail(Fail(Registered(), T1), T1.AddMinutes(1));
        Assert.False(Locked(twice, T1.AddMinutes(2)));

        var third = T1.AddMinutes(2);
        var decision = twice.Decide(new RecordSignInFailed(Id, Address, null), third, Lockout);
        Assert.Equal([new SignInFailed(third, Address, null), new SignInAddressLockedOut(third, third.AddMinutes(1), 3, Address)], decision.Events);

        var locked = Fold(twice, decision.Events);
        Assert.Equal(new SignInLocked(Id), locked.Decide(new GetSignInSecret(Id, Address), third.AddSeconds(59), Lockout).Reply);
        Assert.IsType<SignInSecret>(locked.Decide(new GetSignInSecret(Id, Address), third.AddMinutes(1), Lockout).Reply);
        // The owner, elsewhere, is not locked out by a stranger's failures; nor is an unknown address.
        Assert.IsType<SignInSecret>(locked.Decide(new GetSignInSecret(Id, Other), third.AddSeconds(1), Lockout).Reply);
        Assert.IsType<SignInSecret>(locked.Decide(new GetSignInSecret(Id), third.AddSeconds(1), Lockout).Reply);
        Assert.Null(locked.LockedUntil);
    }

    [Fact]
    public void Failures_from_other_addresses_do_not_count_towards_an_address()
    {
        var state = Fail(Fail(Fail(Fail(Registered(), T1, Other), T1), T1, "192.0.2.1"), T1);

        Assert.False(Locked(state, T1));
        Assert.True(Locked(Fail(state, T1), T1));
    }

    [Fact]
    public void AccountMaxFailures_from_all_addresses_lock_every_address_out()
    {
        var state = Registered();
        foreach (var address in new[] { "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5" })
            state = Fail(state, T1, address);
        Assert.False(Locked(state, T1, Other));

        var decision = state.Decide(new RecordSignInFailed(Id, "192.0.2.6", null), T1, Lockout);
        Assert.Equal([new SignInFailed(T1, "192.0.2.6", null), new SignInLockedOut(T1, T1.AddMinutes(1), 6)], decision.Events);

        var locked = Fold(state, decision.Events);
        Assert.True(Locked(locked, T1.AddSeconds(59), Other));
        Assert.True(Locked(locked, T1.AddSeconds(59), null));
        Assert.False(Locked(locked, T1.AddMinutes(1), Other));
    }

    [Fact]
    public void Failures_older_than_the_window_do_not_count()
    {
        var state = Fail(Fail(Registered(), T1), T1.AddMinutes(1));

        var later = Fail(state, T1.AddMinutes(15)); // the first failure is exactly one window old: out
        Assert.False(Locked(later, T1.AddMinutes(15)));
        var halfAMinuteLater = T1.AddMinutes(15.5); // the second, the third and this one are within the window
        Assert.True(Locked(Fail(later, halfAMinuteLater), halfAMinuteLater));
    }

    [Fact]
    public void Each_further_lockout_of_an_address_before_a_success_doubles_up_to_the_maximum()
    {
        var state = Registered();
        var now = T1;
        for (var i = 0; i < 3; i++) state = Fail(state, now);
        var delays = new List<TimeSpan>();
        for (var lockout = 0; lockout < 5; lockout++)
        {
            delays.Add(LockedUntil(state)!.Value - now);
            now = LockedUntil(state)!.Value;
            Assert.False(Locked(state, now));
            state = Fail(state, now); // the earlier failures are still within the window: one more locks again
        }

        Assert.Equal([1, 2, 4, 5, 5], delays.Select(d => d.TotalMinutes));
    }

    [Fact]
    public void A_failure_while_locked_is_recorded_but_does_not_lengthen_the_lockout()
    {
        var state = Fail(Fail(Fail(Registered(), T1), T1), T1);
        var until = LockedUntil(state);

        var decision = state.Decide(new RecordSignInFailed(Id, Address, null), T1.AddSeconds(10), Lockout);

        Assert.IsType<SignInFailed>(Assert.Single(decision.Events));
        Assert.Equal(until, LockedUntil(Fold(state, decision.Events)));
    }

    [Fact]
    public void A_successful_sign_in_resets_its_own_address_and_the_account_wide_schedule_but_not_other_addresses()
    {
        var state = Fail(Fail(Fail(Registered(), T1), T1), T1);
        state = Fail(state, LockedUntil(state)!.Value); // second lockout: two minutes
        state = Fold(state, [new SignInFailed(T1, Other, "ua"), new SignInAddressLockedOut(T1, T2.AddMinutes(1), 3, Other)]);
        var afterSuccess = Run(state, new RecordSignIn(Id, Hash, Address, null, null), T1.AddMinutes(3), Lockout).State;

        Assert.Empty(afterSuccess.RecentFailures);
        Assert.Null(afterSuccess.LockedUntil);
        Assert.Null(LockedUntil(afterSuccess));
        Assert.True(Locked(afterSuccess, T2, Other));
        var relocked = Fail(Fail(Fail(afterSuccess, T2), T2), T2);
        Assert.Equal(T2.AddMinutes(1), LockedUntil(relocked));
    }

    [Fact]
    public void A_password_change_or_reset_unlocks_every_address_and_the_account()
    {
        var state = Registered();
        for (var i = 0; i < 3; i++) state = Fail(Fail(state, T1), T1, Other);
        Assert.True(Locked(state, T1, Address));
        Assert.True(Locked(state, T1, null));

        foreach (var change in new IUserCommand[]
                 {
                     new ChangePassword(Id, null, NewHash, "admin-id"),
                     new ResetPasswordWithCode(Id, ResetCode.Hash("code"), NewHash),
                 })
        {
            var pending = change is ResetPasswordWithCode
                ? Run(state, new RequestPasswordReset(Id, ResetCode.Hash("code")), T1, Lockout).State
                : state;
            var (unlocked, decision) = Run(pending, change, T1.AddSeconds(1), Lockout);

            Assert.IsType<SignedIn>(decision.Reply);
            Assert.False(Locked(unlocked, T1.AddSeconds(1), Address));
            Assert.False(Locked(unlocked, T1.AddSeconds(1), Other));
            Assert.False(Locked(unlocked, T1.AddSeconds(1), null));
            Assert.Empty(unlocked.FailingAddresses);
            Assert.Empty(unlocked.RecentFailures);
        }
    }

    [Fact]
    public void An_account_locked_out_by_an_old_journal_stays_locked_out_for_every_address_until_then_or_a_reset()
    {
        // Before failures counted per address, a lockout was written without one and locked the whole account.
        var state = Fold(Registered(), [
            new SignInFailed(T1, Address, "ua"), new SignInFailed(T1, Other, "ua"), new SignInFailed(T1, null, null),
            new SignInLockedOut(T1, T1.AddMinutes(1), 3),
        ]);

        Assert.True(Locked(state, T1.AddSeconds(59), "192.0.2.200"));
        Assert.False(Locked(state, T1.AddMinutes(1), "192.0.2.200"));
        Assert.False(Locked(Run(state, new ChangePassword(Id, null, NewHash, "admin-id"), T1, Lockout).State, T1, "192.0.2.200"));
        Assert.Equal([Address, Other, ""], state.FailingAddresses.Select(a => a.Address));
    }

    [Fact]
    public void An_account_remembers_a_bounded_number_of_failures_and_addresses()
    {
        var state = Registered();
        for (var i = 0; i < SignInPolicy.MaxRememberedFailures + 20; i++) state = state.Apply(new SignInFailed(T1.AddSeconds(i), null, null));

        Assert.Equal(SignInPolicy.MaxRememberedFailures, state.RecentFailures.Count);
        Assert.Equal(T1.AddSeconds(SignInPolicy.MaxRememberedFailures + 19), state.RecentFailures[^1]);
        Assert.Equal(SignInPolicy.MaxRememberedFailures, Assert.Single(state.FailingAddresses).Failures.Count);
    }

    [Fact]
    public void Past_the_tracked_addresses_the_one_that_mattered_longest_ago_is_forgotten_and_a_running_lockout_kept()
    {
        var state = Fail(Fail(Fail(Registered(), T1), T1), T1);
        for (var i = 1; i <= SignInPolicy.MaxTrackedAddresses + 8; i++) state = state.Apply(new SignInFailed(T1.AddSeconds(i), $"192.0.2.{i}", null));

        Assert.Equal(SignInPolicy.MaxTrackedAddresses, state.FailingAddresses.Count);
        Assert.True(Locked(state, T1.AddSeconds(50)));
        Assert.DoesNotContain(state.FailingAddresses, a => a.Address == "192.0.2.1");
        Assert.Contains(state.FailingAddresses, a => a.Address == $"192.0.2.{SignInPolicy.MaxTrackedAddresses + 8}");
    }

    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::ffff", "2001:db8:1:2::/64")]
    [InlineData(null, "")]
    public void Failures_are_counted_per_IPv4_address_and_per_IPv6_64_prefix(string? address, string key)
    {
        Assert.Equal(key, SignInPolicy.AddressKey(address));
    }

    [Fact]
    public void RecordSignInFailed_of_nobody_replies_UserNotFound()
    {
        var decision = UserState.Empty.Decide(new RecordSignInFailed(Id, null, null), T0, Lockout);

        Assert.Empty(decision.Events);
        Assert.Equal(new UserNotFound(Id), decision.Reply);
    }

    [Fact]
    public void The_lockout_delay_is_capped_even_after_very_many_lockouts()
    {
        Assert.Equal(TimeSpan.FromMinutes(1), Lockout.LockoutAfter(0));
        Assert.Equal(TimeSpan.FromMinutes(5), Lockout.LockoutAfter(1000));
        Assert.Equal(TimeSpan.FromDays(1), SignInPolicy.Default.LockoutAfter(int.MaxValue));
    }

    // UpdateUser

    [Fact]
    public void UpdateUser_changes_only_the_given_fields_and_replies_before_and_after()
    {
        var changes = new UserChanges(Email: "new@example.com", IsActive: true, Vendor: JsonSerializer.SerializeToElement(new[] { "a", "b" }));

        var (state, decision) = Run(Registered(), new UpdateUser(Id, changes, "admin-id"), T1);

        Assert.Equal(new UserUpdated(changes, "admin-id", T1), Assert.Single(decision.Events));
        var done = Assert.IsType<UserUpdateDone>(decision.Reply);
        Assert.Equal("john@example.com", done.Before.Email);
        Assert.Equal(("new@example.com", true, "pro"), (state.Profile!.Email, state.Profile.IsActive, state.Profile.Plan));
        Assert.Equal("""["a","b"]""", state.Profile.Vendor!.Value.GetRawText());
        Assert.Equal(Scope, state.Profile.Scope);
        Assert.Equal(done.After, state.Profile);
    }

    [Fact]
    public void UpdateUser_of_nobody_replies_UserNotFound_and_applying_it_before_registration_throws()
    {
        var decision = UserState.Empty.Decide(new UpdateUser(Id, new UserChanges(Plan: "x"), "admin-id"), T0);

        Assert.Empty(decision.Events);
        Assert.Equal(new UserNotFound(Id), decision.Reply);
        Assert.Throws<InvalidOperationException>(() => UserState.Empty.Apply(new UserUpdated(new UserChanges(Plan: "x"), "admin-id", T0)));
    }

    // Rebuilding

    [Fact]
    public void Folding_the_journal_gives_the_same_state_as_the_incremental_one()
    {
        IUserCommand[] commands =
        [
            Register(),
            new GetUser(Id),
            new RecordSignIn(Id, Hash, "198.51.100.1", "ua/1", null),
            Register(), // idempotent retry
            new RecordSignIn(Id, Hash, "198.51.100.2", "ua/2", NewHash),
            new RecordSignIn(Id, Hash, null, null, null), // stale
            new AbandonIfUnregistered(Id),
            new RecordSignIn(Id, NewHash, null, null, null),
            new GrantScope(Id, "admin", "cli"),
            new GrantScope(Id, "admin", "cli"), // already held
            new ChangePassword(Id, NewHash, Hash, Id),
        ];

        var incremental = UserState.Empty;
        var journal = new List<IUserEvent>();
        var now = T0;
        foreach (var command in commands)
        {
            now = now.AddMinutes(1);
            var decision = incremental.Decide(command, now);
            journal.AddRange(decision.Events);
            incremental = Fold(incremental, decision.Events);
        }

        var rebuilt = Fold(UserState.Empty, journal);

        Assert.Equal(7, journal.Count);
        Assert.Equal(incremental.Profile!.Scope, rebuilt.Profile!.Scope);
        Assert.Equal(incremental with { Profile = null }, rebuilt with { Profile = null });
        Assert.Equal(["user", "tester", "admin"], rebuilt.Profile.Scope);
        Assert.Equal(UserState.Lifecycle.Registered, rebuilt.Status);
        Assert.Equal(Hash, rebuilt.PasswordHash);
        Assert.Equal(T0.AddMinutes(11).AddSeconds(1), rebuilt.TokensValidFrom);
        Assert.Equal(3, rebuilt.SignInCount);
        Assert.Equal(T0.AddMinutes(8), rebuilt.LastSignInAt);
    }

    [Fact]
    public void Folding_an_abandonment_journal_gives_the_same_state_as_the_incremental_one()
    {
        var (incremental, decision) = Run(UserState.Empty, new AbandonIfUnregistered(Id), T0);

        Assert.Equal(incremental, Fold(UserState.Empty, decision.Events));
    }

    // Unknown messages

    private sealed record UnknownEvent : IUserEvent;

    private sealed record UnknownCommand(string UserId) : IUserCommand;

    [Fact]
    public void Apply_of_an_unknown_event_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => UserState.Empty.Apply(new UnknownEvent()));
    }

    [Fact]
    public void Decide_of_an_unknown_command_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => UserState.Empty.Decide(new UnknownCommand(Id), T0));
    }
    // RequestPasswordReset and ResetPasswordWithCode

    private static readonly string Code = ResetCode.New(Id);
    private static readonly string CodeHash = ResetCode.Hash(Code);

    private static UserState WithCode(string codeHash, DateTimeOffset at) =>
        Run(Registered(), new RequestPasswordReset(Id, codeHash), at).State;

    [Fact]
    public void RequestPasswordReset_records_the_hash_valid_for_one_hour_and_answers_the_user()
    {
        var registered = Registered();
        var decision = registered.Decide(new RequestPasswordReset(Id, CodeHash), T1);

        Assert.Equal([new PasswordResetRequested(CodeHash, T1, T1.AddHours(1))], decision.Events);
        Assert.Equal(new PasswordResetIssued(registered.Profile!, T1, T1.AddHours(1)), decision.Reply);
        var state = Fold(registered, decision.Events);
        Assert.Equal(CodeHash, state.ResetCodeHash);
        Assert.Equal(T1.AddHours(1), state.ResetCodeExpiresAt);
        Assert.Equal(registered.Profile, state.Profile);
    }

    [Fact]
    public void RequestPasswordReset_of_no_user_records_nothing()
    {
        var decision = UserState.Empty.Decide(new RequestPasswordReset(Id, CodeHash), T1);

        Assert.Empty(decision.Events);
        Assert.Equal(new UserNotFound(Id), decision.Reply);
    }

    [Fact]
    public void The_pending_code_sets_the_password_and_revokes_tokens_as_a_change_does()
    {
        var at = T1.AddMinutes(59).AddMilliseconds(500);
        var state = WithCode(CodeHash, T1);

        var decision = state.Decide(new ResetPasswordWithCode(Id, CodeHash, NewHash), at);

        var validFrom = DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds() + 1);
        Assert.Equal([new PasswordChanged(NewHash, ResetCode.ChangedBy, at, validFrom)], decision.Events);
        Assert.Equal(new SignedIn(state.Profile!, validFrom), decision.Reply);
        var after = Fold(state, decision.Events);
        Assert.Equal(NewHash, after.PasswordHash);
        Assert.Null(ScopeOfToken(after, at, at));
    }

    [Fact]
    public void A_code_works_once()
    {
        var (used, _) = Run(WithCode(CodeHash, T1), new ResetPasswordWithCode(Id, CodeHash, NewHash), T1.AddMinutes(1));

        var again = used.Decide(new ResetPasswordWithCode(Id, CodeHash, "$argon2id$other"), T1.AddMinutes(2));

        Assert.Empty(again.Events);
        Assert.Equal(new PasswordResetRefused(Id), again.Reply);
        Assert.Null(used.ResetCodeHash);
        Assert.Null(used.ResetCodeExpiresAt);
    }

    [Fact]
    public void A_repeated_reset_whose_answer_was_lost_is_answered_again_and_records_nothing()
    {
        var (used, first) = Run(WithCode(CodeHash, T1), new ResetPasswordWithCode(Id, CodeHash, NewHash), T1.AddMinutes(1));

        var repeated = used.Decide(new ResetPasswordWithCode(Id, CodeHash, NewHash), T1.AddMinutes(1).AddSeconds(3));

        Assert.Empty(repeated.Events);
        Assert.Equal(first.Reply, repeated.Reply);
    }

    [Fact]
    public void A_code_stops_working_one_hour_after_it_was_issued()
    {
        var state = WithCode(CodeHash, T1);

        Assert.Single(state.Decide(new ResetPasswordWithCode(Id, CodeHash, NewHash), T1.AddHours(1).AddTicks(-1)).Events);
        foreach (var late in new[] { T1.AddHours(1), T1.AddHours(1).AddTicks(1), T1.AddDays(3) })
        {
            var decision = state.Decide(new ResetPasswordWithCode(Id, CodeHash, NewHash), late);
            Assert.Empty(decision.Events);
            Assert.Equal(new PasswordResetRefused(Id), decision.Reply);
        }
    }

    [Fact]
    public void A_newer_code_replaces_the_older_one()
    {
        var newer = ResetCode.Hash(ResetCode.New(Id));
        var (state, _) = Run(WithCode(CodeHash, T1), new RequestPasswordReset(Id, newer), T1.AddMinutes(10));

        Assert.Equal(new PasswordResetRefused(Id), state.Decide(new ResetPasswordWithCode(Id, CodeHash, NewHash), T1.AddMinutes(11)).Reply);
        // The newer code counts its hour from its own request.
        Assert.IsType<SignedIn>(state.Decide(new ResetPasswordWithCode(Id, newer, NewHash), T1.AddMinutes(69)).Reply);
    }

    [Fact]
    public void A_code_requested_within_a_minute_of_the_pending_one_is_not_issued_and_the_pending_one_stays()
    {
        var newer = ResetCode.Hash(ResetCode.New(Id));
        var state = WithCode(CodeHash, T1);

        var throttled = state.Decide(new RequestPasswordReset(Id, newer), T1.AddSeconds(59));
        Assert.Equal(new PasswordResetThrottled(Id), throttled.Reply);
        Assert.Empty(throttled.Events);
        Assert.IsType<SignedIn>(state.Decide(new ResetPasswordWithCode(Id, CodeHash, NewHash), T1.AddMinutes(2)).Reply);

        Assert.IsType<PasswordResetIssued>(state.Decide(new RequestPasswordReset(Id, newer), T1.AddMinutes(1)).Reply);
    }

    [Fact]
    public void Applying_PasswordResetRequested_before_the_registration_throws()
    {
        var error = Assert.Throws<InvalidOperationException>(() => UserState.Empty.Apply(new PasswordResetRequested(CodeHash, T0, T0.AddHours(1))));
        Assert.Contains("not registered", error.Message);
    }

    [Fact]
    public void An_unknown_code_without_a_pending_one_or_of_no_user_is_refused_alike()
    {
        var other = ResetCode.Hash(ResetCode.New(Id));
        var cases = new (UserState State, string Hash)[]
        {
            (WithCode(CodeHash, T1), other),
            (WithCode(CodeHash, T1), CodeHash.ToUpperInvariant()),
            (WithCode(CodeHash, T1), ""),
            (Registered(), CodeHash),
            (UserState.Empty, CodeHash),
        };

        foreach (var (state, hash) in cases)
        {
            var decision = state.Decide(new ResetPasswordWithCode(Id, hash, NewHash), T1.AddMinutes(1));
            Assert.Empty(decision.Events);
            Assert.Equal(new PasswordResetRefused(Id), decision.Reply);
        }
    }

    [Fact]
    public void A_password_change_or_an_admins_reset_voids_the_pending_code()
    {
        foreach (var change in new[] { new ChangePassword(Id, Hash, NewHash, Id), new ChangePassword(Id, null, NewHash, "admin-id") })
        {
            var (changed, _) = Run(WithCode(CodeHash, T1), change, T1.AddMinutes(1));

            Assert.Null(changed.ResetCodeHash);
            Assert.Equal(new PasswordResetRefused(Id), changed.Decide(new ResetPasswordWithCode(Id, CodeHash, "$argon2id$other"), T1.AddMinutes(2)).Reply);
        }
    }
}
