using System.Net;
using AkkaUsers.Accounts.Tests;

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
            await client.SignInAsConfiguredAdmin("boss@example.com", "boss-password");
        await first.DisposeAsync();

        await using var second = new ApiFactory(Admin, first.DataDirectory);
        using var again = second.CreateClient();
        var signIn = await again.SignInAsConfiguredAdmin("Boss@Example.com", "boss-password");
        Assert.Equal("""["user","admin"]""", signIn["user"]!["scope"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, (await again.Get("/users/count", signIn["token"]!.GetValue<string>())).StatusCode);
        await Poll.UntilAsync(() => Task.FromResult(second.Logs.Lines), lines => lines.Any(l => l.Contains("has the admin scope")), "the second start's bootstrap is done");

        Assert.Single(RestartTests.JournalPayloads(second.DatabaseFile, "user-registered"));
        var grant = Assert.Single(RestartTests.JournalPayloads(second.DatabaseFile, "scope-granted"));
        Assert.Contains("\"grantedBy\":\"bootstrap\"", grant);
        second.DeleteData();
    }

    [Fact]
    public async Task An_existing_account_whose_password_is_Admin_Password_is_granted_admin_and_its_old_token_too()
    {
        var (second, userToken) = await RegisteredThenStartedWithAdmin("boss-password");
        await using var _ = second;
        using var again = second.CreateClient();
        await again.SignInAsConfiguredAdmin("boss@example.com", "boss-password");
        // A request is authorised with the user's scope now, not the scope its token was minted with.
        Assert.Equal(HttpStatusCode.OK, (await again.Get("/users", userToken)).StatusCode);
        Assert.Single(RestartTests.JournalPayloads(second.DatabaseFile, "user-registered"));
        second.DeleteData();
    }

    [Fact]
    public async Task An_account_that_registered_the_admin_email_with_another_password_is_not_granted_anything()
    {
        var (second, attackerToken) = await RegisteredThenStartedWithAdmin("attackers-password");
        await using var _ = second;
        using var again = second.CreateClient();
        var refusal = await Poll.UntilAsync(() => Task.FromResult(second.Logs.Lines.Where(l => l.StartsWith("Error")).ToList()),
            errors => errors.Count > 0, "the bootstrap refuses the account");
        Assert.Contains("Admin:Email names an existing account whose password is not Admin:Password", Assert.Single(refusal));

        var signIn = await again.PostJson("/user/auth", new { username = "boss", password = "attackers-password" });
        Assert.Equal("""["user"]""", (await signIn.Body())["user"]!["scope"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.Forbidden, (await again.Get("/users", attackerToken)).StatusCode);
        Assert.Empty(RestartTests.JournalPayloads(second.DatabaseFile, "scope-granted"));
        second.DeleteData();
    }

    [Fact]
    public async Task A_bootstrap_on_a_node_that_cannot_serve_retries_and_never_stops_the_service()
    {
        // Its only seed node never answers: the node never becomes an Up member, and every attempt fails at once.
        await using var factory = new ApiFactory(new(Admin)
        {
            ["Entities:AskTimeout"] = "00:00:00.001",
            ["Cluster:Port"] = ServiceProcess.FreePort().ToString(),
            ["Cluster:SeedNodes"] = $"akka.tcp://akka-users@127.0.0.1:{ServiceProcess.FreePort()}",
            ["Cluster:Tls:Disabled"] = "true", // loopback only
            ["Claims:Secret"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        });
        using var client = factory.CreateClient();

        await Poll.UntilAsync(() => Task.FromResult(factory.Logs.Lines.Count(l => l.Contains("Admin bootstrap attempt"))), retries => retries >= 2,
            "a second failed bootstrap");
        Assert.Contains(factory.Logs.Lines, l => l.Contains("Admin bootstrap attempt 1 failed (this node is not an Up cluster member yet)"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.DoesNotContain(factory.Logs.Lines, l => l.Contains("Admin bootstrap attempt") && l.Contains("   at "));
        factory.DeleteData();
    }

    /// <summary>"boss" registered with the admin email and <paramref name="password"/>, then a restart with the admin configured.</summary>
    private static async Task<(ApiFactory Restarted, string Token)> RegisteredThenStartedWithAdmin(string password)
    {
        var first = new ApiFactory();
        string token;
        using (var client = first.CreateClient())
            token = await client.RegisterForToken("boss", "boss@example.com", password);
        await first.DisposeAsync();
        return (new ApiFactory(Admin, first.DataDirectory), token);
    }
}
