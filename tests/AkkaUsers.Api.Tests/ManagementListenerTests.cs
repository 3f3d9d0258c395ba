using System.Net;
using System.Net.Sockets;
using AkkaUsers.Accounts.Tests;

namespace AkkaUsers.Api.Tests;

/// <summary>Management:Urls: /metrics and the probes on a port of their own, and /metrics no longer on the public one.</summary>
public sealed class ManagementListenerTests
{
    [Fact]
    public async Task Metrics_are_served_only_on_the_management_port_and_the_management_port_serves_nothing_else()
    {
        var (publicPort, managementPort) = (ServiceProcess.FreePort(), ServiceProcess.FreePort());
        await using var service = new ServiceProcess(new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{publicPort}",
            ["Management__Urls"] = $"http://127.0.0.1:{managementPort}",
            ["Metrics__Prometheus"] = "true",
        });
        using var http = new HttpClient();
        var (publicUrl, managementUrl) = ($"http://127.0.0.1:{publicPort}", $"http://127.0.0.1:{managementPort}");

        await Poll.UntilAsync(() => StatusOf(http, $"{managementUrl}/health/ready"), status => status == HttpStatusCode.OK, "the node is ready");

        Assert.Equal(HttpStatusCode.OK, await StatusOf(http, $"{publicUrl}/health/live"));
        var scrape = await http.GetAsync($"{managementUrl}/metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType?.MediaType);
        await (await http.GetAsync($"{publicUrl}/metrics")).AssertBoom(404);
        // A Host header naming the management port does not open it on the public one.
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, $"{publicUrl}/metrics") { Headers = { Host = $"127.0.0.1:{managementPort}" } };
        await (await http.SendAsync(spoofed)).AssertBoom(404);

        await (await http.PostAsync($"{managementUrl}/user/auth", Api.Json("""{"username":"a","password":"abc321"}"""))).AssertBoom(404);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync($"{publicUrl}/user/auth", Api.Json("""{"username":"a","password":"abc321"}"""))).StatusCode);
    }

    private static async Task<HttpStatusCode?> StatusOf(HttpClient http, string url)
    {
        try
        {
            return (await http.GetAsync(url)).StatusCode;
        }
        catch (HttpRequestException)
        {
            return null; // not listening yet
        }
    }
}
