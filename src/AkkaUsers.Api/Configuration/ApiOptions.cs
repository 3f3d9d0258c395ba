using AkkaUsers.Accounts.Hosting;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Configuration;

/// <summary>"Jwt": the HS256 signing secret, the secrets it replaced, and the token lifetime.</summary>
public sealed class JwtOptions
{
    public const string Section = "Jwt";

    /// <summary>Shared with other services that mint or check tokens; generated into the data directory when unset.</summary>
    public string? Secret { get; init; }

    /// <summary>
    /// Comma-separated secrets that signed tokens before <see cref="Secret"/>. Tokens signed with one of them are
    /// accepted before <see cref="PreviousSecretsUntil"/>; new tokens are always signed with <see cref="Secret"/>.
    /// </summary>
    public string PreviousSecrets { get; init; } = "";

    /// <summary>From this time on, tokens signed with a previous secret are refused. Required with <see cref="PreviousSecrets"/>.</summary>
    public DateTimeOffset? PreviousSecretsUntil { get; init; }

    public TimeSpan Lifetime { get; init; } = TimeSpan.FromDays(30);

    public string[] PreviousSecretList =>
        PreviousSecrets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>What a new account gets, and who may create one (Appmixer's names where Appmixer has one).</summary>
public sealed class AccountOptions
{
    public const string CreateScopeKey = "API_USER_CREATE_SCOPE";
    public const string DefaultVendorKey = "DEFAULT_USER_VENDOR";
    public const string DefaultPlanKey = "Users:DefaultPlan";

    /// <summary>Empty: POST /user is open. Otherwise a token carrying one of these scopes is required.</summary>
    public IReadOnlyList<string> CreateScopes { get; private set; } = [];

    public string? DefaultVendor { get; private set; }

    public string DefaultPlan { get; private set; } = "free";

    /// <summary>Reads the flat Appmixer-style keys (API_USER_CREATE_SCOPE is a comma-separated list).</summary>
    public void Load(IConfiguration configuration)
    {
        CreateScopes = (configuration[CreateScopeKey] ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        DefaultVendor = string.IsNullOrWhiteSpace(configuration[DefaultVendorKey]) ? null : configuration[DefaultVendorKey]!.Trim();
        DefaultPlan = configuration[DefaultPlanKey] ?? DefaultPlan;
    }
}

/// <summary>"Http": limits on what a client may send.</summary>
public sealed class HttpOptions
{
    public const string Section = "Http";

    public int MaxBodyBytes { get; init; } = 16 * 1024;

    /// <summary>Comma-separated addresses or CIDR networks of the reverse proxies whose X-Forwarded-For is believed.</summary>
    public string TrustedProxies { get; init; } = "";

    public IReadOnlyList<string> TrustedProxyList =>
        TrustedProxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public sealed class ApiOptionsValidation(IOptions<ClusterNodeOptions> cluster) :
    IValidateOptions<JwtOptions>, IValidateOptions<HttpOptions>, IValidateOptions<AccountOptions>
{
    /// <summary>A secret's value never appears in a message; a previous secret is named by its position in the list.</summary>
    public ValidateOptionsResult Validate(string? name, JwtOptions o)
    {
        var secretWeakness = o.Secret is { } secret ? Weakness(secret) : null;
        return AkkaUsersOptionsValidation.Check(
        [
            // A generated secret is per node: tokens minted on one node would fail on the others.
            (o.Secret is null && cluster.Value.SeedNodeList.Length > 0,
                $"{JwtOptions.Section}:Secret is required when {ClusterNodeOptions.Section}:SeedNodes is set (every node must sign with the same secret)"),
            (secretWeakness is not null, $"{JwtOptions.Section}:Secret {secretWeakness}"),
            .. o.PreviousSecretList.Select((previous, i) => (Weakness(previous) is not null,
                $"{JwtOptions.Section}:PreviousSecrets entry {i + 1} {Weakness(previous)}")),
            (o.PreviousSecretList.Length > 0 && o.PreviousSecretsUntil is null,
                $"{JwtOptions.Section}:PreviousSecretsUntil is required with {JwtOptions.Section}:PreviousSecrets (the time from which they are refused)"),
            (o.Lifetime <= TimeSpan.Zero, $"{JwtOptions.Section}:Lifetime must be positive"),
        ]);
    }

    /// <summary>Why anyone could guess <paramref name="secret"/>, or null; the words follow the key's name.</summary>
    public static string? Weakness(string secret) => secret switch
    {
        _ when System.Text.Encoding.UTF8.GetByteCount(secret) < 32 => "must be at least 32 bytes (HS256 needs a 256-bit key)",
        _ when secret.Distinct().Count() < MinDistinctCharacters =>
            $"must have at least {MinDistinctCharacters} different characters (generate one: openssl rand -base64 32)",
        _ when PublishedSecrets.Contains(secret.Trim()) =>
            "is published in AkkaUsers' own files or examples, so anyone can sign tokens with it (generate one: openssl rand -base64 32)",
        _ => null,
    };

    private const int MinDistinctCharacters = 8;

    /// <summary>Every secret ever written out in this project's files, examples or tests: known to the world.</summary>
    private static readonly HashSet<string> PublishedSecrets = new(StringComparer.Ordinal)
    {
        "change-me-to-a-shared-secret-of-32-bytes-or-more",
        "a-shared-secret-of-at-least-32-bytes",
        "at-least-32-bytes-shared-with-other-services",
        "the-old-secret-of-at-least-32-bytes",
        "an-older-one-of-at-least-32-bytes",
        "a-test-secret-that-is-at-least-32-bytes-long",
        "cluster-tests-secret-shared-by-all-nodes",
        "a-secret-of-at-least-thirty-two-bytes",
        "the-secret-before-the-current-one-1",
        "the-secret-before-that-one-was-it-2",
        "a-secret-this-service-never-had-at-all",
    };

    public ValidateOptionsResult Validate(string? name, HttpOptions o) => AkkaUsersOptionsValidation.Check(
        (o.MaxBodyBytes < 1024, $"{HttpOptions.Section}:MaxBodyBytes must be at least 1024 (is {o.MaxBodyBytes})"),
        (o.TrustedProxyList.Any(entry => !System.Net.IPAddress.TryParse(entry, out _) && !System.Net.IPNetwork.TryParse(entry, out _)),
            $"{HttpOptions.Section}:TrustedProxies must be IP addresses or CIDR networks (e.g. 10.0.0.0/8)"));

    public ValidateOptionsResult Validate(string? name, AccountOptions o) => AkkaUsersOptionsValidation.Check(
        (string.IsNullOrWhiteSpace(o.DefaultPlan), $"{AccountOptions.DefaultPlanKey} must not be empty"));
}
