using System.Text.Json;
using AkkaUsers.Accounts;
using AkkaUsers.ReadSide;
using AkkaUsers.ReadSide.Audit;
using AkkaUsers.ReadSide.ReadModel;
using AkkaUsers.Api.Auth;
using AkkaUsers.Api.Configuration;
using AkkaUsers.Api.Http;
using AkkaUsers.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
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
        var users = routes.MapGroup("/users").RequireAuthorization(AdminPolicy).WithTags("Admin").ProducesBoom(401, 403, 503);
        users.MapGet("", ListUsers).WithName("listUsers")
            .WithSummary("List users")
            .WithDescription("A page of the users, from the users read model");
        users.MapGet("/count", CountUsers).WithName("countUsers")
            .WithSummary("Count users")
            .WithDescription("How many users match the filter and pattern");
        users.MapGet("/{userId}", GetUser).WithName("getUser")
            .WithSummary("Get a user")
            .WithDescription("One user now, from its entity, or as it was at asOf, from its journal");
        // An array of {sequenceNr, type, timestamp, data} in journal order, secrets redacted.
        users.MapGet("/{userId}/events", GetEvents).WithName("getUserEvents")
            .WithSummary("User events")
            .WithDescription("A page of the user's audit trail, oldest first")
            .Produces(StatusCodes.Status200OK, contentType: "application/json");
        users.MapPut("/{userId}", UpdateUser).WithName("updateUser")
            .WithSummary("Update a user")
            .WithDescription("Change any of scope, vendor, metadata, email, isActive and plan");
        users.MapDelete("/{userId}", DeleteUser).WithName("deleteUser")
            .WithSummary("Delete a user")
            .WithDescription("Delete a user: the answer comes once the tombstone is stored; the rest runs on, tracked by the ticket");
        users.MapGet("/{userId}/delete-status/{ticket}", DeletionStatus).WithName("getDeletionStatus")
            .WithSummary("Deletion status")
            .WithDescription("How far the deletion with that ticket has got");
        return routes;
    }

    private static async Task<Ok<IEnumerable<UserJson>>> ListUsers(UsersQuery query, HttpContext http, IUserDirectory readModel) =>
        TypedResults.Ok((await readModel.ListAsync(query.Value, http.RequestAborted)).Select(UserJson.From));

    private static async Task<Ok<UserCount>> CountUsers(UsersQuery query, HttpContext http, IUserDirectory readModel) =>
        TypedResults.Ok(new UserCount(await readModel.CountAsync(query.Value, http.RequestAborted)));

    /// <summary>Without asOf, the user as its entity has it now; with asOf, the user rebuilt from the events written until then.</summary>
    private static async Task<Results<Ok<UserJson>, BadRequest<BoomError>, NotFound<BoomError>>> GetUser(
        string userId, AsOfQuery query, HttpContext http, UserAccounts accounts, IUserHistory history)
    {
        var id = UserIdOf(userId);
        var ct = http.RequestAborted;
        var user = query.AsOf is { } asOf
            ? (await history.StateAsOfAsync(id, asOf, ct)).Profile
            : await accounts.GetAsync(id, ct);
        return user is null ? UserEndpoints.UserNotFound() : TypedResults.Ok(UserJson.From(user));
    }

    /// <summary>Any of scope, vendor, metadata, email, isActive, plan; a field absent or null stays as it is.</summary>
    private static async Task<Results<Ok<UserJson>, BadRequest<BoomError>, NotFound<BoomError>, Conflict<BoomError>>> UpdateUser(
        string userId, UpdateUserRequest request, HttpContext http, UserAccounts accounts)
    {
        var id = UserIdOf(userId);
        var changes = new UserChanges(request.Scope, request.Vendor, request.Metadata, request.Email, request.IsActive, request.Plan);
        return (await accounts.UpdateAsync(id, changes, UserEndpoints.CurrentUserId(http), http.RequestAborted))
            .Match<Results<Ok<UserJson>, BadRequest<BoomError>, NotFound<BoomError>, Conflict<BoomError>>>(
                updated: u => TypedResults.Ok(UserJson.From(u.User)),
                emailTaken: _ => BoomResponses.Conflict("The email is already taken"),
                noSuchUser: _ => UserEndpoints.UserNotFound());
    }

    /// <summary>The ticket comes once the tombstone is persisted; the rest of the deletion runs on (see its status).</summary>
    private static async Task<Results<Ok<DeletionTicket>, BadRequest<BoomError>, NotFound<BoomError>>> DeleteUser(
        string userId, HttpContext http, UserAccounts accounts) =>
        (await accounts.DeleteAsync(UserIdOf(userId), UserEndpoints.CurrentUserId(http), http.RequestAborted))
        .Match<Results<Ok<DeletionTicket>, BadRequest<BoomError>, NotFound<BoomError>>>(
            started: s => TypedResults.Ok(new DeletionTicket(s.Ticket)),
            noSuchUser: _ => UserEndpoints.UserNotFound());

    private static async Task<Results<Ok<DeletionStatusJson>, BadRequest<BoomError>, NotFound<BoomError>>> DeletionStatus(
        string userId, string ticket, HttpContext http, UserAccounts accounts)
    {
        var id = UserIdOf(userId);
        if (!Guid.TryParseExact(ticket, "D", out var parsed) || parsed.ToString() != ticket)
            throw ApiError.BadRequest("\"ticket\" must be a lowercase UUID");
        return (await accounts.GetDeletionStatusAsync(id, ticket, http.RequestAborted))
            .Match<Results<Ok<DeletionStatusJson>, BadRequest<BoomError>, NotFound<BoomError>>>(
                found: status => TypedResults.Ok(DeletionStatusJson.From(status)),
                notFound: _ => BoomResponses.NotFound("Deletion not found"));
    }

    /// <summary>
    /// A page of the audit trail, oldest first: at most limit events within from..to (sequence numbers or ISO
    /// times, both inclusive). The next page starts at the last sequenceNr + 1; a shorter page is the last.
    /// </summary>
    private static async Task<Results<PushStreamHttpResult, BadRequest<BoomError>, NotFound<BoomError>>> GetEvents(
        string userId, EventsQuery query, HttpContext http, IUserHistory history)
    {
        var id = UserIdOf(userId);
        var ct = http.RequestAborted;
        var events = await history.EventsAsync(id, query.Range, query.Limit, ct);
        if (events.Count == 0 && !await history.ExistsAsync(id, ct))
            return UserEndpoints.UserNotFound();
        return TypedResults.Stream(async body =>
        {
            await using var writer = new Utf8JsonWriter(body, AuditEvent.WriterOptions);
            writer.WriteStartArray();
            foreach (var e in events) e.WriteTo(writer);
            writer.WriteEndArray();
        }, "application/json; charset=utf-8");
    }

    /// <summary>What a user id in a path must look like; any other is a 400.</summary>
    public const string UserIdPattern = "^[0-9a-f]{24}$";

    private static string UserIdOf(string userId) =>
        UserId.TryParse(userId, out var id) ? id.Value : throw ApiError.BadRequest("\"userId\" must be 24 lowercase hex characters");
}

/// <summary>The query of GET /users and GET /users/count.</summary>
public sealed record UsersQuery(UserQuery Value) : IQueryRequest<UsersQuery>
{
    private static readonly Dictionary<string, UserSort> Sorts = new()
    {
        ["created:-1"] = UserSort.CreatedDescending,
        ["created:1"] = UserSort.CreatedAscending,
        ["username:1"] = UserSort.UsernameAscending,
    };

    private static readonly QueryParameter Filter = new("filter", "Only the users with that scope: scope:<scope>, e.g. scope:admin")
        { Pattern = "^scope:.+$" };
    private static readonly QueryParameter Sort = new("sort", "The order") { Choices = [.. Sorts.Keys] };
    private static readonly QueryParameter Pattern = new("pattern", "Only the usernames that contain it, in any case")
        { MaxLength = Validation.UsernameMaxLength };
    private static readonly QueryParameter Limit = QueryParameter.Integer("limit", "At most this many users", 1, AdminEndpoints.MaxLimit, AdminEndpoints.DefaultLimit);
    private static readonly QueryParameter Offset = QueryParameter.Integer("offset", "Skip this many users first", 0, int.MaxValue, 0);

    public static IReadOnlyList<QueryParameter> Parameters { get; } = [Filter, Sort, Pattern, Limit, Offset];

    public static UsersQuery Read(HttpRequest request)
    {
        string? scope = null;
        if (Filter.Single(request) is { } filter)
        {
            scope = filter.StartsWith("scope:", StringComparison.Ordinal) && filter.Length > "scope:".Length
                ? filter["scope:".Length..]
                : throw ApiError.BadRequest("\"filter\" must be scope:<scope>, e.g. scope:admin");
        }
        var sort = UserSort.CreatedDescending;
        if (Sort.Single(request) is { } sortText && !Sorts.TryGetValue(sortText, out sort))
            throw ApiError.BadRequest($"\"sort\" must be one of {string.Join(", ", Sorts.Keys)}");
        var pattern = Pattern.TextOf(request);
        return new UsersQuery(new UserQuery(scope, pattern, sort, Limit.IntegerOf(request), Offset.IntegerOf(request)));
    }
}

/// <summary>The query of GET /users/{userId}.</summary>
public sealed record AsOfQuery(DateTimeOffset? AsOf) : IQueryRequest<AsOfQuery>
{
    private static readonly QueryParameter AsOfParameter = new("asOf", "The user as it was at this ISO 8601 time, rebuilt from its journal")
        { Format = "date-time" };

    public static IReadOnlyList<QueryParameter> Parameters { get; } = [AsOfParameter];

    public static AsOfQuery Read(HttpRequest request) => new(AsOfParameter.TimeOf(request));
}

/// <summary>The query of GET /users/{userId}/events: from..to (sequence numbers or ISO times, both inclusive) and limit.</summary>
public sealed record EventsQuery(EventRange Range, int Limit) : IQueryRequest<EventsQuery>
{
    private static readonly QueryParameter From = new("from", "The first event: a sequence number or an ISO 8601 time (inclusive)");
    private static readonly QueryParameter To = new("to", "The last event: a sequence number or an ISO 8601 time (inclusive)");
    private static readonly QueryParameter LimitParameter =
        QueryParameter.Integer("limit", "At most this many events; the next page starts at the last sequenceNr + 1", 1, AdminEndpoints.MaxLimit, AdminEndpoints.DefaultLimit);

    public static IReadOnlyList<QueryParameter> Parameters { get; } = [From, To, LimitParameter];

    public static EventsQuery Read(HttpRequest request)
    {
        var (fromSequenceNr, fromTime) = From.PositionOf(request);
        var (toSequenceNr, toTime) = To.PositionOf(request);
        var range = new EventRange(fromSequenceNr ?? 0, toSequenceNr ?? long.MaxValue, fromTime, toTime);
        return new EventsQuery(range, LimitParameter.IntegerOf(request));
    }
}
/// <summary>The answer of DELETE /users/:userId.</summary>
public sealed record DeletionTicket(string Ticket);

/// <summary>The answer of GET /users/:userId/delete-status/:ticket; status is "in-progress", "completed" or "failed".</summary>
public sealed record DeletionStatusJson(string Status, int StepsDone, int StepsTotal)
{
    public static DeletionStatusJson From(DeletionLookup.Found status) => new(
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
