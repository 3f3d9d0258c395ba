using System.Net;
using System.Text;

namespace AkkaUsers.Api.Tests;

/// <summary>Every bad input gets a 4xx Boom error naming the problem, and changes nothing.</summary>
public sealed class BadInputTests(SharedService service) : IClassFixture<SharedService>
{
    private HttpClient Client => service.Client;

    public static TheoryData<string, string, string> BadRegistrations => new()
    {
        { "malformed JSON", """{"username": "bad1", """, "Invalid request payload JSON format" },
        { "JSON array", """[{"username": "bad1"}]""", "\"value\" must be of type object" },
        { "JSON string", "\"text\"", "\"value\" must be of type object" },
        { "empty body", "", "Invalid request payload JSON format" },
        { "username missing", """{"email": "bad1@example.com", "password": "abc321"}""", "\"username\" is required" },
        { "email missing", """{"username": "bad1", "password": "abc321"}""", "\"email\" is required" },
        { "password missing", """{"username": "bad1", "email": "bad1@example.com"}""", "\"password\" is required" },
        { "username not a string", """{"username": 5, "email": "bad1@example.com", "password": "abc321"}""", "\"username\" must be a string" },
        { "email not a string", """{"username": "bad1", "email": ["a@b.cd"], "password": "abc321"}""", "\"email\" must be a string" },
        { "password not a string", """{"username": "bad1", "email": "bad1@example.com", "password": 123456}""", "\"password\" must be a string" },
        { "empty username", """{"username": "   ", "email": "bad1@example.com", "password": "abc321"}""", "\"username\" is not allowed to be empty" },
        { "username too long", $$"""{"username": "{{new string('u', 129)}}", "email": "bad1@example.com", "password": "abc321"}""", "\"username\" length must be less than or equal to 128 characters long" },
        { "invalid email", """{"username": "bad1", "email": "not-an-email", "password": "abc321"}""", "\"email\" must be a valid email" },
        { "email with space", """{"username": "bad1", "email": "a b@example.com", "password": "abc321"}""", "\"email\" must be a valid email" },
        { "email too long", $$"""{"username": "bad1", "email": "{{new string('e', 64)}}@{{string.Join('.', Enumerable.Repeat(new string('d', 60), 4))}}.com", "password": "abc321"}""", "\"email\" length must be less than or equal to 254 characters long" },
        { "password too short", """{"username": "bad1", "email": "bad1@example.com", "password": "abc32"}""", "\"password\" length must be at least 6 characters long" },
        { "password too long", $$"""{"username": "bad1", "email": "bad1@example.com", "password": "{{new string('p', 1025)}}"}""", "\"password\" length must be less than or equal to 1024 characters long" },
        { "metadata not an object", """{"username": "bad1", "email": "bad1@example.com", "password": "abc321", "metadata": [1]}""", "\"metadata\" must be of type object" },
        { "metadata too large", $$$"""{"username": "bad1", "email": "bad1@example.com", "password": "abc321", "metadata": {"k": "{{{new string('m', 4100)}}}"}}""", "\"metadata\" must be at most 4096 bytes of JSON" },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public async Task A_bad_registration_is_400_naming_the_problem_and_persists_nothing(string why, string body, string message)
    {
        var response = await Client.PostAsync("/user", Api.Json(body));

        Assert.True(message == await response.AssertBoom(400), why);
        // Nothing was claimed: the same username and email register afterwards.
        var username = Api.Unique("bad");
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.PostAsync("/user", Api.Json(body.Replace("bad1", username)))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Client.Register(username, $"{username}@example.com")).StatusCode);
    }

    public static TheoryData<string, string> BadSignIns => new()
    {
        { """{"username": "someone"}""", "\"password\" is required" },
        { """{"username": "someone", "password": ""}""", "\"password\" is required" },
        { """{"password": "abc321"}""", "\"username\" or \"email\" is required" },
        { """{"username": null, "email": null, "password": "abc321"}""", "\"username\" or \"email\" is required" },
        { """{"username": 1, "password": "abc321"}""", "\"username\" must be a string" },
        { """{"email": {}, "password": "abc321"}""", "\"email\" must be a string" },
        { """{"username": "someone", "password": true}""", "\"password\" must be a string" },
        { "[]", "\"value\" must be of type object" },
        { "{", "Invalid request payload JSON format" },
    };

    [Theory]
    [MemberData(nameof(BadSignIns))]
    public async Task A_bad_sign_in_is_400_naming_the_problem(string body, string message)
    {
        Assert.Equal(message, await (await Client.PostAsync("/user/auth", Api.Json(body))).AssertBoom(400));
    }

    [Theory]
    [InlineData("/user")]
    [InlineData("/user/auth")]
    public async Task A_body_over_16_KiB_is_413(string path)
    {
        var huge = $$"""{"username": "big", "email": "big@example.com", "password": "abc321", "pad": "{{new string('x', 16 * 1024)}}"}""";

        await (await Client.PostAsync(path, Api.Json(huge))).AssertBoom(413);

        // Also when the client does not announce the length up front (chunked).
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge)));
        chunked.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await (await Client.SendAsync(request)).AssertBoom(413);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task A_non_json_content_type_is_415(string? contentType)
    {
        var content = new StringContent("""{"username": "x", "password": "abc321"}""");
        content.Headers.ContentType = contentType is null ? null : new(contentType);

        await (await Client.PostAsync("/user", content)).AssertBoom(415);
        await (await Client.PostAsync("/user/auth", content)).AssertBoom(415);
    }

    [Fact]
    public async Task Json_with_charset_and_unknown_fields_is_accepted()
    {
        var username = Api.Unique("extra");
        var content = new StringContent(
            $$"""{"username": "{{username}}", "email": "{{username}}@example.com", "password": "abc321", "favouriteColour": "green"}""",
            Encoding.UTF8, "application/json");

        Assert.Equal(HttpStatusCode.Created, (await Client.PostAsync("/user", content)).StatusCode);
    }
}
