using System.Net;

namespace AkkaUsers.Api.Tests;

/// <summary>The configured first admin: made once, granted once, whatever the number of starts.</summary>
public sealed class AdminBootstrapTests
{
    private static readonly Dictionary<string, string?> Admin = new()
    {
        ["Admin:Email"] = "Boss@Example.com",
        ["Admin:Password"] = "boss-password",
    };

    [Fact]
    public async Task Without_configuration_there_is_no_admin()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await client.Register("first", "first@example.com")).StatusCode);

        Assert.Empty(RestartTests.JournalPayloads(factory.DatabaseFile, "scope-granted"));
        factory.DeleteData();
    }

    [Fact]
    public async Task The_admin_is_created_and_granted_once_across_restarts()
    {
        var first = new ApiFactory(Admin);
        using (var client = first.CreateClient())
            Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { email = "boss@example.com", password = "boss-password" })).StatusCode);
        await first.DisposeAsync();

        await using var second = new ApiFactory(Admin, first.DataDirectory);
        using var again = second.CreateClient();
        var signIn = await again.PostJson("/user/auth", new { username = "Boss@Example.com", password = "boss-password" });
        Assert.Equal("""["user","admin"]""", (await signIn.Body())["user"]!["scope"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await again.Get("/users/count", (await signIn.Body())["token"]!.GetValue<string>())).StatusCode);

        Assert.Single(RestartTests.JournalPayloads(second.DatabaseFile, "user-registered"));
        var grant = Assert.Single(RestartTests.JournalPayloads(second.DatabaseFile, "scope-granted"));
        Assert.Contains("\"grantedBy\":\"bootstrap\"", grant);
        second.DeleteData();
    }

    [Fact]
    public async Task An_existing_account_is_granted_admin_and_keeps_its_password()
    {
        var first = new ApiFactory();
        string userToken;
        using (var client = first.CreateClient())
            userToken = await client.RegisterForToken("boss", "boss@example.com", "own-password");
        await first.DisposeAsync();

        await using var second = new ApiFactory(Admin, first.DataDirectory);
        using var again = second.CreateClient();
        var signIn = await again.PostJson("/user/auth", new { username = "boss", password = "own-password" });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.Equal("""["user","admin"]""", (await signIn.Body())["user"]!["scope"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await again.PostJson("/user/auth", new { username = "boss", password = "boss-password" })).StatusCode);
        // A token minted before the grant carries the old scope: the admin signs in again to use the admin API.
        Assert.Equal(HttpStatusCode.Forbidden, (await again.Get("/users", userToken)).StatusCode);
        Assert.Single(RestartTests.JournalPayloads(second.DatabaseFile, "user-registered"));
        second.DeleteData();
    }
}
