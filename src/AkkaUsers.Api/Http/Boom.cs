using System.Reflection;
using Akka.Actor;
using AkkaUsers.Actors.Hosting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.WebUtilities;

namespace AkkaUsers.Api.Http;

/// <summary>A client-facing failure: its status and a message that names the offending field.</summary>
public sealed class ApiError(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public static ApiError BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    /// <summary>Throws a 400 with the message of a failed rule; a rule answers null when the value passes.</summary>
    public static void Check(string? error)
    {
        if (error is not null) throw BadRequest(error);
    }
}

/// <summary>The Hapi/Boom error shape that Appmixer's clients parse: {"statusCode", "error", "message"}.</summary>
public sealed record BoomError(int StatusCode, string Error, string Message)
{
    public static BoomError For(int statusCode, string message) =>
        new(statusCode, ReasonPhrases.GetReasonPhrase(statusCode), message);

    public static IResult Result(int statusCode, string message) =>
        Results.Json(For(statusCode, message), statusCode: statusCode);

    public static Task WriteAsync(HttpContext context, int statusCode, string message)
    {
        context.Response.StatusCode = statusCode;
        return context.Response.WriteAsJsonAsync(For(statusCode, message));
    }
}

/// <summary>
/// Boom answers as typed results, so that a handler's return type lists the errors it answers itself, and the
/// statuses that the pipeline answers (authorization, rate limits, entity time-outs) for the OpenAPI document.
/// </summary>
public static class BoomResponses
{
    public static BadRequest<BoomError> BadRequest(string message) => TypedResults.BadRequest(BoomError.For(StatusCodes.Status400BadRequest, message));

    public static UnauthorizedBoom Unauthorized(string message) => new(message);

    public static NotFound<BoomError> NotFound(string message) => TypedResults.NotFound(BoomError.For(StatusCodes.Status404NotFound, message));

    public static Conflict<BoomError> Conflict(string message) => TypedResults.Conflict(BoomError.For(StatusCodes.Status409Conflict, message));

    public static TBuilder ProducesBoom<TBuilder>(this TBuilder endpoint, params int[] statusCodes) where TBuilder : IEndpointConventionBuilder
    {
        endpoint.Add(builder => Add(builder.Metadata, statusCodes));
        return endpoint;
    }

    public static void Add(IList<object> metadata, params int[] statusCodes)
    {
        foreach (var statusCode in statusCodes)
            metadata.Add(new ProducesResponseTypeMetadata(statusCode, typeof(BoomError), ["application/json"]));
    }
}

/// <summary>A Boom 401 with its message; the framework's own 401 result has no body.</summary>
public sealed class UnauthorizedBoom(string message) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<BoomError>
{
    public BoomError Value { get; } = BoomError.For(StatusCodes.Status401Unauthorized, message);

    public int? StatusCode => StatusCodes.Status401Unauthorized;

    object? IValueHttpResult.Value => Value;

    public Task ExecuteAsync(HttpContext httpContext) => BoomError.WriteAsync(httpContext, StatusCodes.Status401Unauthorized, Value.Message);

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        BoomResponses.Add(builder.Metadata, StatusCodes.Status401Unauthorized);
}

/// <summary>
/// Turns every exception into a Boom answer: client errors as they were raised, entity time-outs
/// as 503, anything else as a 500 without details (those are bugs, logged with their stack).
/// </summary>
public sealed class BoomExceptionHandler(ILogger<BoomExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var (status, message) = exception switch
        {
            ApiError e => (e.StatusCode, e.Message),
            BadHttpRequestException e => (e.StatusCode, e.Message),
            AskTimeoutException => (StatusCodes.Status503ServiceUnavailable, "The service is busy; try again"),
            NodeNotReadyException => (StatusCodes.Status503ServiceUnavailable, "The service is starting; try again"),
            OperationCanceledException when !context.RequestAborted.IsCancellationRequested =>
                (StatusCodes.Status503ServiceUnavailable, "The service is busy; try again"),
            _ => (StatusCodes.Status500InternalServerError, "An internal server error occurred"),
        };
        if (status == StatusCodes.Status500InternalServerError)
            log.LogError(exception, "{Method} {Path} failed with {Status}", context.Request.Method, context.Request.Path, status);
        else if (status >= 500) // expected while a node starts or is overloaded: one line, no stack
            log.LogWarning("{Method} {Path} answered {Status}: {Reason}", context.Request.Method, context.Request.Path, status, exception.Message);
        await BoomError.WriteAsync(context, status, message);
        return true;
    }
}
