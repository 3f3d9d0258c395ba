using System.ComponentModel;
using System.Security.Claims;
using System.Text.Json;
using AkkaUsers.Actors;
using AkkaUsers.Actors.Hosting;
using AkkaUsers.Api.Auth;
using AkkaUsers.Api.Configuration;
using AkkaUsers.Api.ForgotPassword;
using AkkaUsers.Api.Http;
using AkkaUsers.Domain;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Endpoints;

/// <summary>The user object exactly as Appmixer's API returns it.</summary>
public sealed record UserJson(
    string Id, string Username, bool IsActive, string Email,
    IReadOnlyList<string> Scope, string Plan, JsonElement? Vendor, JsonElement Metadata)
{
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    public static UserJson From(UserProfile user) => new(
        user.Id, user.Username, user.IsActive, user.Email, user.Scope, user.Plan, user.Vendor, user.Metadata ?? EmptyObject);
}

public sealed record TokenAndUser(string Token, UserJson User);

// The request bodies as the OpenAPI document shows them. The handlers read the JSON field by field instead,
// so that a 400 names the offending field in Boom's words.

public sealed record CreateUserRequest(
    [property: Description("1..128 characters after trimming; unique in any case or Unicode-equivalent variant")] string Username,
    [property: Description("A valid address of at most 254 characters; stored lower-cased and unique")] string Email,
    [property: Description("6..1024 characters by default; never stored or logged in clear")] string Password,
    [property: Description("Any JSON object of at most 4 KiB")] JsonElement? Metadata = null);

public sealed record SignInRequest(
    string Password,
    [property: Description("Looked up among usernames; wins when email is given too")] string? Username = null,
    [property: Description("Looked up among emails, when no username is given")] string? Email = null);

public sealed record ForgotPasswordRequest(
    [property: Description("The account's email; the answer is the same whether or not an account has it")] string Email);

public sealed record ResetWithCodeRequest(
    [property: Description("The one-time code delivered to the webhook: <userId>.<43 base64url characters>")] string Code,
    [property: Description("The new password; the password policy applies")] string Password);

/// <summary>
/// The user's own endpoints: POST /user, POST /user/auth, GET /user, POST /user/change-password, the forgotten password
/// (POST /user/forgot-password, POST /forgot-password/reset), and the admin's POST /user/reset-password. Input checks
/// here; rules in the domain.
/// </summary>
public static class UserEndpoints
{
    public const string CreateUserPolicy = "create-user";

    public static IEndpointRouteBuilder MapUserEndpoints(this IEndpointRouteBuilder routes, AccountOptions accounts)
    {
        var users = routes.MapGroup("").WithTags("Users");
        var create = users.MapPost("/user", CreateUser).RequireRateLimiting(ClientRateLimits.PolicyName)
            .WithSummary("Create a user")
            .Accepts<CreateUserRequest>("application/json")
            .Produces<TokenAndUser>(StatusCodes.Status201Created)
            .ProducesBoom(400, 409, 413, 415, 429, 503);
        if (accounts.CreateScopes.Count > 0) create.RequireAuthorization(CreateUserPolicy).ProducesBoom(401, 403);

        users.MapPost("/user/auth", SignIn).RequireRateLimiting(ClientRateLimits.PolicyName)
            .WithSummary("Sign in with a username or an email and the password")
            .Accepts<SignInRequest>("application/json")
            .Produces<TokenAndUser>(StatusCodes.Status200OK)
            .ProducesBoom(400, 401, 413, 415, 429, 503);

        users.MapGet("/user", CurrentUser).RequireAuthorization()
            .WithSummary("The user of the bearer token, from the user's current state")
            .Produces<UserJson>(StatusCodes.Status200OK)
            .ProducesBoom(401, 404, 503);

        users.MapPost("/user/change-password", ChangePassword).RequireAuthorization()
            .WithSummary("Change the caller's password; tokens issued before stop working")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesBoom(400, 401, 404, 413, 415, 503);

        users.MapPost("/user/reset-password", ResetPassword).RequireAuthorization(AdminEndpoints.AdminPolicy)
            .WithSummary("An admin sets a new password for the account with that email")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesBoom(400, 401, 403, 404, 413, 415, 503);

        users.MapPost("/user/forgot-password", ForgotPassword).RequireRateLimiting(ClientRateLimits.PolicyName)
            .WithSummary("Send a one-time code for a new password to the webhook; the answer is the same for any valid email")
            .Accepts<ForgotPasswordRequest>("application/json")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesBoom(400, 413, 415, 429);

        users.MapPost("/forgot-password/reset", ResetWithCode).RequireRateLimiting(ClientRateLimits.PolicyName)
            .WithSummary("Set a new password with a one-time code; the code works once, for an hour")
            .Accepts<ResetWithCodeRequest>("application/json")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesBoom(400, 413, 415, 429, 503);
        return routes;
    }

    private static async Task<IResult> CreateUser(
        HttpContext http, UserAccounts users, TokenService tokens,
        IOptions<AccountOptions> accounts, IOptions<PasswordOptions> password, IOptions<HttpOptions> limits)
    {
        var body = await JsonBody.ReadAsync(http.Request, limits.Value.MaxBodyBytes, http.RequestAborted);
        var username = body.RequiredString("username");
        var email = body.RequiredString("email");
        var secret = body.RequiredString("password");
        var metadata = body.OptionalObject("metadata");
        Check(Validation.Username(username));
        Check(Validation.Email(email));
        Check(Validation.Password(secret, password.Value.Policy));
        if (metadata is { } m) Check(Validation.Metadata(m));

        var account = new NewAccount(username, email, secret, ["user"], accounts.Value.DefaultPlan, accounts.Value.DefaultVendor, metadata);
        return await users.RegisterAsync(account, http.RequestAborted) switch
        {
            RegistrationOutcome.Registered r =>
                Results.Json(new TokenAndUser(tokens.Mint(r.User), UserJson.From(r.User)), statusCode: StatusCodes.Status201Created),
            RegistrationOutcome.Taken t => BoomError.Result(StatusCodes.Status409Conflict, $"The {t.Field} is already taken"),
            _ => throw new InvalidOperationException("unknown registration outcome"),
        };
    }

    private static async Task<IResult> SignIn(
        HttpContext http, UserAccounts users, TokenService tokens, IOptions<PasswordOptions> password, IOptions<HttpOptions> limits)
    {
        var body = await JsonBody.ReadAsync(http.Request, limits.Value.MaxBodyBytes, http.RequestAborted);
        var username = body.OptionalString("username");
        var email = body.OptionalString("email");
        var secret = PasswordToVerify(body, "password", password.Value);
        var (kind, login) = (username, email) switch
        {
            ({ } u, _) => (ClaimKind.Username, u),
            (null, { } e) => (ClaimKind.Email, e),
            _ => throw ApiError.BadRequest("\"username\" or \"email\" is required"),
        };

        var signedIn = await users.SignInAsync(kind, login, secret, ClientOf(http), http.RequestAborted);
        return signedIn is null
            ? BoomError.Result(StatusCodes.Status401Unauthorized, "Invalid credentials")
            : Results.Json(new TokenAndUser(tokens.Mint(signedIn.User, signedIn.TokensValidFrom), UserJson.From(signedIn.User)));
    }

    private static async Task<IResult> CurrentUser(HttpContext http, UserAccounts users)
    {
        var user = await users.GetAsync(CurrentUserId(http), http.RequestAborted);
        return user is null ? UserNotFound() : Results.Json(UserJson.From(user));
    }

    /// <summary>Every token issued before the change stops working; the answer carries a fresh one, so the caller stays signed in.</summary>
    private static async Task<IResult> ChangePassword(
        HttpContext http, UserAccounts users, TokenService tokens, IOptions<PasswordOptions> password, IOptions<HttpOptions> limits)
    {
        var body = await JsonBody.ReadAsync(http.Request, limits.Value.MaxBodyBytes, http.RequestAborted);
        var oldPassword = PasswordToVerify(body, "oldPassword", password.Value);
        var newPassword = body.RequiredString("newPassword");
        Check(Validation.Password(newPassword, password.Value.Policy, "newPassword"));

        return await users.ChangePasswordAsync(CurrentUserId(http), oldPassword, newPassword, ClientOf(http), http.RequestAborted) switch
        {
            PasswordChange.Changed { SignedIn: var s } => Results.Json(new { token = tokens.Mint(s.User, s.TokensValidFrom) }),
            _ => BoomError.Result(StatusCodes.Status400BadRequest, "\"oldPassword\" is incorrect"),
        };
    }

    /// <summary>An admin sets the password of the account with that email; its tokens stop working.</summary>
    private static async Task<IResult> ResetPassword(
        HttpContext http, UserAccounts users, IOptions<PasswordOptions> password, IOptions<HttpOptions> limits)
    {
        var body = await JsonBody.ReadAsync(http.Request, limits.Value.MaxBodyBytes, http.RequestAborted);
        var email = body.RequiredString("email");
        var newPassword = body.RequiredString("password");
        Check(Validation.Email(email));
        Check(Validation.Password(newPassword, password.Value.Policy));

        return await users.ResetPasswordAsync(email, newPassword, changedBy: CurrentUserId(http), http.RequestAborted) switch
        {
            PasswordChange.Changed => Results.Json(new { }),
            _ => UserNotFound(),
        };
    }

    /// <summary>
    /// Only checks the email and queues it once the answer is sent: looking it up, issuing the code and calling the webhook
    /// happen after the answer (see <see cref="ForgotPasswordWorker"/>), so the answer cannot tell whether the email has
    /// an account.
    /// </summary>
    private static async Task<IResult> ForgotPassword(HttpContext http, ForgotPasswordQueue queue, IOptions<HttpOptions> limits)
    {
        var body = await JsonBody.ReadAsync(http.Request, limits.Value.MaxBodyBytes, http.RequestAborted);
        var email = body.RequiredString("email");
        Check(Validation.Email(email));

        // Queued once the answer is sent, so that the work it sets off cannot slow the answer down either.
        http.Response.OnCompleted(() =>
        {
            queue.Enqueue(email);
            return Task.CompletedTask;
        });
        return Results.Json(new { });
    }

    /// <summary>One message for a malformed, unknown, used, replaced or expired code: the answer tells nothing about which.</summary>
    public const string InvalidCodeMessage = "Invalid or expired code";

    /// <summary>The code's user gets the new password; tokens issued before stop working, as after a change.</summary>
    private static async Task<IResult> ResetWithCode(
        HttpContext http, UserAccounts users, IOptions<PasswordOptions> password, IOptions<HttpOptions> limits)
    {
        var body = await JsonBody.ReadAsync(http.Request, limits.Value.MaxBodyBytes, http.RequestAborted);
        var code = body.RequiredString("code");
        var newPassword = body.RequiredString("password");
        Check(Validation.Password(newPassword, password.Value.Policy));

        return await users.ResetPasswordWithCodeAsync(code, newPassword, http.RequestAborted)
            ? Results.Json(new { })
            : BoomError.Result(StatusCodes.Status400BadRequest, InvalidCodeMessage);
    }

    /// <summary>The id of the token's user; the token was checked on the way in, so it is a valid id.</summary>
    public static string CurrentUserId(HttpContext http) =>
        UserId.TryParse(http.User.FindFirstValue(TokenService.IdClaim), out var id)
            ? id.Value
            : throw new ApiError(StatusCodes.Status401Unauthorized, "Invalid token");

    /// <summary>
    /// A password to check against the stored hash: required, and no longer than any password could be, so that
    /// nobody makes the service hash megabytes. The policy's minimum does not apply: an old password may predate it.
    /// </summary>
    private static string PasswordToVerify(JsonBody body, string field, PasswordOptions o)
    {
        var secret = body.OptionalString(field);
        if (string.IsNullOrEmpty(secret)) throw ApiError.BadRequest($"\"{field}\" is required");
        if (secret.Length > o.MaxLength)
            throw ApiError.BadRequest($"\"{field}\" length must be less than or equal to {o.MaxLength} characters long");
        return secret;
    }

    private static IResult UserNotFound() => BoomError.Result(StatusCodes.Status404NotFound, "User not found");

    public static void Check(string? error)
    {
        if (error is not null) throw ApiError.BadRequest(error);
    }

    private static ClientInfo ClientOf(HttpContext http) =>
        new(http.Connection.RemoteIpAddress?.ToString(), Truncate(http.Request.Headers.UserAgent.ToString(), 512));

    private static string? Truncate(string value, int max) =>
        value.Length == 0 ? null : value.Length <= max ? value : value[..max];
}
