using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Tests;
using AkkaUsers.Domain;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// POST /users/import: users move over with their ids and the hashes they had, sign in with their old passwords (which
/// upgrades the hash, in the audit trail), a file imported twice changes nothing, and every bad line is rejected alone.
/// Hashes come from independent implementations: BCrypt.Net, Isopoh's Argon2 and ASP.NET Core Identity's own hasher.
/// </summary>
public sealed class ImportTests(AdminService service) : IClassFixture<AdminService>
{
    private const string Password = "their old password";
    private HttpClient Client => service.Client;

    private static string NewObjectId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    private static string IdentityHash(PasswordHasherCompatibilityMode mode) =>
        new PasswordHasher<object>(Options.Create(new PasswordHasherOptions { CompatibilityMode = mode })).HashPassword(new object(), Password);

    public static TheoryData<string, string> Hashes => new()
    {
        { "bcrypt", BCrypt.Net.BCrypt.HashPassword(Password, workFactor: 5) },
        { "argon2id", Isopoh.Cryptography.Argon2.Argon2.Hash(Password, 2, 1024, 4, Isopoh.Cryptography.Argon2.Argon2Type.HybridAddressing) },
        { "argon2i", Isopoh.Cryptography.Argon2.Argon2.Hash(Password, 3, 512, 2, Isopoh.Cryptography.Argon2.Argon2Type.DataIndependentAddressing) },
        { "aspnet-identity-v3", IdentityHash(PasswordHasherCompatibilityMode.IdentityV3) },
        { "aspnet-identity-v2", IdentityHash(PasswordHasherCompatibilityMode.IdentityV2) },
    };

    private static string Line(string id, string username, string email, string hash, string extra = "") =>
        $$"""{"_id":{"$oid":"{{id}}"},"username":"{{username}}","email":"{{email}}","password":"{{hash}}"{{extra}}}""";

    private async Task<HttpResponseMessage> PostImport(string body, string? token, string contentType = "application/x-ndjson")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/users/import") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new(contentType);
        if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
        return await Client.SendAsync(request);
    }

    private async Task<List<JsonObject>> Import(params string[] lines)
    {
        var response = await PostImport(string.Join("\n", lines) + "\n", await service.AdminToken());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    private async Task<JsonArray> Events(string id) =>
        JsonNode.Parse(await (await Client.Get($"/users/{id}/events", await service.AdminToken())).Content.ReadAsStringAsync())!.AsArray();

    private Task<HttpResponseMessage> SignIn(object body) => Client.PostJson("/user/auth", body);

    [Theory]
    [MemberData(nameof(Hashes))]
    public async Task An_imported_user_signs_in_with_its_old_password_by_username_and_email_keeping_its_id_and_the_hash_is_upgraded_once(string format, string hash)
    {
        var id = NewObjectId();
        var username = Api.Unique("imp");
        var answer = Assert.Single(await Import(Line(id, username, $"{username.ToUpperInvariant()}@Example.com", hash,
            ""","scope":["user","tester"],"plan":"pro","vendor":["acme"],"isActive":true,"metadata":{"team":"blue"},"created":{"$date":"2024-05-01T10:00:00Z"},"firstName":"ignored" """)));
        Assert.Equal($$"""{"line":1,"id":"{{id}}","status":"imported"}""", answer.ToJsonString());

        var byUsername = await SignIn(new { username, password = Password });
        Assert.Equal(HttpStatusCode.OK, byUsername.StatusCode);
        var user = (await byUsername.Body())["user"]!.AsObject();
        Assert.Equal(id, user["id"]!.GetValue<string>());
        Assert.Equal($"{username}@example.com", user["email"]!.GetValue<string>());
        Assert.Equal("""["user","tester"]""", user["scope"]!.ToJsonString());
        Assert.Equal(("pro", true, """["acme"]""", """{"team":"blue"}"""),
            (user["plan"]!.GetValue<string>(), user["isActive"]!.GetValue<bool>(), user["vendor"]!.ToJsonString(), user["metadata"]!.ToJsonString()));
        var byEmail = await SignIn(new { email = $"{username}@EXAMPLE.com", password = Password });
        Assert.Equal(id, (await byEmail.Body())["user"]!["id"]!.GetValue<string>());

        var trail = await Events(id);
        var types = trail.Select(e => e!["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["user-imported", "user-signed-in", "password-rehashed", "user-signed-in"], types);
        var imported = trail[0]!["data"]!;
        Assert.Equal(format, imported["format"]!.GetValue<string>());
        Assert.Equal("[redacted]", imported["passwordHash"]!.GetValue<string>());
        Assert.Equal("2024-05-01T10:00:00+00:00", imported["created"]!.GetValue<string>());
        Assert.DoesNotContain(hash, trail.ToJsonString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await SignIn(new { username, password = Password + "x" })).StatusCode);
    }

    [Fact]
    public async Task An_import_leaves_no_entity_in_memory_and_its_users_sign_in_after()
    {
        var names = Enumerable.Range(0, 5).Select(_ => Api.Unique("unload")).ToList();
        var ids = names.Select(_ => NewObjectId()).ToList();
        var bcrypt = BCrypt.Net.BCrypt.HashPassword(Password, workFactor: 4);

        var answers = await Import([.. names.Select((name, i) => Line(ids[i], name, $"{name}@example.com", bcrypt))]);

        Assert.All(answers, answer => Assert.Equal("imported", answer["status"]!.GetValue<string>()));
        var registry = ActorRegistry.For(service.Factory.Services.GetRequiredService<ActorSystem>());
        (IActorRef Region, string EntityId)[] woken =
        [
            .. ids.Select(id => (registry.Get<UserActor>(), id)),
            .. names.Select(name => (registry.Get<UsernameIndex>(), Keys.Digest(Keys.Username(name)))),
            .. names.Select(name => (registry.Get<UsernameIndex>(), Keys.Digest(Keys.UsernameSkeleton(name)))),
            .. names.Select(name => (registry.Get<EmailIndex>(), Keys.Digest(Keys.Email($"{name}@example.com")))),
        ];
        await Poll.UntilAsync(async () =>
        {
            var alive = new List<string>();
            foreach (var (region, entityId) in woken)
            {
                var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
                if (state.Shards.Any(shard => shard.EntityIds.Contains(entityId))) alive.Add(entityId);
            }
            return alive;
        }, alive => alive.Count == 0, "entities of imported users still in memory");

        foreach (var name in names)
            Assert.Equal(HttpStatusCode.OK, (await SignIn(new { email = $"{name}@example.com", password = Password })).StatusCode);
    }

    [Fact]
    public async Task A_wrong_password_of_an_imported_user_is_answered_as_for_a_native_one()
    {
        var imported = Api.Unique("imp");
        var native = Api.Unique("nat");
        await Import(Line(NewObjectId(), imported, $"{imported}@example.com", BCrypt.Net.BCrypt.HashPassword(Password, workFactor: 5)));
        await Client.Register(native, $"{native}@example.com");

        var wrongForImported = await SignIn(new { username = imported, password = "wrong-password" });
        var wrongForNative = await SignIn(new { username = native, password = "wrong-password" });

        Assert.Equal(HttpStatusCode.Unauthorized, wrongForImported.StatusCode);
        Assert.Equal(await wrongForNative.Content.ReadAsStringAsync(), await wrongForImported.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_file_imported_again_answers_exists_for_each_user_and_records_no_event()
    {
        string[] lines = [.. Enumerable.Range(0, 3).Select(_ =>
        {
            var name = Api.Unique("again");
            return Line(NewObjectId(), name, $"{name}@example.com", BCrypt.Net.BCrypt.HashPassword(Password, workFactor: 4));
        })];
        Assert.All(await Import(lines), answer => Assert.Equal("imported", answer["status"]!.GetValue<string>()));
        var id = JsonNode.Parse(lines[0])!["_id"]!["$oid"]!.GetValue<string>();
        var before = (await Events(id)).Count;

        var again = await Import(lines);

        Assert.Equal([1, 2, 3], again.Select(a => a["line"]!.GetValue<int>()));
        Assert.All(again, answer => Assert.Equal("exists", answer["status"]!.GetValue<string>()));
        Assert.Equal(before, (await Events(id)).Count);
    }

    [Fact]
    public async Task Every_bad_line_is_rejected_with_its_reason_and_nothing_of_it_kept_while_the_good_lines_around_it_are_imported()
    {
        var bcrypt = BCrypt.Net.BCrypt.HashPassword(Password, workFactor: 4);
        var native = Api.Unique("native");
        await Client.Register(native, $"{native}@example.com");
        var existingId = NewObjectId();
        var existing = Api.Unique("first");
        await Import(Line(existingId, existing, $"{existing}@example.com", bcrypt));
        var good = Api.Unique("good");
        var other = Api.Unique("other");
        var otherId = NewObjectId();

        var answers = await Import(
            Line(NewObjectId(), good, $"{good}@example.com", bcrypt),
            "{not json",
            $$"""{"_id":{"$oid":"{{NewObjectId()}}"},"email":"{{other}}@example.com","password":"{{bcrypt}}"}""",
            $$"""{"_id":"not-an-object-id","username":"{{other}}","email":"{{other}}@example.com","password":"{{bcrypt}}"}""",
            Line(otherId, other, "not an email", bcrypt),
            Line(otherId, other, $"{other}@example.com", "$1$md5crypt$abcdefghijklmnopqrstuv"),
            Line(otherId, other, $"{other}@example.com", bcrypt, ""","metadata":"not an object" """),
            Line(existingId, other, $"{other}@example.com", bcrypt),
            Line(otherId, native, $"{other}@example.com", bcrypt),
            Line(otherId, other, $"{native}@example.com", bcrypt),
            "[1,2]",
            "{\"_id\":{\"$oid\":\"" + otherId + "\"},\"username\":\"" + new string('x', 70_000) + "\"}");

        Assert.Equal(Enumerable.Range(1, 12), answers.Select(a => a["line"]!.GetValue<int>()));
        Assert.Equal("imported", answers[0]["status"]!.GetValue<string>());
        var reasons = answers.Skip(1).Select(a =>
        {
            Assert.Equal("rejected", a["status"]!.GetValue<string>());
            return a["reason"]!.GetValue<string>();
        }).ToList();
        Assert.Equal("Invalid request payload JSON format", reasons[0]);
        Assert.Equal("\"username\" is required", reasons[1]);
        Assert.StartsWith("\"_id\" must be an ObjectId", reasons[2]);
        Assert.Contains("email", reasons[3]);
        Assert.StartsWith("\"password\" is no known hash format", reasons[4]);
        Assert.Equal("\"metadata\" must be of type object", reasons[5]);
        Assert.Equal("the id belongs to a user with another username or email", reasons[6]);
        Assert.Equal("the username belongs to another user", reasons[7]);
        Assert.Equal("the email belongs to another user", reasons[8]);
        Assert.Equal("\"value\" must be of type object", reasons[9]);
        Assert.Equal("the line is longer than 65536 bytes", reasons[10]);
        Assert.Equal(otherId, answers[8]["id"]!.GetValue<string>());

        // Nothing of the rejected lines stayed: their id is nobody, their username and email register.
        Assert.Equal(HttpStatusCode.NotFound, (await Client.Get($"/users/{otherId}", await service.AdminToken())).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Client.Register(other, $"{other}@example.com")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignIn(new { username = existing, password = Password })).StatusCode);
    }

    [Fact]
    public async Task A_live_registration_racing_an_import_for_the_same_email_leaves_exactly_one_owner()
    {
        var hash = BCrypt.Net.BCrypt.HashPassword(Password, workFactor: 4);
        for (var round = 0; round < 5; round++)
        {
            var email = $"{Api.Unique("race")}@example.com";
            var importing = Import(Line(NewObjectId(), Api.Unique("imp"), email, hash));
            var registering = Client.Register(Api.Unique("reg"), email);

            var imported = (await importing).Single()["status"]!.GetValue<string>() == "imported";
            var registered = (await registering).StatusCode == HttpStatusCode.Created;
            Assert.True(imported ^ registered, $"round {round}: imported {imported}, registered {registered}");
        }
    }

    [Fact]
    public async Task Importing_needs_an_admin_token_and_an_ndjson_body()
    {
        var line = Line(NewObjectId(), "nobody", "nobody@example.com", "x");
        Assert.Equal("Missing authentication", await (await PostImport(line, null)).AssertBoom(401));
        var user = Api.Unique("plain");
        var userToken = await Client.RegisterForToken(user, $"{user}@example.com");
        await (await PostImport(line, userToken)).AssertBoom(403);
        Assert.Equal("Unsupported Media Type", await (await PostImport(line, await service.AdminToken(), "application/json")).AssertBoom(415));
    }
}
