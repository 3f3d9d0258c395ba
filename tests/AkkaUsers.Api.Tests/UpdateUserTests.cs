using System.Net;

namespace AkkaUsers.Api.Tests;

/// <summary>PUT /users/:userId: an admin edits scope, vendor, metadata, email, isActive and plan; an email moves its claim.</summary>
public sealed class UpdateUserTests(AdminService service) : IClassFixture<AdminService>
{
    private HttpClient Client => service.Client;

    private async Task<(string Id, string Username, string Email, string Token)> NewUser()
    {
        var username = Api.Unique("put");
        var email = $"{username}@example.com";
        var created = await (await Client.Register(username, email)).Body();
        return (created["user"]!["id"]!.GetValue<string>(), username, email, created["token"]!.GetValue<string>());
    }

    private async Task<HttpResponseMessage> Put(string id, object body) =>
        await Client.Send(HttpMethod.Put, $"/users/{id}", await service.AdminToken(), body);

    [Fact]
    public async Task Every_field_changes_and_the_user_is_answered_as_it_is_now()
    {
        var (id, username, email, _) = await NewUser();
        var newEmail = $"New-{email}".ToUpperInvariant();

        var response = await Put(id, """
            {"scope": ["user", "tester"], "vendor": ["acme", "globex"], "metadata": {"team": "red"},
             "email": "NEWEMAIL", "isActive": true, "plan": "enterprise", "unknown": 1}
            """.Replace("NEWEMAIL", newEmail));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = $$$"""
            {"id":"{{{id}}}","username":"{{{username}}}","isActive":true,"email":"{{{newEmail.ToLowerInvariant()}}}","scope":["user","tester"],"plan":"enterprise","vendor":["acme","globex"],"metadata":{"team":"red"}}
            """;
        Assert.Equal(expected, (await response.Body()).ToJsonString());
        Assert.Equal(expected, (await (await Client.Get($"/users/{id}", await service.AdminToken())).Body()).ToJsonString());

        // A field left out stays; a string vendor stays a string.
        var again = await (await Put(id, new { vendor = "solo" })).Body();
        Assert.Equal("\"solo\"", again["vendor"]!.ToJsonString());
        Assert.Equal("enterprise", again["plan"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_email_change_moves_the_claim_the_old_email_registers_again_and_the_new_one_does_not()
    {
        var (id, username, email, _) = await NewUser();
        var newEmail = $"moved-{email}";

        Assert.Equal(HttpStatusCode.OK, (await Put(id, new { email = newEmail })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Client.PostJson("/user/auth", new { email = newEmail, password = "abc321" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.PostJson("/user/auth", new { email, password = "abc321" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Client.Register(Api.Unique("other"), newEmail)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Client.Register(Api.Unique("other"), email)).StatusCode);
        // Setting the email the user already has changes nothing and releases nothing.
        Assert.Equal(HttpStatusCode.OK, (await Put(id, new { email = newEmail.ToUpperInvariant() })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Client.Register(username + "x", newEmail)).StatusCode);
    }

    [Fact]
    public async Task An_email_that_belongs_to_someone_else_is_409_and_changes_nothing()
    {
        var (id, _, email, _) = await NewUser();
        var (_, _, otherEmail, _) = await NewUser();

        Assert.Equal("The email is already taken", await (await Put(id, new { email = otherEmail, plan = "gold" })).AssertBoom(409));

        var user = await (await Client.Get($"/users/{id}", await service.AdminToken())).Body();
        Assert.Equal((email, "free"), (user["email"]!.GetValue<string>(), user["plan"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Of_concurrent_changes_of_two_users_to_one_email_exactly_one_succeeds()
    {
        var first = await NewUser();
        var second = await NewUser();
        var contested = $"{Api.Unique("contested")}@example.com";

        var answers = await Task.WhenAll(Put(first.Id, new { email = contested }), Put(second.Id, new { email = contested }));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
    }

    public static TheoryData<string, string> BadUpdates => new()
    {
        { """{"scope": "admin"}""", "\"scope\" must be an array of strings" },
        { """{"scope": ["admin", 1]}""", "\"scope\" must be an array of strings" },
        { """{"scope": ["has space"]}""", "\"scope\" items must be 1 to 64 characters without spaces" },
        { """{"scope": [""]}""", "\"scope\" items must be 1 to 64 characters without spaces" },
        { """{"vendor": 5}""", "\"vendor\" must be a string or an array of strings" },
        { """{"vendor": ["a", {}]}""", "\"vendor\" must be a string or an array of strings" },
        { """{"vendor": " "}""", "\"vendor\" must be 1 to 256 characters long" },
        { """{"metadata": [1]}""", "\"metadata\" must be of type object" },
        { $$$"""{"metadata": {"k": "{{{new string('m', 4100)}}}"}}""", "\"metadata\" must be at most 4096 bytes of JSON" },
        { """{"email": "not-an-email"}""", "\"email\" must be a valid email" },
        { """{"email": 3}""", "\"email\" must be a string" },
        { """{"isActive": "yes"}""", "\"isActive\" must be a boolean" },
        { """{"plan": ""}""", "\"plan\" must be 1 to 64 characters long" },
        { """{"plan": false}""", "\"plan\" must be a string" },
        { "[]", "\"value\" must be of type object" },
        { "{", "Invalid request payload JSON format" },
    };

    [Theory]
    [MemberData(nameof(BadUpdates))]
    public async Task A_bad_update_is_400_naming_the_field_and_changes_nothing(string body, string message)
    {
        var (id, _, _, _) = await NewUser();
        var before = (await (await Client.Get($"/users/{id}", await service.AdminToken())).Body()).ToJsonString();

        Assert.Equal(message, await (await Put(id, body)).AssertBoom(400));

        Assert.Equal(before, (await (await Client.Get($"/users/{id}", await service.AdminToken())).Body()).ToJsonString());
    }

    [Fact]
    public async Task An_unknown_or_malformed_user_id_is_404_or_400()
    {
        Assert.Equal("User not found", await (await Put("65f2c0de0123456789abcdef", new { plan = "gold" })).AssertBoom(404));
        Assert.Equal("\"userId\" must be 24 lowercase hex characters", await (await Put("nope", new { plan = "gold" })).AssertBoom(400));
        // The email a missing user would have taken is free again.
        var email = $"{Api.Unique("unclaimed")}@example.com";
        Assert.Equal(HttpStatusCode.NotFound, (await Put("65f2c0de0123456789abcdef", new { email })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Client.Register(Api.Unique("claimer"), email)).StatusCode);
    }

    [Fact]
    public async Task Put_is_401_without_a_token_and_403_without_the_admin_scope()
    {
        var (id, _, _, token) = await NewUser();

        Assert.Equal("Missing authentication", await (await Client.Send(HttpMethod.Put, $"/users/{id}", null, new { plan = "gold" })).AssertBoom(401));
        Assert.Equal("Insufficient scope", await (await Client.Send(HttpMethod.Put, $"/users/{id}", token, new { plan = "gold" })).AssertBoom(403));
        Assert.Equal("free", (await (await Client.GetUser(token)).Body())["plan"]!.GetValue<string>());
    }
}
