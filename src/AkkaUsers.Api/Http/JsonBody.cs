using System.Net.Http.Headers;
using System.Text.Json;

namespace AkkaUsers.Api.Http;

/// <summary>
/// A request body read as one JSON object, with field accessors whose errors name the field.
/// Unknown fields are ignored, as Appmixer's API does.
/// </summary>
public sealed class JsonBody
{
    private readonly JsonElement _root;

    private JsonBody(JsonElement root) => _root = root;

    /// <summary>415 unless the content type is JSON, 413 past <paramref name="maxBytes"/>, 400 unless the body is a JSON object.</summary>
    public static async Task<JsonBody> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (!IsJson(request.ContentType))
            throw new ApiError(StatusCodes.Status415UnsupportedMediaType, "Content-Type must be application/json");
        if (request.ContentLength > maxBytes)
            throw TooLarge(maxBytes);

        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > maxBytes) throw TooLarge(maxBytes);
            buffer.Write(chunk, 0, read);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (JsonException)
        {
            throw ApiError.BadRequest("Invalid request payload JSON format");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw ApiError.BadRequest("\"value\" must be of type object");
            return new JsonBody(document.RootElement.Clone());
        }
    }

    /// <summary>The string at <paramref name="field"/>, or null when it is absent or null; 400 for any other type.</summary>
    public string? OptionalString(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        _ => throw ApiError.BadRequest($"\"{field}\" must be a string"),
    };

    public string RequiredString(string field) =>
        OptionalString(field) ?? throw ApiError.BadRequest($"\"{field}\" is required");

    /// <summary>The object at <paramref name="field"/>, or null when absent or null; 400 for any other type.</summary>
    public JsonElement? OptionalObject(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Object } value => value,
        _ => throw ApiError.BadRequest($"\"{field}\" must be of type object"),
    };

    /// <summary>The boolean at <paramref name="field"/>, or null when absent or null; 400 for any other type.</summary>
    public bool? OptionalBoolean(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True or JsonValueKind.False } value => value.GetBoolean(),
        _ => throw ApiError.BadRequest($"\"{field}\" must be a boolean"),
    };

    /// <summary>The array of strings at <paramref name="field"/>, or null when absent or null; 400 for anything else.</summary>
    public IReadOnlyList<string>? OptionalStrings(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } value when value.EnumerateArray().All(IsString) =>
            value.EnumerateArray().Select(item => item.GetString()!).ToList(),
        _ => throw ApiError.BadRequest($"\"{field}\" must be an array of strings"),
    };

    /// <summary>A string or an array of strings at <paramref name="field"/>, kept as sent; null when absent or null.</summary>
    public JsonElement? OptionalStringOrStrings(string field) => Field(field) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value => value,
        { ValueKind: JsonValueKind.Array } value when value.EnumerateArray().All(IsString) => value,
        _ => throw ApiError.BadRequest($"\"{field}\" must be a string or an array of strings"),
    };

    private static bool IsString(JsonElement element) => element.ValueKind == JsonValueKind.String;

    private JsonElement? Field(string field) =>
        _root.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static ApiError TooLarge(int maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"Payload content length greater than maximum allowed: {maxBytes}");

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) && parsed.MediaType is { } type &&
        (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
         type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
}
