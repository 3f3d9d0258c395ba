using System.Diagnostics;
using System.Net;
using AkkaUsers.Api.Health;

namespace AkkaUsers.Api.Tests;

/// <summary>`AkkaUsers.Api probe URL`, the container's health check: exit 0 only for a 2xx answer.</summary>
public sealed class HealthProbeTests
{
    [Theory]
    [InlineData(200, 0)]
    [InlineData(503, 1)]
    public async Task The_probe_exits_0_for_a_2xx_answer_and_1_otherwise(int status, int exitCode)
    {
        using var server = new FixedAnswer(status);
        Assert.Equal(exitCode, await Probe($"{server.BaseUrl}/health/ready"));
    }

    [Fact]
    public async Task The_probe_exits_1_when_nothing_listens()
    {
        string url;
        using (var server = new FixedAnswer(200)) url = $"{server.BaseUrl}/health/ready";
        Assert.Equal(1, await Probe(url));
    }

    private static async Task<int> Probe(string url)
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location, HealthProbe.Verb, url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(limit.Token);
        return process.ExitCode;
    }

    private sealed class FixedAnswer(int status) : LoopbackHttpServer
    {
        protected override Task HandleAsync(HttpListenerContext context)
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }
    }
}
