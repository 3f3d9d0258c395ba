using System.Net;
using AkkaUsers.Actors.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Api.Tests;

/// <summary>Failed sign-ins lock an account on the default schedule (10 within 15 minutes, then 1 minute, doubling), on a clock the test moves.</summary>
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
            ["user-registered", .. Enumerable.Repeat("sign-in-failed", 10), "sign-in-locked-out", "user-signed-in",
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
}
