using System.Net;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// A request is authorised by the user's entity, not by the token alone: a token that names nobody or a deleted user
/// is 401 everywhere, and the scope that counts is the user's scope now.
/// </summary>
public sealed class AuthorizationTests(AdminService service) : IClassFixture<AdminService>
{
    private HttpClient Client => service.Client;

    public static TheoryData<string> Paths => new() { "/user", "/users", "/users/count", "/users/65f2c0de0123456789abcdef" };

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task A_well_signed_admin_token_whose_id_names_no_user_is_401(string path)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var forged = JwtRotationTests.Sign(
            $$"""{"id":"65f2c0de0123456789abcdef","scope":["user","admin"],"iat":{{now}},"exp":{{now + 60}}}""", ApiFactory.Secret);

        Assert.Equal("Invalid token", await (await Client.Get(path, forged)).AssertBoom(401));
    }

    [Fact]
    public async Task The_admin_token_of_a_deleted_admin_is_401_on_admin_routes()
    {
        var (id, token) = await NewAdmin();
        Assert.Equal(HttpStatusCode.OK, (await Client.Get("/users/count", token)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Client.Send(HttpMethod.Delete, $"/users/{id}", await service.AdminToken())).StatusCode);

        Assert.Equal("Invalid token", await (await Client.Get("/users/count", token)).AssertBoom(401));
        Assert.Equal("Invalid token", await (await Client.Send(HttpMethod.Put, $"/users/{id}", token, new { scope = new[] { "admin" } })).AssertBoom(401));
    }

    [Fact]
    public async Task A_demoted_admins_old_token_loses_admin_at_once_and_cannot_put_its_scope_back()
    {
        var (id, token) = await NewAdmin();
        Assert.Equal(HttpStatusCode.OK, (await Client.Get("/users", token)).StatusCode);

        var demote = await Client.Send(HttpMethod.Put, $"/users/{id}", await service.AdminToken(), new { scope = new[] { "user" } });
        Assert.Equal(HttpStatusCode.OK, demote.StatusCode);

        Assert.Equal("Insufficient scope", await (await Client.Get("/users", token)).AssertBoom(403));
        var regrant = await Client.Send(HttpMethod.Put, $"/users/{id}", token, new { scope = new[] { "user", "admin" } });
        Assert.Equal("Insufficient scope", await regrant.AssertBoom(403));
        Assert.Equal("""["user"]""", (await (await Client.GetUser(token)).Body())["scope"]!.ToJsonString());
    }

    /// <summary>A new user promoted to admin, and the token it got when it was only a user.</summary>
    private async Task<(string Id, string Token)> NewAdmin()
    {
        var username = Api.Unique("promoted");
        var created = await (await Client.Register(username, $"{username}@example.com")).Body();
        var id = created["user"]!["id"]!.GetValue<string>();
        var promote = await Client.Send(HttpMethod.Put, $"/users/{id}", await service.AdminToken(), new { scope = new[] { "user", "admin" } });
        Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        return (id, created["token"]!.GetValue<string>());
    }
}
