using System.Net;
using AkkaUsers.Accounts;
using AkkaUsers.ReadSide.Audit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// Failed sign-ins lock the client's address out of an account on the default schedule (10 within 15 minutes, then 1
/// minute, doubling), and every address out past the account-wide backstop, on a clock the test moves.
/// </summary>
public sealed class LockoutTests
{
    [Fact]
    public async Task Ten_wrong_passwords_lock_the_account_with_the_same_401_until_the_delay_has_passed()
    {
        var clock = new ManualClock();
        await using var factory = new ApiFactory(clock: clock);
        using var client = factory.CreateClient();
        var registered = await client.Register("locked", "locked@example.com");
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var userId = (await registered.Body())["user"]!["id"]!.GetValue<string>();
        var wrong = await client.PostJson("/user/auth", new { username = "locked", password = "wrong-password" });
        var wrongBody = await wrong.Content.ReadAsStringAsync();
        for (var i = 1; i < 10; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostJson("/user/auth", new { username = "locked", password = "wrong-password" })).StatusCode);

        // Locked: the right password gets exactly the answer a wrong one gets.
        var refused = await client.PostJson("/user/auth", new { username = "locked", password = "abc321" });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(wrongBody, await refused.Content.ReadAsStringAsync());
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostJson("/user/auth", new { username = "locked", password = "abc321" })).StatusCode);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { username = "locked", password = "abc321" })).StatusCode);

        // The success reset the schedule: nine new failures do not lock.
        for (var i = 0; i < 9; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostJson("/user/auth", new { username = "locked", password = "wrong-password" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { email = "locked@example.com", password = "abc321" })).StatusCode);

        var trail = await factory.Services.GetRequiredService<UserHistory>().EventsAsync(userId, new EventRange(), 100, CancellationToken.None);
        Assert.Equal(
            ["user-registered", .. Enumerable.Repeat("sign-in-failed", 10), "sign-in-address-locked-out", "user-signed-in",
             .. Enumerable.Repeat("sign-in-failed", 9), "user-signed-in"],
            trail.Select(e => e.Type));
        factory.DeleteData();
    }

    [Fact]
    public async Task A_wrong_old_password_counts_as_a_failed_sign_in()
    {
        await using var factory = new ApiFactory(new() { ["SignIn:MaxFailures"] = "2" });
        using var client = factory.CreateClient();
        var token = await client.RegisterForToken("changer", "changer@example.com");

        for (var i = 0; i < 2; i++)
        {
            var change = await client.PostJson("/user/change-password", new { oldPassword = "wrong-password", newPassword = "new-secret-1" }, token);
            Assert.Equal("\"oldPassword\" is incorrect", await change.AssertBoom(400));
        }

        Assert.Equal("Invalid credentials", await (await client.PostJson("/user/auth", new { username = "changer", password = "abc321" })).AssertBoom(401));
        var locked = await client.PostJson("/user/change-password", new { oldPassword = "abc321", newPassword = "new-secret-1" }, token);
        Assert.Equal("\"oldPassword\" is incorrect", await locked.AssertBoom(400));
        factory.DeleteData();
    }

    [Fact]
    public async Task A_stranger_failing_from_one_address_locks_that_address_out_and_not_the_owner_at_another()
    {
        await using var factory = new ApiFactory(clock: new ManualClock());
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await client.Register("targeted", "targeted@example.com")).StatusCode);
        var wrongBody = await (await SignIn(client, "targeted", "wrong-password", Stranger)).Content.ReadAsStringAsync();
        for (var i = 1; i < 10; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await SignIn(client, "targeted", "wrong-password", Stranger)).StatusCode);

        // From the stranger's address the right password, a wrong one and an unknown user are one and the same answer.
        var locked = await SignIn(client, "targeted", "abc321", Stranger);
        Assert.Equal("Invalid credentials", await locked.AssertBoom(401));
        Assert.Equal(wrongBody, await (await SignIn(client, "targeted", "abc321", Stranger)).Content.ReadAsStringAsync());
        Assert.Equal(wrongBody, await (await SignIn(client, "targeted", "wrong-password", Stranger)).Content.ReadAsStringAsync());
        Assert.Equal(wrongBody, await (await SignIn(client, "nobody-of-that-name", "abc321", Stranger)).Content.ReadAsStringAsync());
        // The owner, from home, signs in.
        Assert.Equal(HttpStatusCode.OK, (await SignIn(client, "targeted", "abc321", Owner)).StatusCode);
        // ...and that success does not unlock the stranger.
        Assert.Equal("Invalid credentials", await (await SignIn(client, "targeted", "abc321", Stranger)).AssertBoom(401));
        factory.DeleteData();
    }

    [Fact]
    public async Task Failures_from_many_addresses_reach_the_account_wide_backstop_that_locks_every_address_out()
    {
        var clock = new ManualClock();
        await using var factory = new ApiFactory(new() { ["SignIn:MaxFailures"] = "3", ["SignIn:AccountMaxFailures"] = "6" }, clock: clock);
        using var client = factory.CreateClient();
        using var meters = new MeterCollector(factory.Services);
        Assert.Equal(HttpStatusCode.Created, (await client.Register("botnet-target", "botnet-target@example.com")).StatusCode);

        for (var i = 1; i <= 5; i++) await SignIn(client, "botnet-target", "wrong-password", $"192.0.2.{i}");
        Assert.Equal(HttpStatusCode.OK, (await SignIn(client, "botnet-target", "abc321", Owner)).StatusCode);
        // The success reset the account-wide count: six more failures, each from its own address, lock everyone out.
        for (var i = 11; i <= 16; i++) await SignIn(client, "botnet-target", "wrong-password", $"192.0.2.{i}");

        Assert.Equal("Invalid credentials", await (await SignIn(client, "botnet-target", "abc321", Owner)).AssertBoom(401));
        Assert.Equal(1, meters.Sum("akka_users.lockouts", ("scope", "account")));
        Assert.Equal(0, meters.Sum("akka_users.lockouts", ("scope", "address"))); // no address failed three times
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await SignIn(client, "botnet-target", "abc321", Owner)).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public async Task An_admins_reset_unlocks_the_account()
    {
        await using var factory = new ApiFactory(LockEverythingAtOnce, clock: new ManualClock());
        using var client = factory.CreateClient();
        var adminId = (await (await client.Register("unlocker", "unlocker@example.com")).Body())["user"]!["id"]!.GetValue<string>();
        await factory.Services.GetRequiredService<UserAccounts>().GrantScopeAsync(adminId, "admin", "test", CancellationToken.None);
        var adminToken = (await (await SignIn(client, "unlocker", "abc321", Owner)).Body())["token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Created, (await client.Register("reset-by-admin", "reset-by-admin@example.com")).StatusCode);
        await LockOut(client, "reset-by-admin");

        var reset = await client.PostJson("/user/reset-password", new { email = "reset-by-admin@example.com", password = "reset-secret-1" }, adminToken);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await SignIn(client, "reset-by-admin", "reset-secret-1", Owner)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignIn(client, "reset-by-admin", "reset-secret-1", Stranger)).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public async Task A_reset_with_a_forgotten_password_code_unlocks_the_account()
    {
        await using var factory = new ApiFactory(LockEverythingAtOnce, clock: new ManualClock());
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await client.Register("reset-by-code", "reset-by-code@example.com")).StatusCode);
        await LockOut(client, "reset-by-code");
        // The code as the webhook would deliver it to the owner.
        var issued = Assert.IsType<ResetCodeOutcome.Issued>(
            await factory.Services.GetRequiredService<UserAccounts>().RequestPasswordResetAsync("reset-by-code@example.com", CancellationToken.None));

        var reset = await client.PostJson("/forgot-password/reset", new { code = issued.Code.Code, password = "reset-secret-1" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await SignIn(client, "reset-by-code", "reset-secret-1", Owner)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignIn(client, "reset-by-code", "reset-secret-1", Stranger)).StatusCode);
        factory.DeleteData();
    }

    private const string Stranger = "203.0.113.66";
    private const string Owner = "198.51.100.10";

    /// <summary>Two failures lock the address out and, at the same time, the whole account.</summary>
    private static Dictionary<string, string?> LockEverythingAtOnce => new() { ["SignIn:MaxFailures"] = "2", ["SignIn:AccountMaxFailures"] = "2" };

    /// <summary>A stranger locks <paramref name="username"/> out from their address, and so out of every address.</summary>
    private static async Task LockOut(HttpClient client, string username)
    {
        for (var i = 0; i < 2; i++) await SignIn(client, username, "wrong-password", Stranger);
        Assert.Equal("Invalid credentials", await (await SignIn(client, username, "abc321", Owner)).AssertBoom(401));
        Assert.Equal("Invalid credentials", await (await SignIn(client, username, "abc321", Stranger)).AssertBoom(401));
    }

    private static Task<HttpResponseMessage> SignIn(HttpClient client, string username, string password, string address)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/user/auth") { Content = Api.Json(System.Text.Json.JsonSerializer.Serialize(new { username, password })) };
        request.Headers.Add(PeerAddressFilter.Header, address);
        return client.SendAsync(request);
    }
}
