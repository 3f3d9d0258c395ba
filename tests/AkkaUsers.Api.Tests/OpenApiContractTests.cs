using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace AkkaUsers.Api.Tests;

/// <summary>
/// The served OpenAPI document against the live service: every route is documented and every documented operation
/// exists, each answers bad input and missing tokens with a status it documents, every documented query parameter
/// and constraint is enforced, and each body's required fields are exactly those the handler requires.
/// </summary>
public sealed class OpenApiContractTests(AdminService service) : IClassFixture<AdminService>
{
    private HttpClient Client => service.Client;

    [Fact]
    public async Task The_document_has_one_operation_for_each_mapped_route_each_with_a_unique_operation_id()
    {
        var operations = await OperationsAsync();

        var mapped = service.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .Where(e => !e.RoutePattern.RawText!.StartsWith("/openapi") && !e.RoutePattern.RawText.StartsWith("/docs"))
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods
                .Select(method => $"{method} {e.RoutePattern.RawText!.TrimEnd('/')}"));
        Assert.Equal(mapped.Order(), operations.Select(o => o.Key).Order());
        Assert.Equal(operations.Count, operations.Select(o => o.OperationId).Distinct().Count());
    }

    [Fact]
    public async Task Without_a_token_a_guarded_operation_is_401_and_a_public_one_never_asks_for_one()
    {
        foreach (var operation in await OperationsAsync())
        {
            var response = await SendAsync(operation, token: null, body: "{}");
            if (operation.Guarded)
                Assert.Equal("Missing authentication", await response.AssertBoom(401));
            else
                Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
            await AssertDocumentedAsync(operation, response);
        }
    }

    [Fact]
    public async Task A_body_that_is_not_an_object_or_not_json_gets_the_documented_400_and_415()
    {
        var token = await service.AdminToken();
        foreach (var operation in (await OperationsAsync()).Where(o => o.Body is not null))
        {
            var notAnObject = await SendAsync(operation, token, body: "[]");
            Assert.Equal("\"value\" must be of type object", await notAnObject.AssertBoom(400));
            await AssertDocumentedAsync(operation, notAnObject);

            var notJson = await SendAsync(operation, token, body: "{}", contentType: "text/plain");
            await notJson.AssertBoom(415);
            await AssertDocumentedAsync(operation, notJson);
        }
    }

    [Fact]
    public async Task Each_required_field_of_a_body_is_required_by_the_handler_and_no_other_is()
    {
        var token = await service.AdminToken();
        foreach (var (operation, schema, required) in await BodiesAsync())
        {
            foreach (var missing in required)
            {
                var body = Sampled(schema, required.Where(f => f != missing));
                var response = await SendAsync(operation, token, body.ToJsonString());
                Assert.True(await response.AssertBoom(400) == $"\"{missing}\" is required", $"{operation.Key} without {missing}");
            }

            // At least one of the anyOf alternatives' fields is required too.
            var alternatives = schema["anyOf"]?.AsArray().Select(a => a!["required"]![0]!.GetValue<string>()).ToList() ?? [];
            if (alternatives.Count > 0)
            {
                var none = Sampled(schema, required);
                var message = await (await SendAsync(operation, token, none.ToJsonString())).AssertBoom(400);
                Assert.Equal(string.Join(" or ", alternatives.Select(a => $"\"{a}\"")) + " is required", message);
            }

            // Only the required fields: whatever the answer, it is documented and names no other field as required.
            var minimal = Sampled(schema, required.Concat(alternatives.Take(1)));
            var answer = await SendAsync(operation, token, minimal.ToJsonString());
            await AssertDocumentedAsync(operation, answer);
            var text = await answer.Content.ReadAsStringAsync();
            Assert.False(Regex.IsMatch(text, "\\\\\"\\w+\\\\\" is required"), $"{operation.Key} with only {string.Join(", ", required)}: {text}");
        }
    }

    [Fact]
    public async Task The_documented_string_lengths_of_a_body_are_enforced()
    {
        var token = await service.AdminToken();
        foreach (var (operation, schema, required) in await BodiesAsync())
        {
            foreach (var (name, property) in schema["properties"]!.AsObject())
            {
                if (property!["maxLength"]?.GetValue<int>() is not { } max) continue;
                var body = Sampled(schema, required);
                body[name] = new string('a', max + 1);
                var response = await SendAsync(operation, token, body.ToJsonString());
                Assert.Contains($"\"{name}\"", await response.AssertBoom(400));
            }
        }
    }

    [Fact]
    public async Task Every_documented_query_parameter_is_read_and_its_constraints_enforced()
    {
        var token = await service.AdminToken();
        foreach (var operation in await OperationsAsync())
        foreach (var parameter in operation.Parameters.Where(p => p["in"]!.GetValue<string>() == "query"))
        {
            var name = parameter["name"]!.GetValue<string>();
            var schema = parameter["schema"]!;
            var bad = new List<string> { $"{name}={Uri.EscapeDataString(GoodValue(schema))}&{name}={Uri.EscapeDataString(GoodValue(schema))}" };
            if (schema["type"]!.GetValue<string>() == "integer")
            {
                bad.Add($"{name}=x");
                bad.Add($"{name}={schema["minimum"]!.GetValue<long>() - 1}");
                if (schema["maximum"]!.GetValue<long>() < int.MaxValue) bad.Add($"{name}={schema["maximum"]!.GetValue<long>() + 1}");
            }
            if (schema["enum"] is not null || schema["pattern"] is not null || schema["format"]?.GetValue<string>() == "date-time")
                bad.Add($"{name}=nope");
            if (schema["maxLength"]?.GetValue<int>() is { } max) bad.Add($"{name}={new string('a', max + 1)}");

            foreach (var query in bad)
            {
                var response = await SendAsync(operation, token, query: query);
                Assert.True((await response.AssertBoom(400)).StartsWith($"\"{name}\""), $"{operation.Key}?{query}");
                await AssertDocumentedAsync(operation, response);
            }
            var good = await SendAsync(operation, token, query: $"{name}={Uri.EscapeDataString(GoodValue(schema))}");
            Assert.NotEqual(HttpStatusCode.BadRequest, good.StatusCode);
            await AssertDocumentedAsync(operation, good);
        }
    }

    [Fact]
    public async Task A_path_parameter_off_its_documented_pattern_or_format_is_400_and_one_on_it_is_not()
    {
        var token = await service.AdminToken();
        foreach (var operation in (await OperationsAsync()).Where(o => o.Parameters.Any(p => p["in"]!.GetValue<string>() == "path")))
        foreach (var parameter in operation.Parameters.Where(p => p["in"]!.GetValue<string>() == "path"))
        {
            var name = parameter["name"]!.GetValue<string>();
            var schema = parameter["schema"]!;
            var pattern = schema["pattern"]?.GetValue<string>();
            Assert.True(pattern is not null || schema["format"]?.GetValue<string>() == "uuid", $"{operation.Key}: {name} has no constraint");
            foreach (var off in new[] { "nope", "5C88C7CC04A917256C726C3D", "00000000-0000-0000-0000-00000000000A" })
            {
                if (pattern is not null ? Regex.IsMatch(off, pattern) : Guid.TryParse(off, out _) && off == off.ToLowerInvariant()) continue;
                var response = await SendAsync(operation, token, body: "{}", path: new() { [name] = off });
                Assert.True((await response.AssertBoom(400)).StartsWith($"\"{name}\""), $"{operation.Key} with {name}={off}");
            }
            var fine = await SendAsync(operation, token, body: "{}");
            Assert.NotEqual(HttpStatusCode.BadRequest, fine.StatusCode);
            await AssertDocumentedAsync(operation, fine);
        }
    }

    [Fact]
    public async Task Successful_answers_have_exactly_the_documented_fields()
    {
        var token = await service.AdminToken();
        var me = await (await Client.Get("/user", token)).Body();
        foreach (var operation in (await OperationsAsync()).Where(o => o.Method == "GET"))
        {
            var response = await SendAsync(operation, token, path: new() { ["userId"] = me["id"]!.GetValue<string>() });
            if (!response.IsSuccessStatusCode) continue; // the deletion ticket is made up
            await AssertDocumentedAsync(operation, response);
        }
    }

    private sealed record Operation(string Method, string Path, JsonObject Node)
    {
        public string Key => $"{Method} {Path}";
        public string OperationId => Node["operationId"]!.GetValue<string>();
        public bool Guarded => Node["security"]!.AsArray().Count > 0;
        public JsonNode? Body => Node["requestBody"]?["content"]?["application/json"]?["schema"];
        public IEnumerable<JsonNode> Parameters => Node["parameters"]?.AsArray().Select(p => p!) ?? [];
    }

    private async Task<List<Operation>> OperationsAsync()
    {
        var response = await Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Body();
        schemas = document["components"]!["schemas"];
        return document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(o => new Operation(o.Key.ToUpperInvariant(), path.Key, o.Value!.AsObject())))
            .ToList();
    }

    private JsonNode? schemas;

    /// <summary>Each operation with a body, the body's schema and its required fields.</summary>
    private async Task<List<(Operation Operation, JsonNode Schema, List<string> Required)>> BodiesAsync() =>
        (await OperationsAsync()).Where(o => o.Body is not null).Select(o =>
        {
            var schema = Resolve(o.Body!);
            return (o, schema, schema["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? []);
        }).ToList();

    /// <summary>A body with those fields of the schema, each a sample value.</summary>
    private static JsonObject Sampled(JsonNode schema, IEnumerable<string> fields) =>
        new(fields.Select(f => KeyValuePair.Create(f, (JsonNode?)Sample(schema["properties"]![f]!))));

    private JsonNode Resolve(JsonNode schema) => schema["$ref"]?.GetValue<string>() is { } reference
        ? schemas![reference.Split('/')[^1]]!
        : schema;

    private async Task<HttpResponseMessage> SendAsync(
        Operation operation, string? token, string? body = null, string? query = null, string contentType = "application/json",
        Dictionary<string, string>? path = null)
    {
        var url = Regex.Replace(operation.Path, "{(\\w+)}", match => path?.GetValueOrDefault(match.Groups[1].Value) ?? match.Groups[1].Value switch
        {
            "userId" => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)),
            "ticket" => Guid.NewGuid().ToString(),
            var other => throw new InvalidOperationException($"no sample for the path parameter {other}"),
        });
        var request = new HttpRequestMessage(new HttpMethod(operation.Method), query is null ? url : $"{url}?{query}");
        if (token is not null) request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
        if (operation.Body is not null && body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        return await Client.SendAsync(request);
    }

    /// <summary>The status is one the operation documents, and the body has the documented fields, no more, no fewer.</summary>
    private async Task AssertDocumentedAsync(Operation operation, HttpResponseMessage response)
    {
        var status = ((int)response.StatusCode).ToString();
        var documented = operation.Node["responses"]![status];
        Assert.True(documented is not null, $"{operation.Key} answered {status}, which it does not document");
        if (documented!["content"]?["application/json"]?["schema"] is not { } schema) return;
        var text = await response.Content.ReadAsStringAsync();
        AssertShape(JsonNode.Parse(text), schema, $"{operation.Key} {status}");
    }

    private void AssertShape(JsonNode? value, JsonNode schema, string where)
    {
        schema = Resolve(schema);
        if (value is JsonArray array && schema["items"] is { } items)
        {
            foreach (var item in array) AssertShape(item, items, where);
        }
        else if (value is JsonObject obj && schema["properties"] is JsonObject properties)
        {
            var required = schema["required"]?.AsArray().Select(r => r!.GetValue<string>()) ?? [];
            Assert.True(required.All(obj.ContainsKey), $"{where}: {obj.ToJsonString()} lacks one of {string.Join(", ", required)}");
            Assert.True(obj.All(p => properties.ContainsKey(p.Key)), $"{where}: {obj.ToJsonString()} has a field not in the document");
        }
    }

    /// <summary>A value of the schema's type that passes its rules, as far as the schema tells them.</summary>
    private static JsonNode Sample(JsonNode schema) =>
        schema["format"]?.GetValue<string>() == "email"
            ? JsonValue.Create("contract@example.com")
            : JsonValue.Create(new string('a', Math.Max(schema["minLength"]?.GetValue<int>() ?? 1, 8)));

    private static string GoodValue(JsonNode schema) =>
        schema["enum"]?[0]?.GetValue<string>() ??
        schema["default"]?.ToJsonString() ??
        (schema["format"]?.GetValue<string>() == "date-time" ? DateTimeOffset.UtcNow.ToString("O") : null) ??
        (schema["pattern"]?.GetValue<string>() == "^scope:.+$" ? "scope:admin" : "1");
}
