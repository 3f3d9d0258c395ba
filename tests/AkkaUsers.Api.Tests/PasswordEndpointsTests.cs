using System.Net;
using AkkaUsers.Accounts;
using AkkaUsers.Api.Endpoints;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Api.Tests;

/// <summary>POST /user/change-password (the user) and POST /user/reset-password (an admin): old tokens stop working.</summary>
public sealed class PasswordEndpointsTests(AdminService service) : IClassFixture<AdminService>
{
    private HttpClient Client => service.Client;

    private async Task<(string Username, string Email, string Token)> NewUser()
    {
        var username = Api.Unique("pw");
        var email = $"{username}@example.com";
        return (username, email, await Client.RegisterForToken(username, email));
    }

    private Task<HttpResponseMessage> SignIn(string username, string password) =>
        Client.PostJson("/user/auth", new { username, password });

    [Fact]
    public async Task Change_password_revokes_the_old_token_and_answers_a_fresh_one()
    {
        var (username, _, oldToken) = await NewUser();
        var signedIn = (await (await SignIn(username, "abc321")).Body())["token"]!.GetValue<string>();

        var response = await Client.PostJson("/user/change-password", new { oldPassword = "abc321", newPassword = "new-secret-1" }, oldToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Body();
        Assert.Equal(["token"], body.Select(p => p.Key));
        var fresh = body["token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await Client.GetUser(fresh)).StatusCode);
        Assert.Equal("Invalid token", await (await Client.GetUser(oldToken)).AssertBoom(401));
        Assert.Equal("Invalid token", await (await Client.GetUser(signedIn)).AssertBoom(401));

        Assert.Equal("Invalid credentials", await (await SignIn(username, "abc321")).AssertBoom(401));
        var afterChange = (await (await SignIn(username, "new-secret-1")).Body())["token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await Client.GetUser(afterChange)).StatusCode);
    }

    public static TheoryData<string, int, string> BadChanges => new()
    {
        { """{"newPassword": "new-secret-1"}""", 400, "\"oldPassword\" is required" },
        { """{"oldPassword": "", "newPassword": "new-secret-1"}""", 400, "\"oldPassword\" is required" },
        { """{"oldPassword": "abc321"}""", 400, "\"newPassword\" is required" },
        { """{"oldPassword": 5, "newPassword": "new-secret-1"}""", 400, "\"oldPassword\" must be a string" },
        { """{"oldPassword": "abc321", "newPassword": ["x"]}""", 400, "\"newPassword\" must be a string" },
        { """{"oldPassword": "abc321", "newPassword": "short"}""", 400, "\"newPassword\" length must be at least 6 characters long" },
        { $$"""{"oldPassword": "abc321", "newPassword": "{{new string('p', 1025)}}"}""", 400, "\"newPassword\" length must be less than or equal to 1024 characters long" },
        { $$"""{"oldPassword": "{{new string('p', 1025)}}", "newPassword": "new-secret-1"}""", 400, "\"oldPassword\" length must be less than or equal to 1024 characters long" },
        { """{"oldPassword": "wrong-password", "newPassword": "new-secret-1"}""", 400, "\"oldPassword\" is incorrect" },
        { "[]", 400, "\"value\" must be of type object" },
        { "{", 400, "Invalid request payload JSON format" },
    };

    [Theory]
    [MemberData(nameof(BadChanges))]
    public async Task A_bad_change_is_a_4xx_naming_the_field_and_changes_nothing(string body, int status, string message)
    {
        var (username, _, token) = await NewUser();

        Assert.Equal(message, await (await Client.Send(HttpMethod.Post, "/user/change-password", token, body)).AssertBoom(status));

        Assert.Equal(HttpStatusCode.OK, (await Client.GetUser(token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "abc321")).StatusCode);
    }

    [Fact]
    public async Task Change_password_needs_a_token()
    {
        var body = new { oldPassword = "abc321", newPassword = "new-secret-1" };
        Assert.Equal("Missing authentication", await (await Client.PostJson("/user/change-password", body, null)).AssertBoom(401));
        Assert.Equal("Invalid token", await (await Client.PostJson("/user/change-password", body, "not.a.token")).AssertBoom(401));
    }

    [Fact]
    public async Task Reset_password_by_an_admin_sets_the_password_and_revokes_the_users_tokens()
    {
        var (username, email, token) = await NewUser();

        var response = await Client.PostJson("/user/reset-password", new { email = email.ToUpperInvariant(), password = "reset-secret-1" }, await service.AdminToken());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Body());
        Assert.Equal("Invalid token", await (await Client.GetUser(token)).AssertBoom(401));
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignIn(username, "abc321")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignIn(username, "reset-secret-1")).StatusCode);
    }

    public static TheoryData<string, int, string> BadResets => new()
    {
        { """{"password": "reset-secret-1"}""", 400, "\"email\" is required" },
        { """{"email": "someone@example.com"}""", 400, "\"password\" is required" },
        { """{"email": "not-an-email", "password": "reset-secret-1"}""", 400, "\"email\" must be a valid email" },
        { """{"email": "someone@example.com", "password": "short"}""", 400, "\"password\" length must be at least 6 characters long" },
        { """{"email": 1, "password": "reset-secret-1"}""", 400, "\"email\" must be a string" },
        { """{"email": "nobody-at-all@example.com", "password": "reset-secret-1"}""", 404, "User not found" },
        { "[]", 400, "\"value\" must be of type object" },
    };

    [Theory]
    [MemberData(nameof(BadResets))]
    public async Task A_bad_reset_is_a_4xx_naming_the_field(string body, int status, string message)
    {
        Assert.Equal(message, await (await Client.Send(HttpMethod.Post, "/user/reset-password", await service.AdminToken(), body)).AssertBoom(status));
    }

    [Fact]
    public async Task Reset_password_is_401_without_a_token_and_403_without_the_admin_scope()
    {
        var (_, email, token) = await NewUser();
        var body = new { email, password = "reset-secret-1" };

        Assert.Equal("Missing authentication", await (await Client.PostJson("/user/reset-password", body, null)).AssertBoom(401));
        Assert.Equal("Insufficient scope", await (await Client.PostJson("/user/reset-password", body, token)).AssertBoom(403));
        Assert.Equal(HttpStatusCode.OK, (await Client.GetUser(token)).StatusCode);
    }

    [Fact]
    public async Task A_reset_in_the_same_second_as_a_change_revokes_the_token_the_change_answered()
    {
        // The clock stands still: the change and the reset happen within one second whatever the machine's speed.
        await using var factory = new ApiFactory(clock: new ManualClock());
        using var client = factory.CreateClient();
        var victimToken = await client.RegisterForToken("same-second", "same-second@example.com");
        var admin = await client.Register("same-second-admin", "same-second-admin@example.com");
        var adminId = (await admin.Body())["user"]!["id"]!.GetValue<string>();
        await factory.Services.GetRequiredService<UserAccounts>().GrantScopeAsync(adminId, AdminEndpoints.AdminScope, "test", CancellationToken.None);
        var adminToken = (await (await client.PostJson("/user/auth", new { username = "same-second-admin", password = "abc321" })).Body())["token"]!.GetValue<string>();

        var changed = await client.PostJson("/user/change-password", new { oldPassword = "abc321", newPassword = "new-secret-1" }, victimToken);
        var afterChange = (await changed.Body())["token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(afterChange)).StatusCode);
        var reset = await client.PostJson("/user/reset-password", new { email = "same-second@example.com", password = "reset-secret-1" }, adminToken);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);

        Assert.Equal("Invalid token", await (await client.GetUser(afterChange)).AssertBoom(401));
        var afterReset = (await (await client.PostJson("/user/auth", new { username = "same-second", password = "reset-secret-1" })).Body())["token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(afterReset)).StatusCode);
        factory.DeleteData();
    }
}
