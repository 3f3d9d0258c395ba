using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Hosting;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Tests;
using AkkaUsers.ReadSide.Sweeps;
using AkkaUsers.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using static AkkaUsers.Domain.ClaimProtocol;

namespace AkkaUsers.Api.Tests;

/// <summary>The seed's three endpoints, line by line of the contract, on one service instance.</summary>
public sealed class UserEndpointsTests(SharedService service) : IClassFixture<SharedService>
{
    private static readonly string[] UserFields = ["id", "username", "isActive", "email", "scope", "plan", "vendor", "metadata"];
    private HttpClient Client => service.Client;

    [Fact]
    public async Task The_seed_curl_examples_work_verbatim()
    {
        // curl -XPOST ".../user" -H "Content-type: application/json" -d '{ "username": "abc@example.com", "email": "abc@example.com", "password": "abc321" }'
        var created = await Client.PostAsync("/user",
            Api.Json("""{ "username": "abc@example.com", "email": "abc@example.com", "password": "abc321" }"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("application/json; charset=utf-8", created.Content.Headers.ContentType?.ToString());
        var createdBody = await created.Body();
        Assert.Equal(["token", "user"], createdBody.Select(p => p.Key).Order());
        var user = createdBody["user"]!.AsObject();
        AssertNewUser(user, "abc@example.com", "abc@example.com");

        // curl -XPOST ".../user/auth" -H "Content-type: application/json" -d '{ "username": "abc@example.com", "password": "abc321" }'
        var signedIn = await Client.PostAsync("/user/auth",
            Api.Json("""{ "username": "abc@example.com", "password": "abc321" }"""));
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        var signInBody = await signedIn.Body();
        Assert.Equal(["token", "user"], signInBody.Select(p => p.Key).Order());
        Assert.True(JsonNode.DeepEquals(user, signInBody["user"]));

        // curl ".../user" -H "Authorization: Bearer [ACCESS_TOKEN]"
        var current = await Client.GetUser(signInBody["token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.True(JsonNode.DeepEquals(user, await current.Body()));
    }

    [Fact]
    public async Task A_new_user_has_exactly_the_contract_fields_and_defaults()
    {
        var username = Api.Unique("  Mixed Case ");
        var response = await Client.PostJson("/user", new
        {
            username, email = $"  {Api.Unique("Some.One")}@Example.COM ", password = "abc321", metadata = new { team = "ops", n = 3 },
        });
        var user = (await response.Body())["user"]!.AsObject();
        Assert.Equal(UserFields, user.Select(p => p.Key));
        Assert.Matches("^[0-9a-f]{24}$", user["id"]!.GetValue<string>());
        Assert.Equal(username.Trim(), user["username"]!.GetValue<string>());
        Assert.Equal(user["email"]!.GetValue<string>().Trim().ToLowerInvariant(), user["email"]!.GetValue<string>());
        Assert.StartsWith("some.one", user["email"]!.GetValue<string>());
        Assert.False(user["isActive"]!.GetValue<bool>());
        Assert.Equal("""["user"]""", user["scope"]!.ToJsonString());
        Assert.Equal("free", user["plan"]!.GetValue<string>());
        Assert.Null(user["vendor"]);
        Assert.Equal("""{"team":"ops","n":3}""", user["metadata"]!.ToJsonString());
    }

    [Fact]
    public async Task The_token_is_appmixers_hs256_jwt_with_id_scope_iat_exp()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var response = await Client.Register(Api.Unique("tok"), $"{Api.Unique("tok")}@example.com");
        var body = await response.Body();
        var parts = body["token"]!.GetValue<string>().Split('.');
        Assert.Equal(3, parts.Length);

        Assert.Equal("""{"alg":"HS256","typ":"JWT"}""", Base64Url(parts[0]));
        var payload = JsonNode.Parse(Base64Url(parts[1]))!.AsObject();
        Assert.Equal(["exp", "iat", "id", "scope"], payload.Select(p => p.Key).Order());
        Assert.Equal(body["user"]!["id"]!.GetValue<string>(), payload["id"]!.GetValue<string>());
        Assert.Equal("""["user"]""", payload["scope"]!.ToJsonString());
        var iat = payload["iat"]!.GetValue<long>();
        Assert.InRange(iat, before, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal(2_592_000, payload["exp"]!.GetValue<long>() - iat);
    }

    [Theory]
    [InlineData("username", "Sign.In.User")]
    [InlineData("username", "SIGN.IN.USER")]
    [InlineData("username", "ｓｉｇｎ.ｉｎ.ｕｓｅｒ")] // fullwidth: the same under NFKC
    [InlineData("email", "sign.in@example.com")]
    [InlineData("email", "  SIGN.IN@Example.Com ")]
    public async Task Signs_in_by_username_or_email_in_any_normalized_form(string field, string login)
    {
        await using var own = new ApiFactory();
        using var client = own.CreateClient();
        var token = await client.RegisterForToken("Sign.In.User", "sign.in@example.com", "correct horse");
        var userId = (await (await client.GetUser(token)).Body())["id"]!.GetValue<string>();

        var response = await client.PostJson("/user/auth", new Dictionary<string, string> { [field] = login, ["password"] = "correct horse" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Body();
        Assert.Equal(userId, body["user"]!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await client.GetUser(body["token"]!.GetValue<string>())).StatusCode);
        own.DeleteData();
    }

    [Fact]
    public async Task Username_wins_when_both_username_and_email_are_given()
    {
        var a = Api.Unique("both-a");
        var b = Api.Unique("both-b");
        await Client.RegisterForToken(a, $"{a}@example.com", "password-a");
        await Client.RegisterForToken(b, $"{b}@example.com", "password-b");

        var response = await Client.PostJson("/user/auth", new { username = a, email = $"{b}@example.com", password = "password-a" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(a, (await response.Body())["user"]!["username"]!.GetValue<string>());
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_get_byte_identical_401s()
    {
        var name = Api.Unique("victim");
        await Client.RegisterForToken(name, $"{name}@example.com");

        var wrongPassword = await Client.PostJson("/user/auth", new { username = name, password = "not-the-password" });
        var unknownUser = await Client.PostJson("/user/auth", new { username = Api.Unique("nobody"), password = "abc321" });
        var unknownEmail = await Client.PostJson("/user/auth", new { email = "nobody@example.com", password = "abc321" });

        var expected = """{"statusCode":401,"error":"Unauthorized","message":"Invalid credentials"}""";
        foreach (var response in new[] { wrongPassword, unknownUser, unknownEmail })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(expected, await response.Content.ReadAsStringAsync());
            Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        }
    }

    /// <summary>Three ways to register a name that shows as someone else's.</summary>
    [Theory]
    [InlineData("zero-width", 400, "\"username\" must not contain invisible format characters")]
    [InlineData("right-to-left", 400, "\"username\" must not contain invisible format characters")]
    [InlineData("cyrillic", 409, "The username is already taken")]
    public async Task A_username_that_shows_as_a_taken_one_is_refused_and_the_real_one_unaffected(string attack, int status, string message)
    {
        var real = Api.Unique("root-admin-");
        var (realName, lookAlike) = attack switch
        {
            "zero-width" => (real + "@example.com", real + "@example.com\u200b"),
            "right-to-left" => (real, "\u202e" + new string(real.Reverse().ToArray())),
            _ => (real, real.Replace("admin", "\u0430dmin")),
        };
        Assert.Equal(HttpStatusCode.Created, (await Client.Register(realName, $"{real}@example.com")).StatusCode);

        var impostor = await Client.Register(lookAlike, $"{real}-impostor@example.com");

        Assert.Equal(message, await impostor.AssertBoom(status));
        Assert.Equal(HttpStatusCode.OK, (await Client.PostJson("/user/auth", new { username = realName, password = "abc321" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.PostJson("/user/auth", new { email = $"{real}-impostor@example.com", password = "abc321" })).StatusCode);
    }

    [Fact]
    public async Task A_look_alike_is_refused_long_after_the_real_one_registered()
    {
        // Past the grace period a claim is checked against its owner: the owner's skeleton claim must pass that check.
        await using var own = new ApiFactory(new() { ["Entities:ClaimGracePeriod"] = "00:00:00.200" });
        using var client = own.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await client.Register("aged-admin", "aged-admin@example.com")).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(1)); // time itself must pass: the grace period runs on the real clock

        Assert.Equal("The username is already taken", await (await client.Register("aged-\u0430dmin", "impostor@example.com")).AssertBoom(409));
        Assert.Equal(HttpStatusCode.OK, (await client.PostJson("/user/auth", new { username = "aged-admin", password = "abc321" })).StatusCode);
        own.DeleteData();
    }

    [Fact]
    public async Task A_user_registered_before_skeleton_claims_gets_one_at_the_next_start_and_keeps_signing_in()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "akka-users-api-tests", Guid.NewGuid().ToString("N"));
        await using (var before = new ApiFactory(dataDirectory: dataDirectory))
        {
            using var client = before.CreateClient();
            var registered = await client.Register("legacy-admin", "legacy-admin@example.com");
            var id = (await registered.Body())["user"]!["id"]!.GetValue<string>();
            // As a journal written before skeleton claims: the user holds its username key only.
            var usernames = before.Services.GetRequiredService<IRequiredActor<UsernameIndex>>().ActorRef;
            await usernames.Ask<IClaimReply>(new ReleaseKey(Keys.UsernameSkeleton("legacy-admin"), id), TimeSpan.FromSeconds(10));
        }
        using (var database = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "akka-users.db")};Pooling=False"))
        {
            database.Open();
            using var forget = database.CreateCommand();
            // Nor has the migration ever run on it.
            forget.CommandText = $"DELETE FROM read_model_offsets WHERE name IN ('{UsernameSkeletonClaims.OffsetName}', '{UsernameSkeletonClaims.UntilName}')";
            forget.ExecuteNonQuery();
        }

        await using var after = new ApiFactory(dataDirectory: dataDirectory);
        using var restarted = after.CreateClient();
        var index = after.Services.GetRequiredService<IRequiredActor<UsernameIndex>>().ActorRef;
        await Poll.UntilAsync(
            () => index.Ask<KeyOwner>(new LookupKey(Keys.UsernameSkeleton("legacy-admin")), TimeSpan.FromSeconds(10)),
            owner => owner.UserId is not null, "the skeleton claim of the user registered before");

        Assert.Equal("The username is already taken", await (await restarted.Register("legacy-\u0430dmin", "impostor@example.com")).AssertBoom(409));
        Assert.Equal(HttpStatusCode.OK, (await restarted.PostJson("/user/auth", new { username = "legacy-admin", password = "abc321" })).StatusCode);
        after.DeleteData();
    }

    [Theory]
    [InlineData("Taken.Name", "other1@example.com", "TAKEN.NAME", "other2@example.com")]
    [InlineData("Taken.Name2", "other3@example.com", "ｔａｋｅｎ.ｎａｍｅ2", "other4@example.com")]
    [InlineData("name-a", "taken@example.com", "name-b", "TAKEN@EXAMPLE.COM")]
    [InlineData("name-c", "taken2@example.com", "name-d", " taken2@example.com ")]
    public async Task A_taken_username_or_email_in_any_variant_is_409(string username, string email, string otherUsername, string otherEmail)
    {
        await using var own = new ApiFactory();
        using var client = own.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await client.Register(username, email)).StatusCode);

        var message = await (await client.Register(otherUsername, otherEmail)).AssertBoom(409);

        Assert.Matches(new Regex("username|email"), message);
        own.DeleteData();
    }

    [Fact]
    public async Task Thirty_two_concurrent_registrations_for_one_email_give_one_201_and_31_409s()
    {
        var email = $"{Api.Unique("race")}@example.com";
        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(i =>
            Client.Register($"{Api.Unique("racer")}-{i}", i % 2 == 0 ? email : email.ToUpperInvariant())));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(31, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
            await conflict.AssertBoom(409);
    }

    [Fact]
    public async Task Concurrent_registrations_for_one_username_give_exactly_one_201()
    {
        var username = Api.Unique("samename");
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Client.Register(i % 2 == 0 ? username : username.ToUpperInvariant(), $"{Api.Unique("u")}@example.com")));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(15, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task Get_user_reads_the_current_state_not_the_token()
    {
        var name = Api.Unique("current");
        var token = await Client.RegisterForToken(name, $"{name}@example.com");

        var response = await Client.GetUser(token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var user = await response.Body();
        Assert.Equal(UserFields, user.Select(p => p.Key));
        Assert.Equal(name, user["username"]!.GetValue<string>());
    }

    [Fact]
    public async Task Health_endpoints_answer_live_and_ready()
    {
        var live = await Client.GetAsync("/health/live");
        var ready = await Client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var checks = (await ready.Body())["checks"]!.AsObject();
        Assert.Equal(["cluster", "journal"], checks.Select(p => p.Key).Order());
    }

    [Fact]
    public async Task Unknown_routes_and_methods_get_boom_errors()
    {
        await (await Client.GetAsync("/no-such-thing")).AssertBoom(404);
        await (await Client.DeleteAsync("/user")).AssertBoom(405);
    }

    private static void AssertNewUser(JsonObject user, string username, string email)
    {
        Assert.Equal(UserFields, user.Select(p => p.Key));
        Assert.Matches("^[0-9a-f]{24}$", user["id"]!.GetValue<string>());
        Assert.Equal(username, user["username"]!.GetValue<string>());
        Assert.Equal(email, user["email"]!.GetValue<string>());
        Assert.False(user["isActive"]!.GetValue<bool>());
        Assert.Equal("""["user"]""", user["scope"]!.ToJsonString());
        Assert.Equal("free", user["plan"]!.GetValue<string>());
        Assert.Null(user["vendor"]);
        Assert.Equal("{}", user["metadata"]!.ToJsonString());
    }

    internal static string Base64Url(string part)
    {
        var padded = part.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        return Encoding.UTF8.GetString(Convert.FromBase64String(padded));
    }
}
