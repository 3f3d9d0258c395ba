using AkkaUsers.Accounts.Hosting;
using AkkaUsers.Api.Http;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Operations;

/// <summary>
/// "Management": a listener of its own for what only operators should reach (/metrics and the health probes), as
/// Keycloak's port 9000. Unset: everything is served on the public URLs, as before.
/// </summary>
public sealed class ManagementOptions
{
    public const string Section = "Management";

    /// <summary>Semicolon-separated URLs, e.g. <c>http://127.0.0.1:9000</c>; each with a fixed port of its own.</summary>
    public string? Urls { get; init; }

    public IReadOnlyList<string> UrlList =>
        (Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The port of an http(s) URL (a wildcard host allowed, as Kestrel takes it); null when it is not one.</summary>
    public static int? PortOf(string url) =>
        Uri.TryCreate(url.Replace("://*", "://localhost").Replace("://+", "://localhost"), UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https" ? uri.Port : null;
}

public sealed class ManagementOptionsValidation : IValidateOptions<ManagementOptions>
{
    public ValidateOptionsResult Validate(string? name, ManagementOptions o) => AkkaUsersOptionsValidation.Check(
        (o.UrlList.Any(url => ManagementOptions.PortOf(url) is null or 0),
            $"{ManagementOptions.Section}:Urls must be http:// or https:// URLs, each with a fixed port"));
}

public static class ManagementListener
{
    private const string PublicUrlsKey = "urls";

    /// <summary>Appmixer's engine port unless --urls / ASPNETCORE_URLS / Urls says otherwise; the management URLs beside it.</summary>
    public static WebApplicationBuilder AddManagementListener(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ManagementOptions>().Bind(builder.Configuration.GetSection(ManagementOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ManagementOptions>, ManagementOptionsValidation>();

        var publicUrls = builder.Configuration[PublicUrlsKey] is { Length: > 0 } urls ? urls : "http://localhost:2200";
        var managementUrls = builder.Configuration[$"{ManagementOptions.Section}:{nameof(ManagementOptions.Urls)}"];
        builder.WebHost.UseUrls(string.IsNullOrWhiteSpace(managementUrls) ? publicUrls : $"{publicUrls};{managementUrls}");
        return builder;
    }

    /// <summary>
    /// With management URLs: their ports answer only /metrics and /health/*, and the public ports no longer answer
    /// /metrics. Decided by the port a connection came in on, which a client cannot choose by a header.
    /// </summary>
    public static IApplicationBuilder UseManagementListener(this WebApplication app)
    {
        var ports = app.Services.GetRequiredService<IOptions<ManagementOptions>>().Value.UrlList
            .Select(ManagementOptions.PortOf).OfType<int>().ToHashSet();
        if (ports.Count == 0) return app;
        return app.Use((http, next) =>
        {
            var onManagementPort = ports.Contains(http.Connection.LocalPort);
            var path = http.Request.Path;
            var allowed = onManagementPort
                ? path.StartsWithSegments("/metrics") || path.StartsWithSegments("/health")
                : !path.StartsWithSegments("/metrics");
            return allowed ? next(http) : BoomError.WriteAsync(http, StatusCodes.Status404NotFound, "Not Found");
        });
    }
}
