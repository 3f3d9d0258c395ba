using Microsoft.Extensions.Configuration;

namespace AkkaUsers.Cli;

/// <summary>
/// Whether the service answers at its URLs, asked on this machine: what a tool that writes the journal must not
/// run beside.
/// </summary>
public static class RunningService
{
    public const string DefaultUrls = "http://localhost:2200";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    /// <summary>The URLs the service listens at by its configuration: urls, or ASPNETCORE_URLS as a container sets it.</summary>
    public static string ConfiguredUrls(IConfiguration configuration) =>
        configuration["urls"] is { Length: > 0 } configured ? configured
        : configuration["ASPNETCORE_URLS"] is { Length: > 0 } environment ? environment
        : DefaultUrls;

    /// <summary>The first of <paramref name="urls"/> (';'-separated) at which something answers /health/live, or null when none does.</summary>
    public static async Task<string?> FindAsync(string urls, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = Patience };
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Local))
        {
            try
            {
                // Any HTTP answer at all: a node that is starting or draining still owns its entities.
                using var response = await http.GetAsync($"{url}/health/live", ct);
                return url;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
        }
        return null;
    }

    /// <summary>A listening URL as a client on this machine reaches it: a wildcard host becomes the loopback address.</summary>
    private static string Local(string url)
    {
        if (!Uri.TryCreate(url.Replace("://*", "://127.0.0.1").Replace("://+", "://127.0.0.1"), UriKind.Absolute, out _))
            throw CliRefusal.Usage($"'{url}' is not a URL to look for the service at");
        var builder = new UriBuilder(url.Replace("://*", "://127.0.0.1").Replace("://+", "://127.0.0.1"));
        if (builder.Host is "0.0.0.0" or "[::]" or "::") builder.Host = "127.0.0.1";
        return builder.Uri.GetLeftPart(UriPartial.Authority);
    }
}
