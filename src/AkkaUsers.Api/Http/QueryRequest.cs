using System.Globalization;
using System.Reflection;
using AkkaUsers.Domain;
using Microsoft.AspNetCore.Http.Metadata;

namespace AkkaUsers.Api.Http;

/// <summary>
/// One query parameter as a handler reads it and as the OpenAPI document shows it: the reader and the document
/// take the bounds, the choices and the default from this one definition.
/// </summary>
public sealed record QueryParameter(string Name, string Description)
{
    public string Type { get; init; } = "string";
    public string? Format { get; init; }
    public string? Pattern { get; init; }
    public int? Minimum { get; init; }
    public int? Maximum { get; init; }
    public int? MaxLength { get; init; }
    public int? Default { get; init; }
    public IReadOnlyList<string>? Choices { get; init; }

    public static QueryParameter Integer(string name, string description, int min, int max, int fallback) =>
        new(name, description) { Type = "integer", Minimum = min, Maximum = max, Default = fallback };

    /// <summary>The parameter's one value, or null when absent; a parameter given twice is ambiguous.</summary>
    public string? Single(HttpRequest request)
    {
        var values = request.Query[Name];
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw ApiError.BadRequest($"\"{Name}\" must be given at most once"),
        };
    }

    public int IntegerOf(HttpRequest request)
    {
        if (Single(request) is not { } text) return Default!.Value;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw ApiError.BadRequest($"\"{Name}\" must be an integer");
        if (value < Minimum) throw ApiError.BadRequest($"\"{Name}\" must be greater than or equal to {Minimum}");
        if (value > Maximum) throw ApiError.BadRequest($"\"{Name}\" must be less than or equal to {Maximum}");
        return value;
    }

    public string? TextOf(HttpRequest request)
    {
        var text = Single(request);
        if (text?.Length > MaxLength)
            throw ApiError.BadRequest($"\"{Name}\" length must be less than or equal to {MaxLength} characters long");
        return text;
    }

    /// <summary>An ISO 8601 time, or null when absent.</summary>
    public DateTimeOffset? TimeOf(HttpRequest request) => Single(request) is not { } text
        ? null
        : IsoTime.TryParse(text, out var time) ? time : throw ApiError.BadRequest($"\"{Name}\" must be an ISO 8601 time");

    /// <summary>A sequence number (an integer) or an ISO 8601 time.</summary>
    public (long? SequenceNr, DateTimeOffset? Time) PositionOf(HttpRequest request)
    {
        if (Single(request) is not { } text) return (null, null);
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sequenceNr)) return (sequenceNr, null);
        return IsoTime.TryParse(text, out var time)
            ? (null, time)
            : throw ApiError.BadRequest($"\"{Name}\" must be a sequence number or an ISO 8601 time");
    }
}

/// <summary>The query parameters an endpoint reads, for the OpenAPI document.</summary>
public sealed record QueryParametersMetadata(IReadOnlyList<QueryParameter> Parameters);

/// <summary>
/// The query of a request as one type the framework binds: read and checked by the type itself from its
/// <see cref="Parameters"/>, which the OpenAPI document lists with the 400 a bad value gets.
/// </summary>
public interface IQueryRequest<TSelf> : IBindableFromHttpContext<TSelf>, IEndpointParameterMetadataProvider
    where TSelf : class, IQueryRequest<TSelf>
{
    static abstract IReadOnlyList<QueryParameter> Parameters { get; }

    static abstract TSelf Read(HttpRequest request);

    static ValueTask<TSelf?> IBindableFromHttpContext<TSelf>.BindAsync(HttpContext context, ParameterInfo parameter) =>
        ValueTask.FromResult<TSelf?>(TSelf.Read(context.Request));

    static void IEndpointParameterMetadataProvider.PopulateMetadata(ParameterInfo parameter, EndpointBuilder builder)
    {
        builder.Metadata.Add(new QueryParametersMetadata(TSelf.Parameters));
        BoomResponses.Add(builder.Metadata, StatusCodes.Status400BadRequest);
    }
}
