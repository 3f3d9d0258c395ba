using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using AkkaUsers.Accounts;
using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Api.Configuration;
using AkkaUsers.Domain;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AkkaUsers.Api.Auth;

/// <summary>
/// Mints and describes Appmixer's tokens: HS256, header {"alg":"HS256","typ":"JWT"}, payload
/// {"id", "scope", "iat", "exp"} and nothing else.
/// </summary>
public sealed class TokenService : INodeWarmUp
{
    public const string IdClaim = "id";
    public const string ScopeClaim = "scope";
    public const string SecretFileName = "jwt-secret";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials _credentials;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _clock;
    private readonly SymmetricSecurityKey[] _previousKeys;
    private readonly DateTimeOffset _previousKeysUntil;

    public TokenService(IOptions<JwtOptions> jwt, IOptions<StorageOptions> storage, TimeProvider clock)
    {
        _lifetime = jwt.Value.Lifetime;
        _clock = clock;
        SigningKey = KeyOf(jwt.Value.Secret ?? StoredSecret(storage.Value));
        _credentials = new SigningCredentials(SigningKey, SecurityAlgorithms.HmacSha256);
        _previousKeys = jwt.Value.PreviousSecretList.Select(KeyOf).ToArray();
        _previousKeysUntil = jwt.Value.PreviousSecretsUntil ?? DateTimeOffset.MinValue;
    }

    /// <summary>The current secret's key: every new token is signed with it.</summary>
    public SymmetricSecurityKey SigningKey { get; }

    /// <param name="notBefore">
    /// The user's "tokens valid from" time: after a password change it can be up to a second ahead of the clock,
    /// and a token issued earlier would be refused at once.
    /// </param>
    public string Mint(UserProfile user, DateTimeOffset? notBefore = null)
    {
        var now = _clock.GetUtcNow();
        if (notBefore > now) now = notBefore.Value;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { [IdClaim] = user.Id, [ScopeClaim] = user.Scope.ToArray() },
            IssuedAt = now.UtcDateTime,
            Expires = now.Add(_lifetime).UtcDateTime,
            SigningCredentials = _credentials,
        });
    }

    /// <summary>
    /// Only HS256 with one of <see cref="VerificationKeys"/>, not expired (one second of clock skew); issuer and
    /// audience are not used. Whether the user revoked it (a password change) is checked after this, by
    /// <see cref="AuthorizeWithCurrentScopeAsync"/>.
    /// </summary>
    public TokenValidationParameters ValidationParameters => new()
    {
        IssuerSigningKeyResolver = (_, _, _, _) => VerificationKeys(),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ValidateIssuer = false,
        ValidateAudience = false,
        ValidateLifetime = true,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ClockSkew = TimeSpan.FromSeconds(1),
        NameClaimType = IdClaim,
        RoleClaimType = ScopeClaim,
    };

    /// <summary>Mints and validates one token, as the first sign-in and the first authenticated request would.</summary>
    public async Task WarmUpAsync(CancellationToken ct)
    {
        var token = Mint(new UserProfile("warm-up", "warm-up", true, "warm-up@invalid", ["user"], "free", null, null, _clock.GetUtcNow()));
        var validated = await _handler.ValidateTokenAsync(token, ValidationParameters);
        if (!validated.IsValid) throw new InvalidOperationException("a token just minted did not validate", validated.Exception);
    }

    /// <summary>
    /// The keys a token's signature may be made with: the current secret's, and the previous secrets' until
    /// <c>Jwt:PreviousSecretsUntil</c> (by the service's clock, asked on every token).
    /// </summary>
    public IReadOnlyList<SymmetricSecurityKey> VerificationKeys() =>
        _clock.GetUtcNow() < _previousKeysUntil ? [SigningKey, .. _previousKeys] : [SigningKey];

    /// <summary>
    /// Fails a well-signed token that names no user, a deleted one, or one who revoked it since (its iat is before the
    /// user's "tokens valid from"); otherwise authorises the request with the user's current scope, not the token's,
    /// so that a grant or a demotion counts at once. Runs on every authenticated request: the user's entity knows.
    /// </summary>
    public static async Task AuthorizeWithCurrentScopeAsync(TokenValidatedContext context)
    {
        var token = (JsonWebToken)context.SecurityToken;
        if (!token.TryGetPayloadValue<string>(IdClaim, out var id) || !UserId.TryParse(id, out var userId))
        {
            context.Fail("Invalid token");
            return;
        }
        var accounts = context.HttpContext.RequestServices.GetRequiredService<UserAccounts>();
        var issuedAt = token.IssuedAt == DateTime.MinValue ? DateTimeOffset.MinValue : new DateTimeOffset(token.IssuedAt, TimeSpan.Zero);
        if (await accounts.CheckTokenAsync(userId.Value, issuedAt, context.HttpContext.RequestAborted) is not TokenCheck.Valid { Scope: var scope })
        {
            context.Fail("Token revoked");
            return;
        }
        var identity = new ClaimsIdentity(
            context.Principal!.Claims.Where(claim => claim.Type != ScopeClaim).Concat(scope.Select(s => new Claim(ScopeClaim, s))),
            context.Principal.Identity?.AuthenticationType, IdClaim, ScopeClaim);
        context.Principal = new ClaimsPrincipal(identity);
    }

    private static SymmetricSecurityKey KeyOf(string secret) => new(Encoding.UTF8.GetBytes(secret));

    /// <summary>A random 256-bit secret kept in the data directory, readable by its owner only; made on first start.</summary>
    private static string StoredSecret(StorageOptions storage) =>
        PrivateFiles.ReadOrCreateSecret(storage.FullDataDirectory, SecretFileName);
}
