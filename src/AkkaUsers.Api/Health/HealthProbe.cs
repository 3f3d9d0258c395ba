namespace AkkaUsers.Api.Health;

/// <summary>
/// <c>AkkaUsers.Api probe [url]</c>: exit 0 when the URL answers 2xx within a few seconds, 1 otherwise. The container's
/// health check, since the runtime image has no curl or wget.
/// </summary>
public static class HealthProbe
{
    public const string Verb = "probe";
    public const string DefaultUrl = "http://127.0.0.1:2200/health/ready";

    public static async Task<int> RunAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(url);
            if (response.IsSuccessStatusCode) return 0;
            Console.Error.WriteLine($"{url} answered {(int)response.StatusCode}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            Console.Error.WriteLine($"{url} did not answer: {e.Message}");
        }
        return 1;
    }
}
