using AkkaUsers.Accounts;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Api.Configuration;
using AkkaUsers.Domain;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Endpoints;

/// <summary>"Admin": the first admin, made at start when configured. There is no default admin.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    public string? Email { get; init; }

    /// <summary>Used only when the account does not exist yet; an existing account keeps its password.</summary>
    public string? Password { get; init; }

    /// <summary>The new account's username; the email when unset.</summary>
    public string? Username { get; init; }
}

public sealed class AdminOptionsValidation(IOptions<PasswordOptions> password) : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions o)
    {
        if (o.Email is null && o.Password is null && o.Username is null) return ValidateOptionsResult.Success;
        var passwordError = o.Password is { Length: > 0 } secret ? Validation.Password(secret, password.Value.Policy, $"{AdminOptions.Section}:Password") : null;
        return AkkaUsersOptionsValidation.Check(
            (string.IsNullOrWhiteSpace(o.Email), $"{AdminOptions.Section}:Email is required with {AdminOptions.Section}:Password"),
            (o.Email is { } email && !string.IsNullOrWhiteSpace(email) && Validation.Email(email) is not null,
                $"{AdminOptions.Section}:Email must be a valid email"),
            (string.IsNullOrEmpty(o.Password), $"{AdminOptions.Section}:Password is required with {AdminOptions.Section}:Email"),
            (passwordError is not null, passwordError ?? ""),
            (o.Username is { } username && Validation.Username(username) is not null,
                $"{AdminOptions.Section}:Username must be 1 to {Validation.UsernameMaxLength} characters of text"));
    }
}

/// <summary>
/// At start, when <c>Admin:Email</c> is configured: the account with that email gets the "admin" scope, created
/// first (with <c>Admin:Password</c>) if there is none. An existing account is granted only when
/// <c>Admin:Password</c> is its password: whoever registered the email first does not become admin by it.
/// Runs beside the serving node, retrying with backoff until it is done, so a slow start never stops the service;
/// every step is idempotent, and the grant is one ScopeGranted event by "bootstrap" in the user's journal.
/// </summary>
public sealed class AdminBootstrap(
    IOptions<AdminOptions> admin, IOptions<AccountOptions> accounts, UserAccounts users, ILogger<AdminBootstrap> log) : BackgroundService
{
    public const string GrantedBy = "bootstrap";

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        if (admin.Value is not { Email: { } email, Password: { } password }) return;

        for (var (attempt, delay) = (1, FirstRetryDelay); ; attempt++, delay = Min(delay * 2, MaxRetryDelay))
        {
            try
            {
                await GrantAsync(email, password, stopping);
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                log.LogWarning("Admin bootstrap attempt {Attempt} failed ({Reason}); retrying in {Delay} s",
                    attempt, e.Message, delay.TotalSeconds);
            }
            await Task.Delay(delay, stopping);
        }
    }

    private async Task GrantAsync(string email, string password, CancellationToken ct)
    {
        var existing = await users.FindByEmailAsync(email, ct);
        if (existing is null)
        {
            var account = new NewAccount(admin.Value.Username ?? email, email, password, ["user"],
                accounts.Value.DefaultPlan, accounts.Value.DefaultVendor, null);
            if (await users.RegisterAsync(account, ct) is RegistrationOutcome.Taken taken)
            {
                log.LogError("The admin account for {Key} cannot be created: its {Field} belongs to another account{Hint}; no admin was granted",
                    $"{AdminOptions.Section}:Email", taken.Field, taken.Field == "username" ? $" (set {AdminOptions.Section}:Username)" : "");
                return;
            }
        }
        else if (existing.Scope.Contains(AdminEndpoints.AdminScope))
        {
            log.LogInformation("Admin account {UserId} has the {Scope} scope", existing.Id, AdminEndpoints.AdminScope);
            return;
        }
        else if (await users.SignInAsync(ClaimKind.Email, email, password, BootstrapClient, ct) is SignInOutcome.Refused)
        {
            log.LogError("{Key} names an existing account whose password is not {PasswordKey} (or that is locked): it is not granted the {Scope} scope",
                $"{AdminOptions.Section}:Email", $"{AdminOptions.Section}:Password", AdminEndpoints.AdminScope);
            return;
        }

        var user = (await users.GrantScopeByEmailAsync(email, AdminEndpoints.AdminScope, GrantedBy, ct)).Match(
            granted: g => g.User,
            noSuchUser: _ => throw new InvalidOperationException($"no account holds {AdminOptions.Section}:Email after its registration"));
        log.LogInformation("Admin account {UserId} has the {Scope} scope", user.Id, AdminEndpoints.AdminScope);
    }

    private static readonly ClientInfo BootstrapClient = new(null, "admin bootstrap");

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
