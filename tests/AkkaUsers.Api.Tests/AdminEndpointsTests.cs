using System.Net;
using System.Text.Json.Nodes;
using AkkaUsers.Accounts.Tests;

namespace AkkaUsers.Api.Tests;

/// <summary>A service whose first admin is configured; the tests sign in as that admin.</summary>
public class AdminService : SharedService
{
    public AdminService() : this([])
    {
    }

    /// <param name="settings">Settings besides the first admin's.</param>
    protected AdminService(Dictionary<string, string?> settings) : base(new(settings)
    {
        ["Admin:Email"] = Email,
        ["Admin:Password"] = Password,
        ["Admin:Username"] = "root",
    })
    {
    }

    public const string Email = "root@example.com";
    public const string Password = "root-password-1";

    public async Task<string> AdminToken() =>
        (await Client.SignInAsConfiguredAdmin(Email, Password))["token"]!.GetValue<string>();
}

/// <summary>The admin API: the user list and count, one user now or at a time, and the audit trail.</summary>
public sealed class AdminEndpointsTests(AdminService service) : IClassFixture<AdminService>
{
    private static readonly string[] UserFields = ["id", "username", "isActive", "email", "scope", "plan", "vendor", "metadata"];
    private static readonly string[] EventFields = ["persistenceId", "sequenceNr", "ordering", "timestamp", "type", "data"];

    private HttpClient Client => service.Client;

    public static TheoryData<string> AdminPaths => new()
    {
        "/users",
        "/users?filter=scope:admin&sort=username:1&limit=5",
        "/users/count",
        "/users/65f2c0de0123456789abcdef",
        "/users/65f2c0de0123456789abcdef?asOf=2025-01-01T00:00:00Z",
        "/users/65f2c0de0123456789abcdef/events",
        "/users/not-an-id/events?limit=0",
    };

    [Theory]
    [MemberData(nameof(AdminPaths))]
    public async Task Every_admin_route_is_401_without_a_token_and_403_without_the_admin_scope(string path)
    {
        var userToken = await Client.RegisterForToken(Api.Unique("plain"), $"{Api.Unique("plain")}@example.com");

        Assert.Equal("Missing authentication", await (await Client.Get(path, null)).AssertBoom(401));
        Assert.Equal("Invalid token", await (await Client.Get(path, userToken + "x")).AssertBoom(401));
        Assert.Equal("Insufficient scope", await (await Client.Get(path, userToken)).AssertBoom(403));
        Assert.NotEqual(HttpStatusCode.Forbidden, (await Client.Get(path, await service.AdminToken())).StatusCode);
    }

    [Fact]
    public async Task The_configured_admin_exists_with_the_admin_scope_granted_by_the_bootstrap()
    {
        await service.AdminToken();
        var signIn = await (await Client.PostJson("/user/auth", new { username = "ROOT", password = AdminService.Password })).Body();
        var admin = signIn["user"]!.AsObject();
        Assert.Equal("""["user","admin"]""", admin["scope"]!.ToJsonString());
        Assert.Equal(AdminService.Email, admin["email"]!.GetValue<string>());

        var trail = await Events($"/users/{admin["id"]}/events");
        var grant = Assert.Single(trail, e => e["type"]!.GetValue<string>() == "scope-granted");
        Assert.Equal("""{"scope":"admin","grantedBy":"bootstrap","at":""" + grant["data"]!["at"]!.ToJsonString() + "}",
            grant["data"]!.ToJsonString());
    }

    [Fact]
    public async Task Users_lists_the_read_model_filtered_sorted_and_paged_in_appmixers_shape()
    {
        var prefix = Api.Unique("list");
        var ids = new List<string>();
        foreach (var name in new[] { "b", "a", "c" })
        {
            var created = await (await Client.Register($"{prefix}-{name}", $"{prefix}-{name}@example.com")).Body();
            ids.Add(created["user"]!["id"]!.GetValue<string>());
        }
        var pattern = Uri.EscapeDataString(prefix.ToUpperInvariant());

        // The read model follows the journal within a second or two.
        var listed = await Poll.UntilAsync(() => Users($"/users?pattern={pattern}"), users => users.Count == 3, "the new users in GET /users");
        Assert.Equal([ids[2], ids[1], ids[0]], listed.Select(u => u["id"]!.GetValue<string>())); // created:-1 by default
        Assert.All(listed, u => Assert.Equal(UserFields, u.Select(p => p.Key)));
        var b = listed.Single(u => u["id"]!.GetValue<string>() == ids[0]);
        Assert.Equal($$$"""{"id":"{{{ids[0]}}}","username":"{{{prefix}}}-b","isActive":false,"email":"{{{prefix}}}-b@example.com","scope":["user"],"plan":"free","vendor":null,"metadata":{}}""",
            b.ToJsonString());

        Assert.Equal(ids, await Ids($"/users?pattern={pattern}&sort=created:1"));
        Assert.Equal([ids[1], ids[0], ids[2]], await Ids($"/users?pattern={pattern}&sort=username:1"));
        Assert.Equal([ids[0]], await Ids($"/users?pattern={pattern}&sort=username:1&limit=1&offset=1"));
        Assert.Empty(await Ids($"/users?pattern={pattern}&offset=3"));
        Assert.Empty(await Ids($"/users?pattern={pattern}&filter=scope:admin"));
        Assert.Equal(3, await Count($"/users/count?pattern={pattern}&filter=scope:user&limit=1"));
        Assert.Equal(0, await Count($"/users/count?pattern={pattern}&filter=scope:admin"));

        var admins = await Users("/users?filter=scope:admin");
        Assert.Equal(["root"], admins.Select(u => u["username"]!.GetValue<string>()));
        Assert.Equal(1, await Count("/users/count?filter=scope:admin"));
        Assert.True(await Count("/users/count") >= 4);
    }

    [Fact]
    public async Task A_user_is_read_now_from_its_entity_and_as_of_a_time_from_its_events()
    {
        var token = await service.AdminToken();
        var adminId = (await (await Client.GetUser(token)).Body())["id"]!.GetValue<string>();
        var trail = await Events($"/users/{adminId}/events");
        var registeredAt = Time(trail[0]);
        var grantedAt = Time(trail.Single(e => e["type"]!.GetValue<string>() == "scope-granted"));

        var now = await Body($"/users/{adminId}");
        Assert.Equal(UserFields, now.Select(p => p.Key));
        Assert.Equal("""["user","admin"]""", now["scope"]!.ToJsonString());

        var beforeGrant = await Body($"/users/{adminId}?asOf={Iso(grantedAt.AddTicks(-1))}");
        Assert.Equal("""["user"]""", beforeGrant["scope"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(now, await Body($"/users/{adminId}?asOf={Iso(grantedAt)}")));
        Assert.Equal("""["user"]""", (await Body($"/users/{adminId}?asOf={Iso(registeredAt)}"))["scope"]!.ToJsonString());

        Assert.Equal("User not found", await (await Client.Get($"/users/{adminId}?asOf={Iso(registeredAt.AddTicks(-1))}", token)).AssertBoom(404));
        Assert.Equal("User not found", await (await Client.Get($"/users/{adminId}?asOf=2000-01-01", token)).AssertBoom(404));
        Assert.Equal("User not found", await (await Client.Get("/users/65f2c0de0123456789abcdef", token)).AssertBoom(404));
        Assert.Equal("User not found", await (await Client.Get("/users/65f2c0de0123456789abcdef?asOf=2030-01-01", token)).AssertBoom(404));
    }

    [Fact]
    public async Task The_audit_trail_shows_every_event_with_secrets_redacted_in_ranges_and_pages()
    {
        var username = Api.Unique("audited");
        var created = await (await Client.Register(username, $"{username}@example.com", "audited-secret")).Body();
        var id = created["user"]!["id"]!.GetValue<string>();
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await Client.PostJson("/user/auth", new { username, password = "audited-secret" })).StatusCode);

        var trail = await Events($"/users/{id}/events");
        Assert.Equal(["user-registered", "user-signed-in", "user-signed-in", "user-signed-in"], trail.Select(e => e["type"]!.GetValue<string>()));
        Assert.Equal([1L, 2, 3, 4], trail.Select(e => e["sequenceNr"]!.GetValue<long>()));
        Assert.All(trail, e => Assert.Equal(EventFields, e.Select(p => p.Key)));
        Assert.All(trail, e => Assert.Equal($"user-{id}", e["persistenceId"]!.GetValue<string>()));
        var registered = trail[0]["data"]!;
        Assert.Equal("[redacted]", registered["passwordHash"]!.GetValue<string>());
        Assert.Equal(username, registered["username"]!.GetValue<string>());
        Assert.Equal(id, registered["userId"]!.GetValue<string>());
        var raw = await (await Client.Get($"/users/{id}/events", await service.AdminToken())).Content.ReadAsStringAsync();
        Assert.DoesNotContain("$argon2id$", raw);
        Assert.DoesNotContain("audited-secret", raw);

        Assert.Equal([2L, 3], await SequenceNrs($"/users/{id}/events?from=2&to=3"));
        Assert.Equal([3L, 4], await SequenceNrs($"/users/{id}/events?from={Iso(Time(trail[2]))}"));
        Assert.Equal([1L, 2], await SequenceNrs($"/users/{id}/events?to={Iso(Time(trail[1]))}"));
        Assert.Equal([2L], await SequenceNrs($"/users/{id}/events?from=2&to={Iso(Time(trail[2]).AddTicks(-1))}"));
        // Paging: the next page starts after the last sequence number; a short page is the last one.
        Assert.Equal([1L, 2, 3], await SequenceNrs($"/users/{id}/events?limit=3"));
        Assert.Equal([4L], await SequenceNrs($"/users/{id}/events?limit=3&from=4"));
        Assert.Empty(await SequenceNrs($"/users/{id}/events?from=5"));

        Assert.Equal("User not found", await (await Client.Get("/users/65f2c0de0123456789abcdef/events", await service.AdminToken())).AssertBoom(404));
    }

    [Theory]
    [InlineData("/users?limit=0", "\"limit\" must be greater than or equal to 1")]
    [InlineData("/users?limit=1001", "\"limit\" must be less than or equal to 1000")]
    [InlineData("/users?limit=ten", "\"limit\" must be an integer")]
    [InlineData("/users?limit=99999999999", "\"limit\" must be an integer")]
    [InlineData("/users?limit=1&limit=2", "\"limit\" must be given at most once")]
    [InlineData("/users?offset=-1", "\"offset\" must be greater than or equal to 0")]
    [InlineData("/users?sort=created", "\"sort\" must be one of created:-1, created:1, username:1")]
    [InlineData("/users?sort=email:1", "\"sort\" must be one of created:-1, created:1, username:1")]
    [InlineData("/users?filter=admin", "\"filter\" must be scope:<scope>, e.g. scope:admin")]
    [InlineData("/users?filter=scope:", "\"filter\" must be scope:<scope>, e.g. scope:admin")]
    [InlineData("/users/count?filter=plan:free", "\"filter\" must be scope:<scope>, e.g. scope:admin")]
    [InlineData("/users/count?offset=x", "\"offset\" must be an integer")]
    [InlineData("/users/5C88C7CC04A917256C726C3D", "\"userId\" must be 24 lowercase hex characters")]
    [InlineData("/users/abc", "\"userId\" must be 24 lowercase hex characters")]
    [InlineData("/users/65f2c0de0123456789abcdef?asOf=yesterday", "\"asOf\" must be an ISO 8601 time")]
    [InlineData("/users/65f2c0de0123456789abcdef?asOf=", "\"asOf\" must be an ISO 8601 time")]
    [InlineData("/users/65f2c0de0123456789abcdef?asOf=2025-02-30", "\"asOf\" must be an ISO 8601 time")]
    [InlineData("/users/65f2c0de0123456789abcdef/events?from=-1", "\"from\" must be a sequence number or an ISO 8601 time")]
    [InlineData("/users/65f2c0de0123456789abcdef/events?to=soon", "\"to\" must be a sequence number or an ISO 8601 time")]
    [InlineData("/users/65f2c0de0123456789abcdef/events?from=99999999999999999999", "\"from\" must be a sequence number or an ISO 8601 time")]
    [InlineData("/users/65f2c0de0123456789abcdef/events?limit=1001", "\"limit\" must be less than or equal to 1000")]
    [InlineData("/users/xyz/events", "\"userId\" must be 24 lowercase hex characters")]
    public async Task Bad_query_input_is_400_naming_the_parameter(string path, string message)
    {
        Assert.Equal(message, await (await Client.Get(path, await service.AdminToken())).AssertBoom(400));
    }

    [Fact]
    public async Task A_pattern_longer_than_a_username_is_400()
    {
        var response = await Client.Get($"/users?pattern={new string('a', 129)}", await service.AdminToken());
        Assert.Equal("\"pattern\" length must be less than or equal to 128 characters long", await response.AssertBoom(400));
    }

    private async Task<JsonObject> Body(string path)
    {
        var response = await Client.Get(path, await service.AdminToken());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Body();
    }

    private async Task<List<JsonObject>> Array(string path)
    {
        var response = await Client.Get(path, await service.AdminToken());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(n => n!.AsObject()).ToList();
    }

    private Task<List<JsonObject>> Users(string path) => Array(path);

    private Task<List<JsonObject>> Events(string path) => Array(path);

    private async Task<List<string>> Ids(string path) => (await Users(path)).Select(u => u["id"]!.GetValue<string>()).ToList();

    private async Task<List<long>> SequenceNrs(string path) => (await Events(path)).Select(e => e["sequenceNr"]!.GetValue<long>()).ToList();

    private async Task<long> Count(string path)
    {
        var body = await Body(path);
        Assert.Equal(["count"], body.Select(p => p.Key));
        return body["count"]!.GetValue<long>();
    }

    private static DateTimeOffset Time(JsonObject e) => e["timestamp"]!.GetValue<DateTimeOffset>();

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O"));
}
