using System.Net;

namespace AkkaUsers.Api.Tests;

/// <summary>Password:RejectCommon refuses the most common passwords wherever a new password is set; it is off by default.</summary>
public sealed class CommonPasswordTests
{
    [Fact]
    public async Task With_RejectCommon_a_common_new_password_is_400_on_every_route_that_sets_one()
    {
        await using var factory = new ApiFactory(new()
        {
            ["Password:RejectCommon"] = "true",
            ["Admin:Email"] = AdminService.Email,
            ["Admin:Password"] = AdminService.Password,
        });
        using var client = factory.CreateClient();

        Assert.Equal("\"password\" is too common", await (await client.Register("common", "common@example.com", "password123")).AssertBoom(400));
        Assert.Equal("\"password\" is too common", await (await client.Register("common", "common@example.com", "Password123")).AssertBoom(400));
        var token = await client.RegisterForToken("common", "common@example.com", "a-less-common-secret");

        var change = await client.PostJson("/user/change-password", new { oldPassword = "a-less-common-secret", newPassword = "qwerty123" }, token);
        Assert.Equal("\"newPassword\" is too common", await change.AssertBoom(400));

        var adminToken = (await client.SignInAsConfiguredAdmin(AdminService.Email, AdminService.Password))["token"]!.GetValue<string>();
        var reset = await client.PostJson("/user/reset-password", new { email = "common@example.com", password = "trustno1" }, adminToken);
        Assert.Equal("\"password\" is too common", await reset.AssertBoom(400));

        // None of the refused passwords was set.
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { username = "common", password = "a-less-common-secret" })).StatusCode);
        factory.DeleteData();
    }

    [Fact]
    public async Task By_default_common_passwords_are_accepted()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.Created, (await client.Register("documented", "documented@example.com", "abc321")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await client.Register("common", "common@example.com", "password123")).StatusCode);
        factory.DeleteData();
    }
}
