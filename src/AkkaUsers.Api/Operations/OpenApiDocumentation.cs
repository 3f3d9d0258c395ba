using System.Text.Json.Nodes;
using AkkaUsers.Api.Endpoints;
using AkkaUsers.Api.Http;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AkkaUsers.Api.Operations;

/// <summary>
/// What the generated OpenAPI document cannot infer from the endpoints: the bearer scheme and which
/// operations need it, and examples taken from the seed's own (abc@example.com / abc321).
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

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "AkkaUsers";
            document.Info.Description = "Appmixer's user and authentication API. Every error is a Boom object {statusCode, error, message}.";
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
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement
                {
                    [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [],
                });
            }
            return Task.CompletedTask;
        });

        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (Examples.TryGetValue(context.JsonTypeInfo.Type, out var example)) schema.Examples = [JsonNode.Parse(example)!];
            return Task.CompletedTask;
        });
    }
}
