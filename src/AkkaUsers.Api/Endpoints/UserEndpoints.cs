using System.ComponentModel;
using System.Security.Claims;
using System.Text.Json;
using AkkaUsers.Actors;
using AkkaUsers.Actors.Hosting;
using AkkaUsers.Api.Auth;
using AkkaUsers.Api.Configuration;
using AkkaUsers.Api.Http;
using AkkaUsers.Domain;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Endpoints;

/// <summary>The user object exactly as Appmixer's API returns it.</summary>
public sealed record UserJson(
    string Id, string Username, bool IsActive, string Email,
    IReadOnlyList<string> Scope, string Plan, string? Vendor, JsonElement Metadata)
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

/// <summary>The seed's endpoints: POST /user, POST /user/auth, GET /user. Input checks here; rules in the domain.</summary>
public static class UserEndpoints
{
    public const string CreateUserPolicy = "create-user";

    public static IEndpointRouteBuilder MapUserEndpoints(this IEndpointRouteBuilder routes, AccountOptions accounts)
    {
        var users = routes.MapGroup("").WithTags("Users");
        var create = users.MapPost("/user", CreateUser)
            .WithSummary("Create a user")
            .Accepts<CreateUserRequest>("application/json")
            .Produces<TokenAndUser>(StatusCodes.Status201Created)
            .ProducesBoom(400, 409, 413, 415, 503);
        if (accounts.CreateScopes.Count > 0) create.RequireAuthorization(CreateUserPolicy).ProducesBoom(401, 403);

        users.MapPost("/user/auth", SignIn)
            .WithSummary("Sign in with a username or an email and the password")
            .Accepts<SignInRequest>("application/json")
            .Produces<TokenAndUser>(StatusCodes.Status200OK)
            .ProducesBoom(400, 401, 413, 415, 503);

        users.MapGet("/user", CurrentUser).RequireAuthorization()
            .WithSummary("The user of the bearer token, from the user's current state")
            .Produces<UserJson>(StatusCodes.Status200OK)
            .ProducesBoom(401, 404, 503);
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
        Check(Validation.Password(secret, PolicyOf(password.Value)));
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
        var secret = body.OptionalString("password");
        if (string.IsNullOrEmpty(secret)) throw ApiError.BadRequest("\"password\" is required");
        if (secret.Length > password.Value.MaxLength)
            throw ApiError.BadRequest($"\"password\" length must be less than or equal to {password.Value.MaxLength} characters long");
        var (kind, login) = (username, email) switch
        {
            ({ } u, _) => (ClaimKind.Username, u),
            (null, { } e) => (ClaimKind.Email, e),
            _ => throw ApiError.BadRequest("\"username\" or \"email\" is required"),
        };

        var client = new ClientInfo(http.Connection.RemoteIpAddress?.ToString(), Truncate(http.Request.Headers.UserAgent.ToString(), 512));
        var user = await users.SignInAsync(kind, login, secret, client, http.RequestAborted);
        return user is null
            ? BoomError.Result(StatusCodes.Status401Unauthorized, "Invalid credentials")
            : Results.Json(new TokenAndUser(tokens.Mint(user), UserJson.From(user)));
    }

    private static async Task<IResult> CurrentUser(HttpContext http, UserAccounts users)
    {
        var id = http.User.FindFirstValue(TokenService.IdClaim);
        if (!UserId.TryParse(id, out var userId))
            return BoomError.Result(StatusCodes.Status401Unauthorized, "Invalid token");
        var user = await users.GetAsync(userId.Value, http.RequestAborted);
        return user is null
            ? BoomError.Result(StatusCodes.Status404NotFound, "User not found")
            : Results.Json(UserJson.From(user));
    }

    private static PasswordPolicy PolicyOf(PasswordOptions o) => new(o.MinLength, o.MaxLength);

    private static void Check(string? error)
    {
        if (error is not null) throw ApiError.BadRequest(error);
    }

    private static string? Truncate(string value, int max) =>
        value.Length == 0 ? null : value.Length <= max ? value : value[..max];
}
