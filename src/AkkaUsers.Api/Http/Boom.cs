using Akka.Actor;
using AkkaUsers.Actors.Hosting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;

namespace AkkaUsers.Api.Http;

/// <summary>A client-facing failure: its status and a message that names the offending field.</summary>
public sealed class ApiError(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public static ApiError BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);
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

/// <summary>Declares an endpoint's Boom answers, so that its OpenAPI description lists them with the Boom schema.</summary>
public static class BoomResponses
{
    public static RouteHandlerBuilder ProducesBoom(this RouteHandlerBuilder endpoint, params int[] statusCodes)
    {
        foreach (var statusCode in statusCodes) endpoint.Produces<BoomError>(statusCode);
        return endpoint;
    }
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
