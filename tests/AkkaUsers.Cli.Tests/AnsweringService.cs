using System.Net;
using System.Net.Sockets;
using AkkaUsers.Api.Tests;

namespace AkkaUsers.Cli.Tests;

/// <summary>Something that answers every request with 200, as a running service's /health/live does; it records the paths asked.</summary>
public sealed class AnsweringService : LoopbackHttpServer
{
    private readonly List<string> _paths = [];

    public IReadOnlyList<string> Paths
    {
        get { lock (_paths) return _paths.ToList(); }
    }

    /// <summary>A loopback URL on a port that was free a moment ago: nothing answers there.</summary>
    public static string NobodyUrl()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return $"http://127.0.0.1:{port}";
    }

    protected override Task HandleAsync(HttpListenerContext context)
    {
        lock (_paths) _paths.Add(context.Request.Url!.AbsolutePath);
        context.Response.StatusCode = 200;
        return Task.CompletedTask;
    }
}
