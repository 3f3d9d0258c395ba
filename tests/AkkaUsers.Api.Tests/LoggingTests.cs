using System.Net;

namespace AkkaUsers.Api.Tests;

/// <summary>One line per request, and no secret in any line at any level.</summary>
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

    private static string StoredHash(string databaseFile)
    {
        var payload = RestartTests.JournalPayloads(databaseFile, "user-registered").Single();
        var start = payload.IndexOf("$argon2id$", StringComparison.Ordinal);
        return payload[start..payload.IndexOf('"', start)];
    }
}
