using System.Net;
using System.Net.Sockets;

namespace AkkaUsers.Api.Tests;

/// <summary>A small HTTP server on 127.0.0.1, on a free port, that hands each request to <see cref="HandleAsync"/> in turn.</summary>
public abstract class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;

    protected LoopbackHttpServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(BaseUrl + "/");
        _listener.Start();
        _serving = Task.Run(Serve);
    }

    /// <summary>"http://127.0.0.1:PORT", without a trailing slash.</summary>
    public string BaseUrl { get; }

    /// <summary>Reads the request and answers it (the caller closes the response afterwards).</summary>
    protected abstract Task HandleAsync(HttpListenerContext context);

    public virtual void Dispose()
    {
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
        GC.SuppressFinalize(this);
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return; // closed
            }
            await HandleAsync(context);
            context.Response.Close();
        }
    }
}
