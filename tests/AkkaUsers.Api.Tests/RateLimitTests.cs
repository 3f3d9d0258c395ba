using System.Net;

namespace AkkaUsers.Api.Tests;

/// <summary>Per client address limits on sign-in and registration; security headers on every answer.</summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task Past_the_limit_sign_in_and_registration_are_429_with_retry_after_each_counted_on_its_own()
    {
        await using var factory = new ApiFactory(new() { ["RateLimit:PermitLimit"] = "3", ["RateLimit:Window"] = "01:00:00" });
        using var client = factory.CreateClient();

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostJson("/user/auth", new { username = "nobody", password = "abc321" })).StatusCode);
        var limited = await client.PostJson("/user/auth", new { username = "nobody", password = "abc321" });

        Assert.Equal("Too many requests; try again later", await limited.AssertBoom(429));
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 3600);

        // Registration has its own count; GET /user is not limited.
        var token = await client.RegisterForToken("limited", "limited@example.com");
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetUser(token)).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public async Task Past_the_limit_forgot_password_and_reset_with_a_code_are_429_with_retry_after_each_counted_on_its_own()
    {
        await using var factory = new ApiFactory(new() { ["RateLimit:PermitLimit"] = "2", ["RateLimit:Window"] = "01:00:00" });
        using var client = factory.CreateClient();

        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/forgot-password", new { email = "someone@example.com" })).StatusCode);
        var forgot = await client.PostJson("/user/forgot-password", new { email = "someone@example.com" });
        Assert.Equal("Too many requests; try again later", await forgot.AssertBoom(429));
        Assert.InRange(int.Parse(forgot.Headers.GetValues("Retry-After").Single()), 1, 3600);

        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostJson("/forgot-password/reset", new { code = "guess", password = "abc321" })).StatusCode);
        var reset = await client.PostJson("/forgot-password/reset", new { code = "guess", password = "abc321" });
        Assert.Equal("Too many requests; try again later", await reset.AssertBoom(429));
        Assert.InRange(int.Parse(reset.Headers.GetValues("Retry-After").Single()), 1, 3600);

        // Sign-in has its own count.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostJson("/user/auth", new { username = "nobody", password = "abc321" })).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public async Task Every_answer_is_not_to_be_stored_or_sniffed_errors_included()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        var answers = new[]
        {
            await client.Register("headers", "headers@example.com"),
            await client.PostJson("/user/auth", new { username = "headers", password = "wrong-password" }),
            await client.PostAsync("/user", Api.Json("{")),
            await client.GetUser(null),
            await client.Get("/no/such/path", null),
        };

        Assert.All(answers, answer =>
        {
            Assert.Equal("no-store", answer.Headers.CacheControl?.ToString());
            Assert.Equal("nosniff", answer.Headers.GetValues("X-Content-Type-Options").Single());
        });
        factory.DeleteData();
    }

    [Fact]
    public async Task Every_spelling_of_a_path_counts_against_the_one_endpoint()
    {
        await using var factory = new ApiFactory(new() { ["RateLimit:PermitLimit"] = "3", ["RateLimit:Window"] = "01:00:00" });
        using var client = factory.CreateClient();

        foreach (var path in new[] { "/USER/auth", "/User/Auth", "/user/auth/" })
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostJson(path, new { username = "nobody", password = "abc321" })).StatusCode);

        Assert.Equal("Too many requests; try again later", await (await client.PostJson("/user/auth", new { username = "nobody", password = "abc321" })).AssertBoom(429));
        Assert.Equal("Too many requests; try again later", await (await client.PostJson("/uSeR/AUTH/", new { username = "nobody", password = "abc321" })).AssertBoom(429));
        factory.DeleteData();
    }

    [Fact]
    public async Task X_Forwarded_For_is_ignored_unless_the_peer_is_a_trusted_proxy()
    {
        await using var factory = new ApiFactory(new() { ["RateLimit:PermitLimit"] = "2", ["RateLimit:Window"] = "01:00:00" });
        using var client = factory.CreateClient();

        // Without Http:TrustedProxies, every forged client address is the peer's own.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInFrom(client, "10.1.1.1", "203.0.113.1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInFrom(client, "10.1.1.1", "203.0.113.2")).StatusCode);
        await (await SignInFrom(client, "10.1.1.1", "203.0.113.3")).AssertBoom(429);
        factory.DeleteData();
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_each_forwarded_client_has_its_own_count_and_an_untrusted_peer_cannot_forge_one()
    {
        await using var factory = new ApiFactory(new()
        {
            ["RateLimit:PermitLimit"] = "2",
            ["RateLimit:Window"] = "01:00:00",
            ["Http:TrustedProxies"] = "10.0.0.0/24, 10.9.9.9",
        });
        using var client = factory.CreateClient();

        foreach (var proxy in new[] { "10.0.0.7", "10.9.9.9" })
        {
            var clientAddress = $"203.0.113.{proxy[^1]}";
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInFrom(client, proxy, clientAddress)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInFrom(client, proxy, clientAddress)).StatusCode);
            await (await SignInFrom(client, proxy, clientAddress)).AssertBoom(429);
            // Another client behind the same proxy is counted on its own.
            Assert.Equal(HttpStatusCode.Unauthorized, (await SignInFrom(client, proxy, "198.51.100.1" + proxy[^1])).StatusCode);
        }

        // A peer outside the trusted networks is counted as itself, whatever it claims.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInFrom(client, "10.0.1.1", "192.0.2.1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignInFrom(client, "10.0.1.1", "192.0.2.2")).StatusCode);
        await (await SignInFrom(client, "10.0.1.1", "192.0.2.3")).AssertBoom(429);
        factory.DeleteData();
    }

    private static Task<HttpResponseMessage> SignInFrom(HttpClient client, string peer, string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/user/auth") { Content = Api.Json("""{"username":"nobody","password":"abc321"}""") };
        request.Headers.Add(PeerAddressFilter.Header, peer);
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return client.SendAsync(request);
    }
}
