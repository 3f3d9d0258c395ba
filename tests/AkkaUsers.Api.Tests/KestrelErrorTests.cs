using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Api.Tests;

/// <summary>The service on a real Kestrel on 127.0.0.1, for the answers Kestrel gives to requests it cannot parse.</summary>
public sealed class KestrelService : SharedService
{
    public KestrelService() => Factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));

    public Uri Address
    {
        get
        {
            Factory.StartServer();
            var server = Factory.Services.GetRequiredService<IServer>();
            return new Uri(server.Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        }
    }

    /// <summary>Sends <paramref name="request"/> as it is, byte for byte, and reads the answer until the server closes.</summary>
    public async Task<RawResponse> SendRawAsync(byte[] request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Address.Host, Address.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request);
        using var answer = new MemoryStream();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await stream.CopyToAsync(answer, limit.Token);
        return RawResponse.Parse(Encoding.UTF8.GetString(answer.ToArray()));
    }
}

/// <summary>An HTTP/1.1 answer as read off the wire: its status, headers and (de-chunked) body.</summary>
public sealed record RawResponse(int Status, Dictionary<string, string> Headers, string Body)
{
    public static RawResponse Parse(string text)
    {
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headEnd > 0, $"no complete answer: {text}");
        var lines = text[..headEnd].Split("\r\n");
        var headers = lines[1..].Select(line => line.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = text[(headEnd + 4)..];
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding == "chunked")
        {
            var decoded = new StringBuilder();
            for (var size = ChunkSize(ref body); size > 0; size = ChunkSize(ref body))
            {
                decoded.Append(body[..size]);
                body = body[(size + 2)..];
            }
            body = decoded.ToString();
        }
        return new(int.Parse(lines[0].Split(' ')[1]), headers, body);
    }

    private static int ChunkSize(ref string body)
    {
        var end = body.IndexOf("\r\n", StringComparison.Ordinal);
        var size = Convert.ToInt32(body[..end], 16);
        body = body[(end + 2)..];
        return size;
    }
}

/// <summary>
/// What a client sees when Kestrel cannot parse its request. Errors in the body surface while the service reads it,
/// so they are Boom answers like any other. Errors in the request line or the headers (too long, too large,
/// malformed, a missing Host, an unknown HTTP version) are answered by Kestrel itself before any middleware runs,
/// with a status, Content-Length: 0 and Connection: close, which ASP.NET offers no way to give a body.
/// </summary>
public sealed class KestrelErrorTests(KestrelService service) : IClassFixture<KestrelService>
{
    public static readonly TheoryData<string> PublicPosts = ["/user", "/user/auth", "/user/forgot-password", "/forgot-password/reset"];

    [Theory]
    [MemberData(nameof(PublicPosts))]
    public async Task A_malformed_chunked_body_is_a_Boom_400_and_persists_nothing(string path)
    {
        var username = Api.Unique("chunk");
        var json = $$"""{"username":"{{username}}","email":"{{username}}@example.com","password":"abc321","code":"x"}""";
        var request = $"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n" +
                      $"Connection: close\r\n\r\nzz\r\n{json}\r\n0\r\n\r\n";

        var answer = await service.SendRawAsync(Encoding.ASCII.GetBytes(request));

        Assert.Equal(400, answer.Status);
        Assert.Equal("application/json; charset=utf-8", answer.Headers["Content-Type"]);
        Assert.Equal("""{"statusCode":400,"error":"Bad Request","message":"Bad chunk size data."}""", answer.Body);
        Assert.Equal(HttpStatusCode.Created, (await service.Client.Register(username, $"{username}@example.com")).StatusCode);
    }

    public static TheoryData<string, string, int> RejectedByKestrel => new()
    {
        { "headers over 32 KiB", $"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: {new string('h', 40_000)}\r\n\r\n", 431 },
        { "a request line over 8 KiB", $"GET /{new string('u', 10_000)} HTTP/1.1\r\nHost: x\r\n\r\n", 414 },
        { "a malformed request line", "GARBAGE\r\n\r\n", 400 },
        { "a malformed header", "GET /health/live HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400 },
        { "no Host header", "GET /health/live HTTP/1.1\r\n\r\n", 400 },
        { "an unknown HTTP version", "GET /health/live HTTP/1.7\r\nHost: x\r\n\r\n", 505 },
    };

    [Theory]
    [MemberData(nameof(RejectedByKestrel))]
    public async Task A_request_Kestrel_cannot_parse_gets_its_status_without_a_body_and_logs_no_stack(string why, string request, int status)
    {
        var logLinesBefore = service.Factory.Logs.Lines.Count;

        var answer = await service.SendRawAsync(Encoding.ASCII.GetBytes(request));

        Assert.True(status == answer.Status, $"{why}: {answer.Status}");
        Assert.Equal("0", answer.Headers["Content-Length"]);
        Assert.Equal("close", answer.Headers["Connection"]);
        Assert.Equal("", answer.Body);
        // Kestrel logs the rejection at Debug with its exception; nothing at Information or above carries a stack.
        var logged = service.Factory.Logs.Lines.Skip(logLinesBefore)
            .Where(line => !line.StartsWith("Debug") && !line.StartsWith("Trace")).ToList();
        Assert.DoesNotContain(logged, line => line.Contains("Exception"));
        Assert.Equal(HttpStatusCode.OK, (await service.Client.GetAsync("/health/live")).StatusCode);
    }
}
