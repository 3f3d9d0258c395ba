using System.Globalization;
using System.Text.Json;
using AkkaUsers.Actors;
using AkkaUsers.Actors.Audit;
using AkkaUsers.Actors.ReadModel;
using AkkaUsers.Api.Auth;
using AkkaUsers.Api.Configuration;
using AkkaUsers.Api.Http;
using AkkaUsers.Domain;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Endpoints;

/// <summary>
/// The admin's routes: the user list and count (from the users read model), one user now (from its entity)
/// or as it was at a time, and its audit trail (both from the journal); editing a user (through its entity and
/// the email index); deleting a user, tracked by a ticket. Every route needs a token whose scope
/// includes "admin": 401 without a valid token, 403 with one that lacks it.
/// </summary>
public static class AdminEndpoints
{
    public const string AdminScope = "admin";
    public const string AdminPolicy = "admin";
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    private static readonly Dictionary<string, UserSort> Sorts = new()
    {
        ["created:-1"] = UserSort.CreatedDescending,
        ["created:1"] = UserSort.CreatedAscending,
        ["username:1"] = UserSort.UsernameAscending,
    };

    /// <summary>The admin policy and the configured first admin (see <see cref="AdminBootstrap"/>).</summary>
    public static IServiceCollection AddAdminApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidation>();
        services.AddAuthorizationBuilder().AddPolicy(AdminPolicy, policy => policy
            .RequireAuthenticatedUser()
            .RequireClaim(TokenService.ScopeClaim, AdminScope));
        services.AddHostedService<AdminBootstrap>();
        return services;
    }

    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder routes)
    {
        var users = routes.MapGroup("/users").RequireAuthorization(AdminPolicy).WithTags("Admin");
        users.MapGet("", ListUsers).Produces<UserJson[]>().ProducesBoom(400, 401, 403, 503);
        users.MapGet("/count", CountUsers).Produces<UserCount>().ProducesBoom(400, 401, 403, 503);
        users.MapGet("/{userId}", GetUser).Produces<UserJson>().ProducesBoom(400, 401, 403, 404, 503);
        // An array of {sequenceNr, type, timestamp, data} in journal order, secrets redacted.
        users.MapGet("/{userId}/events", GetEvents).Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesBoom(400, 401, 403, 404, 503);
        users.MapPut("/{userId}", UpdateUser).Produces<UserJson>()
            .ProducesBoom(400, 401, 403, 404, 409, 413, 415, 503);
        users.MapDelete("/{userId}", DeleteUser).Produces<DeletionTicket>().ProducesBoom(400, 401, 403, 404, 503);
        users.MapGet("/{userId}/delete-status/{ticket}", DeletionStatus).Produces<DeletionStatusJson>()
            .ProducesBoom(400, 401, 403, 404, 503);
        return routes;
    }

    private static async Task<IResult> ListUsers(HttpRequest request, UsersReadModel readModel) =>
        Results.Json((await readModel.ListAsync(UserQueryOf(request), request.HttpContext.RequestAborted)).Select(UserJson.From));

    private static async Task<IResult> CountUsers(HttpRequest request, UsersReadModel readModel) =>
        Results.Json(new UserCount(await readModel.CountAsync(UserQueryOf(request), request.HttpContext.RequestAborted)));

    /// <summary>Without asOf, the user as its entity has it now; with asOf, the user rebuilt from the events written until then.</summary>
    private static async Task<IResult> GetUser(string userId, HttpRequest request, UserAccounts accounts, UserHistory history)
    {
        var id = UserIdOf(userId);
        var ct = request.HttpContext.RequestAborted;
        var user = Single(request, "asOf") is { } asOf
            ? (await history.StateAsOfAsync(id, TimeOf("asOf", asOf), ct)).Profile
            : await accounts.GetAsync(id, ct);
        return user is null ? BoomError.Result(StatusCodes.Status404NotFound, "User not found") : Results.Json(UserJson.From(user));
    }

    /// <summary>Any of scope, vendor, metadata, email, isActive, plan; a field absent or null stays as it is.</summary>
    private static async Task<IResult> UpdateUser(string userId, HttpContext http, UserAccounts accounts, IOptions<HttpOptions> limits)
    {
        var id = UserIdOf(userId);
        var body = await JsonBody.ReadAsync(http.Request, limits.Value.MaxBodyBytes, http.RequestAborted);
        var changes = new UserChanges(
            body.OptionalStrings("scope"), body.OptionalStringOrStrings("vendor"), body.OptionalObject("metadata"),
            body.OptionalString("email"), body.OptionalBoolean("isActive"), body.OptionalString("plan")?.Trim());
        if (changes.Scope is { } scope) UserEndpoints.Check(Validation.Scope(scope));
        if (changes.Vendor is { } vendor) UserEndpoints.Check(Validation.Vendor(vendor));
        if (changes.Metadata is { } metadata) UserEndpoints.Check(Validation.Metadata(metadata));
        if (changes.Email is { } email) UserEndpoints.Check(Validation.Email(email));
        if (changes.Plan is { } plan) UserEndpoints.Check(Validation.Plan(plan));

        return await accounts.UpdateAsync(id, changes, UserEndpoints.CurrentUserId(http), http.RequestAborted) switch
        {
            UpdateOutcome.Updated updated => Results.Json(UserJson.From(updated.User)),
            UpdateOutcome.EmailTaken => BoomError.Result(StatusCodes.Status409Conflict, "The email is already taken"),
            _ => BoomError.Result(StatusCodes.Status404NotFound, "User not found"),
        };
    }

    /// <summary>The ticket comes once the tombstone is persisted; the rest of the deletion runs on (see its status).</summary>
    private static async Task<IResult> DeleteUser(string userId, HttpContext http, UserAccounts accounts) =>
        await accounts.DeleteAsync(UserIdOf(userId), UserEndpoints.CurrentUserId(http), http.RequestAborted) is { } ticket
            ? Results.Json(new DeletionTicket(ticket))
            : BoomError.Result(StatusCodes.Status404NotFound, "User not found");

    private static async Task<IResult> DeletionStatus(string userId, string ticket, HttpContext http, UserAccounts accounts)
    {
        var id = UserIdOf(userId);
        if (!Guid.TryParseExact(ticket, "D", out var parsed) || parsed.ToString() != ticket)
            throw ApiError.BadRequest("\"ticket\" must be a lowercase UUID");
        return await accounts.GetDeletionStatusAsync(id, ticket, http.RequestAborted) is { } status
            ? Results.Json(DeletionStatusJson.From(status))
            : BoomError.Result(StatusCodes.Status404NotFound, "Deletion not found");
    }

    /// <summary>
    /// A page of the audit trail, oldest first: at most limit events within from..to (sequence numbers or ISO
    /// times, both inclusive). The next page starts at the last sequenceNr + 1; a shorter page is the last.
    /// </summary>
    private static async Task<IResult> GetEvents(string userId, HttpRequest request, UserHistory history)
    {
        var id = UserIdOf(userId);
        var (fromSequenceNr, fromTime) = PositionOf(request, "from");
        var (toSequenceNr, toTime) = PositionOf(request, "to");
        var range = new EventRange(fromSequenceNr ?? 0, toSequenceNr ?? long.MaxValue, fromTime, toTime);
        var limit = IntegerOf(request, "limit", DefaultLimit, 1, MaxLimit);
        var ct = request.HttpContext.RequestAborted;

        var events = await history.EventsAsync(id, range, limit, ct);
        if (events.Count == 0 && !await history.ExistsAsync(id, ct))
            return BoomError.Result(StatusCodes.Status404NotFound, "User not found");
        return Results.Stream(async body =>
        {
            await using var writer = new Utf8JsonWriter(body, AuditEvent.WriterOptions);
            writer.WriteStartArray();
            foreach (var e in events) e.WriteTo(writer);
            writer.WriteEndArray();
        }, "application/json; charset=utf-8");
    }

    private static UserQuery UserQueryOf(HttpRequest request)
    {
        string? scope = null;
        if (Single(request, "filter") is { } filter)
        {
            scope = filter.StartsWith("scope:", StringComparison.Ordinal) && filter.Length > "scope:".Length
                ? filter["scope:".Length..]
                : throw ApiError.BadRequest("\"filter\" must be scope:<scope>, e.g. scope:admin");
        }
        var sort = UserSort.CreatedDescending;
        if (Single(request, "sort") is { } sortText && !Sorts.TryGetValue(sortText, out sort))
            throw ApiError.BadRequest($"\"sort\" must be one of {string.Join(", ", Sorts.Keys)}");
        var pattern = Single(request, "pattern");
        if (pattern?.Length > Validation.UsernameMaxLength)
            throw ApiError.BadRequest($"\"pattern\" length must be less than or equal to {Validation.UsernameMaxLength} characters long");

        return new UserQuery(scope, pattern, sort,
            IntegerOf(request, "limit", DefaultLimit, 1, MaxLimit),
            IntegerOf(request, "offset", 0, 0, int.MaxValue));
    }

    private static string UserIdOf(string userId) =>
        UserId.TryParse(userId, out var id) ? id.Value : throw ApiError.BadRequest("\"userId\" must be 24 lowercase hex characters");

    /// <summary>A sequence number (an integer) or an ISO 8601 time.</summary>
    private static (long? SequenceNr, DateTimeOffset? Time) PositionOf(HttpRequest request, string name)
    {
        if (Single(request, name) is not { } text) return (null, null);
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sequenceNr)) return (sequenceNr, null);
        return IsoTime.TryParse(text, out var time)
            ? (null, time)
            : throw ApiError.BadRequest($"\"{name}\" must be a sequence number or an ISO 8601 time");
    }

    private static DateTimeOffset TimeOf(string name, string text) =>
        IsoTime.TryParse(text, out var time) ? time : throw ApiError.BadRequest($"\"{name}\" must be an ISO 8601 time");

    private static int IntegerOf(HttpRequest request, string name, int fallback, int min, int max)
    {
        if (Single(request, name) is not { } text) return fallback;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw ApiError.BadRequest($"\"{name}\" must be an integer");
        if (value < min) throw ApiError.BadRequest($"\"{name}\" must be greater than or equal to {min}");
        if (value > max) throw ApiError.BadRequest($"\"{name}\" must be less than or equal to {max}");
        return value;
    }

    /// <summary>The query parameter's one value, or null when absent; a parameter given twice is ambiguous.</summary>
    private static string? Single(HttpRequest request, string name)
    {
        var values = request.Query[name];
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw ApiError.BadRequest($"\"{name}\" must be given at most once"),
        };
    }
}

/// <summary>The answer of DELETE /users/:userId.</summary>
public sealed record DeletionTicket(string Ticket);

/// <summary>The answer of GET /users/:userId/delete-status/:ticket; status is "in-progress", "completed" or "failed".</summary>
public sealed record DeletionStatusJson(string Status, int StepsDone, int StepsTotal)
{
    public static DeletionStatusJson From(UserProtocol.DeletionStatus status) => new(
        status.Progress switch
        {
            DeletionProgress.Completed => "completed",
            DeletionProgress.Failed => "failed",
            _ => "in-progress",
        },
        status.StepsDone, status.StepsTotal);
}

/// <summary>The answer of GET /users/count.</summary>
public sealed record UserCount(long Count);
