using Akka.Actor;
using Akka.Cluster;
using AkkaUsers.Actors;
using AkkaUsers.Actors.Hosting;
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
/// first (with <c>Admin:Password</c>) if there is none. Both steps are idempotent, so every start may run it;
/// the grant is a ScopeGranted event by "bootstrap" in the user's journal, once.
/// </summary>
public sealed class AdminBootstrap(
    IOptions<AdminOptions> admin, IOptions<AccountOptions> accounts, UserAccounts users, ActorSystem system,
    ILogger<AdminBootstrap> log) : IHostedService
{
    public const string GrantedBy = "bootstrap";

    public async Task StartAsync(CancellationToken ct)
    {
        if (admin.Value is not { Email: { } email, Password: { } password }) return;

        // Entities answer once this node is an Up member of its cluster.
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        await up.Task.WaitAsync(ct);

        var user = await users.GrantScopeByEmailAsync(email, AdminEndpoints.AdminScope, GrantedBy, ct);
        if (user is null)
        {
            var account = new NewAccount(admin.Value.Username ?? email, email, password, ["user"],
                accounts.Value.DefaultPlan, accounts.Value.DefaultVendor, null);
            user = await users.RegisterAsync(account, ct) switch
            {
                RegistrationOutcome.Registered r => await users.GrantScopeAsync(r.User.Id, AdminEndpoints.AdminScope, GrantedBy, ct),
                RegistrationOutcome.Taken t => throw new InvalidOperationException(
                    $"The admin account for {AdminOptions.Section}:Email cannot be created: its {t.Field} belongs to another account" +
                    (t.Field == "username" ? $" (set {AdminOptions.Section}:Username)" : "")),
                _ => throw new InvalidOperationException("unknown registration outcome"),
            };
        }
        log.LogInformation("Admin account {UserId} has the {Scope} scope", user!.Id, AdminEndpoints.AdminScope);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
