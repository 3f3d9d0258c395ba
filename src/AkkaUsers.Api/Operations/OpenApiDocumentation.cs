using System.Text.Json.Nodes;
using AkkaUsers.Api.Endpoints;
using AkkaUsers.Api.Http;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using AkkaUsers.Domain;
using AkkaUsers.Actors.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AkkaUsers.Api.Operations;

/// <summary>
/// What the generated OpenAPI document cannot infer from the endpoints: the bearer scheme and which operations need
/// it, the query parameters the request types read, the rules their attributes mark (password policy, email, vendor,
/// at least one of), the path parameters' patterns, and examples taken from the seed's own (abc@example.com / abc321).
/// </summary>
public static class OpenApiDocumentation
{
    public const string BearerScheme = "Bearer";

    private static readonly Dictionary<Type, string> Examples = new()
    {
        [typeof(CreateUserRequest)] = """{"username": "abc@example.com", "email": "abc@example.com", "password": "abc321"}""",
        [typeof(SignInRequest)] = """{"username": "abc@example.com", "password": "abc321"}""",
        [typeof(UserJson)] = """
            {"id": "5c88c7cc04a917256c726c3d", "username": "abc@example.com", "isActive": false, "email": "abc@example.com",
             "scope": ["user"], "plan": "free", "vendor": null, "metadata": {}}
            """,
        [typeof(BoomError)] = """{"statusCode": 401, "error": "Unauthorized", "message": "Invalid credentials"}""",
    };

    private static OpenApiParameter QueryParameterOf(QueryParameter query) => new()
    {
        Name = query.Name,
        In = ParameterLocation.Query,
        Description = query.Description,
        Schema = new OpenApiSchema
        {
            Type = query.Type == "integer" ? JsonSchemaType.Integer : JsonSchemaType.String,
            Format = query.Type == "integer" ? "int32" : query.Format,
            Minimum = query.Minimum?.ToString(CultureInfo.InvariantCulture),
            Maximum = query.Maximum?.ToString(CultureInfo.InvariantCulture),
            MaxLength = query.MaxLength,
            Pattern = query.Pattern,
            Default = query.Default is { } fallback ? JsonValue.Create(fallback) : null,
            Enum = query.Choices?.Select(choice => (JsonNode)JsonValue.Create(choice)).ToList(),
        },
    };

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "AkkaUsers";
            document.Info.Description = "Appmixer's user and authentication API. Every error is a Boom object {statusCode, error, message}.";
            foreach (var server in document.Servers ?? []) server.Url = server.Url?.TrimEnd('/');
            document.Tags = new HashSet<OpenApiTag>(
            [
                new() { Name = "Users", Description = "Registration, sign-in and the caller's own account" },
                new() { Name = "Admin", Description = "The admin's routes: every one needs a token whose scope includes admin" },
                new() { Name = "Health", Description = "Probes for orchestrators and load balancers" },
            ]);
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "The token of POST /user or POST /user/auth: an HS256 JWT with {id, scope, iat, exp}.",
            };
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            // A public operation says so with an empty list, rather than leaving its security undefined.
            operation.Security = [];
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [],
                });

            operation.Parameters ??= [];
            foreach (var parameter in operation.Parameters.OfType<OpenApiParameter>().Where(p => p.In == ParameterLocation.Path))
                parameter.Schema = parameter.Name switch
                {
                    "userId" => new OpenApiSchema { Type = JsonSchemaType.String, Pattern = AdminEndpoints.UserIdPattern },
                    "ticket" => new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
                    _ => parameter.Schema,
                };
            foreach (var query in metadata.OfType<QueryParametersMetadata>().SelectMany(q => q.Parameters))
                operation.Parameters.Add(QueryParameterOf(query));
            // Success first, then the errors in order, as a reader looks for them.
            if (operation.Responses is { } responses)
            {
                var sorted = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
                responses.Clear();
                foreach (var (status, response) in sorted) responses[status] = response;
            }
            return Task.CompletedTask;
        });

        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (Examples.TryGetValue(context.JsonTypeInfo.Type, out var example)) schema.Examples = [JsonNode.Parse(example)!];
            if (context.JsonPropertyInfo is null && context.JsonTypeInfo.Type.GetCustomAttribute<AnyOfRequiredAttribute>() is { } anyOf)
                schema.AnyOf = [.. anyOf.Fields.Select(field => new OpenApiSchema { Required = new HashSet<string> { field } })];
            // Each property is replaced rather than changed: a property's schema may be shared (JsonElement's is).
            if (schema.Properties is null) return Task.CompletedTask;
            var password = context.ApplicationServices.GetRequiredService<IOptions<PasswordOptions>>().Value;
            foreach (var property in context.JsonTypeInfo.Properties)
            {
                if (property.AttributeProvider is not { } attributes || !schema.Properties.TryGetValue(property.Name, out var current)) continue;
                var replaced = PropertySchema(attributes, password, property.PropertyType);
                if (replaced is null) continue;
                replaced.Description = current.Description ?? (current.OneOf?.Select(s => s.Description).FirstOrDefault(d => d is not null));
                schema.Properties[property.Name] = replaced;
            }
            return Task.CompletedTask;
        });
    }

    /// <summary>What a property's attributes say that the generated schema does not; null when nothing.</summary>
    private static OpenApiSchema? PropertySchema(ICustomAttributeProvider attributes, PasswordOptions password, Type type)
    {
        if (attributes.IsDefined(typeof(NewPasswordAttribute), false))
            return new OpenApiSchema { Type = JsonSchemaType.String, MinLength = password.MinLength, MaxLength = password.MaxLength };
        if (attributes.IsDefined(typeof(PasswordToVerifyAttribute), false))
            return new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = password.MaxLength };
        if (attributes.IsDefined(typeof(EmailAddressAttribute), false))
            return new OpenApiSchema
            {
                Type = JsonSchemaType.String | (type == typeof(string) && attributes.IsDefined(typeof(RequiredAttribute), false) ? 0 : JsonSchemaType.Null),
                Format = "email",
                MaxLength = Validation.EmailMaxLength,
            };
        if (attributes.IsDefined(typeof(JsonObjectAttribute), false))
            return new OpenApiSchema { Type = JsonSchemaType.Object | (Nullable.GetUnderlyingType(type) is not null ? JsonSchemaType.Null : 0) };
        if (attributes.IsDefined(typeof(VendorAttribute), false))
            return new OpenApiSchema
            {
                OneOf = [StringSchema(), new OpenApiSchema { Type = JsonSchemaType.Array, Items = StringSchema() }, new OpenApiSchema { Type = JsonSchemaType.Null }],
            };
        return null;
    }

    private static OpenApiSchema StringSchema() => new() { Type = JsonSchemaType.String };
}
