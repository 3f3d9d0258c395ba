using System.Globalization;
using System.Threading.RateLimiting;
using AkkaUsers.Accounts.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Http;

/// <summary>"RateLimit": how many requests one client address may make to each limited endpoint per window.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimit";

    public int PermitLimit { get; init; } = 60;

    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);
}

public sealed class RateLimitOptionsValidation : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions o) => AkkaUsersOptionsValidation.Check(
        (o.PermitLimit < 1, $"{RateLimitOptions.Section}:PermitLimit must be at least 1 (is {o.PermitLimit})"),
        (o.Window <= TimeSpan.Zero, $"{RateLimitOptions.Section}:Window must be positive"));
}

/// <summary>
/// Per client address limits on the endpoints an attacker hammers (sign-in, registration, forgot-password): a fixed
/// window per address and endpoint, no queueing. Over the limit: 429 in the Boom shape with Retry-After in seconds.
/// </summary>
public static class ClientRateLimits
{
    public const string PolicyName = "per-client-address";

    public static IServiceCollection AddClientRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidation>();
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(PolicyName, http =>
            {
                var limits = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                // The route, not the path: "/USER/auth" and "/user/auth/" reach the same endpoint and share its count.
                var endpoint = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.Value?.ToLowerInvariant();
                return RateLimitPartition.GetFixedWindowLimiter($"{endpoint}|{address}", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.PermitLimit,
                    Window = limits.Window,
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = (context, ct) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter =
                        Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }
                return new ValueTask(BoomError.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests; try again later"));
            };
        });
        return services;
    }
}

/// <summary>Headers on every response: nothing is cached (answers carry tokens and personal data), nothing is sniffed.</summary>
public static class SecurityHeaders
{
    /// <summary>Set when the response starts, so that error answers written later (which clear headers) carry them too.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return Task.CompletedTask;
        });
        return next(context);
    });
}

/// <summary>
/// The client's address behind a reverse proxy: X-Forwarded-For and X-Forwarded-Proto are read only from the proxies
/// of <c>Http:TrustedProxies</c> (addresses or CIDR networks), and ignored from anyone else, who could forge them.
/// </summary>
public static class TrustedProxies
{
    public static IApplicationBuilder UseTrustedProxies(this WebApplication app)
    {
        var trusted = app.Services.GetRequiredService<IOptions<Configuration.HttpOptions>>().Value.TrustedProxyList;
        if (trusted.Count == 0) return app;

        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            ForwardLimit = null, // a chain of trusted proxies is walked back to the first address that is not one
        };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var entry in trusted)
        {
            if (System.Net.IPNetwork.TryParse(entry, out var network)) options.KnownIPNetworks.Add(network);
            else options.KnownProxies.Add(System.Net.IPAddress.Parse(entry));
        }
        return app.UseForwardedHeaders(options);
    }
}
