using Scalar.AspNetCore;

namespace AkkaUsers.Api.Operations;

/// <summary>
/// What operators and API consumers get besides the API: the OpenAPI document and its reference page.
/// </summary>
public static class OperationsSetup
{
    public const string OpenApiEnabledKey = "OpenApi:Enabled";

    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenApi(OpenApiDocumentation.Configure);
        return builder;
    }

    /// <summary>/openapi/v1.json and /docs when OpenApi:Enabled (default: in Development only).</summary>
    public static WebApplication MapOperations(this WebApplication app)
    {
        if (app.Configuration.GetValue<bool?>(OpenApiEnabledKey) ?? app.Environment.IsDevelopment())
        {
            // Only the one document: any other name finds no route, so its 404 is a Boom error like every other.
            app.MapOpenApi("/openapi/{documentName:regex(^v1$)}.json");
            app.MapScalarApiReference("/docs", scalar => scalar.WithTitle("AkkaUsers"));
        }
        return app;
    }
}
