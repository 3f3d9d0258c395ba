using System.Reflection;
using AkkaUsers.Api.Configuration;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace AkkaUsers.Api.Http;

/// <summary>
/// A request body type the framework binds: read through <see cref="JsonBody"/>'s one pass (size, charset, depth,
/// duplicate keys), then built and checked by the type itself, so a handler receives only valid input. The OpenAPI
/// document takes the body and its 400, 413 and 415 from here.
/// </summary>
public interface IJsonRequest<TSelf> : IBindableFromHttpContext<TSelf>, IEndpointParameterMetadataProvider
    where TSelf : class, IJsonRequest<TSelf>
{
    /// <summary>Reads every field (presence and type) and then applies the rules; each failure is a 400 naming its field.</summary>
    static abstract TSelf Read(JsonBody body, IServiceProvider services);

    static async ValueTask<TSelf?> IBindableFromHttpContext<TSelf>.BindAsync(HttpContext context, ParameterInfo parameter)
    {
        var limits = context.RequestServices.GetRequiredService<IOptions<HttpOptions>>().Value;
        var body = await JsonBody.ReadAsync(context.Request, limits.MaxBodyBytes, context.RequestAborted);
        return TSelf.Read(body, context.RequestServices);
    }

    static void IEndpointParameterMetadataProvider.PopulateMetadata(ParameterInfo parameter, EndpointBuilder builder)
    {
        builder.Metadata.Add(new AcceptsMetadata(["application/json"], typeof(TSelf)));
        BoomResponses.Add(builder.Metadata, StatusCodes.Status400BadRequest, StatusCodes.Status413PayloadTooLarge,
            StatusCodes.Status415UnsupportedMediaType);
    }
}
