using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AkkaUsers.Api.Health;

/// <summary>The answer of a health endpoint: the overall status and each check's.</summary>
public sealed record HealthJson(string Status, IReadOnlyDictionary<string, HealthCheckJson> Checks);

public sealed record HealthCheckJson(string Status, string? Description);

/// <summary>
/// GET /health/live (the process runs) and GET /health/ready (the checks tagged "ready" pass). Route handlers
/// rather than the health-check middleware, so that the OpenAPI document describes them like every other endpoint.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        Map(routes, "/health/live", "Liveness", "The process runs (no check is made)", _ => false).WithName("live");
        Map(routes, "/health/ready", "Readiness", "This node is an Up cluster member and the journal answers", check => check.Tags.Contains(ReadyTag))
            .WithName("ready")
            .Produces<HealthJson>(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    private static RouteHandlerBuilder Map(
        IEndpointRouteBuilder routes, string path, string summary, string description, Func<HealthCheckRegistration, bool> predicate) =>
        routes.MapGet(path, async (HttpContext http, HealthCheckService health) =>
            {
                var report = await health.CheckHealthAsync(predicate, http.RequestAborted);
                // A probe must see the state of now, never a cached answer.
                http.Response.Headers.CacheControl = "no-store, no-cache";
                return Results.Json(
                    new HealthJson(report.Status.ToString(), report.Entries.ToDictionary(
                        entry => entry.Key, entry => new HealthCheckJson(entry.Value.Status.ToString(), entry.Value.Description))),
                    statusCode: report.Status == HealthStatus.Unhealthy
                        ? StatusCodes.Status503ServiceUnavailable
                        : StatusCodes.Status200OK);
            })
            .WithTags("Health")
            .WithSummary(summary)
            .WithDescription(description)
            .Produces<HealthJson>(StatusCodes.Status200OK);
}
