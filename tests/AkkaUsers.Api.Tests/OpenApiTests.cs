using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Api.Tests;

/// <summary>The OpenAPI document describes every endpoint the service maps, and the reference page serves it.</summary>
public sealed class OpenApiTests
{
    /// <summary>Every endpoint and the status codes it answers with. A new endpoint fails the first test until it is listed here and documented.</summary>
    private static readonly Dictionary<string, int[]> Endpoints = new()
    {
        ["POST /user"] = [201, 400, 409, 413, 415, 429, 503],
        ["POST /user/auth"] = [200, 400, 401, 413, 415, 429, 503],
        ["GET /user"] = [200, 401, 404, 503],
        ["GET /health/live"] = [200],
        ["GET /health/ready"] = [200, 503],
        ["GET /users"] = [200, 400, 401, 403, 503],
        ["GET /users/count"] = [200, 400, 401, 403, 503],
        ["GET /users/{userId}"] = [200, 400, 401, 403, 404, 503],
        ["GET /users/{userId}/events"] = [200, 400, 401, 403, 404, 503],
        ["POST /user/change-password"] = [200, 400, 401, 404, 413, 415, 503],
        ["POST /user/reset-password"] = [200, 400, 401, 403, 404, 413, 415, 503],
        ["POST /users/import"] = [200, 401, 403, 415, 503],
        ["PUT /users/{userId}"] = [200, 400, 401, 403, 404, 409, 413, 415, 503],
        ["DELETE /users/{userId}"] = [200, 400, 401, 403, 404, 503],
        ["GET /users/{userId}/delete-status/{ticket}"] = [200, 400, 401, 403, 404, 503],
        ["POST /user/forgot-password"] = [200, 400, 413, 415, 429],
        ["POST /forgot-password/reset"] = [200, 400, 413, 415, 429, 503],
    };

    [Fact]
    public async Task Every_mapped_endpoint_is_in_the_document_with_its_status_codes()
    {
        // Every optional endpoint on: the OpenAPI document and /docs (Development, as here) and /metrics.
        await using var factory = new ApiFactory(new() { ["Metrics:Prometheus"] = "true" });
        using var client = factory.CreateClient();
        var document = await Document(client);

        // Only the endpoints that serve the document, the page and the metrics are left out of it, on purpose.
        var mapped = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["any method"])
                .Select(method => $"{method} {e.RoutePattern.RawText!.TrimEnd('/')}")); // a group's "" route is "/users/"
        Assert.Equal(Endpoints.Keys.Order(), mapped.Order());

        var operations = Operations(document);
        Assert.Equal(Endpoints.Keys.Order(), operations.Keys.Order());
        foreach (var (endpoint, statuses) in Endpoints)
            Assert.Equal(statuses.Select(s => s.ToString()), operations[endpoint]["responses"]!.AsObject().Select(r => r.Key).Order());
        factory.DeleteData();
    }

    [Fact]
    public async Task Errors_are_boom_objects_the_bearer_scheme_guards_get_user_and_the_examples_are_the_seeds()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        var document = await Document(client);
        var schemas = document["components"]!["schemas"]!;

        Assert.StartsWith("3.", document["openapi"]!.GetValue<string>());
        Assert.Equal(["statusCode", "error", "message"], schemas["BoomError"]!["properties"]!.AsObject().Select(p => p.Key));
        var operations = Operations(document);
        foreach (var (endpoint, operation) in operations.Where(o => !o.Key.Contains("/health")))
        foreach (var (status, response) in operation["responses"]!.AsObject().Where(r => r.Key[0] is '4' or '5'))
            Assert.True(Schema(response!) == "#/components/schemas/BoomError", $"{endpoint} {status} is not a Boom error");

        var bearer = document["components"]!["securitySchemes"]!["Bearer"]!;
        Assert.Equal(("http", "bearer", "JWT"), (bearer["type"]!.GetValue<string>(), bearer["scheme"]!.GetValue<string>(), bearer["bearerFormat"]!.GetValue<string>()));
        Assert.Equal("""[{"Bearer":[]}]""", operations["GET /user"]["security"]!.ToJsonString());
        Assert.Equal("[]", operations["POST /user"]["security"]!.ToJsonString()); // open, as long as API_USER_CREATE_SCOPE is not set
        Assert.Equal("[]", operations["POST /user/auth"]["security"]!.ToJsonString());

        Assert.Equal("""{"username":"abc@example.com","email":"abc@example.com","password":"abc321"}""", schemas["CreateUserRequest"]!["examples"]![0]!.ToJsonString());
        Assert.Equal("""{"username":"abc@example.com","password":"abc321"}""", schemas["SignInRequest"]!["examples"]![0]!.ToJsonString());
        Assert.Equal("#/components/schemas/CreateUserRequest", operations["POST /user"]["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        Assert.Equal("#/components/schemas/TokenAndUser", Schema(operations["POST /user"]["responses"]!["201"]!));
        factory.DeleteData();
    }

    [Fact]
    public async Task With_API_USER_CREATE_SCOPE_creating_a_user_is_documented_with_the_bearer_scheme_401_and_403()
    {
        await using var factory = new ApiFactory(new() { ["API_USER_CREATE_SCOPE"] = "admin" });
        using var client = factory.CreateClient();
        var create = Operations(await Document(client))["POST /user"];

        Assert.Equal("""[{"Bearer":[]}]""", create["security"]!.ToJsonString());
        Assert.Equal(["201", "400", "401", "403", "409", "413", "415", "429", "503"], create["responses"]!.AsObject().Select(r => r.Key).Order());
        factory.DeleteData();
    }

    [Fact]
    public async Task The_reference_page_at_docs_loads_the_document()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        var page = await client.GetAsync("/docs"); // redirected to /docs/
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi/v1.json", await page.Content.ReadAsStringAsync());
        factory.DeleteData();
    }

    [Fact]
    public async Task The_reference_page_asks_no_other_host_and_shows_none_of_the_hosted_products_buttons()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        var page = await client.GetStringAsync("/docs/");
        var scripts = Regex.Matches(page, @"src=""([^""]+)""").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.All(scripts, script => Assert.DoesNotContain("//", script)); // each script from this service
        Assert.DoesNotMatch(new Regex("https?://"), page);
        Assert.DoesNotMatch(new Regex("https?://"), await client.GetStringAsync("/docs/scalar.aspnetcore.js"));

        var configuration = JsonNode.Parse(Regex.Match(page, @"^\s*(\{.*\}),\s*$", RegexOptions.Multiline).Groups[1].Value)!;
        Assert.False(configuration["withDefaultFonts"]!.GetValue<bool>()); // the fonts would come from Scalar's font host
        Assert.False(configuration["telemetry"]!.GetValue<bool>());
        Assert.True(configuration["hideClientButton"]!.GetValue<bool>());
        Assert.Equal("never", configuration["showDeveloperTools"]!.GetValue<string>());
        Assert.True(configuration["agent"]!["disabled"]!.GetValue<bool>());
        Assert.True(configuration["mcp"]!["disabled"]!.GetValue<bool>());
        factory.DeleteData();
    }

    [Fact]
    public async Task Each_operation_has_a_short_title_and_its_sentence_as_the_description()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        var operations = Operations(await Document(client));
        Assert.All(operations, operation =>
        {
            var summary = operation.Value["summary"]?.GetValue<string>();
            Assert.False(string.IsNullOrEmpty(summary), operation.Key);
            Assert.True(summary.Length <= 30, $"{operation.Key}: {summary}");
            Assert.False(string.IsNullOrEmpty(operation.Value["description"]?.GetValue<string>()), operation.Key);
        });
        Assert.Equal("Register", operations["POST /user"]["summary"]!.GetValue<string>());
        Assert.Equal("Sign in", operations["POST /user/auth"]["summary"]!.GetValue<string>());
        factory.DeleteData();
    }

    [Fact]
    public async Task A_document_that_does_not_exist_is_a_boom_404()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        await (await client.GetAsync("/openapi/v2.json")).AssertBoom(404);
        await (await client.PostAsync("/openapi/v1.json", Api.Json("{}"))).AssertBoom(405);
        factory.DeleteData();
    }

    [Theory]
    [InlineData(null, 404)]
    [InlineData("false", 404)]
    [InlineData("true", 200)]
    public async Task In_production_the_document_and_the_page_are_served_only_when_enabled(string? enabled, int status)
    {
        await using var factory = new ApiFactory(new() { ["environment"] = "Production", ["OpenApi:Enabled"] = enabled });
        using var client = factory.CreateClient();

        foreach (var path in new[] { "/openapi/v1.json", "/docs/" })
        {
            var response = await client.GetAsync(path);
            if (status == 404) await response.AssertBoom(404);
            else Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        factory.DeleteData();
    }

    private static async Task<JsonObject> Document(HttpClient client)
    {
        var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Body();
    }

    /// <summary>Each operation of the document under "METHOD /path".</summary>
    private static Dictionary<string, JsonNode> Operations(JsonObject document) =>
        document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(operation => (Key: $"{operation.Key.ToUpperInvariant()} {path.Key}", Value: operation.Value!)))
            .ToDictionary(o => o.Key, o => o.Value);

    private static string? Schema(JsonNode response) => response["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>();
}
