using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace AkkaUsers.Api.Tests;

/// <summary>One line per request, carrying the request's trace id, and no secret in any line at any level.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task A_full_cycle_logs_each_request_once_and_never_a_password_hash_token_or_secret()
    {
        await using var factory = new ApiFactory(new()
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft"] = "Trace",
        });
        using var client = factory.CreateClient();
        const string password = "hunter2-never-logged";

        var token = await client.RegisterForToken("logged", "logged@example.com", password);
        var signIn = await client.PostJson("/user/auth", new { email = "logged@example.com", password });
        var signInToken = (await signIn.Body())["token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(signInToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostJson("/user/auth", new { email = "logged@example.com", password = password + "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetUser(token + "tampered")).StatusCode);

        var hash = StoredHash(factory.DatabaseFile);
        var lines = factory.Logs.Lines;
        Assert.NotEmpty(lines);
        foreach (var secret in new[] { password, hash, token, signInToken, token.Split('.')[2], ApiFactory.Secret, "$argon2id$" })
            Assert.DoesNotContain(lines, line => line.Contains(secret, StringComparison.Ordinal));

        var requestLines = lines.Where(l => l.Contains("HttpLoggingMiddleware")).ToList();
        Assert.Equal(5, requestLines.Count);
        Assert.Contains(requestLines, l => l.Contains("Method: POST") && l.Contains("Path: /user/auth") && l.Contains("StatusCode: 401") && l.Contains("Duration:"));
        Assert.Contains(requestLines, l => l.Contains("Method: GET") && l.Contains("Path: /user") && l.Contains("StatusCode: 200"));
        factory.DeleteData();
    }

    [Fact]
    public async Task Each_line_written_during_a_request_carries_the_requests_trace_id()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        var traceId = ActivityTraceId.CreateRandom();

        var request = new HttpRequestMessage(HttpMethod.Post, "/user/auth") { Content = Api.Json("""{"username":"nobody","password":"abc321"}""") };
        request.Headers.Add("traceparent", Api.TraceParent(traceId));
        await (await client.SendAsync(request)).AssertBoom(401);

        var requestLine = Assert.Single(factory.Logs.Lines, l => l.Contains("HttpLoggingMiddleware") && l.Contains("Path: /user/auth"));
        Assert.Contains($"TraceId:{traceId}", requestLine);
        factory.DeleteData();
    }

    [Fact]
    public async Task Logging_Console_FormatterName_json_writes_each_line_as_json_with_the_trace_id()
    {
        await using var service = new ServiceProcess(new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "json" });
        using var client = new HttpClient();
        var traceId = ActivityTraceId.CreateRandom();

        JsonObject? requestLine = null;
        await foreach (var line in service.StandardOutput())
        {
            var entry = JsonNode.Parse(line)!.AsObject(); // every line up to the request's is JSON
            if (entry["State"]?["address"] is { } address && entry["Category"]!.GetValue<string>() == "Microsoft.Hosting.Lifetime")
            {
                var request = new HttpRequestMessage(HttpMethod.Get, $"{address.GetValue<string>()}/health/live");
                request.Headers.Add("traceparent", Api.TraceParent(traceId));
                Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
            }
            if (entry["Category"]!.GetValue<string>().EndsWith("HttpLoggingMiddleware", StringComparison.Ordinal))
            {
                requestLine = entry;
                break;
            }
        }

        Assert.NotNull(requestLine);
        Assert.Equal("/health/live", requestLine["State"]!["Path"]!.GetValue<string>());
        Assert.Contains(requestLine["Scopes"]!.AsArray(), scope => scope?["TraceId"]?.GetValue<string>() == traceId.ToString());
    }

    private static string StoredHash(string databaseFile)
    {
        var payload = RestartTests.JournalPayloads(databaseFile, "user-registered").Single();
        var start = payload.IndexOf("$argon2id$", StringComparison.Ordinal);
        return payload[start..payload.IndexOf('"', start)];
    }
}
