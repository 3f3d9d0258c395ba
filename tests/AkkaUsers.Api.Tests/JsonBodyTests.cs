using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Hosting;
using AkkaUsers.Accounts.Entities;
using AkkaUsers.Accounts.Passwords;
using AkkaUsers.Accounts.Tests;
using AkkaUsers.Domain;
using Microsoft.Extensions.DependencyInjection;
using static AkkaUsers.Domain.ClaimProtocol;
using static AkkaUsers.Domain.UserProtocol;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// What every request body must be before anything reads it: JSON in UTF-8 whose text is valid Unicode, with no key
/// twice in one object and no field nested deeper than 32 levels. Each attack is sent to every endpoint that takes
/// a body, and must be refused at once, persist nothing and log no stack trace.
/// </summary>
public sealed class JsonBodyTests(AdminService service) : IClassFixture<AdminService>
{
    private const string Password = "abc321";

    private HttpClient Client => service.Client;

    public static readonly string[] Endpoints =
    [
        "POST /user", "POST /user/auth", "POST /user/forgot-password", "POST /forgot-password/reset",
        "POST /user/change-password", "POST /user/reset-password", "PUT /users/{id}",
    ];

    private static readonly string Deep = Nested(63);

    /// <summary>Each attack: how it changes the endpoint's valid fields (the first one is the attacked field), the encoding, the answer.</summary>
    private static readonly Dictionary<string, Func<List<(string Name, string Json)>, (byte[] Body, string Charset, int Status, string Message)>> Attacks = new()
    {
        ["metadata nested 63 deep"] = f => (Utf8([.. f, ("metadata", Deep)]), "utf-8", 400,
            "\"metadata\" must not nest more than 32 levels of objects and arrays"),
        ["a key given twice"] = f => (Utf8([(f[0].Name, "\"someone-else\""), .. f]), "utf-8", 400,
            $"\"{f[0].Name}\" must be given at most once"),
        ["a key twice in a nested object"] = f => (Utf8([.. f, ("metadata", """{"a":{"role":"user","role":"admin"}}""")]), "utf-8", 400,
            "\"metadata\" must not have the same key twice in one object"),
        ["an escaped lone surrogate"] = f => (Utf8([(f[0].Name, f[0].Json.Insert(2, "\\udfff")), .. f[1..]]), "utf-8", 400,
            $"\"{f[0].Name}\" must be valid Unicode text"),
        ["a lone surrogate in metadata"] = f => (Utf8([.. f, ("metadata", """{"k":"\udfff"}""")]), "utf-8", 400,
            "\"metadata\" must be valid Unicode text"),
        ["a lone surrogate in a key"] = f => (Utf8([("\\ud800", "1"), .. f]), "utf-8", 400,
            "\"value\" must be valid Unicode text"),
        ["invalid UTF-8 bytes"] = f => (Bytes(f, [0xC3, 0x28, 0xFF]), "utf-8", 400,
            $"\"{f[0].Name}\" must be valid Unicode text"),
        ["a body in latin1"] = f => (Bytes(f, [0xE9]), "latin1", 415, "Content-Type charset must be utf-8"),
    };

    public static TheoryData<string, string> EveryAttackOnEveryEndpoint()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in Endpoints)
        foreach (var attack in Attacks.Keys)
            data.Add(endpoint, attack);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryAttackOnEveryEndpoint))]
    public async Task An_attack_on_the_body_is_refused_at_once_persists_nothing_and_logs_no_stack(string endpoint, string attack)
    {
        var victim = await Victim.RegisterAsync(Client);
        var admin = await service.AdminToken();
        var eventsBefore = await victim.EventCount(Client, admin);
        var logLinesBefore = service.Factory.Logs.Lines.Count;
        var newUsername = Api.Unique("new");

        var (method, path, token, fields) = Request(endpoint, victim, admin, newUsername);
        var (body, charset, status, message) = Attacks[attack](fields);
        var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = charset };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await Client.SendAsync(request);

        Assert.Equal(message, await response.AssertBoom(status));
        Assert.Equal(eventsBefore, await victim.EventCount(Client, admin));
        Assert.Equal(HttpStatusCode.OK, (await Client.PostJson("/user/auth", new { username = victim.Username, password = Password })).StatusCode);
        // Nothing was claimed: the new account's username and email are still free.
        Assert.Equal(HttpStatusCode.Created, (await Client.Register(newUsername, $"{newUsername}@example.com")).StatusCode);
        var logged = service.Factory.Logs.Lines.Skip(logLinesBefore).ToList();
        Assert.DoesNotContain(logged, line => line.StartsWith("Error") || line.StartsWith("Critical") || line.Contains("Exception"));
    }

    [Fact]
    public async Task Unicode_text_raw_or_escaped_and_metadata_nested_32_deep_are_accepted_and_read_back_everywhere()
    {
        var username = Api.Unique("zoë-\ud83d\ude00-");
        var metadata = Nested(32);
        var body = $$"""{"username": "{{username.Replace("\ud83d\ude00", "\\ud83d\\ude00")}}", "email": "{{Api.Unique("zoe")}}@example.com", "password": "{{Password}}", "metadata": {{metadata}}}""";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "UTF-8" };

        var created = await Client.PostAsync("/user", content);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = (await created.Body())["user"]!;
        Assert.Equal(username, user["username"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(metadata), user["metadata"]));
        var signIn = await Client.PostJson("/user/auth", new { username, password = Password });
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(metadata), (await signIn.Body())["user"]!["metadata"]));

        var tooDeep = body.Replace(metadata, Nested(33));
        Assert.Equal("\"metadata\" must not nest more than 32 levels of objects and arrays",
            await (await Client.PostAsync("/user", Api.Json(tooDeep))).AssertBoom(400));
    }

    [Fact]
    public async Task Keys_that_differ_only_in_case_are_not_duplicates()
    {
        var username = Api.Unique("case");
        var body = $$$"""{"username": "{{{username}}}", "Username": "admin", "email": "{{{username}}}@example.com", "password": "{{{Password}}}", "metadata": {"a": 1, "A": 2}}""";

        var created = await Client.PostAsync("/user", Api.Json(body));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(username, (await created.Body())["user"]!["username"]!.GetValue<string>());
    }

    /// <summary>
    /// Metadata 63 levels deep, as earlier versions accepted and stored, inside the larger documents the service
    /// writes around it (the sign-in answer, the admin's list, the audit trail, a snapshot): every read still answers.
    /// </summary>
    [Fact]
    public async Task A_user_stored_with_metadata_nested_63_deep_is_still_served_by_every_read()
    {
        var services = service.Factory.Services;
        var username = Api.Unique("stored");
        var email = $"{username}@example.com";
        var id = UserId.New(DateTimeOffset.UtcNow).Value;
        var metadata = JsonDocument.Parse(Deep).RootElement.Clone();
        var hash = await services.GetRequiredService<PasswordHashing>().HashAsync(Password, CancellationToken.None);
        // What registration persisted before request bodies were limited: the claims, then the user.
        var timeout = TimeSpan.FromSeconds(30);
        await services.GetRequiredService<IRequiredActor<UsernameIndex>>().ActorRef.Ask<ClaimGranted>(new ClaimKey(Keys.Username(username), id), timeout);
        await services.GetRequiredService<IRequiredActor<EmailIndex>>().ActorRef.Ask<ClaimGranted>(new ClaimKey(Keys.Email(email), id), timeout);
        await services.GetRequiredService<IRequiredActor<UserActor>>().ActorRef.Ask<UserFound>(
            new RegisterUser(id, username, email, hash, ["user"], "free", null, metadata), timeout);
        var admin = await service.AdminToken();

        var signIn = await Client.PostJson("/user/auth", new { username, password = Password });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var signedIn = await DeepBody(signIn);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Deep), signedIn["user"]!["metadata"]));
        Assert.Equal(HttpStatusCode.OK, (await Client.GetUser(signedIn["token"]!.GetValue<string>())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.Get($"/users/{id}", admin)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.Get($"/users/{id}?asOf={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"))}", admin)).StatusCode);
        var events = (await DeepBody(await Client.Get($"/users/{id}/events", admin))).AsArray();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Deep), events[0]!["data"]!["metadata"]));
        var listed = await Poll.UntilAsync(async () =>
            {
                var response = await Client.Get($"/users?pattern={username}", admin);
                return (response.StatusCode, Text: await response.Content.ReadAsStringAsync());
            },
            list => list.StatusCode != HttpStatusCode.OK || list.Text.Contains(id), "the stored user in GET /users");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
    }

    /// <summary>An answer that holds such metadata is deeper than a default parser reads.</summary>
    private static async Task<JsonNode> DeepBody(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync(), documentOptions: new JsonDocumentOptions { MaxDepth = 128 })!;

    /// <summary><paramref name="depth"/> objects inside one another, the outermost included.</summary>
    private static string Nested(int depth) =>
        string.Concat(Enumerable.Repeat("""{"a":""", depth)) + "1" + new string('}', depth);

    private static byte[] Utf8(List<(string Name, string Json)> fields) =>
        Encoding.UTF8.GetBytes("{" + string.Join(",", fields.Select(f => $"\"{f.Name}\":{f.Json}")) + "}");

    /// <summary>The fields as UTF-8, with <paramref name="raw"/> bytes inside the first field's string value.</summary>
    private static byte[] Bytes(List<(string Name, string Json)> fields, byte[] raw)
    {
        var (name, json) = fields[0];
        var head = Encoding.UTF8.GetBytes($"{{\"{name}\":{json[..2]}");
        var tail = Utf8([("", "\"" + json[2..]), .. fields[1..]]).AsSpan(5).ToArray(); // drops {"":"
        return [.. head, .. raw, .. tail];
    }

    /// <summary>The endpoint's request with valid fields; an attack breaks it. The first field is a string.</summary>
    private static (HttpMethod, string, string?, List<(string Name, string Json)>) Request(string endpoint, Victim victim, string admin, string newUsername) =>
        endpoint switch
        {
            "POST /user" => (HttpMethod.Post, "/user", null,
                [("username", Quoted(newUsername)), ("email", Quoted($"{newUsername}@example.com")), ("password", Quoted(Password))]),
            "POST /user/auth" => (HttpMethod.Post, "/user/auth", null,
                [("username", Quoted(victim.Username)), ("password", Quoted(Password))]),
            "POST /user/forgot-password" => (HttpMethod.Post, "/user/forgot-password", null, [("email", Quoted(victim.Email))]),
            "POST /forgot-password/reset" => (HttpMethod.Post, "/forgot-password/reset", null,
                [("code", Quoted($"{victim.Id}.{new string('A', 43)}")), ("password", Quoted("new-password-1"))]),
            "POST /user/change-password" => (HttpMethod.Post, "/user/change-password", victim.Token,
                [("oldPassword", Quoted(Password)), ("newPassword", Quoted("new-password-1"))]),
            "POST /user/reset-password" => (HttpMethod.Post, "/user/reset-password", admin,
                [("email", Quoted(victim.Email)), ("password", Quoted("new-password-1"))]),
            "PUT /users/{id}" => (HttpMethod.Put, $"/users/{victim.Id}", admin,
                [("plan", Quoted("enterprise")), ("scope", """["user","admin"]""")]),
            _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, null),
        };

    private static string Quoted(string text) => JsonSerializer.Serialize(text);

    private sealed record Victim(string Id, string Username, string Email, string Token)
    {
        public static async Task<Victim> RegisterAsync(HttpClient client)
        {
            var username = Api.Unique("victim");
            var response = await client.Register(username, $"{username}@example.com", Password);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var body = await response.Body();
            return new(body["user"]!["id"]!.GetValue<string>(), username, $"{username}@example.com", body["token"]!.GetValue<string>());
        }

        public async Task<int> EventCount(HttpClient client, string admin)
        {
            var response = await client.Get($"/users/{Id}/events", admin);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Count;
        }
    }
}
