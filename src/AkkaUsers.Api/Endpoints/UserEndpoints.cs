using System.Security.Claims;
using System.Text.Json;
using AkkaUsers.Accounts;
using AkkaUsers.Api.Auth;
using AkkaUsers.Api.Configuration;
using AkkaUsers.Api.ForgotPassword;
using AkkaUsers.Api.Http;
using AkkaUsers.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Endpoints;

/// <summary>The user object exactly as Appmixer's API returns it.</summary>
public sealed record UserJson(
    string Id, string Username, bool IsActive, string Email,
    IReadOnlyList<string> Scope, string Plan, [property: Vendor] JsonElement? Vendor, [property: JsonObject] JsonElement Metadata)
{
    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    public static UserJson From(UserProfile user) => new(
        user.Id, user.Username, user.IsActive, user.Email, user.Scope, user.Plan, user.Vendor, user.Metadata ?? EmptyObject);
}

public sealed record TokenAndUser(string Token, UserJson User);

/// <summary>The answer of a password change: a fresh token, as the old ones stop working.</summary>
public sealed record NewToken(string Token);

/// <summary>The empty object {} that a call answers when there is nothing to tell.</summary>
public sealed record Empty;

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
        var create = users.MapPost("/user", CreateUser).WithName("createUser").RequireRateLimiting(ClientRateLimits.PolicyName)
            .WithSummary("Register")
            .WithDescription("Create a user")
            .ProducesBoom(429, 503);
        if (accounts.CreateScopes.Count > 0) create.RequireAuthorization(CreateUserPolicy).ProducesBoom(401, 403);

        users.MapPost("/user/auth", SignIn).WithName("signIn").RequireRateLimiting(ClientRateLimits.PolicyName)
            .WithSummary("Sign in")
            .WithDescription("Sign in with a username or an email and the password")
            .ProducesBoom(429, 503);

        users.MapGet("/user", CurrentUser).WithName("getCurrentUser").RequireAuthorization()
            .WithSummary("Current user")
            .WithDescription("The user of the bearer token, from the user's current state")
            .ProducesBoom(401, 503);

        users.MapPost("/user/change-password", ChangePassword).WithName("changePassword").RequireAuthorization()
            .WithSummary("Change password")
            .WithDescription("Change the caller's password; tokens issued before stop working")
            .ProducesBoom(401, 404, 503);

        users.MapPost("/user/reset-password", ResetPassword).WithName("resetPassword").RequireAuthorization(AdminEndpoints.AdminPolicy)
            .WithSummary("Reset a password (admin)")
            .WithDescription("An admin sets a new password for the account with that email")
            .ProducesBoom(401, 403, 503);

        users.MapPost("/user/forgot-password", ForgotPassword).WithName("forgotPassword").RequireRateLimiting(ClientRateLimits.PolicyName)
            .WithSummary("Forgot password")
            .WithDescription("Send a one-time code for a new password to the webhook; the answer is the same for any valid email")
            .ProducesBoom(429);

        users.MapPost("/forgot-password/reset", ResetWithCode).WithName("resetPasswordWithCode").RequireRateLimiting(ClientRateLimits.PolicyName)
            .WithSummary("Reset password with a code")
            .WithDescription("Set a new password with a one-time code; the code works once, for an hour")
            .ProducesBoom(429, 503);
        return routes;
    }

    private static async Task<Results<Created<TokenAndUser>, Conflict<BoomError>>> CreateUser(
        CreateUserRequest request, HttpContext http, UserAccounts users, TokenService tokens, IOptions<AccountOptions> accounts)
    {
        var account = new NewAccount(
            request.Username, request.Email, request.Password, ["user"], accounts.Value.DefaultPlan, accounts.Value.DefaultVendor, request.Metadata);
        return (await users.RegisterAsync(account, http.RequestAborted)).Match<Results<Created<TokenAndUser>, Conflict<BoomError>>>(
            registered: r => TypedResults.Created((string?)null, new TokenAndUser(tokens.Mint(r.User), UserJson.From(r.User))),
            taken: t => BoomResponses.Conflict($"The {t.Field} is already taken"));
    }

    private static async Task<Results<Ok<TokenAndUser>, UnauthorizedBoom>> SignIn(
        SignInRequest request, HttpContext http, UserAccounts users, TokenService tokens)
    {
        var (kind, login) = request.Username is { } username ? (ClaimKind.Username, username) : (ClaimKind.Email, request.Email!);
        return (await users.SignInAsync(kind, login, request.Password, ClientOf(http), http.RequestAborted)).Match<Results<Ok<TokenAndUser>, UnauthorizedBoom>>(
            signedIn: s => TypedResults.Ok(new TokenAndUser(tokens.Mint(s.Session.User, s.Session.TokensValidFrom), UserJson.From(s.Session.User))),
            refused: _ => BoomResponses.Unauthorized("Invalid credentials"));
    }

    private static async Task<Results<Ok<UserJson>, NotFound<BoomError>>> CurrentUser(HttpContext http, UserAccounts users)
    {
        var user = await users.GetAsync(CurrentUserId(http), http.RequestAborted);
        return user is null ? UserNotFound() : TypedResults.Ok(UserJson.From(user));
    }

    /// <summary>Every token issued before the change stops working; the answer carries a fresh one, so the caller stays signed in.</summary>
    private static async Task<Results<Ok<NewToken>, BadRequest<BoomError>>> ChangePassword(
        ChangePasswordRequest request, HttpContext http, UserAccounts users, TokenService tokens) =>
        (await users.ChangePasswordAsync(CurrentUserId(http), request.OldPassword, request.NewPassword, ClientOf(http), http.RequestAborted))
        .Match<Results<Ok<NewToken>, BadRequest<BoomError>>>(
            changed: c => TypedResults.Ok(new NewToken(tokens.Mint(c.Session.User, c.Session.TokensValidFrom))),
            wrongPassword: _ => BoomResponses.BadRequest(WrongOldPassword),
            // The token's user is gone (deleted meanwhile): the old password cannot be theirs any more.
            noSuchUser: _ => BoomResponses.BadRequest(WrongOldPassword));

    private const string WrongOldPassword = "\"oldPassword\" is incorrect";

    /// <summary>An admin sets the password of the account with that email; its tokens stop working.</summary>
    private static async Task<Results<Ok<Empty>, NotFound<BoomError>>> ResetPassword(
        ResetPasswordRequest request, HttpContext http, UserAccounts users) =>
        (await users.ResetPasswordAsync(request.Email, request.Password, changedBy: CurrentUserId(http), http.RequestAborted))
        .Match<Results<Ok<Empty>, NotFound<BoomError>>>(
            reset: _ => TypedResults.Ok(new Empty()),
            noSuchUser: _ => UserNotFound());

    /// <summary>
    /// Only checks the email and queues it once the answer is sent: looking it up, issuing the code and calling the webhook
    /// happen after the answer (see <see cref="ForgotPasswordWorker"/>), so the answer cannot tell whether the email has
    /// an account.
    /// </summary>
    private static Ok<Empty> ForgotPassword(ForgotPasswordRequest request, HttpContext http, ForgotPasswordQueue queue)
    {
        // Queued once the answer is sent, so that the work it sets off cannot slow the answer down either.
        http.Response.OnCompleted(() =>
        {
            queue.Enqueue(request.Email);
            return Task.CompletedTask;
        });
        return TypedResults.Ok(new Empty());
    }

    /// <summary>One message for a malformed, unknown, used, replaced or expired code: the answer tells nothing about which.</summary>
    public const string InvalidCodeMessage = "Invalid or expired code";

    /// <summary>The code's user gets the new password; tokens issued before stop working, as after a change.</summary>
    private static async Task<Results<Ok<Empty>, BadRequest<BoomError>>> ResetWithCode(
        ResetWithCodeRequest request, HttpContext http, UserAccounts users) =>
        (await users.ResetPasswordWithCodeAsync(request.Code, request.Password, http.RequestAborted)).Match<Results<Ok<Empty>, BadRequest<BoomError>>>(
            passwordSet: _ => TypedResults.Ok(new Empty()),
            codeRefused: _ => BoomResponses.BadRequest(InvalidCodeMessage));

    /// <summary>The id of the token's user; the token was checked on the way in, so it is a valid id.</summary>
    public static string CurrentUserId(HttpContext http) =>
        UserId.TryParse(http.User.FindFirstValue(TokenService.IdClaim), out var id)
            ? id.Value
            : throw new ApiError(StatusCodes.Status401Unauthorized, "Invalid token");

    internal static NotFound<BoomError> UserNotFound() => BoomResponses.NotFound("User not found");

    private static ClientInfo ClientOf(HttpContext http) =>
        new(http.Connection.RemoteIpAddress?.ToString(), Truncate(http.Request.Headers.UserAgent.ToString(), 512));

    private static string? Truncate(string value, int max) =>
        value.Length == 0 ? null : value.Length <= max ? value : value[..max];
}
