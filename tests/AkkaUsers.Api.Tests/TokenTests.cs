using System.Net;
using System.Text;
using AkkaUsers.Api.Auth;
using AkkaUsers.Domain;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AkkaUsers.Api.Tests;

/// <summary>Every kind of bad bearer token on GET /user, and who may create users when API_USER_CREATE_SCOPE is set.</summary>
public sealed class TokenTests
{
    [Fact]
    public async Task Get_user_rejects_missing_garbage_tampered_alg_none_and_foreign_algorithm_tokens()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        var token = await client.RegisterForToken("tokens", "tokens@example.com");
        var parts = token.Split('.');

        var tamperedPayload = Base64Url(Encoding.UTF8.GetBytes(
            UserEndpointsTests.Base64Url(parts[1]).Replace("\"user\"", "\"admin\"")));
        var signature = parts[2];
        var flipped = (signature[0] == 'A' ? 'B' : 'A') + signature[1..];
        var algNone = $"{Base64Url("""{"alg":"none","typ":"JWT"}"""u8.ToArray())}.{parts[1]}.";
        var hs512 = new JsonWebTokenHandler().CreateToken(
            UserEndpointsTests.Base64Url(parts[1]),
            new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(ApiFactory.Secret + ApiFactory.Secret)), SecurityAlgorithms.HmacSha512));
        var otherSecret = new JsonWebTokenHandler().CreateToken(
            UserEndpointsTests.Base64Url(parts[1]),
            new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes("another-secret-another-secret-another")), SecurityAlgorithms.HmacSha256));

        Assert.Equal("Missing authentication", await (await client.GetUser(null)).AssertBoom(401));
        foreach (var bad in new[]
                 {
                     "garbage", "a.b.c", $"{parts[0]}.{tamperedPayload}.{parts[2]}", $"{parts[0]}.{parts[1]}.{flipped}",
                     algNone, hs512, otherSecret,
                 })
        {
            await (await client.GetUser(bad)).AssertBoom(401);
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(token)).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public async Task An_expired_token_is_401()
    {
        await using var factory = new ApiFactory(new() { ["Jwt:Lifetime"] = "00:00:01" });
        using var client = factory.CreateClient();
        var token = await client.RegisterForToken("expiring", "expiring@example.com");
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(token)).StatusCode);

        // Lifetime one second plus one second of tolerated clock skew: poll until it lapses.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        HttpResponseMessage response;
        while ((response = await client.GetUser(token)).StatusCode == HttpStatusCode.OK && DateTime.UtcNow < deadline)
            await Task.Delay(50); // poll interval, not a wait for a guessed duration

        Assert.Equal("Token expired", await response.AssertBoom(401));
        factory.DeleteData();
    }

    [Fact]
    public async Task A_valid_token_for_a_user_that_does_not_exist_is_401()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        var tokens = factory.Services.GetRequiredService<TokenService>();
        var ghost = new UserProfile(UserId.New(DateTimeOffset.UtcNow).Value, "ghost", false, "ghost@example.com", ["user"], "free", null, null, DateTimeOffset.UtcNow);

        Assert.Equal("Invalid token", await (await client.GetUser(tokens.Mint(ghost))).AssertBoom(401));
        factory.DeleteData();
    }

    [Fact]
    public async Task With_API_USER_CREATE_SCOPE_creating_a_user_needs_a_token_whose_user_has_that_scope()
    {
        await using var factory = new ApiFactory(new()
        {
            ["API_USER_CREATE_SCOPE"] = "admin, operator",
            ["Admin:Email"] = AdminService.Email,
            ["Admin:Password"] = AdminService.Password,
        });
        using var client = factory.CreateClient();
        var admin = (await client.SignInAsConfiguredAdmin(AdminService.Email, AdminService.Password))["token"]!.GetValue<string>();

        await (await client.Register("scoped", "scoped@example.com")).AssertBoom(401);

        var created = await (await client.PostJson("/user", new { username = "operator", email = "operator@example.com", password = "abc321" }, admin)).Body();
        var (operatorId, operatorToken) = (created["user"]!["id"]!.GetValue<string>(), created["token"]!.GetValue<string>());
        var byUser = await client.PostJson("/user", new { username = "scoped", email = "scoped@example.com", password = "abc321" }, operatorToken);
        Assert.Equal("Insufficient scope", await byUser.AssertBoom(403));

        var grant = await client.Send(HttpMethod.Put, $"/users/{operatorId}", admin, new { scope = new[] { "user", "operator" } });
        Assert.Equal(HttpStatusCode.OK, grant.StatusCode);
        var byOperator = await client.PostJson("/user", new { username = "scoped", email = "scoped@example.com", password = "abc321" }, operatorToken);
        Assert.Equal(HttpStatusCode.Created, byOperator.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { username = "scoped", password = "abc321" })).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public async Task New_users_get_the_configured_default_vendor_and_plan()
    {
        await using var factory = new ApiFactory(new() { ["DEFAULT_USER_VENDOR"] = "acme", ["Users:DefaultPlan"] = "beta" });
        using var client = factory.CreateClient();

        var user = (await (await client.Register("vendored", "vendored@example.com")).Body())["user"]!;

        Assert.Equal("acme", user["vendor"]!.GetValue<string>());
        Assert.Equal("beta", user["plan"]!.GetValue<string>());
        factory.DeleteData();
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
