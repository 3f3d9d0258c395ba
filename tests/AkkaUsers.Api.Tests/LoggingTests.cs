using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Event;
using AkkaUsers.Accounts.Tests;
using Microsoft.Extensions.DependencyInjection;

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

        JsonObject? requestLine = null, clusterUpLine = null;
        await foreach (var line in service.StandardOutput())
        {
            var entry = JsonNode.Parse(line)!.AsObject(); // every line is one JSON object
            foreach (var field in new[] { "Timestamp", "LogLevel", "Category", "Message" })
                Assert.False(string.IsNullOrEmpty(entry[field]?.GetValue<string>()), $"{field} missing in {line}");
            Assert.True(entry["State"] is JsonObject { Count: > 0 }, $"no properties in {line}"); // the template's, or the request's
            var category = entry["Category"]!.GetValue<string>();
            if (category.StartsWith("Akka.", StringComparison.Ordinal))
                Assert.False(entry["Message"]!.GetValue<string>().StartsWith('['), $"Akka's own prefix in {line}");

            if (entry["State"]?["address"] is { } address && category == "Microsoft.Hosting.Lifetime")
            {
                var request = new HttpRequestMessage(HttpMethod.Get, $"{address.GetValue<string>()}/health/live");
                request.Headers.Add("traceparent", Api.TraceParent(traceId));
                Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
            }
            if (category.EndsWith("HttpLoggingMiddleware", StringComparison.Ordinal)) requestLine = entry;
            if (category == "Akka.Cluster" && entry["Message"]!.GetValue<string>().Contains("to [Up]")) clusterUpLine = entry;
            if (requestLine is not null && clusterUpLine is not null) break;
        }

        Assert.NotNull(requestLine);
        Assert.Equal("/health/live", requestLine["State"]!["Path"]!.GetValue<string>());
        Assert.Contains(requestLine["Scopes"]!.AsArray(), scope => scope?["TraceId"]?.GetValue<string>() == traceId.ToString());
        // Akka's event: its level, its template and the template's values as properties, not one pre-formatted string.
        Assert.NotNull(clusterUpLine);
        Assert.Equal("Information", clusterUpLine["LogLevel"]!.GetValue<string>());
        var state = clusterUpLine["State"]!.AsObject();
        Assert.Contains("Leader is moving node [{", state["{OriginalFormat}"]!.GetValue<string>());
        Assert.Contains(state, property => property.Value?.GetValue<string>() == "Up");
        Assert.StartsWith("Cluster (akka://", state["LogSource"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_Akka_log_event_made_inside_a_trace_carries_its_trace_and_span_ids_and_the_logging_class()
    {
        await using var factory = new ApiFactory();
        var system = factory.Services.GetRequiredService<ActorSystem>();
        using var activity = new Activity("test").Start();

        Logging.GetLogger(system, typeof(LoggingTests)).Info("Probe {Number} logged", 42);

        var line = await Poll.UntilAsync(() => Task.FromResult(factory.Logs.Lines.SingleOrDefault(l => l.Contains("Probe 42 logged"))),
            found => found is not null, "the Akka line");
        Assert.StartsWith($"Information {typeof(LoggingTests).FullName}: Probe 42 logged", line);
        Assert.Contains($"TraceId:{activity.TraceId}", line);
        Assert.Contains($"SpanId:{activity.SpanId}", line);
        factory.DeleteData();
    }

    private static string StoredHash(string databaseFile)
    {
        var payload = RestartTests.JournalPayloads(databaseFile, "user-registered").Single();
        var start = payload.IndexOf("$argon2id$", StringComparison.Ordinal);
        return payload[start..payload.IndexOf('"', start)];
    }
}
